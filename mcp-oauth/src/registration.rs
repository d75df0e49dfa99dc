//! Client identity: which `client_id` (and which proof of it) to use at an authorization server.
//!
//! [`resolve_client`] tries, in the order the MCP specification gives:
//! 1. a **pre-registered** client from the configuration ([`ClientIdentity::client_id`]), with a
//!    secret or a private key if it has one;
//! 2. a **client metadata document**: the configured https URL is the `client_id`, when the
//!    authorization server says it accepts them (`client_id_metadata_document_supported`); a
//!    public client, or `private_key_jwt` when a key is configured (the document then publishes
//!    its public half);
//! 3. a **registration stored** for this authorization server (by issuer) from an earlier run;
//! 4. **dynamic client registration** (RFC 7591) at the server's `registration_endpoint`, stored
//!    for next time;
//! 5. otherwise [`RegistrationError::NoClientIdentity`], which tells the user what to configure.
//!
//! Registrations are bound to one issuer and never used with another. A stored registration is
//! reused whatever loopback port the redirect URI has this time: RFC 8252 §7.3 makes the
//! authorization server accept any port. When a token request answers `invalid_client`
//! ([`FlowError::is_invalid_client`](crate::FlowError::is_invalid_client)), [`forget_client`]
//! drops the registration so that the next [`resolve_client`] registers again.

use http::StatusCode;
use mcp_transport::TransportError;
use mcp_transport::http::HttpClient;
use serde::Deserialize;
use url::Url;

use crate::discovery::{DiscoveryError, ServerMetadata, SsrfGuard};
use crate::flow::{ClientCredentials, MAX_DESCRIPTION, TokenAuthMethod, now, sanitize};
use crate::grant::PrivateKeyJwt;
use crate::store::{StoreError, StoredClient, TokenStore};

/// The largest registration response accepted.
const MAX_REGISTRATION_RESPONSE: usize = 64 * 1024;

/// The configured ways this client may identify itself, from the server's configuration.
///
/// `Debug` hides the secret and the key.
#[derive(Clone)]
pub struct ClientIdentity {
    /// A pre-registered client id (`oauth.client_id`); when set, it is always used.
    pub client_id: Option<String>,
    /// The pre-registered client's secret, if it is confidential.
    pub client_secret: Option<String>,
    /// How the pre-registered client authenticates; chosen from the secret, the key and the
    /// server's metadata when unset.
    pub auth_method: Option<TokenAuthMethod>,
    /// A key for `private_key_jwt`, for a pre-registered client or a client metadata document
    /// that publishes its public half.
    pub private_key: Option<PrivateKeyJwt>,
    /// The https URL of this client's metadata document, used as its `client_id` where the
    /// authorization server accepts such documents.
    pub client_metadata_url: Option<String>,
    /// The name shown to the user on the consent page of a dynamic registration.
    pub client_name: String,
}

impl Default for ClientIdentity {
    fn default() -> Self {
        Self {
            client_id: None,
            client_secret: None,
            auth_method: None,
            private_key: None,
            client_metadata_url: None,
            client_name: "mcpcord".to_owned(),
        }
    }
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("auth_method", &self.auth_method)
            .field("private_key", &self.private_key)
            .field("client_metadata_url", &self.client_metadata_url)
            .field("client_name", &self.client_name)
            .finish()
    }
}

