//! The knobs: which kind of protected MCP server and authorization server the demo plays.

use std::{fmt, sync::Arc, time::Duration};

use mcp_oauth::TokenAuthMethod;

/// Checks a `private_key_jwt` client assertion: `(assertion, client_id) -> valid`.
///
/// The demo does no JWT cryptography itself; whoever needs `private_key_jwt` (a test with an ES256
/// key) supplies the check.
pub type JwtVerifier = Arc<dyn Fn(&str, &str) -> bool + Send + Sync>;

/// Where the authorization server's metadata is served, and so which discovery path a client must
/// take to find it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MetadataLocation {
    /// RFC 8414, path inserted: `/.well-known/oauth-authorization-server{issuer_path}`.
    #[default]
    Rfc8414,
    /// OpenID Connect Discovery, path inserted: `/.well-known/openid-configuration{issuer_path}`.
    OpenIdInserted,
    /// OpenID Connect Discovery, path appended: `{issuer_path}/.well-known/openid-configuration`.
    OpenIdAppended,
    /// The 2025-03-26 specification: no protected-resource metadata at all, and authorization
    /// server metadata at the MCP origin's root, `/.well-known/oauth-authorization-server`, whatever
    /// the issuer. With a non-empty `issuer_path` the `issuer` therefore differs from the one the
    /// client derives from the URL, as it does on such servers in the wild.
    Legacy,
    /// The 2025-03-26 fallback: no metadata of any kind; the endpoints are `/authorize`, `/token`
    /// and `/register` on the MCP origin (`issuer_path` is ignored).
    LegacyNoMetadata,
}

impl MetadataLocation {
    /// Whether this is one of the 2025-03-26 variants, which serve no protected-resource metadata
    /// and do not require the `resource` parameter (clients of that revision do not send it).
    pub fn is_legacy(self) -> bool {
        matches!(self, Self::Legacy | Self::LegacyNoMetadata)
    }
}

/// What the authorization response carries as RFC 9207's `iss` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum IssParameter {
    /// No `iss` (an authorization server that does not implement RFC 9207).
    Omit,
    /// The issuer, exactly as in the metadata.
    #[default]
    Correct,
    /// Another issuer's identifier, as in a mix-up attack.
    Wrong,
}

/// Whether a client using `method` needs a client secret (the `client_secret_*` methods).
pub(super) fn uses_secret(method: TokenAuthMethod) -> bool {
    matches!(
        method,
        TokenAuthMethod::ClientSecretBasic | TokenAuthMethod::ClientSecretPost
    )
}

/// A client known to the authorization server before any request: it may use any loopback
/// redirect URI (RFC 8252 §7.3), as a native client registered by hand would.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DemoClient {
    /// The `client_id`.
    pub id: String,
    /// The secret, for `client_secret_basic` and `client_secret_post`.
    pub secret: Option<String>,
    /// How it authenticates at the token endpoint (`private_key_jwt` assertions are checked by
    /// [`DemoAuthOptions::jwt_verifier`]).
    pub method: TokenAuthMethod,
}

impl DemoClient {
    /// A public client (`token_endpoint_auth_method: none`).
    pub fn public(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            secret: None,
            method: TokenAuthMethod::None,
        }
    }

    /// A confidential client authenticating with `method`, which must be `client_secret_basic`
    /// or `client_secret_post`.
    pub fn with_secret(
        id: impl Into<String>,
        secret: impl Into<String>,
        method: TokenAuthMethod,
    ) -> Self {
        Self {
            id: id.into(),
            secret: Some(secret.into()),
            method,
        }
    }

    /// A confidential client authenticating with `private_key_jwt`; its assertions go to
    /// [`DemoAuthOptions::jwt_verifier`].
    pub fn private_key_jwt(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            secret: None,
            method: TokenAuthMethod::PrivateKeyJwt,
        }
    }
}

impl fmt::Debug for DemoClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the secret itself.
        f.debug_struct("DemoClient")
            .field("id", &self.id)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("method", &self.method)
            .finish()
    }
}

