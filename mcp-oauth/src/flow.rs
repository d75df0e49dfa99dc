//! The authorization-code flow's steps: choosing scopes, the authorization request (PKCE S256,
//! `state`, `resource`), checking the response's `iss`, and the token requests (code and refresh),
//! on the `oauth2` crate over our own HTTP client.
//!
//! The steps: [`select_scopes`]; [`authorization_request`] (S256 required, a 128-bit `state`,
//! `resource`); [`PendingAuthorization::check_iss`] (RFC 9207), before any code is redeemed; the
//! code exchange and [`refresh`], both with `resource` ([`refresh`] keeps the old refresh token
//! unless the server rotates it). Every token response must pass
//! [`StoredTokens::check_usable`](crate::StoredTokens::check_usable) before anything is stored.
//! OAuth error responses are typed ([`FlowError::is_invalid_grant`],
//! [`FlowError::is_invalid_client`]), so callers never read their text.
//!
//! Every token request, here and in [`grant`](crate::grant), authenticates the client the one way its
//! [`TokenAuthMethod`] says, through one internal path: no `Authorization` header and `client_id`
//! in the body for `none`; HTTP Basic with RFC 6749 §2.3.1 form-encoding for
//! `client_secret_basic`; `client_id` and `client_secret` in the body for `client_secret_post`; a
//! fresh ES256 assertion for `private_key_jwt`. A request made with a [`DpopProver`] carries a DPoP
//! proof and asks for a token bound to its key (see [`dpop`](crate::dpop)).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mcp_transport::TransportError;
use mcp_transport::http::HttpClient;
use mcp_transport::www_authenticate::Challenge;
use oauth2::basic::{BasicClient, BasicErrorResponse, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    Scope, TokenResponse, TokenUrl,
};
use url::Url;

use crate::discovery::{DiscoveryError, ResourceMetadata, ServerMetadata};
use crate::dpop::{DpopKey, DpopProver};
use crate::grant::{JWT_BEARER_ASSERTION_TYPE, KeyError, PrivateKeyJwt};
use crate::store::StoredTokens;

/// The largest token response accepted.
const MAX_TOKEN_RESPONSE: usize = 64 * 1024;

/// The longest OAuth error code kept from a server's answer, in characters.
const MAX_ERROR_CODE: usize = 64;

/// The longest server-supplied description kept in an error, in characters.
pub(crate) const MAX_DESCRIPTION: usize = 300;