/// Why no client identity could be settled. Messages name what was wrong and never contain
/// secrets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// Nothing identifies this client to the authorization server.
    #[error(
        "no client identity for the authorization server {issuer}: it offers neither dynamic client registration nor client metadata documents; register a client with it and set `oauth.client_id` (and `oauth.client_secret` if it issued one) in this server's configuration"
    )]
    NoClientIdentity {
        /// The authorization server.
        issuer: String,
    },
    /// The configured client metadata document URL cannot be a `client_id`.
    #[error("the client metadata document URL {url:?} cannot be a client_id: {reason}")]
    InvalidClientMetadataUrl {
        /// The configured URL.
        url: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// The configured authentication method lacks what it needs.
    #[error(
        "the pre-registered client {client_id:?} is set to authenticate with {method} but has no {missing}; set it, or another `oauth.token_endpoint_auth_method`"
    )]
    IncompleteCredentials {
        /// The client id.
        client_id: String,
        /// The configured method.
        method: TokenAuthMethod,
        /// `client secret` or `private key`.
        missing: &'static str,
    },
    /// The registration endpoint is not a URL.
    #[error("the registration endpoint {url:?} is not a valid URL: {reason}")]
    InvalidEndpoint {
        /// The endpoint from the server's metadata.
        url: String,
        /// Why it is not usable.
        reason: String,
    },
    /// The SSRF guard refused the registration endpoint; nothing was sent.
    #[error("dynamic client registration was not attempted: {0}")]
    EndpointRefused(#[source] DiscoveryError),
    /// The registration request failed in transport (connect, timeout, a response over 64 KiB).
    #[error("the registration request to {url} failed: {error}")]
    Transport {
        /// The registration endpoint.
        url: String,
        /// The transport's error.
        #[source]
        error: TransportError,
    },
    /// The server refused the redirect URI (`invalid_redirect_uri`, RFC 7591 §3.2.2).
    #[error(
        "the authorization server refused to register the redirect URI {redirect_uri}{}",
        detail(description.as_deref())
    )]
    InvalidRedirectUri {
        /// The redirect URI sent.
        redirect_uri: String,
        /// The server's description (control characters removed, bounded).
        description: Option<String>,
    },
    /// The server refused the client metadata (`invalid_client_metadata`, RFC 7591 §3.2.2).
    #[error(
        "the authorization server refused the client metadata{}",
        detail(description.as_deref())
    )]
    InvalidClientMetadata {
        /// The server's description (control characters removed, bounded).
        description: Option<String>,
    },
    /// The server refused the registration otherwise.
    #[error("{}", rejected_message(*status, error.as_deref(), description.as_deref()))]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The OAuth error code, if the body had one.
        error: Option<String>,
        /// The server's description, if any.
        description: Option<String>,
    },
    /// The registration response is not usable.
    #[error("the registration response from {url} is not usable: {reason}")]
    InvalidResponse {
        /// The registration endpoint.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The server registered the client for an authentication method this client cannot use.
    #[error(
        "the authorization server registered the client for token endpoint authentication {method:?}, which this client cannot use; pre-register a client and set `oauth.client_id`"
    )]
    UnsupportedAuthMethod {
        /// The method the server chose (bounded).
        method: String,
    },
    /// Reading, writing or forgetting the stored registration failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn detail(description: Option<&str>) -> String {
    description.map_or_else(String::new, |description| format!(": {description}"))
}

fn rejected_message(status: u16, error: Option<&str>, description: Option<&str>) -> String {
    let mut message = format!("the registration endpoint answered HTTP {status}");
    if let Some(error) = error {
        message.push_str(&format!(" {error}"));
    }
    message.push_str(&detail(description));
    if matches!(status, 401 | 403) {
        message.push_str(
            "; it requires an initial access token, which this client does not have: pre-register a client and set `oauth.client_id`",
        );
    }
    message
}

/// Settles who the client is at the authorization server `server`, in the specification's order
/// (see the [module documentation](self)): pre-registered, client metadata document, stored
/// registration, dynamic registration. A dynamic registration is stored under the issuer.
///
/// `guard` checks the registration endpoint before anything is sent to it; `redirect_uri` is the
/// loopback callback registered with a new client. A configured client metadata URL is checked
/// even when another identity wins, so that a mistake in it shows at once.
///
/// # Errors
/// [`RegistrationError::NoClientIdentity`] when nothing applies; configuration errors
/// ([`RegistrationError::InvalidClientMetadataUrl`], [`RegistrationError::IncompleteCredentials`]);
/// the registration's own errors; store errors.
pub async fn resolve_client(
    http: &HttpClient,
    guard: &SsrfGuard,
    store: &dyn TokenStore,
    server: &ServerMetadata,
    identity: &ClientIdentity,
    redirect_uri: &str,
) -> Result<ClientCredentials, RegistrationError> {
    let metadata_url = identity
        .client_metadata_url
        .as_deref()
        .map(check_metadata_url)
        .transpose()?;
    if let Some(client_id) = &identity.client_id {
        tracing::debug!(issuer = %server.issuer, %client_id, "using the pre-registered client");
        return pre_registered(server, identity, client_id);
    }
    if let Some(url) = metadata_url {
        if server.client_id_metadata_document_supported == Some(true) {
            tracing::debug!(issuer = %server.issuer, client_id = url, "using the client metadata document");
            return Ok(match &identity.private_key {
                Some(key) => ClientCredentials::with_private_key(url, key.clone()),
                None => ClientCredentials::public(url),
            });
        }
        tracing::debug!(
            issuer = %server.issuer,
            "the authorization server does not accept client metadata documents"
        );
    }
    if let Some(stored) = store.load_client(&server.issuer).await? {
        tracing::debug!(issuer = %server.issuer, client_id = %stored.client_id, "reusing the stored registration");
        return from_stored(stored);
    }
    let Some(endpoint) = &server.registration_endpoint else {
        return Err(RegistrationError::NoClientIdentity {
            issuer: server.issuer.clone(),
        });
    };
    let client = register(http, guard, server, endpoint, identity, redirect_uri).await?;
    store.save_client(&client).await?;
    from_stored(client)
}