/// Which authorization server and protected resource the OAuth demo plays.
///
/// The default is a well-behaved server following the 2025-11-25 specification: protected-resource
/// metadata at the path-based well-known URL and named in every challenge, RFC 8414 metadata for an
/// issuer at the origin, S256 only, RFC 9207 `iss` advertised and sent, dynamic registration and
/// client ID metadata documents, refresh tokens that rotate, one-hour access tokens. Each knob turns
/// one behaviour a client must cope with on or off:
///
/// ```
/// use mcp_demo::{DemoAuthOptions, IssParameter, MetadataLocation};
///
/// let options = DemoAuthOptions::default()
///     .with_metadata(MetadataLocation::OpenIdAppended)
///     .with_issuer_path("/tenant1")
///     .with_iss_parameter(IssParameter::Wrong)
///     .with_step_up("add", "demo:admin");
/// assert!(options.s256);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct DemoAuthOptions {
    /// Where authorization-server metadata is served. Default [`MetadataLocation::Rfc8414`].
    pub metadata: MetadataLocation,
    /// The issuer's path: `""` (the default) or e.g. `"/tenant1"`. The issuer is the origin plus
    /// this path, and the endpoints are `{issuer_path}/authorize`, `/token` and `/register`. It
    /// must be empty or start with `/`, without a trailing `/`, in unreserved characters.
    pub issuer_path: String,
    /// Whether the 401 challenge carries `resource_metadata="…"` (RFC 9728 §5.1). Default `true`.
    /// It names the endpoint's own path-based URL (`…/mcp` or `…/sse`) unless only the root one is
    /// served.
    pub resource_metadata_in_challenge: bool,
    /// Whether protected-resource metadata is served at the path-based URLs,
    /// `/.well-known/oauth-protected-resource/mcp` and `/.well-known/oauth-protected-resource/sse`
    /// (one per resource). Default `true`.
    pub prm_at_path: bool,
    /// Whether protected-resource metadata is served at `/.well-known/oauth-protected-resource`.
    /// That one URL holds `/mcp`'s document, so a client of `/sse` finds nothing for it there.
    /// Default `false`.
    pub prm_at_root: bool,
    /// Whether the metadata's `resource` names another URL than its endpoint (`/elsewhere/mcp`,
    /// `/elsewhere/sse`), which a client must refuse (RFC 9728 §3.3). Default `false`.
    pub wrong_resource: bool,
    /// Whether the protected-resource metadata lists [`scopes_supported`](Self::scopes_supported).
    /// Default `true`.
    pub scopes_in_prm: bool,
    /// The scopes the server knows, granted when a client asks for none. Default
    /// `["demo:read", "demo:write"]`.
    pub scopes_supported: Vec<String>,
    /// Whether `offline_access` is a known scope, listed in the authorization server's
    /// `scopes_supported`. Default `true`.
    pub offline_access: bool,
    /// The `scope` of the 401 challenge; `None` (the default) leaves it out, so clients fall back
    /// to the metadata's `scopes_supported`.
    pub challenge_scope: Option<String>,
    /// Whether the authorization server metadata's `issuer` differs from the issuer it was fetched
    /// for, which a client must refuse (RFC 8414 §3.3). Default `false`.
    pub wrong_issuer: bool,
    /// `true` (the default): `code_challenge_methods_supported: ["S256"]`, and S256 is required.
    /// `false`: `["plain"]` only, and only plain is accepted.
    pub s256: bool,
    /// The `iss` of the authorization response (RFC 9207). Default [`IssParameter::Correct`].
    pub iss_parameter: IssParameter,
    /// Whether the metadata says `authorization_response_iss_parameter_supported: true`. Default
    /// `true`.
    pub advertise_iss_parameter: bool,
    /// Whether dynamic client registration (RFC 7591) is offered. Default `true`.
    pub dcr: bool,
    /// Whether `client_id_metadata_document_supported: true`: https URLs are accepted as client
    /// ids. The documents are never fetched (the demo makes no outgoing requests); the ids are
    /// recorded in [`DemoAuthStats::cimd_client_ids`](super::DemoAuthStats::cimd_client_ids).
    /// Default `true`.
    pub cimd: bool,
    /// Clients known in advance. Default none.
    pub pre_registered: Vec<DemoClient>,
    /// Whether the `client_credentials` grant is offered (to confidential clients only). Default
    /// `false`.
    pub client_credentials: bool,
    /// The check for `private_key_jwt` assertions; without one, such clients cannot authenticate.
    pub jwt_verifier: Option<JwtVerifier>,
    /// How long an access token is valid. Default one hour.
    pub access_token_lifetime: Duration,
    /// Whether the code and refresh grants return a refresh token. Default `true`.
    pub issue_refresh_tokens: bool,
    /// Whether each refresh returns a new refresh token and invalidates the one used. Default
    /// `true`.
    pub rotate_refresh_tokens: bool,
    /// `(tool, scope)`: a `tools/call` of `tool` with a token lacking `scope` is answered 403
    /// `insufficient_scope` naming `scope`. The scope becomes known to the authorization server.
    /// Default `None`.
    pub step_up: Option<(String, String)>,
    /// Whether the authorization endpoint answers `error=access_denied`, as when the user clicks
    /// "deny". Default `false`.
    pub deny: bool,
}