/// Why a step of the flow failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlowError {
    /// The authorization server's metadata rules the flow out (no S256, a bad endpoint URL).
    #[error(transparent)]
    Metadata(#[from] DiscoveryError),
    /// An endpoint or redirect URL is not a valid URL.
    #[error("invalid {what} URL {url:?}")]
    InvalidUrl {
        /// Which URL.
        what: &'static str,
        /// The value.
        url: String,
    },
    /// The authorization response's `iss` is not the issuer the request went to (RFC 9207): a
    /// possible mix-up attack, so the code is not redeemed.
    #[error(
        "the authorization response came from issuer {found:?}, not {expected:?}; the code was not used"
    )]
    IssuerMismatch {
        /// The issuer the request went to.
        expected: String,
        /// What the response says (`None`: missing although the server promises it).
        found: Option<String>,
    },
    /// The token endpoint answered with an OAuth error (RFC 6749 §5.2). See
    /// [`FlowError::is_invalid_grant`] and [`FlowError::is_invalid_client`].
    #[error("{}", rejected_message(error, description.as_deref()))]
    TokenRejected {
        /// The OAuth error code, e.g. `invalid_grant` (control characters removed, bounded).
        error: String,
        /// The server's `error_description`, control characters removed and bounded; never
        /// contains the code, refresh token, secret or assertion that was sent.
        description: Option<String>,
    },
    /// The token request failed otherwise: transport, an unreadable response, no refresh token.
    #[error("the token request failed: {0}")]
    Token(String),
    /// The token endpoint answered with tokens this client cannot use (see
    /// [`StoredTokens::check_usable`]); nothing was stored. See
    /// [`FlowError::is_unusable_token_response`].
    #[error(
        "the authorization server issued tokens this client cannot use: {reason}; nothing was stored (report this to the authorization server's operator)"
    )]
    UnusableTokenResponse {
        /// What is wrong, never quoting a token.
        reason: &'static str,
    },
    /// The grant needs a confidential client, and this one authenticates with `none`.
    #[error(
        "the client_credentials grant needs a confidential client (client_secret_basic, client_secret_post or private_key_jwt); client {client_id:?} is public (token endpoint authentication \"none\")"
    )]
    ConfidentialClientRequired {
        /// The public client's id.
        client_id: String,
    },
    /// The credentials name an authentication method without what it needs.
    #[error(
        "client {client_id:?} authenticates with {method} but has no {missing}; configure one, or another method"
    )]
    MissingCredential {
        /// The client id.
        client_id: String,
        /// The method chosen.
        method: TokenAuthMethod,
        /// What is missing: `client secret` or `private key`.
        missing: &'static str,
    },
    /// The `private_key_jwt` client assertion could not be made.
    #[error("cannot make the private_key_jwt client assertion: {0}")]
    ClientAssertion(#[from] KeyError),
    /// No random state could be made.
    #[error("no randomness for the state: {0}")]
    Randomness(String),
    /// No DPoP key could be made, or no proof signed with it.
    #[error("cannot make a DPoP proof: {0}")]
    Dpop(KeyError),
    /// The workload's identity token for the JWT bearer grant could not be read; nothing was
    /// sent. See [`FlowError::is_assertion_unavailable`].
    #[error("cannot read the workload identity token from {from}: {reason}")]
    AssertionUnavailable {
        /// Where it should have come from: a file's path, or an environment variable's name.
        from: String,
        /// Why it could not be used (never quoting its content).
        reason: String,
    },
}

impl FlowError {
    /// The OAuth error code the token endpoint answered with, if it answered with one.
    pub fn oauth_error(&self) -> Option<&str> {
        match self {
            Self::TokenRejected { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Whether the token endpoint answered `invalid_grant`: the code or refresh token is expired,
    /// revoked or used, so the user has to log in again.
    pub fn is_invalid_grant(&self) -> bool {
        self.oauth_error() == Some("invalid_grant")
    }

    /// Whether the token endpoint answered `invalid_client`: the client failed to authenticate or
    /// is unknown (for example a dynamic registration the server has forgotten), so the stored
    /// registration should be forgotten and the client registered again.
    pub fn is_invalid_client(&self) -> bool {
        self.oauth_error() == Some("invalid_client")
    }

    /// Whether the token endpoint issued tokens this client cannot use (an access token that is
    /// not a valid header value, a token type other than `Bearer` or a bound `DPoP`); nothing was
    /// stored.
    pub fn is_unusable_token_response(&self) -> bool {
        matches!(self, Self::UnusableTokenResponse { .. })
    }

    /// Whether the workload identity token (the JWT bearer grant's assertion) could not be read
    /// from where the configuration says it is; no request was made.
    pub fn is_assertion_unavailable(&self) -> bool {
        matches!(self, Self::AssertionUnavailable { .. })
    }

    /// Whether the authorization server refused the token request because it wants DPoP proofs to
    /// carry its nonce (`use_dpop_nonce`) even after one retry with the nonce it supplied.
    pub fn is_use_dpop_nonce(&self) -> bool {
        self.oauth_error() == Some("use_dpop_nonce")
    }
}

fn rejected_message(error: &str, description: Option<&str>) -> String {
    let mut message = format!("the authorization server refused the token request: {error}");
    if let Some(description) = description {
        message.push_str(&format!(" ({description})"));
    }
    match error {
        "invalid_grant" => message.push_str("; log in again"),
        "invalid_client" => message.push_str(
            "; the client is unknown to the server or failed to authenticate: check its credentials, or register it again",
        ),
        _ => {}
    }
    message
}

/// How a client authenticates at the token endpoint; the names are RFC 7591's
/// `token_endpoint_auth_method` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenAuthMethod {
    /// A public client: `client_id` in the body, nothing secret.
    None,
    /// HTTP Basic with the client id and secret (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// A JWT client assertion signed with the client's private key (RFC 7523 §2.2).
    PrivateKeyJwt,
}

impl TokenAuthMethod {
    /// The RFC 7591 name, e.g. `client_secret_basic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
        }
    }

