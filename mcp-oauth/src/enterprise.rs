//! Enterprise-managed authorization (SEP-990, MCP's "cross-app access" extension): the user's
//! enterprise identity provider vouches for them, so no browser is involved.
//!
//! Two token requests: at the identity provider, an RFC 8693 token exchange turns the user's ID
//! token into an identity assertion grant (an "ID-JAG") for the MCP server's authorization server
//! and resource; at the authorization server, an RFC 7523 JWT bearer grant turns that assertion
//! into an access token, the client authenticating as its registration says.
//!
//! The oauth2 crate has neither grant type, so both requests are form posts
//! (`token_form`) through the same bounded HTTP client, with the same error
//! typing and secret redaction as the other grants. Only the second one, whose token the MCP
//! server sees, may carry a DPoP proof.

use std::fmt;

use mcp_transport::http::HttpClient;

use crate::discovery::ServerMetadata;
use crate::dpop::DpopProver;
use crate::flow::{ClientCredentials, FlowError, TokenAuthMethod};
use crate::store::StoredTokens;
use crate::token_form::post_form;

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const ID_JAG: &str = "urn:ietf:params:oauth:token-type:id-jag";
const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";

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
    enterprise_managed_with(http, server, credentials, identity, resource, scopes, None).await
}

/// [`enterprise_managed`], asking the authorization server for a token bound to `dpop`'s key
/// when it is given.
pub(crate) async fn enterprise_managed_with(
    http: &HttpClient,
    server: &ServerMetadata,
    credentials: &ClientCredentials,
    identity: &EnterpriseIdentity,
    resource: &str,
    scopes: &[String],
    dpop: Option<DpopProver>,
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
    let grant = post_form(
        http,
        &identity.token_endpoint,
        &exchange,
        None,
        &secrets,
        None,
    )
    .await?;

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
    let response = post_form(
        http,
        &server.token_endpoint,
        &bearer,
        basic,
        &secrets,
        dpop.as_ref(),
    )
    .await?;
    response.into_stored(server, resource, scopes, dpop.as_ref().map(DpopProver::key))
}