impl Default for DemoAuthOptions {
    fn default() -> Self {
        Self {
            metadata: MetadataLocation::default(),
            issuer_path: String::new(),
            resource_metadata_in_challenge: true,
            prm_at_path: true,
            prm_at_root: false,
            wrong_resource: false,
            scopes_in_prm: true,
            scopes_supported: vec!["demo:read".to_owned(), "demo:write".to_owned()],
            offline_access: true,
            challenge_scope: None,
            wrong_issuer: false,
            s256: true,
            iss_parameter: IssParameter::default(),
            advertise_iss_parameter: true,
            dcr: true,
            cimd: true,
            pre_registered: Vec::new(),
            client_credentials: false,
            jwt_verifier: None,
            access_token_lifetime: Duration::from_secs(3600),
            issue_refresh_tokens: true,
            rotate_refresh_tokens: true,
            step_up: None,
            deny: false,
        }
    }
}

impl fmt::Debug for DemoAuthOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemoAuthOptions")
            .field("metadata", &self.metadata)
            .field("issuer_path", &self.issuer_path)
            .field(
                "resource_metadata_in_challenge",
                &self.resource_metadata_in_challenge,
            )
            .field("prm_at_path", &self.prm_at_path)
            .field("prm_at_root", &self.prm_at_root)
            .field("wrong_resource", &self.wrong_resource)
            .field("scopes_in_prm", &self.scopes_in_prm)
            .field("scopes_supported", &self.scopes_supported)
            .field("offline_access", &self.offline_access)
            .field("challenge_scope", &self.challenge_scope)
            .field("wrong_issuer", &self.wrong_issuer)
            .field("s256", &self.s256)
            .field("iss_parameter", &self.iss_parameter)
            .field("advertise_iss_parameter", &self.advertise_iss_parameter)
            .field("dcr", &self.dcr)
            .field("cimd", &self.cimd)
            .field("pre_registered", &self.pre_registered)
            .field("client_credentials", &self.client_credentials)
            .field("jwt_verifier", &self.jwt_verifier.as_ref().map(|_| "<fn>"))
            .field("access_token_lifetime", &self.access_token_lifetime)
            .field("issue_refresh_tokens", &self.issue_refresh_tokens)
            .field("rotate_refresh_tokens", &self.rotate_refresh_tokens)
            .field("step_up", &self.step_up)
            .field("deny", &self.deny)
            .finish()
    }
}

impl DemoAuthOptions {
    /// Sets [`metadata`](Self::metadata).
    #[must_use]
    pub fn with_metadata(mut self, metadata: MetadataLocation) -> Self {
        self.metadata = metadata;
        self
    }

