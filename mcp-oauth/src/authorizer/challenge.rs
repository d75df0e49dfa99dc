//! What the transport asks of an authorizer ([`Authorizer`]): the token to send now (refreshed
//! ahead of expiry), and the answer to a 401 (refresh once, else authorize anew) or a 403
//! `insufficient_scope` (step-up, at most [`MAX_AUTHORIZATIONS`] times per scope set).
//!
//! The token to send: the held tokens are loaded from the store once, refreshed first when they
//! are due (see `refresh`), and, for a machine grant, obtained up front. A DPoP-bound token goes
//! out as a [`Credential`] with a proof signer for its key, which shares this server's nonce. While a refresh or a login
//! holds the lock, the current token is sent as it is rather than waiting behind a browser flow;
//! a request that needed the new one gets a 401 and waits here.
//!
//! A 401: if the rejected token is no longer the current one, another caller already replaced it
//! (the single flight) and the request is retried. Otherwise the tokens are refreshed once per
//! rejected token; when that is impossible (`invalid_grant`, no refresh token) they are discarded
//! and the server is authorized anew (`obtain`), a challenge naming new metadata sending discovery
//! back to it. A 401 on the token the last authorization just issued, before the server ever
//! accepted it, is final (`AuthError::RejectedAfterLogin`): no loop.
//!
//! A 403 `insufficient_scope`: authorize anew with the union of the scopes held (or asked for) and
//! the scopes challenged, counting the authorizations per scope set.

use std::sync::PoisonError;

use futures::future::BoxFuture;
use mcp_transport::TransportError;
use mcp_transport::auth::{AuthChallenge, Authorizer, ChallengeOutcome, Credential};
use mcp_transport::www_authenticate::Challenge;

use super::refresh::{Refreshed, needs_refresh};
use super::server::AuthState;
use super::{AuthError, OAuthAuthorizer};

/// At most this many authorizations for one escalation of scope, the first included (step-up).
pub const MAX_AUTHORIZATIONS: u32 = 3;

impl OAuthAuthorizer {
    /// The credential to send now: refreshed first if it expires within a minute. With a machine
    /// grant, tokens are obtained up front.
    async fn current_credential(&self) -> Result<Option<Credential>, AuthError> {
        let Ok(mut state) = self.shared.state.try_lock() else {
            // A refresh or a login is under way: do not queue behind it (a browser flow can take
            // minutes); a request that needs the new token gets a 401 and waits in on_challenge.
            return Ok(self
                .shared
                .snapshot
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone());
        };
        let outcome = self.current_tokens_locked(&mut state).await;
        let credential = self.publish(&state);
        outcome.map(|()| credential)
    }

    async fn current_tokens_locked(&self, state: &mut AuthState) -> Result<(), AuthError> {
        self.ensure_loaded(state).await?;
        let expiring = state.tokens.as_ref().is_some_and(needs_refresh);
        if expiring {
            let refreshable = state
                .tokens
                .as_ref()
                .is_some_and(|tokens| tokens.refresh_token.is_some());
            if refreshable {
                match self.refresh(state, None).await {
                    Ok(Refreshed::Renewed) => {}
                    Ok(Refreshed::Impossible) => {
                        tracing::info!(server = %self.name(), "the tokens cannot be refreshed; a new authorization is needed");
                    }
                    // The old token may still work for its last minute; the 401 path retries.
                    Err(error) => {
                        tracing::warn!(server = %self.name(), %error, "proactive token refresh failed")
                    }
                }
            } else if self.settings().grant.is_machine() {
                state.tokens = None;
            }
        }
        if state.tokens.is_none() && self.settings().grant.is_machine() {
            self.obtain(state, None, Vec::new()).await?;
        }
        Ok(())
    }

    async fn handle_challenge(
        &self,
        challenge: &AuthChallenge,
    ) -> Result<ChallengeOutcome, AuthError> {
        let mut state = self.shared.state.lock().await;
        let outcome = self.handle_challenge_locked(&mut state, challenge).await;
        self.publish(&state);
        outcome
    }