/// Forgets the registration stored for the authorization server `issuer`, for when its token
/// endpoint answers `invalid_client`: the next [`resolve_client`] registers again.
///
/// # Errors
/// [`RegistrationError::Store`].
pub async fn forget_client(store: &dyn TokenStore, issuer: &str) -> Result<(), RegistrationError> {
    store.clear_client(issuer).await?;
    Ok(())
}

fn pre_registered(
    server: &ServerMetadata,
    identity: &ClientIdentity,
    client_id: &str,
) -> Result<ClientCredentials, RegistrationError> {
    let method = match (identity.auth_method, &identity.client_secret) {
        (Some(method), _) => method,
        (None, Some(_)) => secret_method(server),
        (None, None) if identity.private_key.is_some() => TokenAuthMethod::PrivateKeyJwt,
        (None, None) => TokenAuthMethod::None,
    };
    let missing = match method {
        TokenAuthMethod::ClientSecretBasic | TokenAuthMethod::ClientSecretPost
            if identity.client_secret.is_none() =>
        {
            Some("client secret")
        }
        TokenAuthMethod::PrivateKeyJwt if identity.private_key.is_none() => Some("private key"),
        _ => None,
    };
    if let Some(missing) = missing {
        return Err(RegistrationError::IncompleteCredentials {
            client_id: client_id.to_owned(),
            method,
            missing,
        });
    }
    Ok(ClientCredentials {
        client_id: client_id.to_owned(),
        client_secret: identity.client_secret.clone(),
        auth_method: method,
        private_key: identity.private_key.clone(),
    })
}

/// How to send a pre-registered secret: Basic unless the server lists methods without it and with
/// `client_secret_post`. Basic is also the fallback, being the one RFC 6749 §2.3.1 obliges
/// servers to support.
fn secret_method(server: &ServerMetadata) -> TokenAuthMethod {
    let lists = |name: &str| {
        server
            .token_endpoint_auth_methods_supported
            .as_ref()
            .is_none_or(|methods| methods.iter().any(|method| method == name))
    };
    if lists("client_secret_basic") {
        TokenAuthMethod::ClientSecretBasic
    } else if lists("client_secret_post") {
        TokenAuthMethod::ClientSecretPost
    } else {
        TokenAuthMethod::ClientSecretBasic
    }
}

/// Checks a client metadata document URL against the rules for URL client ids (https, a path, no
/// fragment, no user information, no dot segments) and returns it unchanged: the `client_id` must
/// equal the document's URL exactly.
fn check_metadata_url(text: &str) -> Result<String, RegistrationError> {
    let invalid = |reason| RegistrationError::InvalidClientMetadataUrl {
        url: text.to_owned(),
        reason,
    };
    let url = Url::parse(text).map_err(|_| invalid("it is not a URL"))?;
    if url.scheme() != "https" {
        return Err(invalid("it must be an https URL"));
    }
    if url.path() == "/" {
        return Err(invalid(
            "it must have a path naming the document, not just a host",
        ));
    }
    if url.fragment().is_some() {
        return Err(invalid("it must not have a fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it must not carry a user name or password"));
    }
    let after_scheme = text.split_once("://").map_or(text, |(_, rest)| rest);
    let path = after_scheme
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .split('/')
        .skip(1);
    let is_dot = |segment: &str| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    };
    if path.into_iter().any(is_dot) {
        return Err(invalid("it must not contain \".\" or \"..\" path segments"));
    }
    Ok(text.to_owned())
}