    /// The method with this RFC 7591 name; `None` for names not supported here (e.g.
    /// `client_secret_jwt`, `tls_client_auth`).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "none" => Self::None,
            "client_secret_basic" => Self::ClientSecretBasic,
            "client_secret_post" => Self::ClientSecretPost,
            "private_key_jwt" => Self::PrivateKeyJwt,
            _ => return None,
        })
    }
}

impl std::fmt::Display for TokenAuthMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Scopes to request: the challenge's `scope`, else everything the resource metadata lists, else
/// none; plus `offline_access` when the authorization server offers it (for a refresh token).
pub fn select_scopes(
    challenge: Option<&Challenge>,
    resource: Option<&ResourceMetadata>,
    server: &ServerMetadata,
) -> Vec<String> {
    let mut scopes: Vec<String> = match challenge.and_then(Challenge::scope) {
        Some(scope) => scope.split_whitespace().map(str::to_owned).collect(),
        None => resource
            .and_then(|resource| resource.scopes_supported.clone())
            .unwrap_or_default(),
    };
    let offers_offline = server
        .scopes_supported
        .as_ref()
        .is_some_and(|offered| offered.iter().any(|scope| scope == "offline_access"));
    if offers_offline && !scopes.iter().any(|scope| scope == "offline_access") {
        scopes.push("offline_access".to_owned());
    }
    scopes
}

/// Who the client is at an authorization server, and how it proves it at the token endpoint.
///
/// `Debug` hides the secret and the key.
#[derive(Clone)]
pub struct ClientCredentials {
    /// The client id (pre-registered, a metadata-document URL, or from dynamic registration).
    pub client_id: String,
    /// The secret of a confidential client, if any; sent only by the `client_secret_*` methods.
    pub client_secret: Option<String>,
    /// How the client authenticates at the token endpoint.
    pub auth_method: TokenAuthMethod,
    /// The key that signs client assertions; used only by [`TokenAuthMethod::PrivateKeyJwt`].
    pub private_key: Option<PrivateKeyJwt>,
}

impl ClientCredentials {
    /// A public client: no secret, authentication `none`.
    pub fn public(client_id: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: None,
            auth_method: TokenAuthMethod::None,
            private_key: None,
        }
    }

    /// A confidential client with a secret, sent as `auth_method` says (normally
    /// [`TokenAuthMethod::ClientSecretBasic`] or [`TokenAuthMethod::ClientSecretPost`]).
    pub fn with_secret(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        auth_method: TokenAuthMethod,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: Some(client_secret.into()),
            auth_method,
            private_key: None,
        }
    }

    /// A confidential client that authenticates with `private_key_jwt`.
    pub fn with_private_key(client_id: impl Into<String>, private_key: PrivateKeyJwt) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: None,
            auth_method: TokenAuthMethod::PrivateKeyJwt,
            private_key: Some(private_key),
        }
    }
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("auth_method", &self.auth_method)
            .field("private_key", &self.private_key)
            .finish()
    }
}

/// An authorization request waiting for its callback: what is needed to check the response and
/// redeem the code. Single use.
pub struct PendingAuthorization {
    /// The URL to open in the browser.
    pub authorization_url: Url,
    /// The `state` the callback must carry.
    pub state: String,
    verifier: PkceCodeVerifier,
    issuer: String,
    iss_required: bool,
    redirect_uri: String,
    resource: String,
    dpop: Option<DpopProver>,
}

impl std::fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingAuthorization")
            .field("authorization_url", &self.authorization_url.as_str())
            .field("issuer", &self.issuer)
            .field("dpop", &self.dpop)
            .finish_non_exhaustive()
    }
}

fn invalid_url(what: &'static str, url: &str) -> FlowError {
    FlowError::InvalidUrl {
        what,
        url: url.to_owned(),
    }
}