    /// Sets [`issuer_path`](Self::issuer_path), e.g. `"/tenant1"`.
    #[must_use]
    pub fn with_issuer_path(mut self, path: impl Into<String>) -> Self {
        self.issuer_path = path.into();
        self
    }

    /// Sets [`resource_metadata_in_challenge`](Self::resource_metadata_in_challenge).
    #[must_use]
    pub fn with_resource_metadata_in_challenge(mut self, on: bool) -> Self {
        self.resource_metadata_in_challenge = on;
        self
    }

    /// Where protected-resource metadata is served: the path-based and the root well-known URL.
    #[must_use]
    pub fn with_prm_locations(mut self, at_path: bool, at_root: bool) -> Self {
        self.prm_at_path = at_path;
        self.prm_at_root = at_root;
        self
    }

    /// Sets [`wrong_resource`](Self::wrong_resource).
    #[must_use]
    pub fn with_wrong_resource(mut self, on: bool) -> Self {
        self.wrong_resource = on;
        self
    }

    /// Sets [`scopes_in_prm`](Self::scopes_in_prm).
    #[must_use]
    pub fn with_scopes_in_prm(mut self, on: bool) -> Self {
        self.scopes_in_prm = on;
        self
    }

    /// Sets [`scopes_supported`](Self::scopes_supported).
    #[must_use]
    pub fn with_scopes_supported<S: Into<String>>(
        mut self,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Sets [`offline_access`](Self::offline_access).
    #[must_use]
    pub fn with_offline_access(mut self, on: bool) -> Self {
        self.offline_access = on;
        self
    }

    /// Sets the 401 challenge's `scope`, e.g. `"demo:read demo:write"`.
    #[must_use]
    pub fn with_challenge_scope(mut self, scope: impl Into<String>) -> Self {
        self.challenge_scope = Some(scope.into());
        self
    }

    /// Sets [`wrong_issuer`](Self::wrong_issuer).
    #[must_use]
    pub fn with_wrong_issuer(mut self, on: bool) -> Self {
        self.wrong_issuer = on;
        self
    }

    /// Sets [`s256`](Self::s256).
    #[must_use]
    pub fn with_s256(mut self, on: bool) -> Self {
        self.s256 = on;
        self
    }

    /// Sets [`iss_parameter`](Self::iss_parameter).
    #[must_use]
    pub fn with_iss_parameter(mut self, iss: IssParameter) -> Self {
        self.iss_parameter = iss;
        self
    }

    /// Sets [`advertise_iss_parameter`](Self::advertise_iss_parameter).
    #[must_use]
    pub fn with_advertise_iss_parameter(mut self, on: bool) -> Self {
        self.advertise_iss_parameter = on;
        self
    }

    /// Sets [`dcr`](Self::dcr).
    #[must_use]
    pub fn with_dcr(mut self, on: bool) -> Self {
        self.dcr = on;
        self
    }

    /// Sets [`cimd`](Self::cimd).
    #[must_use]
    pub fn with_cimd(mut self, on: bool) -> Self {
        self.cimd = on;
        self
    }

    /// Adds a pre-registered client.
    #[must_use]
    pub fn with_pre_registered(mut self, client: DemoClient) -> Self {
        self.pre_registered.push(client);
        self
    }

    /// Sets [`client_credentials`](Self::client_credentials).
    #[must_use]
    pub fn with_client_credentials(mut self, on: bool) -> Self {
        self.client_credentials = on;
        self
    }

    /// Sets the `private_key_jwt` check: `verify(assertion, client_id)`.
    #[must_use]
    pub fn with_jwt_verifier(
        mut self,
        verify: impl Fn(&str, &str) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.jwt_verifier = Some(Arc::new(verify));
        self
    }

    /// Sets [`access_token_lifetime`](Self::access_token_lifetime).
    #[must_use]
    pub fn with_access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_token_lifetime = lifetime;
        self
    }

    /// Sets [`issue_refresh_tokens`](Self::issue_refresh_tokens).
    #[must_use]
    pub fn with_refresh_tokens(mut self, on: bool) -> Self {
        self.issue_refresh_tokens = on;
        self
    }

