//! What a store keeps: tokens for a server, and a client registration for an authorization server.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::dpop::DpopKey;

/// The tokens an authorization server issued for one MCP server, with when they were issued.
///
/// Times are Unix seconds. `Debug` shows everything except the token values and the DPoP key's
/// private part.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTokens {
    /// The access token sent to the MCP server.
    pub access_token: String,
    /// The token type from the token response: `Bearer`, or `DPoP` for a token bound to
    /// [`dpop_key`](Self::dpop_key).
    pub token_type: String,
    /// The refresh token, when the authorization server issued one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The scopes granted (from the token response, else the ones requested).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// When the token response arrived.
    pub issued_at: u64,
    /// When the access token expires (`issued_at + expires_in`), if the server said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// The issuer of the authorization server that issued the tokens; a refresh goes back to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The `resource` (RFC 8707) the tokens were requested for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The key the tokens are bound to (DPoP, RFC 9449), with its private part: every request
    /// and refresh with these tokens is signed with it, so it lives exactly as long as they do
    /// (see [`dpop`](crate::dpop)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_key: Option<DpopKey>,
}

impl StoredTokens {
    /// Whether these tokens can be used as they are, and if not, why not (the reason never quotes
    /// a token).
    ///
    /// Usable means: the access token is non-empty visible ASCII (it goes into an `Authorization`
    /// header, where CR or LF would end the header or fail every request), the token type is
    /// `Bearer` in any case, or `DPoP` with the key it is bound to (the only types this client
    /// sends), and a refresh token, if any, is non-empty printable ASCII (RFC 6749 A.17,
    /// `VSCHAR`).
    ///
    /// ```
    /// use mcp_oauth::StoredTokens;
    ///
    /// let mut tokens = StoredTokens {
    ///     access_token: "at-123".into(),
    ///     token_type: "bearer".into(),
    ///     refresh_token: None,
    ///     scopes: Vec::new(),
    ///     issued_at: 0,
    ///     expires_at: None,
    ///     issuer: None,
    ///     resource: None,
    ///     dpop_key: None,
    /// };
    /// assert_eq!(tokens.check_usable(), Ok(()));
    /// tokens.access_token = "at\r\nX-Evil: 1".into();
    /// assert!(tokens.check_usable().is_err());
    /// ```
    ///
    /// # Errors
    /// A short reason, e.g. `"the access token is not visible ASCII"`.
    pub fn check_usable(&self) -> Result<(), &'static str> {
        let printable = |byte: &u8| (0x20..=0x7e).contains(byte);
        self.check_access_token()?;
        let bound = self.dpop_key.is_some() && self.token_type.eq_ignore_ascii_case("dpop");
        if !self.token_type.eq_ignore_ascii_case("bearer") && !bound {
            return Err(
                "the token type is neither Bearer nor DPoP for a proof key this client holds, the only types it can send",
            );
        }
        if let Some(refresh_token) = &self.refresh_token
            && (refresh_token.is_empty() || !refresh_token.as_bytes().iter().all(printable))
        {
            return Err("the refresh token is empty or not printable ASCII");
        }
        Ok(())
    }

    /// The part of [`check_usable`](Self::check_usable) that a stored file must pass too: an
    /// access token that cannot be a header value fails every request it is sent with.
    pub(crate) fn check_access_token(&self) -> Result<(), &'static str> {
        let visible = |byte: &u8| (0x21..=0x7e).contains(byte);
        if self.access_token.is_empty() {
            return Err("the access token is empty");
        }
        if !self.access_token.as_bytes().iter().all(visible) {
            return Err(
                "the access token is not visible ASCII, so it cannot be sent in an HTTP header",
            );
        }
        Ok(())
    }

    /// Whether the access token expires within `skew` of `now` (Unix seconds), or already has.
    ///
    /// A token without a known expiry is never considered expiring: it is used until the server
    /// rejects it with a 401, which triggers a refresh.
    pub fn expires_within(&self, now: u64, skew: Duration) -> bool {
        match self.expires_at {
            Some(expires_at) => now.saturating_add(skew.as_secs()) >= expires_at,
            None => false,
        }
    }
}

impl fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredTokens")
            .field("access_token", &Redacted)
            .field("token_type", &self.token_type)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| Redacted),
            )
            .field("scopes", &self.scopes)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field("issuer", &self.issuer)
            .field("resource", &self.resource)
            .field("dpop_key", &self.dpop_key)
            .finish()
    }
}

/// A client registration at one authorization server (pre-registered, or from dynamic registration).
///
/// Stored per issuer, so every MCP server behind the same authorization server reuses it. `Debug`
/// hides the client secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredClient {
    /// The client identifier the authorization server assigned (or the metadata document URL).
    pub client_id: String,
    /// The client secret, for confidential registrations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// When the registration was made (Unix seconds).
    pub registered_at: u64,
    /// The authorization server's issuer identifier; the store's key for this registration.
    pub issuer: String,
    /// The redirect URI registered with the client, when one was fixed at registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// The token endpoint authentication method registered (`none`, `client_secret_basic`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
}

impl fmt::Debug for StoredClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredClient")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| Redacted),
            )
            .field("registered_at", &self.registered_at)
            .field("issuer", &self.issuer)
            .field("redirect_uri", &self.redirect_uri)
            .field(
                "token_endpoint_auth_method",
                &self.token_endpoint_auth_method,
            )
            .finish()
    }
}

/// Stands in for a secret in `Debug` output.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}
