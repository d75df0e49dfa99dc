//! Enterprise-managed authorization (SEP-990, MCP's "cross-app access" extension): the user's
//! enterprise identity provider vouches for them, so no browser is involved.
//!
//! Two token requests: at the identity provider, an RFC 8693 token exchange turns the user's ID
//! token into an identity assertion grant (an "ID-JAG") for the MCP server's authorization server
//! and resource; at the authorization server, an RFC 7523 JWT bearer grant turns that assertion
//! into an access token, the client authenticating as its registration says.
//!
//! The oauth2 crate has neither grant type, so both requests are form posts through the same
//! bounded HTTP client, with the same error typing and secret redaction as the other grants.

use std::fmt;

use base64::Engine as _;
use mcp_transport::http::HttpClient;
use serde::Deserialize;

use crate::discovery::ServerMetadata;
use crate::flow::{ClientCredentials, FlowError, TokenAuthMethod, sanitize};
use crate::store::StoredTokens;

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const ID_JAG: &str = "urn:ietf:params:oauth:token-type:id-jag";
const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";

/// The largest token response accepted.
const MAX_RESPONSE: usize = 64 * 1024;

/// Who the user is at their enterprise identity provider, and how to reach its token endpoint.
/// `Debug` hides the ID token.
#[derive(Clone, PartialEq, Eq)]
pub struct EnterpriseIdentity {
    /// The identity provider's token endpoint (where the token exchange goes).
    pub token_endpoint: String,
    /// This client's id at the identity provider.
    pub client_id: String,
    /// The user's ID token from the identity provider (a JWT).
    pub id_token: String,
}

impl fmt::Debug for EnterpriseIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterpriseIdentity")
            .field("token_endpoint", &self.token_endpoint)
            .field("client_id", &self.client_id)
            .field("id_token", &"<redacted>")
            .finish()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Tokens for `resource` through the identity provider: token exchange, then the JWT bearer grant.
///
/// # Errors
/// [`FlowError::TokenRejected`] when either server refuses (the identity provider's refusal
/// included); [`FlowError::Token`] when a request fails or a response is unreadable;
/// [`FlowError::ConfidentialClientRequired`] for a public client.
pub async fn enterprise_managed(
    http: &HttpClient,
    server: &ServerMetadata,
    credentials: &ClientCredentials,
    identity: &EnterpriseIdentity,
    resource: &str,
    scopes: &[String],
) -> Result<StoredTokens, FlowError> {
    if !matches!(
        credentials.auth_method,
        TokenAuthMethod::ClientSecretBasic | TokenAuthMethod::ClientSecretPost
    ) {
        // Checked before the identity provider is asked for anything.
        return Err(FlowError::ConfidentialClientRequired {
            client_id: credentials.client_id.clone(),
        });
    }
    let scope = scopes.join(" ");
    let mut exchange = vec![
        ("grant_type", TOKEN_EXCHANGE),
        ("requested_token_type", ID_JAG),
        ("audience", server.issuer.as_str()),
        ("resource", resource),
        ("subject_token", identity.id_token.as_str()),
        ("subject_token_type", ID_TOKEN),
        ("client_id", identity.client_id.as_str()),
    ];
    if !scope.is_empty() {
        exchange.push(("scope", &scope));
    }
    let secrets = [identity.id_token.as_str()];
    let grant = post_form(http, &identity.token_endpoint, &exchange, None, &secrets).await?;

    let mut bearer = vec![
        ("grant_type", JWT_BEARER),
        ("assertion", grant.access_token.as_str()),
    ];
    if !scope.is_empty() {
        bearer.push(("scope", &scope));
    }
    let secret = credentials.client_secret.as_deref().unwrap_or_default();
    let basic = match credentials.auth_method {
        TokenAuthMethod::ClientSecretBasic => Some((credentials.client_id.as_str(), secret)),
        TokenAuthMethod::ClientSecretPost => {
            bearer.push(("client_id", &credentials.client_id));
            bearer.push(("client_secret", secret));
            None
        }
        _ => {
            return Err(FlowError::ConfidentialClientRequired {
                client_id: credentials.client_id.clone(),
            });
        }
    };
    let secrets = [grant.access_token.as_str(), secret];
    let response = post_form(http, &server.token_endpoint, &bearer, basic, &secrets).await?;
    let issued_at = crate::flow::now();
    let granted: Vec<String> = response
        .scope
        .as_deref()
        .map(|scope| scope.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_else(|| scopes.to_vec());
    crate::flow::checked(StoredTokens {
        access_token: response.access_token,
        token_type: response.token_type.unwrap_or_else(|| "Bearer".to_owned()),
        refresh_token: response.refresh_token,
        scopes: granted,
        issued_at,
        expires_at: response
            .expires_in
            .map(|lifetime| issued_at.saturating_add(lifetime)),
        issuer: Some(server.issuer.clone()),
        resource: (!resource.is_empty()).then(|| resource.to_owned()),
    })
}

/// One form post to a token endpoint; `basic` adds HTTP Basic client authentication (RFC 6749
/// §2.3.1: id and secret form-encoded first). Nothing in `secrets` ever appears in an error.
async fn post_form(
    http: &HttpClient,
    url: &str,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
    secrets: &[&str],
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
    let response = http
        .fetch(request, MAX_RESPONSE)
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