fn redirect_url(redirect_uri: &str) -> Result<RedirectUrl, FlowError> {
    RedirectUrl::new(redirect_uri.to_owned()).map_err(|_| invalid_url("redirect", redirect_uri))
}

/// oauth2's client for the token endpoint alone.
pub(crate) type TokenClient =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// One token request's endpoint with the client's authentication applied: oauth2's client (Basic
/// or body credentials) plus the form parameters the method adds (`private_key_jwt`'s assertion).
/// Made per request, so every assertion is fresh.
pub(crate) struct TokenEndpoint {
    client: TokenClient,
    params: Vec<(&'static str, String)>,
    /// What was sent that must never come back in an error message.
    secrets: Vec<String>,
    /// Signs a proof for each request, when the token is to be DPoP-bound.
    dpop: Option<DpopProver>,
}

/// A token request that takes extra form parameters (oauth2 has no trait for it).
pub(crate) trait ExtraParams<'a>: Sized {
    /// The request with `name=value` added to its form body.
    fn extra_param(self, name: &'a str, value: &'a str) -> Self;
}

macro_rules! extra_params {
    ($($request:ident),+) => {$(
        impl<'a> ExtraParams<'a> for oauth2::$request<'a, BasicErrorResponse, BasicTokenResponse> {
            fn extra_param(self, name: &'a str, value: &'a str) -> Self {
                self.add_extra_param(name, value)
            }
        }
    )+};
}

extra_params!(
    CodeTokenRequest,
    RefreshTokenRequest,
    ClientCredentialsTokenRequest
);

impl TokenEndpoint {
    /// The token endpoint of `server`, authenticating as `credentials` say; `redirect_uri` only for
    /// the code exchange.
    pub(crate) fn new(
        server: &ServerMetadata,
        credentials: &ClientCredentials,
        redirect_uri: Option<&str>,
    ) -> Result<Self, FlowError> {
        let token_url = TokenUrl::new(server.token_endpoint.clone())
            .map_err(|_| invalid_url("token endpoint", &server.token_endpoint))?;
        let mut client = BasicClient::new(ClientId::new(credentials.client_id.clone()))
            .set_token_uri(token_url)
            .set_auth_type(AuthType::RequestBody);
        if let Some(redirect_uri) = redirect_uri {
            client = client.set_redirect_uri(redirect_url(redirect_uri)?);
        }
        let missing = |missing: &'static str| FlowError::MissingCredential {
            client_id: credentials.client_id.clone(),
            method: credentials.auth_method,
            missing,
        };
        let mut params = Vec::new();
        let mut secrets = Vec::new();
        match credentials.auth_method {
            // The secret, if any, stays home: a public client proves nothing.
            TokenAuthMethod::None => {}
            TokenAuthMethod::ClientSecretBasic | TokenAuthMethod::ClientSecretPost => {
                let secret = credentials
                    .client_secret
                    .as_ref()
                    .ok_or_else(|| missing("client secret"))?;
                secrets.push(secret.clone());
                client = client.set_client_secret(ClientSecret::new(secret.clone()));
                if credentials.auth_method == TokenAuthMethod::ClientSecretBasic {
                    client = client.set_auth_type(AuthType::BasicAuth);
                }
            }
            TokenAuthMethod::PrivateKeyJwt => {
                let key = credentials
                    .private_key
                    .as_ref()
                    .ok_or_else(|| missing("private key"))?;
                let assertion = key.assertion(&credentials.client_id, &server.issuer)?;
                params.push((
                    "client_assertion_type",
                    JWT_BEARER_ASSERTION_TYPE.to_owned(),
                ));
                params.push(("client_assertion", assertion.clone()));
                secrets.push(assertion);
            }
        }
        Ok(Self {
            client,
            params,
            secrets,
            dpop: None,
        })
    }

    /// The endpoint with every request carrying a proof from `dpop`, if given.
    pub(crate) fn with_dpop(mut self, dpop: Option<DpopProver>) -> Self {
        self.dpop = dpop;
        self
    }

    /// oauth2's HTTP client for this endpoint's requests: our hyper client, bounded, same-origin
    /// redirects only; plus the DPoP proof and its nonce retry when the endpoint has a prover.
    pub(crate) fn http(
        &self,
        http: &HttpClient,
    ) -> impl Fn(
        oauth2::HttpRequest,
    ) -> futures::future::BoxFuture<
        'static,
        Result<oauth2::HttpResponse, mcp_transport::TransportError>,
    > {
        let http = http.clone();
        let dpop = self.dpop.clone();
        move |request| {
            let http = http.clone();
            let dpop = dpop.clone();
            Box::pin(async move {
                crate::dpop::fetch_token(&http, request, MAX_TOKEN_RESPONSE, dpop.as_ref()).await
            })
        }
    }

    /// The key a token from this endpoint is bound to, if it is to be bound.
    pub(crate) fn dpop_key(&self) -> Option<&DpopKey> {
        self.dpop.as_ref().map(DpopProver::key)
    }

    /// oauth2's client, to start a request from.
    pub(crate) fn client(&self) -> &TokenClient {
        &self.client
    }

    /// `request` with the authentication's form parameters added.
    pub(crate) fn authenticate<'a, R: ExtraParams<'a>>(&'a self, request: R) -> R {
        self.params.iter().fold(request, |request, (name, value)| {
            request.extra_param(name, value)
        })
    }

    /// The flow's error for a failed request; `sent` lists the grant's own secrets (code,
    /// verifier, refresh token), which are kept out of the message with the client's.
    pub(crate) fn error(
        &self,
        error: RequestTokenError<TransportError, BasicErrorResponse>,
        sent: &[&str],
    ) -> FlowError {
        let secrets: Vec<&str> = self
            .secrets
            .iter()
            .map(String::as_str)
            .chain(sent.iter().copied())
            .collect();
        let clean = |text: &str, max: usize| sanitize(&redact(text, &secrets), max);
        match error {
            RequestTokenError::ServerResponse(response) => FlowError::TokenRejected {
                error: clean(response.error().as_ref(), MAX_ERROR_CODE),
                description: response
                    .error_description()
                    .map(|description| clean(description, MAX_DESCRIPTION)),
            },
            RequestTokenError::Request(error) => FlowError::Token(describe(&error)),
            RequestTokenError::Parse(error, _body) => FlowError::Token(clean(
                &format!("the token response cannot be read: {error}"),
                MAX_DESCRIPTION,
            )),
            RequestTokenError::Other(message) => FlowError::Token(clean(&message, MAX_DESCRIPTION)),
        }
    }
}