    async fn handle_challenge_locked(
        &self,
        state: &mut AuthState,
        challenge: &AuthChallenge,
    ) -> Result<ChallengeOutcome, AuthError> {
        self.ensure_loaded(state).await?;
        let current = state.tokens.as_ref();
        let replaced = current
            .is_some_and(|tokens| Some(&tokens.access_token) != challenge.rejected_token.as_ref());
        let bearer = challenge.challenge.as_ref();
        let challenged: Vec<String> = bearer
            .map(|challenge| challenge.scopes().map(str::to_owned).collect())
            .unwrap_or_default();
        match challenge.status {
            401 => {
                // Another caller already replaced the rejected token while this one waited for
                // the lock: that is the single flight.
                if replaced {
                    return Ok(ChallengeOutcome::RetryWithNewToken);
                }
                if let Some(rejected) = &challenge.rejected_token {
                    let unproven = !self.was_accepted(rejected);
                    if unproven && state.authorized.as_deref() == Some(rejected) {
                        return Err(AuthError::RejectedAfterLogin {
                            server: self.name().to_owned(),
                        });
                    }
                    let refreshable = state
                        .tokens
                        .as_ref()
                        .is_some_and(|tokens| tokens.refresh_token.is_some());
                    let refreshed_in_vain =
                        unproven && state.refreshed.as_deref() == Some(rejected);
                    if refreshable
                        && !refreshed_in_vain
                        && self.refresh(state, bearer).await? == Refreshed::Renewed
                    {
                        return Ok(ChallengeOutcome::RetryWithNewToken);
                    }
                }
                // A challenge that names new metadata is followed (RFC 9728 §5.2).
                if bearer.and_then(Challenge::resource_metadata).is_some() {
                    state.context = None;
                }
                self.obtain(state, bearer, Vec::new()).await?;
                Ok(ChallengeOutcome::RetryWithNewToken)
            }
            403 if bearer.and_then(Challenge::error) == Some("insufficient_scope") => {
                let granted: Vec<String> = current
                    .map(|tokens| tokens.scopes.clone())
                    .unwrap_or_default();
                // Someone else stepped up meanwhile, to scopes that cover this challenge.
                if replaced && challenged.iter().all(|scope| granted.contains(scope)) {
                    return Ok(ChallengeOutcome::RetryWithNewToken);
                }
                let mut scopes = if state.requested_scopes.is_empty() {
                    granted
                } else {
                    state.requested_scopes.clone()
                };
                for scope in challenged {
                    if !scopes.contains(&scope) {
                        scopes.push(scope);
                    }
                }
                scopes.sort();
                // The first authorization (the one that got the token being rejected) counts.
                let attempts = state.step_ups.get(&scopes).copied().unwrap_or(1);
                if attempts >= MAX_AUTHORIZATIONS {
                    return Err(AuthError::StepUpExhausted {
                        server: self.name().to_owned(),
                        scopes,
                        attempts,
                    });
                }
                self.obtain(state, bearer, scopes.clone()).await?;
                // Counted once it happened: a cancelled or refused attempt is not an authorization.
                state.step_ups.insert(scopes, attempts + 1);
                Ok(ChallengeOutcome::RetryWithNewToken)
            }
            _ => Ok(ChallengeOutcome::Fail),
        }
    }
}

impl Authorizer for OAuthAuthorizer {
    fn bearer_token(&self) -> BoxFuture<'_, Result<Option<String>, TransportError>> {
        Box::pin(async move {
            let credential = self.credential().await?;
            Ok(credential.map(|credential| credential.token().to_owned()))
        })
    }

    fn credential(&self) -> BoxFuture<'_, Result<Option<Credential>, TransportError>> {
        Box::pin(async move {
            self.current_credential()
                .await
                .map_err(TransportError::authorization)
        })
    }

    fn accepted(&self, token: &str) {
        let mut accepted = self
            .shared
            .accepted
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if accepted.as_deref() != Some(token) {
            *accepted = Some(token.to_owned());
        }
    }

    fn on_challenge<'a>(
        &'a self,
        challenge: &'a AuthChallenge,
    ) -> BoxFuture<'a, Result<ChallengeOutcome, TransportError>> {
        Box::pin(async move {
            self.handle_challenge(challenge)
                .await
                .map_err(TransportError::authorization)
        })
    }
}
