//! The authorization-code flow's steps: choosing scopes, the authorization request (PKCE S256,
//! `state`, `resource`), checking the response's `iss`, and the token requests (code and refresh),
//! on the `oauth2` crate over our own HTTP client.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mcp_transport::http::HttpClient;
use mcp_transport::www_authenticate::Challenge;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, Scope, TokenResponse, TokenUrl,
};
use url::Url;

use crate::discovery::{DiscoveryError, ResourceMetadata, ServerMetadata};
use crate::store::StoredTokens;

/// The largest token response accepted.
const MAX_TOKEN_RESPONSE: usize = 64 * 1024;

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
    /// The token endpoint refused or failed.
    #[error("the token request failed: {0}")]
    Token(String),
    /// No random state could be made.
    #[error("no randomness for the state: {0}")]
    Randomness(String),
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

/// Who the client is at an authorization server.
#[derive(Clone)]
pub struct ClientCredentials {
    /// The client id (pre-registered, a metadata-document URL, or from dynamic registration).
    pub client_id: String,
    /// The secret of a confidential client, if any.
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
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
}

impl std::fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingAuthorization")
            .field("authorization_url", &self.authorization_url.as_str())
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

fn client_for(
    server: &ServerMetadata,
    credentials: &ClientCredentials,
    redirect_uri: &str,
) -> Result<
    BasicClient<
        oauth2::EndpointSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointSet,
    >,
    FlowError,
> {
    let invalid = |what: &'static str, url: &str| FlowError::InvalidUrl {
        what,
        url: url.to_owned(),
    };
    let mut client = BasicClient::new(ClientId::new(credentials.client_id.clone()))
        .set_auth_uri(
            AuthUrl::new(server.authorization_endpoint.clone())
                .map_err(|_| invalid("authorization endpoint", &server.authorization_endpoint))?,
        )
        .set_token_uri(
            TokenUrl::new(server.token_endpoint.clone())
                .map_err(|_| invalid("token endpoint", &server.token_endpoint))?,
        )
        .set_redirect_uri(
            RedirectUrl::new(redirect_uri.to_owned())
                .map_err(|_| invalid("redirect", redirect_uri))?,
        );
    if let Some(secret) = &credentials.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.clone()));
    }
    Ok(client)
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
    let client = client_for(server, credentials, redirect_uri)?;
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
    })
}

impl PendingAuthorization {
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
    /// `resource`), after checking `iss`.
    ///
    /// # Errors
    /// [`FlowError::IssuerMismatch`] before anything is sent; [`FlowError::Token`] on refusal.
    pub async fn exchange(
        self,
        http: &HttpClient,
        server: &ServerMetadata,
        credentials: &ClientCredentials,
        code: &str,
        iss: Option<&str>,
    ) -> Result<StoredTokens, FlowError> {
        self.check_iss(iss)?;
        let client = client_for(server, credentials, &self.redirect_uri)?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(self.verifier)
            .add_extra_param("resource", self.resource.clone())
            .request_async(&oauth_http(http))
            .await
            .map_err(|error| FlowError::Token(describe(&error)))?;
        Ok(stored(&response, &self.issuer, &self.resource))
    }
}

