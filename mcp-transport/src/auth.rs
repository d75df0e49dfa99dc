//! How the HTTP transport gets credentials without knowing where they come from.
//!
//! `mcp-oauth` implements [`Authorizer`] with a full OAuth flow; [`StaticBearer`] is the simple case of
//! a token from configuration. This crate never depends on `mcp-oauth`.

use std::fmt;

use futures::future::BoxFuture;

use crate::TransportError;
use crate::www_authenticate::Challenge;

/// A 401 or 403 answer from the server, with its parsed challenge. `Debug` hides the token.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthChallenge {
    /// 401 (authorization required) or 403 (insufficient scope).
    pub status: u16,
    /// The server's bearer challenge, if it sent a parsable `WWW-Authenticate`.
    pub challenge: Option<Challenge>,
    /// The token that was rejected, if one was sent.
    pub rejected_token: Option<String>,
}

impl fmt::Debug for AuthChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthChallenge")
            .field("status", &self.status)
            .field("challenge", &self.challenge)
            .field(
                "rejected_token",
                &self.rejected_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// What to do after a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeOutcome {
    /// A new token is ready: send the request once more with it.
    RetryWithNewToken,
    /// Nothing better is available: fail with the challenge.
    Fail,
}

/// Supplies bearer tokens to the HTTP transport and reacts to challenges.
///
/// The transport asks for the current token before each request, and on a 401 or 403 asks once what to
/// do; it retries a request at most once per challenge, so an authorizer cannot cause a loop.
pub trait Authorizer: Send + Sync + fmt::Debug {
    /// The token to send now (without the `Bearer ` prefix), or `None` to send no credentials.
    fn bearer_token(&self) -> BoxFuture<'_, Result<Option<String>, TransportError>>;

    /// The server accepted a request carrying `token` (it answered with a 2xx status). An
    /// authorizer can use this to tell a token that has worked from one that never has (a 401 on
    /// the latter, right after a login, must not start another). Called often: keep it cheap.
    fn accepted(&self, _token: &str) {}

    /// The server refused the request; refresh or re-authorize if possible.
    fn on_challenge<'a>(
        &'a self,
        challenge: &'a AuthChallenge,
    ) -> BoxFuture<'a, Result<ChallengeOutcome, TransportError>>;
}

/// A fixed token (e.g. read from an environment variable). A challenge is final: the token cannot
/// change.
#[derive(Clone)]
pub struct StaticBearer {
    token: String,
}

impl StaticBearer {
    /// Uses `token` (without the `Bearer ` prefix) on every request.
    pub fn new(token: impl Into<String>) -> Self {
        Self {
            token: token.into(),
        }
    }

    /// Reads the token from the environment variable `name`, so it never has to be written in a
    /// configuration file.
    ///
    /// # Errors
    /// [`MissingToken`] naming the variable when it is unset, empty or not Unicode.
    pub fn from_env(name: &str) -> Result<Self, MissingToken> {
        match std::env::var(name) {
            Ok(token) if !token.trim().is_empty() => Ok(Self::new(token.trim())),
            _ => Err(MissingToken {
                variable: name.to_owned(),
            }),
        }
    }
}

/// The environment variable that should hold a bearer token is unset or empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the bearer token variable {variable} is not set (or is empty)")]
pub struct MissingToken {
    /// The variable's name.
    pub variable: String,
}

impl fmt::Debug for StaticBearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the token.
        f.debug_struct("StaticBearer").finish_non_exhaustive()
    }
}

impl Authorizer for StaticBearer {
    fn bearer_token(&self) -> BoxFuture<'_, Result<Option<String>, TransportError>> {
        Box::pin(async move { Ok(Some(self.token.clone())) })
    }

    fn on_challenge<'a>(
        &'a self,
        _challenge: &'a AuthChallenge,
    ) -> BoxFuture<'a, Result<ChallengeOutcome, TransportError>> {
        Box::pin(async { Ok(ChallengeOutcome::Fail) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_variable_is_named() {
        let error = StaticBearer::from_env("MCP_TRANSPORT_TEST_SURELY_UNSET").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the bearer token variable MCP_TRANSPORT_TEST_SURELY_UNSET is not set (or is empty)"
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let bearer = StaticBearer::new("very-secret");
        assert!(!format!("{bearer:?}").contains("very-secret"));
    }
}