/// Replaces every secret of at least four characters in `text` with `<redacted>`.
fn redact(text: &str, secrets: &[&str]) -> String {
    secrets
        .iter()
        .filter(|secret| secret.len() >= 4)
        .fold(text.to_owned(), |text, secret| {
            text.replace(secret, "<redacted>")
        })
}

/// Server-supplied text made fit for an error message: control characters removed, at most
/// `max_chars` characters (an ellipsis marks a cut).
pub(crate) fn sanitize(text: &str, max_chars: usize) -> String {
    let mut clean: String = text.chars().filter(|c| !c.is_control()).collect();
    if let Some((cut, _)) = clean.char_indices().nth(max_chars) {
        clean.truncate(cut);
        clean.push('…');
    }
    clean
}

/// Builds the authorization request: PKCE S256 (a server that does not offer it is refused), a fresh
/// 128-bit `state`, the `resource` (the MCP server's canonical URL) and the scopes.
///
/// # Errors
/// [`FlowError::Metadata`] when S256 is not offered; [`FlowError::InvalidUrl`]; no randomness.
pub fn authorization_request(
    server: &ServerMetadata,
    credentials: &ClientCredentials,
    redirect_uri: &str,
    resource: &str,
    scopes: &[String],
) -> Result<PendingAuthorization, FlowError> {
    server.require_s256()?;
    let state = crate::callback::random_state()
        .map_err(|error| FlowError::Randomness(error.to_string()))?;
    let client = BasicClient::new(ClientId::new(credentials.client_id.clone()))
        .set_auth_uri(
            AuthUrl::new(server.authorization_endpoint.clone()).map_err(|_| {
                invalid_url("authorization endpoint", &server.authorization_endpoint)
            })?,
        )
        .set_redirect_uri(redirect_url(redirect_uri)?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let expected_state = state.clone();
    let (authorization_url, _) = client
        .authorize_url(move || CsrfToken::new(expected_state))
        .add_scopes(scopes.iter().cloned().map(Scope::new))
        .add_extra_param("resource", resource)
        .set_pkce_challenge(challenge)
        .url();
    Ok(PendingAuthorization {
        authorization_url,
        state,
        verifier,
        issuer: server.issuer.clone(),
        iss_required: server.authorization_response_iss_parameter_supported == Some(true),
        redirect_uri: redirect_uri.to_owned(),
        resource: resource.to_owned(),
        dpop: None,
    })
}

impl PendingAuthorization {
    /// Redeems the code with a DPoP proof from `prover`, asking for a token bound to its key
    /// (RFC 9449 §5); the tokens then hold that key.
    pub fn with_dpop(mut self, prover: DpopProver) -> Self {
        self.dpop = Some(prover);
        self
    }

    /// Checks the response's `iss` (RFC 9207): when present it must equal the issuer exactly; when the
    /// server promises it, it must be present.
    ///
    /// # Errors
    /// [`FlowError::IssuerMismatch`].
    pub fn check_iss(&self, iss: Option<&str>) -> Result<(), FlowError> {
        match iss {
            Some(iss) if iss == self.issuer => Ok(()),
            None if !self.iss_required => Ok(()),
            found => Err(FlowError::IssuerMismatch {
                expected: self.issuer.clone(),
                found: found.map(str::to_owned),
            }),
        }
    }

    /// Redeems the code at the token endpoint (with the PKCE verifier, the redirect URI and
    /// `resource`), after checking `iss`, authenticating as `credentials` say.
    ///
    /// # Errors
    /// [`FlowError::IssuerMismatch`] before anything is sent; [`FlowError::MissingCredential`] and
    /// [`FlowError::ClientAssertion`] before anything is sent; [`FlowError::TokenRejected`] on
    /// refusal; [`FlowError::Token`] on failure.
    pub async fn exchange(
        self,
        http: &HttpClient,
        server: &ServerMetadata,
        credentials: &ClientCredentials,
        code: &str,
        iss: Option<&str>,
    ) -> Result<StoredTokens, FlowError> {
        self.check_iss(iss)?;
        let endpoint =
            TokenEndpoint::new(server, credentials, Some(&self.redirect_uri))?.with_dpop(self.dpop);
        let verifier = self.verifier.secret().clone();
        let request = endpoint
            .client()
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(self.verifier)
            .add_extra_param("resource", self.resource.clone());
        let response = endpoint
            .authenticate(request)
            .request_async(&endpoint.http(http))
            .await
            .map_err(|error| endpoint.error(error, &[code, &verifier]))?;
        stored(&response, &self.issuer, &self.resource, endpoint.dpop_key())
    }
}

/// Exchanges a refresh token for new tokens (with `resource`), authenticating as `credentials`
/// say. A rotated refresh token replaces the old one; when none comes back, the old one is kept.
///
/// `redirect_uri` is not sent (a refresh request has none); it is accepted so that callers hold
/// one set of client settings for every request. Tokens bound to a DPoP key are refreshed with a
/// proof signed by that key, and the new ones are bound to it too.
///
/// # Errors
/// [`FlowError::TokenRejected`] on refusal ([`FlowError::is_invalid_grant`]: log in again;
/// [`FlowError::is_invalid_client`]: register again); [`FlowError::Token`] when there is no
/// refresh token or the request fails; [`FlowError::MissingCredential`],
/// [`FlowError::ClientAssertion`].
pub async fn refresh(
    http: &HttpClient,
    server: &ServerMetadata,
    credentials: &ClientCredentials,
    tokens: &StoredTokens,
    redirect_uri: &str,
) -> Result<StoredTokens, FlowError> {
    let _ = redirect_uri;
    let prover = tokens.dpop_key.clone().map(DpopProver::new);
    refresh_with(http, server, credentials, tokens, prover).await
}

/// [`refresh`] with the proofs from `prover` (the tokens' key, with the nonce the authorization
/// server last supplied), if any.
pub(crate) async fn refresh_with(
    http: &HttpClient,
    server: &ServerMetadata,
    credentials: &ClientCredentials,
    tokens: &StoredTokens,
    prover: Option<DpopProver>,
) -> Result<StoredTokens, FlowError> {
    let Some(refresh_token) = &tokens.refresh_token else {
        return Err(FlowError::Token(
            "no refresh token; log in again".to_owned(),
        ));
    };
    let endpoint = TokenEndpoint::new(server, credentials, None)?.with_dpop(prover);
    let resource = tokens.resource.clone().unwrap_or_default();
    let refresh_token_value = RefreshToken::new(refresh_token.clone());
    let mut request = endpoint
        .client()
        .exchange_refresh_token(&refresh_token_value);
    if !resource.is_empty() {
        request = request.add_extra_param("resource", resource.clone());
    }
    let response = endpoint
        .authenticate(request)
        .request_async(&endpoint.http(http))
        .await
        .map_err(|error| endpoint.error(error, &[refresh_token]))?;
    let mut renewed = stored(&response, &server.issuer, &resource, endpoint.dpop_key())?;
    if renewed.refresh_token.is_none() {
        renewed.refresh_token = Some(refresh_token.clone());
    }
    if renewed.scopes.is_empty() {
        renewed.scopes = tokens.scopes.clone();
    }
    Ok(renewed)
}

fn describe<E: std::error::Error>(error: &E) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(current) = cause {
        text.push_str(": ");
        text.push_str(&current.to_string());
        cause = current.source();
    }
    text
}