fn from_stored(stored: StoredClient) -> Result<ClientCredentials, RegistrationError> {
    let method = registered_method(
        stored.token_endpoint_auth_method.as_deref(),
        stored.client_secret.is_some(),
    )?;
    Ok(ClientCredentials {
        client_id: stored.client_id,
        client_secret: stored.client_secret,
        auth_method: method,
        private_key: None,
    })
}

/// The method a registration says, or its default (`client_secret_basic` with a secret, `none`
/// without, RFC 7591 §2); only methods this client can use with what it was given.
fn registered_method(
    name: Option<&str>,
    has_secret: bool,
) -> Result<TokenAuthMethod, RegistrationError> {
    let unsupported = |name: &str| RegistrationError::UnsupportedAuthMethod {
        method: sanitize(name, 64),
    };
    let method = match name {
        None if has_secret => TokenAuthMethod::ClientSecretBasic,
        None => TokenAuthMethod::None,
        Some(name) => TokenAuthMethod::parse(name).ok_or_else(|| unsupported(name))?,
    };
    match method {
        // A registration made here has no key behind it.
        TokenAuthMethod::PrivateKeyJwt => Err(unsupported(method.as_str())),
        TokenAuthMethod::ClientSecretBasic | TokenAuthMethod::ClientSecretPost if !has_secret => {
            Err(unsupported(method.as_str()))
        }
        method => Ok(method),
    }
}

/// What a registration endpoint answers on success (RFC 7591 §3.2.1); the rest is ignored, and
/// the members only looked at are taken as any JSON so that an odd one cannot fail the
/// registration.
#[derive(Deserialize)]
struct Registered {
    client_id: Option<String>,
    client_secret: Option<String>,
    token_endpoint_auth_method: Option<String>,
    client_secret_expires_at: Option<serde_json::Value>,
    redirect_uris: Option<serde_json::Value>,
}

/// What a registration endpoint answers on refusal (RFC 7591 §3.2.2).
#[derive(Deserialize)]
struct Refusal {
    error: Option<String>,
    error_description: Option<String>,
}

/// Dynamic client registration (RFC 7591) of a public native client; the registration to store.
async fn register(
    http: &HttpClient,
    guard: &SsrfGuard,
    server: &ServerMetadata,
    endpoint: &str,
    identity: &ClientIdentity,
    redirect_uri: &str,
) -> Result<StoredClient, RegistrationError> {
    let invalid_endpoint = |reason: String| RegistrationError::InvalidEndpoint {
        url: endpoint.to_owned(),
        reason,
    };
    let url = Url::parse(endpoint).map_err(|error| invalid_endpoint(error.to_string()))?;
    guard
        .check(&url)
        .await
        .map_err(RegistrationError::EndpointRefused)?;
    let body = serde_json::json!({
        "client_name": identity.client_name,
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "application_type": "native",
    });
    let request = http::Request::post(url.as_str())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json")
        .body(body.to_string().into_bytes())
        .map_err(|error| invalid_endpoint(error.to_string()))?;
    tracing::debug!(issuer = %server.issuer, endpoint, "registering a client");
    let response = http
        .fetch(request, MAX_REGISTRATION_RESPONSE)
        .await
        .map_err(|error| RegistrationError::Transport {
            url: endpoint.to_owned(),
            error,
        })?;
    let status = response.status();
    if status != StatusCode::OK && status != StatusCode::CREATED {
        return Err(refused(status, response.body(), redirect_uri));
    }
    let invalid_response = |reason: String| RegistrationError::InvalidResponse {
        url: endpoint.to_owned(),
        reason,
    };
    let registered: Registered = serde_json::from_slice(response.body()).map_err(|error| {
        invalid_response(format!(
            "not a JSON registration (line {}, column {})",
            error.line(),
            error.column()
        ))
    })?;
    let client_id = registered
        .client_id
        .filter(|client_id| !client_id.is_empty())
        .ok_or_else(|| invalid_response("it has no client_id".to_owned()))?;
    let client_secret = registered.client_secret.filter(|secret| !secret.is_empty());
    let method = registered_method(
        registered.token_endpoint_auth_method.as_deref(),
        client_secret.is_some(),
    )?;
    if let Some(expires_at) = registered
        .client_secret_expires_at
        .as_ref()
        .and_then(serde_json::Value::as_u64)
        && expires_at != 0
        && client_secret.is_some()
    {
        // Not stored (StoredClient has no field for it): after this time the token endpoint
        // answers invalid_client, and the caller forgets the registration and registers again.
        tracing::info!(
            issuer = %server.issuer,
            expires_at,
            "the registered client secret expires"
        );
    }
    if let Some(redirect_uris) = registered
        .redirect_uris
        .as_ref()
        .and_then(serde_json::Value::as_array)
        && !redirect_uris.iter().any(|uri| uri == redirect_uri)
    {
        tracing::warn!(
            issuer = %server.issuer,
            redirect_uri,
            "the registration does not list the redirect URI sent; authorization may fail"
        );
    }
    Ok(StoredClient {
        client_id,
        client_secret,
        registered_at: now(),
        issuer: server.issuer.clone(),
        redirect_uri: Some(redirect_uri.to_owned()),
        token_endpoint_auth_method: Some(method.as_str().to_owned()),
    })
}

