//! How the HTTP transport gets credentials without knowing where they come from.
//!
//! `mcp-oauth` implements [`Authorizer`] with a full OAuth flow; [`StaticBearer`] is the simple case of
//! a token from configuration. This crate never depends on `mcp-oauth`.
//!
//! A token is presented one of two ways: as a bearer token (RFC 6750, `Authorization: Bearer`), or,
//! when it is bound to a key (DPoP, RFC 9449), as `Authorization: DPoP` with a fresh proof in the
//! `DPoP` header that a [`DpopSigner`] makes for each request. The transport knows nothing of the
//! key: it asks the signer for a proof, hands it every `DPoP-Nonce` the server sends, and retries a
//! request the server refused with `use_dpop_nonce` once, with the new nonce.

use std::fmt;
use std::sync::Arc;

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

/// Signs DPoP proofs (RFC 9449 §4) for one key-bound token: a fresh one for every request.
///
/// Implemented by `mcp-oauth`, which holds the key; the transport only asks for proofs and reports
/// the nonces servers supply.
pub trait DpopSigner: Send + Sync + fmt::Debug {
    /// A new proof for a `method` request to `url` (query and fragment are left out of its `htu`)
    /// presenting `access_token` (its hash is the proof's `ath`), carrying the latest nonce this
    /// server supplied.
    ///
    /// # Errors
    /// A [`TransportError`] when no proof can be made (no randomness, signing failed).
    fn proof(
        &self,
        method: &http::Method,
        url: &str,
        access_token: &str,
    ) -> Result<String, TransportError>;

    /// The server supplied `nonce` in a `DPoP-Nonce` header (RFC 9449 §9): later proofs carry it.
    fn nonce(&self, nonce: &str);
}

/// A token to send, and how: as a bearer token, or DPoP-bound with the signer of its proofs.
///
/// `Debug` hides the token.
#[derive(Clone)]
pub struct Credential {
    token: String,
    dpop: Option<Arc<dyn DpopSigner>>,
}

impl Credential {
    /// `token` (without any scheme prefix) sent as `Authorization: Bearer`.
    pub fn bearer(token: impl Into<String>) -> Self {
        Self {
            token: token.into(),
            dpop: None,
        }
    }

    /// A DPoP-bound `token`, sent as `Authorization: DPoP` with a proof from `signer` on every
    /// request.
    pub fn dpop(token: impl Into<String>, signer: Arc<dyn DpopSigner>) -> Self {
        Self {
            token: token.into(),
            dpop: Some(signer),
        }
    }

    /// The access token itself.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The signer of this token's proofs, if the token is DPoP-bound.
    pub fn dpop_signer(&self) -> Option<&Arc<dyn DpopSigner>> {
        self.dpop.as_ref()
    }

    /// The headers presenting this credential on a `method` request to `url`: `Authorization`
    /// and, for a DPoP-bound token, a fresh `DPoP` proof (a server refuses a proof it has seen,
    /// so call this for every send). Both are marked sensitive: kept out of HTTP/2 compression
    /// tables and `Debug` output.
    ///
    /// # Errors
    /// [`TransportError::Protocol`] for a token or proof a header cannot carry, or the signer's
    /// error.
    pub fn headers(
        &self,
        method: &http::Method,
        url: &str,
    ) -> Result<Vec<(http::HeaderName, http::HeaderValue)>, TransportError> {
        let sensitive = |text: &str, what: &str| {
            http::HeaderValue::from_str(text)
                .map(|mut value| {
                    value.set_sensitive(true);
                    value
                })
                .map_err(|_| TransportError::Protocol {
                    detail: format!("the {what} has characters not allowed in a header"),
                })
        };
        let mut headers = vec![(
            http::header::AUTHORIZATION,
            sensitive(&format!("{} {}", self.scheme(), self.token), "access token")?,
        )];
        if let Some(signer) = &self.dpop {
            let proof = signer.proof(method, url, &self.token)?;
            headers.push((
                http::HeaderName::from_static("dpop"),
                sensitive(&proof, "DPoP proof")?,
            ));
        }
        Ok(headers)
    }

    /// The `Authorization` scheme: `DPoP` for a bound token, else `Bearer`.
    pub fn scheme(&self) -> &'static str {
        if self.dpop.is_some() {
            "DPoP"
        } else {
            "Bearer"
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("token", &"<redacted>")
            .field("scheme", &self.scheme())
            .finish()
    }
}

/// Supplies bearer tokens to the HTTP transport and reacts to challenges.
///
/// The transport asks for the current token before each request, and on a 401 or 403 asks once what to
/// do; it retries a request at most once per challenge, so an authorizer cannot cause a loop.
pub trait Authorizer: Send + Sync + fmt::Debug {
    /// The token to send now (without the `Bearer ` prefix), or `None` to send no credentials.
    fn bearer_token(&self) -> BoxFuture<'_, Result<Option<String>, TransportError>>;

    /// The credential to send now: the token and how to present it. What the transport calls; the
    /// default presents [`bearer_token`](Self::bearer_token) as a bearer token, so only an
    /// authorizer with DPoP-bound tokens needs to implement it.
    fn credential(&self) -> BoxFuture<'_, Result<Option<Credential>, TransportError>> {
        Box::pin(async move { Ok(self.bearer_token().await?.map(Credential::bearer)) })
    }

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
        let credential = Credential::bearer("very-secret");
        assert!(!format!("{credential:?}").contains("very-secret"));
    }

    #[tokio::test]
    async fn a_plain_authorizer_presents_its_token_as_bearer() {
        let credential = StaticBearer::new("tok")
            .credential()
            .await
            .expect("no error")
            .expect("a credential");
        assert_eq!((credential.token(), credential.scheme()), ("tok", "Bearer"));
        assert!(credential.dpop_signer().is_none());
    }
}