/// Unix seconds now (0 if the clock is before 1970).
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// The token response as stored, issued now; refused whole, before anyone can store it, when it
/// is not usable (an access token with CR/LF would otherwise be saved and then break every
/// request, with no refresh or login to replace it). `dpop` is the key the request's proofs were
/// signed with: a `DPoP` token is bound to it, a `Bearer` one (the server chose not to bind) is
/// not.
pub(crate) fn stored(
    response: &BasicTokenResponse,
    issuer: &str,
    resource: &str,
    dpop: Option<&DpopKey>,
) -> Result<StoredTokens, FlowError> {
    let issued_at = now();
    let token_type = match response.token_type() {
        oauth2::basic::BasicTokenType::Bearer => "Bearer",
        oauth2::basic::BasicTokenType::Mac => "MAC",
        // oauth2 lowercases the types it does not know; RFC 9449 spells this one `DPoP`.
        oauth2::basic::BasicTokenType::Extension(other) if other.eq_ignore_ascii_case("dpop") => {
            "DPoP"
        }
        oauth2::basic::BasicTokenType::Extension(other) => other.as_str(),
    };
    checked(StoredTokens {
        access_token: response.access_token().secret().clone(),
        token_type: token_type.to_owned(),
        refresh_token: response.refresh_token().map(|token| token.secret().clone()),
        scopes: response
            .scopes()
            .map(|scopes| scopes.iter().map(|scope| scope.to_string()).collect())
            .unwrap_or_default(),
        issued_at,
        expires_at: response
            .expires_in()
            .map(|lifetime: Duration| issued_at.saturating_add(lifetime.as_secs())),
        issuer: Some(issuer.to_owned()),
        resource: (!resource.is_empty()).then(|| resource.to_owned()),
        dpop_key: dpop
            .filter(|_| token_type.eq_ignore_ascii_case("dpop"))
            .cloned(),
    })
}

/// `tokens` if they are usable, else [`FlowError::UnusableTokenResponse`]: the one check every
/// token response passes before it can reach a store.
pub(crate) fn checked(tokens: StoredTokens) -> Result<StoredTokens, FlowError> {
    match tokens.check_usable() {
        Ok(()) => Ok(tokens),
        Err(reason) => {
            tracing::warn!(issuer = ?tokens.issuer, reason, "unusable token response refused");
            Err(FlowError::UnusableTokenResponse { reason })
        }
    }
}

#[cfg(test)]
mod tests;
