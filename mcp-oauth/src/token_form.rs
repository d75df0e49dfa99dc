//! Token requests for the grants the `oauth2` crate does not have (token exchange, the JWT bearer
//! grant): one form post through the bounded HTTP client, the client authenticated as its
//! [`TokenAuthMethod`] says, the same error typing and secret redaction as the other grants, and
//! a DPoP proof when the token is to be bound to a key.

use base64::Engine as _;
use mcp_transport::http::HttpClient;
use serde::Deserialize;

use crate::discovery::ServerMetadata;
use crate::dpop::{DpopKey, DpopProver};
use crate::flow::{ClientCredentials, FlowError, TokenAuthMethod, sanitize};
use crate::grant::JWT_BEARER_ASSERTION_TYPE;
use crate::store::StoredTokens;

/// The largest token response accepted.
const MAX_RESPONSE: usize = 64 * 1024;

/// A successful token response (RFC 6749 §5.1).
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: String,
    #[serde(default)]
    pub(crate) token_type: Option<String>,
    #[serde(default)]
    pub(crate) expires_in: Option<u64>,
    #[serde(default)]
    pub(crate) refresh_token: Option<String>,
    #[serde(default)]
    pub(crate) scope: Option<String>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

impl TokenResponse {
    /// The response as stored tokens from `server` for `resource`, issued now; the scopes
    /// `requested` when the response names none; bound to `dpop` when it is a `DPoP` token.
    ///
    /// # Errors
    /// [`FlowError::UnusableTokenResponse`].
    pub(crate) fn into_stored(
        self,
        server: &ServerMetadata,
        resource: &str,
        requested: &[String],
        dpop: Option<&DpopKey>,
    ) -> Result<StoredTokens, FlowError> {
        let issued_at = crate::flow::now();
        let granted: Vec<String> = self
            .scope
            .as_deref()
            .map(|scope| scope.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_else(|| requested.to_vec());
        let token_type = self.token_type.unwrap_or_else(|| "Bearer".to_owned());
        let bound = token_type.eq_ignore_ascii_case("dpop");
        crate::flow::checked(StoredTokens {
            access_token: self.access_token,
            token_type,
            refresh_token: self.refresh_token,
            scopes: granted,
            issued_at,
            expires_at: self
                .expires_in
                .map(|lifetime| issued_at.saturating_add(lifetime)),
            issuer: Some(server.issuer.clone()),
            resource: (!resource.is_empty()).then(|| resource.to_owned()),
            dpop_key: dpop.filter(|_| bound).cloned(),
        })
    }
}

/// How a form post authenticates the client: form parameters, HTTP Basic, and the secrets either
/// carries.
#[derive(Default)]
pub(crate) struct ClientAuth {
    pub(crate) params: Vec<(&'static str, String)>,
    pub(crate) basic: Option<(String, String)>,
    pub(crate) secrets: Vec<String>,
}

impl ClientAuth {
    /// The authentication `credentials` name, at `server`: `client_id` in the body for `none`;
    /// HTTP Basic for `client_secret_basic`; `client_id` and `client_secret` in the body for
    /// `client_secret_post`; a fresh assertion for `private_key_jwt`.
    ///
    /// # Errors
    /// [`FlowError::MissingCredential`] when the method's secret or key is missing;
    /// [`FlowError::ClientAssertion`].
    pub(crate) fn for_client(
        credentials: &ClientCredentials,
        server: &ServerMetadata,
    ) -> Result<Self, FlowError> {
        let missing = |missing: &'static str| FlowError::MissingCredential {
            client_id: credentials.client_id.clone(),
            method: credentials.auth_method,
            missing,
        };
        let client_id = credentials.client_id.clone();
        let mut auth = Self::default();
        match credentials.auth_method {
            TokenAuthMethod::None => auth.params.push(("client_id", client_id)),
            TokenAuthMethod::ClientSecretBasic | TokenAuthMethod::ClientSecretPost => {
                let secret = credentials
                    .client_secret
                    .clone()
                    .ok_or_else(|| missing("client secret"))?;
                auth.secrets.push(secret.clone());
                if credentials.auth_method == TokenAuthMethod::ClientSecretBasic {
                    auth.basic = Some((client_id, secret));
                } else {
                    auth.params.push(("client_id", client_id));
                    auth.params.push(("client_secret", secret));
                }
            }
            TokenAuthMethod::PrivateKeyJwt => {
                let key = credentials
                    .private_key
                    .as_ref()
                    .ok_or_else(|| missing("private key"))?;
                let assertion = key.assertion(&client_id, &server.issuer)?;
                auth.secrets.push(assertion.clone());
                auth.params.push(("client_id", client_id));
                auth.params.push((
                    "client_assertion_type",
                    JWT_BEARER_ASSERTION_TYPE.to_owned(),
                ));
                auth.params.push(("client_assertion", assertion));
            }
        }
        Ok(auth)
    }
}

/// One form post to a token endpoint; `basic` adds HTTP Basic client authentication (RFC 6749
/// §2.3.1: id and secret form-encoded first); `dpop` adds a proof (and its nonce retry). Nothing
/// in `secrets` ever appears in an error.
pub(crate) async fn post_form(
    http: &HttpClient,
    url: &str,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
    secrets: &[&str],
    dpop: Option<&DpopProver>,
) -> Result<TokenResponse, FlowError> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut request = http::Request::post(url)
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(http::header::ACCEPT, "application/json");
    if let Some((id, secret)) = basic {
        let encode =
            |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
        let pair = format!("{}:{}", encode(id), encode(secret));
        let value = base64::engine::general_purpose::STANDARD.encode(pair);
        request = request.header(http::header::AUTHORIZATION, format!("Basic {value}"));
    }
    let request = request
        .body(body.into_bytes())
        .map_err(|_| FlowError::InvalidUrl {
            what: "token endpoint",
            url: url.to_owned(),
        })?;
    let clean = |text: &str, max: usize| {
        let mut text = text.to_owned();
        for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
            text = text.replace(secret, "<redacted>");
        }
        sanitize(&text, max)
    };
    let response = crate::dpop::fetch_token(http, request, MAX_RESPONSE, dpop)
        .await
        .map_err(|error| FlowError::Token(clean(&format!("{url}: {error}"), 500)))?;
    if response.status().is_success() {
        return serde_json::from_slice(response.body()).map_err(|error| {
            FlowError::Token(clean(&format!("{url}: not a token response: {error}"), 500))
        });
    }
    match serde_json::from_slice::<ErrorResponse>(response.body()) {
        Ok(refusal) => Err(FlowError::TokenRejected {
            error: clean(&refusal.error, 64),
            description: refusal
                .error_description
                .map(|description| clean(&description, 300)),
        }),
        Err(_) => Err(FlowError::Token(format!(
            "{url} answered HTTP {}",
            response.status().as_u16()
        ))),
    }
}
