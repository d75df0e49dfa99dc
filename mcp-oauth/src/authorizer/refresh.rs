//! Refreshing held tokens: once, under the store's cross-process lock, at the issuer that issued
//! them; and when a token is due for it (before expiry, with a skew).
//!
//! A token is due within 60 s of its expiry, or within half its lifetime when that is shorter; a
//! lifetime under 30 s counts as 30 s, so `expires_in: 0` does not mean a refresh per request.
//! Tokens another process stored meanwhile win; a rotated refresh token is saved before use.
//! DPoP-bound tokens are refreshed with a proof from their own key, which the new ones keep.

use std::sync::Arc;
use std::time::Duration;

use mcp_transport::www_authenticate::Challenge;
use url::Url;

use super::server::{AuthState, Context, now};
use super::{AuthError, OAuthAuthorizer};
use crate::discovery::{SsrfGuard, discover_server};
use crate::flow::{self, FlowError};
use crate::registration;
use crate::store::{StoreError, StoredTokens};

/// How long before expiry a token is refreshed proactively.
const REFRESH_SKEW: Duration = Duration::from_secs(60);

/// The shortest lifetime assumed when scheduling a proactive refresh. A server that says
/// `expires_in: 0` (or 1) would otherwise have its token refreshed before every request, a
/// dozen token requests for one tool call; a token that really is dead gets a 401, which
/// refreshes it once.
const MIN_REFRESH_LIFETIME: Duration = Duration::from_secs(30);

impl OAuthAuthorizer {
    /// Refreshes the tokens, once, under the store's lock. Tokens another process stored meanwhile
    /// win: they are used as they are, or refreshed with their own (possibly rotated) refresh
    /// token. The refresh goes back to the issuer that issued the tokens, never elsewhere. When
    /// the tokens cannot be refreshed (no refresh token, `invalid_grant`, `invalid_client`, their
    /// issuer gone), they are discarded and [`Refreshed::Impossible`] says to authorize anew.
    pub(super) async fn refresh(
        &self,
        state: &mut AuthState,
        challenge: Option<&Challenge>,
    ) -> Result<Refreshed, AuthError> {
        let store = Arc::clone(&self.runtime.store);
        let lock = store
            .lock(&self.shared.key)
            .await
            .map_err(|source| self.store_error(source))?;
        let held = state.tokens.clone();
        let stored = store
            .load(&self.shared.key)
            .await
            .map_err(|source| self.store_error(source))?;
        let base = match (stored, held) {
            (Some(stored), held)
                if held.as_ref().map(|tokens| &tokens.access_token)
                    != Some(&stored.access_token) =>
            {
                if !needs_refresh(&stored) {
                    state.tokens = Some(stored);
                    return Ok(Refreshed::Renewed);
                }
                stored
            }
            (_, Some(held)) => held,
            (_, None) => return Ok(Refreshed::Impossible),
        };
        let Some(refresh_token) = base.refresh_token.clone() else {
            drop(lock);
            self.discard_tokens(state, None).await?;
            return Ok(Refreshed::Impossible);
        };
        let Some(context) = self.refresh_context(state, challenge, &base).await? else {
            tracing::info!(server = %self.name(), "the tokens' issuer is no longer usable");
            drop(lock);
            self.discard_tokens(state, Some(&refresh_token)).await?;
            return Ok(Refreshed::Impossible);
        };
        let redirect = "http://127.0.0.1/callback";
        let credentials = self.credentials(state, &context, redirect).await?;
        let mut base = base;
        if base.resource.is_none() {
            base.resource = Some(context.resource.clone());
        }
        // On a task of its own, so that a caller that gives up (a request timeout) cannot lose a
        // rotated refresh token between the server's answer and the save.
        let http = self.runtime.http.clone();
        let key = self.shared.key.clone();
        let metadata = context.metadata.clone();
        let task_store = Arc::clone(&store);
        let prover = base.dpop_key.clone().map(|key| self.token_prover(key));
        let task = tokio::spawn(async move {
            let renewed = flow::refresh_with(&http, &metadata, &credentials, &base, prover)
                .await
                .map_err(RefreshFailure::Flow)?;
            // Persist before use: a rotated refresh token exists nowhere else.
            task_store
                .save(&key, &renewed)
                .await
                .map_err(RefreshFailure::Store)?;
            Ok::<_, RefreshFailure>(renewed)
        });
        let outcome = task.await;
        drop(lock);
        match outcome {
            Ok(Ok(renewed)) => {
                state.refreshed = Some(renewed.access_token.clone());
                state.tokens = Some(renewed);
                Ok(Refreshed::Renewed)
            }
            Ok(Err(RefreshFailure::Flow(source)))
                if source.is_invalid_grant() || source.is_invalid_client() =>
            {
                tracing::info!(server = %self.name(), error = %source, "refresh refused; authorizing anew");
                if source.is_invalid_client() {
                    // The server forgot our registration: so do we, and register anew.
                    state.context = None;
                    if let Err(error) =
                        registration::forget_client(store.as_ref(), &context.metadata.issuer).await
                    {
                        tracing::warn!(server = %self.name(), %error, "could not forget the client registration");
                    }
                }
                self.discard_tokens(state, Some(&refresh_token)).await?;
                Ok(Refreshed::Impossible)
            }
            Ok(Err(RefreshFailure::Flow(source))) => Err(AuthError::Flow {
                server: self.name().to_owned(),
                source,
            }),
            Ok(Err(RefreshFailure::Store(source))) => Err(self.store_error(source)),
            Err(_) => Err(AuthError::Flow {
                server: self.name().to_owned(),
                source: FlowError::Token("the refresh task ended unexpectedly".to_owned()),
            }),
        }
    }

