//! [`AuthError`]: why no token could be had, naming the server and the step that failed.

use mcp_transport::TransportError;

use crate::browser::BrowserError;
use crate::callback::CallbackError;
use crate::discovery::DiscoveryError;
use crate::flow::FlowError;
use crate::registration::RegistrationError;
use crate::store::StoreError;

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The server needs a login and no interactive flow may start here (no browser mode chosen and
    /// stdin is not a terminal).
    #[error("server {server} needs a login, and none may start here (no browser is configured)")]
    LoginRequired {
        /// The server's name.
        server: String,
    },
    /// Finding the authorization server failed.
    #[error("authorization for {server}: {source}")]
    Discovery {
        /// The server's name.
        server: String,
        /// Why.
        #[source]
        source: DiscoveryError,
    },
    /// The protected-resource metadata names no authorization server.
    #[error(
        "authorization for {server}: the protected-resource metadata lists no authorization server"
    )]
    NoAuthorizationServer {
        /// The server's name.
        server: String,
    },
    /// No client identity could be established at the authorization server.
    #[error("authorization for {server}: {source}")]
    Registration {
        /// The server's name.
        server: String,
        /// Why.
        #[source]
        source: RegistrationError,
    },
    /// A step of the flow failed (PKCE refused, `iss` mismatch, token endpoint refusal).
    #[error("authorization for {server}: {source}")]
    Flow {
        /// The server's name.
        server: String,
        /// Why.
        #[source]
        source: FlowError,
    },
    /// The loopback callback failed (port in use, timeout, access denied).
    #[error("authorization for {server}: {source}")]
    Callback {
        /// The server's name.
        server: String,
        /// Why.
        #[source]
        source: CallbackError,
    },
    /// The authorization URL could not be presented.
    #[error("authorization for {server}: {source}")]
    Browser {
        /// The server's name.
        server: String,
        /// Why.
        #[source]
        source: BrowserError,
    },
    /// The token store failed (a corrupt file names itself).
    #[error("authorization for {server}: {source}")]
    Store {
        /// The server's name.
        server: String,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// The server keeps asking for more scope than the authorizations granted.
    #[error(
        "server {server} still requires scope {scopes:?} after {attempts} authorizations; giving up"
    )]
    StepUpExhausted {
        /// The server's name.
        server: String,
        /// The scopes last requested.
        scopes: Vec<String>,
        /// Authorizations made for them.
        attempts: u32,
    },
    /// The server rejected a token its authorization server had just issued.
    #[error(
        "server {server} rejected the token just issued by its authorization server (HTTP 401 right after authorization); not retrying"
    )]
    RejectedAfterLogin {
        /// The server's name.
        server: String,
    },
    /// The server's URL cannot be used as an OAuth resource.
    #[error("server {server}: invalid URL {url:?}")]
    InvalidServerUrl {
        /// The server's name.
        server: String,
        /// The URL.
        url: String,
    },
    /// The connection the flow was for was closed or its connect cancelled; the listener is closed.
    #[error("authorization for {server} was cancelled: the connection was closed")]
    Cancelled {
        /// The server's name.
        server: String,
    },
    /// The program is shutting down; the flow was ended and its listener closed.
    #[error("authorization for {server} was cancelled: shutting down")]
    ShuttingDown {
        /// The server's name.
        server: String,
    },
}

impl AuthError {
    /// Whether the user must log in (interactively) before this server can be used.
    pub fn is_login_required(&self) -> bool {
        matches!(self, AuthError::LoginRequired { .. })
    }

    /// The OAuth error a transport failed with, when getting a token is what failed: the
    /// transport keeps its credential provider's error type-erased
    /// ([`TransportError::authorization_error`]), and this is the one place that looks inside.
    pub fn from_transport_error(error: &TransportError) -> Option<&AuthError> {
        error.authorization_error()?.downcast_ref::<AuthError>()
    }
}