/// Exchanges a refresh token for new tokens (with `resource`). A rotated refresh token replaces the
/// old one; when none comes back, the old one is kept.
///
/// # Errors
/// [`FlowError::Token`]: refused (`invalid_grant` means log in again) or failed.
pub async fn refresh(
    http: &HttpClient,
    server: &ServerMetadata,
    credentials: &ClientCredentials,
    tokens: &StoredTokens,
    redirect_uri: &str,
) -> Result<StoredTokens, FlowError> {
    let Some(refresh_token) = &tokens.refresh_token else {
        return Err(FlowError::Token(
            "no refresh token; log in again".to_owned(),
        ));
    };
    let client = client_for(server, credentials, redirect_uri)?;
    let resource = tokens.resource.clone().unwrap_or_default();
    let refresh_token_value = RefreshToken::new(refresh_token.clone());
    let mut request = client.exchange_refresh_token(&refresh_token_value);
    if !resource.is_empty() {
        request = request.add_extra_param("resource", resource.clone());
    }
    let response = request
        .request_async(&oauth_http(http))
        .await
        .map_err(|error| FlowError::Token(describe(&error)))?;
    let mut renewed = stored(&response, &server.issuer, &resource);
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

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

fn stored(
    response: &oauth2::basic::BasicTokenResponse,
    issuer: &str,
    resource: &str,
) -> StoredTokens {
    let issued_at = now();
    StoredTokens {
        access_token: response.access_token().secret().clone(),
        token_type: "Bearer".to_owned(),
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
    }
}

/// oauth2's HTTP client: our hyper client, bounded, same-origin redirects only.
fn oauth_http(
    http: &HttpClient,
) -> impl Fn(
    oauth2::HttpRequest,
) -> futures::future::BoxFuture<
    'static,
    Result<oauth2::HttpResponse, mcp_transport::TransportError>,
> {
    let http = http.clone();
    move |request| {
        let http = http.clone();
        Box::pin(async move { http.fetch(request, MAX_TOKEN_RESPONSE).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_transport::www_authenticate::parse_challenges;

    fn server(extra: serde_json::Value) -> ServerMetadata {
        let mut base = serde_json::json!({
            "issuer": "https://as.example",
            "authorization_endpoint": "https://as.example/authorize",
            "token_endpoint": "https://as.example/token",
            "code_challenge_methods_supported": ["S256"],
        });
        if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
            base.extend(extra.clone());
        }
        serde_json::from_value(base).unwrap()
    }

    fn credentials() -> ClientCredentials {
        ClientCredentials {
            client_id: "client-1".to_owned(),
            client_secret: None,
        }
    }

    #[test]
    fn the_challenge_scope_wins_and_offline_access_is_added_when_offered() {
        let challenges = parse_challenges(r#"Bearer scope="files:read files:write""#).unwrap();
        let resource: ResourceMetadata = serde_json::from_value(
            serde_json::json!({"resource": "x", "scopes_supported": ["all"]}),
        )
        .unwrap();
        let offering =
            server(serde_json::json!({"scopes_supported": ["files:read", "offline_access"]}));
        assert_eq!(
            select_scopes(challenges.first(), Some(&resource), &offering),
            ["files:read", "files:write", "offline_access"]
        );
        assert_eq!(
            select_scopes(None, Some(&resource), &server(serde_json::json!({}))),
            ["all"]
        );
        assert!(select_scopes(None, None, &server(serde_json::json!({}))).is_empty());
    }

    #[test]
    fn the_authorization_url_carries_pkce_state_resource_and_scopes() {
        let pending = authorization_request(
            &server(serde_json::json!({})),
            &credentials(),
            "http://127.0.0.1:5555/callback",
            "https://mcp.example/mcp",
            &["read".to_owned()],
        )
        .unwrap();
        let query: std::collections::HashMap<String, String> = pending
            .authorization_url
            .query_pairs()
            .into_owned()
            .collect();
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["client_id"], "client-1");
        assert_eq!(query["code_challenge_method"], "S256");
        assert_eq!(query["code_challenge"].len(), 43);
        assert_eq!(query["state"], pending.state);
        assert_eq!(query["state"].len(), 32);
        assert_eq!(query["resource"], "https://mcp.example/mcp");
        assert_eq!(query["scope"], "read");
        assert_eq!(query["redirect_uri"], "http://127.0.0.1:5555/callback");
    }

    #[test]
    fn a_server_without_s256_is_refused_before_any_request() {
        let plain = server(serde_json::json!({"code_challenge_methods_supported": ["plain"]}));
        let error =
            authorization_request(&plain, &credentials(), "http://127.0.0.1:1/cb", "r", &[])
                .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("does not support PKCE with S256"),
            "{error}"
        );
    }

    #[test]
    fn iss_must_match_when_present_and_be_present_when_promised() {
        let optional = authorization_request(
            &server(serde_json::json!({})),
            &credentials(),
            "http://127.0.0.1:1/cb",
            "r",
            &[],
        )
        .unwrap();
        assert!(optional.check_iss(None).is_ok());
        assert!(optional.check_iss(Some("https://as.example")).is_ok());
        assert!(matches!(
            optional.check_iss(Some("https://evil.example")),
            Err(FlowError::IssuerMismatch { .. })
        ));
        let promised = authorization_request(
            &server(serde_json::json!({"authorization_response_iss_parameter_supported": true})),
            &credentials(),
            "http://127.0.0.1:1/cb",
            "r",
            &[],
        )
        .unwrap();
        assert!(matches!(
            promised.check_iss(None),
            Err(FlowError::IssuerMismatch { found: None, .. })
        ));
    }

    #[test]
    fn debug_hides_the_client_secret() {
        let credentials = ClientCredentials {
            client_id: "id".to_owned(),
            client_secret: Some("hunter2".to_owned()),
        };
        assert!(!format!("{credentials:?}").contains("hunter2"));
    }
}