    /// Where to refresh `tokens`: their own issuer. The cached context if it is that issuer's;
    /// else the issuer's metadata looked up directly (RFC 8414); else, for tokens from the
    /// 2025-03-26 fallback, the fallback again if it leads to the same issuer. `None`: nowhere.
    async fn refresh_context(
        &self,
        state: &mut AuthState,
        challenge: Option<&Challenge>,
        tokens: &StoredTokens,
    ) -> Result<Option<Context>, AuthError> {
        let Some(issuer) = tokens.issuer.clone() else {
            return Ok(None);
        };
        if let Some(context) = &state.context
            && context.metadata.issuer == issuer
        {
            return Ok(Some((**context).clone()));
        }
        let resource = tokens.resource.clone().unwrap_or_else(|| self.resource());
        if let Ok(issuer_url) = Url::parse(&issuer) {
            let guard = SsrfGuard::for_server(&self.settings().server_url).await;
            if let Ok(metadata) = discover_server(&self.runtime.http, &guard, &issuer_url).await {
                return Ok(Some(Context {
                    guard,
                    resource,
                    metadata,
                    resource_metadata: None,
                    credentials: None,
                }));
            }
        }
        match self.context(state, challenge).await {
            Ok(context) if context.metadata.issuer == issuer => Ok(Some(context)),
            Ok(_) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

/// What became of a refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refreshed {
    /// New tokens are held (refreshed here, or stored by another process).
    Renewed,
    /// No refresh is possible; the tokens are discarded: authorize anew.
    Impossible,
}

/// Why the refresh task failed.
enum RefreshFailure {
    Flow(FlowError),
    Store(StoreError),
}

/// Whether a token is close enough to its expiry to be refreshed before use: within
/// [`REFRESH_SKEW`], or within half its lifetime for tokens that live less than two skews (else a
/// 30-second token would be refreshed before every request). A lifetime below
/// [`MIN_REFRESH_LIFETIME`] counts as that minimum.
pub(super) fn needs_refresh(tokens: &StoredTokens) -> bool {
    let Some(expires_at) = tokens.expires_at else {
        return false;
    };
    let lifetime =
        Duration::from_secs(expires_at.saturating_sub(tokens.issued_at)).max(MIN_REFRESH_LIFETIME);
    let skew = REFRESH_SKEW.min(lifetime / 2);
    let due = tokens.issued_at.saturating_add(lifetime.as_secs());
    now().saturating_add(skew.as_secs()) >= due
}