    /// Sets [`rotate_refresh_tokens`](Self::rotate_refresh_tokens).
    #[must_use]
    pub fn with_rotate_refresh_tokens(mut self, on: bool) -> Self {
        self.rotate_refresh_tokens = on;
        self
    }

    /// Requires `scope` for `tools/call` of `tool` (see [`step_up`](Self::step_up)).
    #[must_use]
    pub fn with_step_up(mut self, tool: impl Into<String>, scope: impl Into<String>) -> Self {
        self.step_up = Some((tool.into(), scope.into()));
        self
    }

    /// Sets [`deny`](Self::deny).
    #[must_use]
    pub fn with_deny(mut self, on: bool) -> Self {
        self.deny = on;
        self
    }

    /// Checks what cannot be expressed in the types, naming the first problem.
    pub(super) fn validate(&self) -> Result<(), String> {
        let path = &self.issuer_path;
        let unreserved = |c: char| c.is_ascii_alphanumeric() || "-._~/".contains(c);
        if !path.is_empty()
            && (!path.starts_with('/')
                || path.ends_with('/')
                || path.contains("//")
                || !path.chars().all(unreserved))
        {
            return Err(format!(
                "issuer_path {path:?} must be empty or like \"/tenant1\": a leading '/', \
                 no trailing '/', unreserved characters only"
            ));
        }
        let endpoint =
            |endpoint: &str| path == endpoint || path.starts_with(&format!("{endpoint}/"));
        if [crate::MCP_PATH, crate::SSE_PATH, crate::MESSAGES_PATH]
            .into_iter()
            .any(endpoint)
            || path.starts_with("/.well-known")
        {
            return Err(format!(
                "issuer_path {path:?} collides with the MCP endpoints or the well-known paths"
            ));
        }
        let mut ids = std::collections::HashSet::new();
        for client in &self.pre_registered {
            if client.id.is_empty() {
                return Err("a pre-registered client has an empty id".to_owned());
            }
            if !ids.insert(client.id.as_str()) {
                return Err(format!(
                    "the client id {:?} is pre-registered twice",
                    client.id
                ));
            }
            if uses_secret(client.method) != client.secret.is_some() {
                return Err(format!(
                    "pre-registered client {:?}: {} {} a secret",
                    client.id,
                    client.method,
                    if uses_secret(client.method) {
                        "needs"
                    } else {
                        "takes no"
                    }
                ));
            }
            if client.method == TokenAuthMethod::PrivateKeyJwt && self.jwt_verifier.is_none() {
                return Err(format!(
                    "pre-registered client {:?} uses private_key_jwt, but no jwt_verifier is set",
                    client.id
                ));
            }
        }
        for scope in self.known_scopes() {
            if scope.is_empty() || scope.contains(|c: char| c.is_ascii_whitespace() || c == '"') {
                return Err(format!(
                    "scope {scope:?} must be non-empty, without spaces or quotes"
                ));
            }
        }
        if self.access_token_lifetime.is_zero() {
            return Err("access_token_lifetime must be more than zero".to_owned());
        }
        Ok(())
    }

    /// Every scope the authorization server grants: `scopes_supported`, `offline_access` when on,
    /// the step-up scope and the challenge's scopes, without repeats, in that order.
    pub(super) fn known_scopes(&self) -> Vec<String> {
        let mut scopes: Vec<String> = Vec::new();
        let extra = [
            self.offline_access.then_some("offline_access"),
            self.step_up.as_ref().map(|(_, scope)| scope.as_str()),
        ];
        let challenge = self
            .challenge_scope
            .iter()
            .flat_map(|scope| scope.split_ascii_whitespace());
        for scope in self
            .scopes_supported
            .iter()
            .map(String::as_str)
            .chain(extra.into_iter().flatten())
            .chain(challenge)
        {
            if !scopes.iter().any(|known| known == scope) {
                scopes.push(scope.to_owned());
            }
        }
        scopes
    }
}
