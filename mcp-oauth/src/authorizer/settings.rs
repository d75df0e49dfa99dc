//! What one server is configured with: its name and URL, the client identity, scopes, the callback,
//! and the grant that obtains its tokens.

use url::Url;

use crate::callback::CallbackOptions;
use crate::discovery::canonical_resource;
use crate::enterprise::EnterpriseIdentity;
use crate::registration::ClientIdentity;
use crate::store::StoreKey;
use crate::workload::WorkloadIdentity;

/// Which OAuth grant obtains tokens.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Grant {
    /// The authorization code flow with PKCE, through a browser (people).
    #[default]
    AuthorizationCode,
    /// The client credentials grant (machines and CI; a confidential pre-registered client).
    ClientCredentials,
    /// Enterprise-managed authorization (SEP-990): the identity provider's token exchange, then
    /// the JWT bearer grant; no browser.
    EnterpriseManaged(EnterpriseIdentity),
    /// Workload identity federation (SEP-1933): the JWT bearer grant with the workload's identity
    /// token from its platform; no browser, no client secret.
    JwtBearer(WorkloadIdentity),
}

impl Grant {
    /// Whether tokens come without a person (so they are obtained up front and again on a 401).
    pub(super) fn is_machine(&self) -> bool {
        !matches!(self, Grant::AuthorizationCode)
    }
}

/// OAuth settings for one MCP server.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OAuthSettings {
    /// The server's name (for messages, and part of the token store key).
    pub server_name: String,
    /// The MCP endpoint.
    pub server_url: Url,
    /// Who the client is (pre-registered, metadata document, or registered dynamically).
    pub identity: ClientIdentity,
    /// Scopes to request; empty: the challenge or the metadata decides.
    pub scopes: Vec<String>,
    /// The loopback callback's port and path.
    pub callback: CallbackOptions,
    /// Which grant obtains tokens.
    pub grant: Grant,
    /// Ignore stored tokens and authorize anew on the first challenge (`mcpcord login`).
    pub force_login: bool,
    /// Bind new tokens to a key (DPoP, RFC 9449) when the authorization server offers it (the
    /// default); `false` asks only for bearer tokens. See [`dpop`](crate::dpop).
    pub dpop: bool,
}

impl OAuthSettings {
    /// Settings for `server_name` at `server_url`, with a dynamically registered public client.
    pub fn new(server_name: impl Into<String>, server_url: Url) -> Self {
        Self {
            server_name: server_name.into(),
            server_url,
            identity: ClientIdentity::default(),
            scopes: Vec::new(),
            callback: CallbackOptions::new(),
            grant: Grant::AuthorizationCode,
            force_login: false,
            dpop: true,
        }
    }

    /// The token store key: server name plus canonical URL.
    pub fn store_key(&self) -> StoreKey {
        StoreKey::new(
            self.server_name.clone(),
            canonical_resource(&self.server_url),
        )
    }
}