fn refused(status: StatusCode, body: &[u8], redirect_uri: &str) -> RegistrationError {
    let refusal: Option<Refusal> = serde_json::from_slice(body).ok();
    let (error, description) = refusal.map_or((None, None), |refusal| {
        (
            refusal.error.map(|error| sanitize(&error, 64)),
            refusal
                .error_description
                .map(|description| sanitize(&description, MAX_DESCRIPTION)),
        )
    });
    match error.as_deref() {
        Some("invalid_redirect_uri") => RegistrationError::InvalidRedirectUri {
            redirect_uri: redirect_uri.to_owned(),
            description,
        },
        Some("invalid_client_metadata") => RegistrationError::InvalidClientMetadata { description },
        _ => RegistrationError::Rejected {
            status: status.as_u16(),
            error,
            description,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(methods: Option<&[&str]>) -> ServerMetadata {
        serde_json::from_value(serde_json::json!({
            "issuer": "https://as.example",
            "authorization_endpoint": "https://as.example/authorize",
            "token_endpoint": "https://as.example/token",
            "token_endpoint_auth_methods_supported": methods,
        }))
        .unwrap()
    }

    #[test]
    fn a_secret_goes_by_basic_unless_the_server_lists_only_post() {
        assert_eq!(
            secret_method(&server(None)),
            TokenAuthMethod::ClientSecretBasic
        );
        assert_eq!(
            secret_method(&server(Some(&[
                "client_secret_post",
                "client_secret_basic"
            ]))),
            TokenAuthMethod::ClientSecretBasic
        );
        assert_eq!(
            secret_method(&server(Some(&["none", "client_secret_post"]))),
            TokenAuthMethod::ClientSecretPost
        );
        assert_eq!(
            secret_method(&server(Some(&["private_key_jwt"]))),
            TokenAuthMethod::ClientSecretBasic
        );
    }

    #[test]
    fn a_registration_without_a_method_defaults_by_its_secret() {
        assert_eq!(
            registered_method(None, false).unwrap(),
            TokenAuthMethod::None
        );
        assert_eq!(
            registered_method(None, true).unwrap(),
            TokenAuthMethod::ClientSecretBasic
        );
        assert!(matches!(
            registered_method(Some("client_secret_post"), false),
            Err(RegistrationError::UnsupportedAuthMethod { .. })
        ));
        assert!(matches!(
            registered_method(Some("tls_client_auth"), true),
            Err(RegistrationError::UnsupportedAuthMethod { .. })
        ));
    }

    #[test]
    fn metadata_urls_must_be_https_with_a_clean_path() {
        for good in [
            "https://app.example/client.json",
            "https://app.example/c?v=1",
        ] {
            if let Err(error) = check_metadata_url(good) {
                panic!("{good} is refused: {error}");
            }
        }
        for (url, reason) in [
            ("http://app.example/client.json", "https"),
            ("https://app.example", "path"),
            ("https://app.example/", "path"),
            ("https://app.example/client.json#x", "fragment"),
            ("https://me:pw@app.example/client.json", "user name"),
            ("https://app.example/a/../client.json", "\"..\""),
            ("https://app.example/a/%2E/client.json", "\".\""),
            ("not a url", "not a URL"),
        ] {
            let error = check_metadata_url(url).unwrap_err();
            assert!(error.to_string().contains(reason), "{url}: {error}");
        }
    }
}
