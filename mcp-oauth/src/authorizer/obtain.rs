//! New tokens: the authorization code flow through a browser and the loopback callback, or the
//! machine grants (client credentials, enterprise-managed, workload identity); with discovery and
//! the client identity they need, cached per server. When the authorization server offers DPoP
//! (and the settings allow it), every grant asks for tokens bound to a new key.
//!
//! Tokens another process stored are taken first (checked again under the store's lock). The
//! browser flow then goes: discovery (cached), the callback listener (registered with the runtime
//! and this authorizer, so shutdown or a closed connection ends it), the client identity, the
//! authorization request, the browser and the callback awaited together, the `iss` check, the code
//! exchange, and the save under the store's lock. Without a browser a needed login fails at once
//! with `AuthError::LoginRequired` ("run `mcpcord login NAME`").

use std::sync::atomic::Ordering;
use std::time::Duration;

use mcp_transport::www_authenticate::Challenge;
use url::Url;

use super::server::{AuthState, Context, now};
use super::{AuthError, Grant, OAuthAuthorizer};
use crate::browser::{Browser, BrowserError};
use crate::callback::{Authorization, CallbackError, CallbackServer};
use crate::discovery::{
    DiscoveryError, SsrfGuard, canonical_resource, discover_legacy, discover_resource,
    discover_server,
};
use crate::flow::{self, ClientCredentials, FlowError};
use crate::registration;
use crate::store::StoredTokens;

impl OAuthAuthorizer {
    /// New tokens by the configured grant. Another process may have logged in meanwhile: the
    /// store is checked first, under its lock.
    pub(super) async fn obtain(
        &self,
        state: &mut AuthState,
        challenge: Option<&Challenge>,
        scopes: Vec<String>,
    ) -> Result<(), AuthError> {
        if self.runtime.is_shut_down() {
            return Err(AuthError::ShuttingDown {
                server: self.name().to_owned(),
            });
        }
        // Another process (`mcpcord login` in another terminal) may have stored usable tokens.
        if self.take_stored(state, &scopes).await? {
            return Ok(());
        }
        let browser = match self.settings().grant {
            Grant::ClientCredentials | Grant::EnterpriseManaged(_) | Grant::JwtBearer(_) => None,
            Grant::AuthorizationCode => match self.runtime.browser.clone() {
                Some(browser) => Some(browser),
                None => {
                    return Err(AuthError::LoginRequired {
                        server: self.name().to_owned(),
                    });
                }
            },
        };
        let store = &self.runtime.store;
        {
            // Re-checked under the cross-process lock, which is not held across the flow itself
            // (a person may take minutes, and other processes must still refresh meanwhile).
            let _lock = store
                .lock(&self.shared.key)
                .await
                .map_err(|source| self.store_error(source))?;
            if self.take_stored(state, &scopes).await? {
                return Ok(());
            }
        }
        let context = self.context(state, challenge).await?;
        let tokens = match browser {
            None => self.machine_grant(state, &context, scopes).await?,
            Some(browser) => {
                self.authorize(state, &context, challenge, scopes, browser.as_ref())
                    .await?
            }
        };
        let _lock = store
            .lock(&self.shared.key)
            .await
            .map_err(|source| self.store_error(source))?;
        store
            .save(&self.shared.key, &tokens)
            .await
            .map_err(|source| self.store_error(source))?;
        state.authorized = Some(tokens.access_token.clone());
        state.tokens = Some(tokens);
        state.force_login = false;
        Ok(())
    }

    /// Takes tokens from the store when another process stored ones this authorizer does not hold
    /// (and no step-up, which needs new scopes, is under way).
    async fn take_stored(
        &self,
        state: &mut AuthState,
        scopes: &[String],
    ) -> Result<bool, AuthError> {
        if state.force_login || !scopes.is_empty() {
            return Ok(false);
        }
        let stored = self
            .runtime
            .store
            .load(&self.shared.key)
            .await
            .map_err(|source| self.store_error(source))?;
        let held = state.tokens.as_ref().map(|tokens| &tokens.access_token);
        match stored {
            Some(stored)
                if Some(&stored.access_token) != held
                    && !stored.expires_within(now(), Duration::ZERO) =>
            {
                tracing::debug!(server = %self.name(), "using tokens stored by another process");
                state.tokens = Some(stored);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Discovery: protected-resource metadata, then the authorization server's; the 2025-03-26
    /// fallback when the server has no protected-resource metadata. Cached per server.
    pub(super) async fn context(
        &self,
        state: &mut AuthState,
        challenge: Option<&Challenge>,
    ) -> Result<Context, AuthError> {
        if let Some(context) = &state.context {
            return Ok((**context).clone());
        }
        let server = &self.settings().server_url;
        let http = &self.runtime.http;
        let guard = SsrfGuard::for_server(server).await;
        let discovery_error = |source| AuthError::Discovery {
            server: self.name().to_owned(),
            source,
        };
        let context = match discover_resource(http, &guard, server, challenge).await {
            Ok(resource_metadata) => {
                let Some(issuer) = resource_metadata.authorization_servers.first() else {
                    return Err(AuthError::NoAuthorizationServer {
                        server: self.name().to_owned(),
                    });
                };
                let issuer = Url::parse(issuer).map_err(|error| {
                    discovery_error(DiscoveryError::Invalid {
                        url: issuer.clone(),
                        reason: format!("the authorization server is not a URL: {error}"),
                    })
                })?;
                let metadata = discover_server(http, &guard, &issuer)
                    .await
                    .map_err(discovery_error)?;
                let resource = Url::parse(&resource_metadata.resource)
                    .map(|resource| canonical_resource(&resource))
                    .unwrap_or_else(|_| self.resource());
                Context {
                    guard,
                    resource,
                    metadata,
                    resource_metadata: Some(resource_metadata),
                    credentials: None,
                }
            }
            // Only when the server named no metadata: a pointer that leads nowhere is an error,
            // not a reason to guess.
            Err(DiscoveryError::NoResourceMetadata { tried })
                if challenge.and_then(Challenge::resource_metadata).is_none() =>
            {
                tracing::info!(server = %self.name(), %tried, "no protected-resource metadata; 2025-03-26 fallback");
                Context {
                    guard,
                    resource: self.resource(),
                    metadata: discover_legacy(http, &guard, server)
                        .await
                        .map_err(discovery_error)?,
                    resource_metadata: None,
                    credentials: None,
                }
            }
            Err(error) => return Err(discovery_error(error)),
        };
        // The token endpoint receives codes, refresh tokens and client secrets: it passes the same
        // guard as the metadata URLs (the authorization endpoint goes to the browser, which
        // checks it itself).
        let token_endpoint = Url::parse(&context.metadata.token_endpoint).map_err(|error| {
            discovery_error(DiscoveryError::Invalid {
                url: context.metadata.token_endpoint.clone(),
                reason: format!("the token endpoint is not a URL: {error}"),
            })
        })?;
        guard
            .check(&token_endpoint)
            .await
            .map_err(discovery_error)?;
        state.context = Some(Box::new(context.clone()));
        Ok(context)
    }

    pub(super) async fn credentials(
        &self,
        state: &mut AuthState,
        context: &Context,
        redirect_uri: &str,
    ) -> Result<ClientCredentials, AuthError> {
        if let Some(credentials) = &context.credentials {
            return Ok(credentials.clone());
        }
        let credentials = registration::resolve_client(
            &self.runtime.http,
            &context.guard,
            self.runtime.store.as_ref(),
            &context.metadata,
            &self.settings().identity,
            redirect_uri,
        )
        .await
        .map_err(|source| AuthError::Registration {
            server: self.name().to_owned(),
            source,
        })?;
        if let Some(cached) = &mut state.context {
            cached.credentials = Some(credentials.clone());
        }
        Ok(credentials)
    }

    pub(super) fn resource(&self) -> String {
        canonical_resource(&self.settings().server_url)
    }

    fn scopes_for(
        &self,
        context: &Context,
        challenge: Option<&Challenge>,
        step_up: Vec<String>,
    ) -> Vec<String> {
        if !step_up.is_empty() {
            return step_up;
        }
        if !self.settings().scopes.is_empty() {
            // The challenge's scopes are authoritative for the request; configured ones are kept.
            let mut scopes = self.settings().scopes.clone();
            for scope in challenge.map(Challenge::scopes).into_iter().flatten() {
                if !scopes.iter().any(|have| have == scope) {
                    scopes.push(scope.to_owned());
                }
            }
            return scopes;
        }
        flow::select_scopes(
            challenge,
            context.resource_metadata.as_ref(),
            &context.metadata,
        )
    }

    async fn authorize(
        &self,
        state: &mut AuthState,
        context: &Context,
        challenge: Option<&Challenge>,
        step_up: Vec<String>,
        browser: &dyn Browser,
    ) -> Result<StoredTokens, AuthError> {
        let name = self.name().to_owned();
        let callback =
            CallbackServer::bind(self.settings().callback.clone()).map_err(|source| {
                AuthError::Callback {
                    server: name.clone(),
                    source,
                }
            })?;
        // Registered with the runtime (shutdown) and with this authorizer (its connection closing):
        // either closes the listener synchronously, and the wait below then ends.
        let closer = callback.closer();
        let Some(_global) = self.runtime.flows.register(&closer) else {
            return Err(AuthError::ShuttingDown { server: name });
        };
        let Some(_own) = self.flows.register(&closer) else {
            return Err(AuthError::Cancelled { server: name });
        };
        let redirect_uri = callback.redirect_uri();
        let credentials = self.credentials(state, context, &redirect_uri).await?;
        let scopes = self.scopes_for(context, challenge, step_up);
        let flow_error = |source| AuthError::Flow {
            server: name.clone(),
            source,
        };
        let mut pending = flow::authorization_request(
            &context.metadata,
            &credentials,
            &redirect_uri,
            &context.resource,
            &scopes,
        )
        .map_err(flow_error)?;
        if let Some(prover) = self.new_token_prover(&context.metadata)? {
            pending = pending.with_dpop(prover);
        }
        callback.expect(&pending.state);
        tracing::info!(server = %name, issuer = %context.metadata.issuer, "authorization needed; opening the browser");
        let mut shutdown = self.runtime.shutdown.subscribe();
        let authorization = tokio::select! {
            // The callback server is dropped with this branch's future: its listener closes at once.
            _ = shutdown.wait_for(|stopping| *stopping) => {
                return Err(AuthError::ShuttingDown { server: name });
            }
            result = present(browser, &pending.authorization_url, callback, self.runtime.login_timeout) => result,
        };
        let authorization = match authorization {
            Ok(authorization) => authorization,
            Err(Presented::Browser(source)) => {
                return Err(AuthError::Browser {
                    server: name,
                    source,
                });
            }
            Err(Presented::Callback(CallbackError::AuthorizationDenied {
                iss: Some(iss), ..
            })) if iss != context.metadata.issuer => {
                // A mix-up: the error text may come from an attacker's server; do not show it.
                return Err(flow_error(FlowError::IssuerMismatch {
                    expected: context.metadata.issuer.clone(),
                    found: Some(iss),
                }));
            }
            Err(Presented::Callback(CallbackError::ServerStopped))
                if self.runtime.is_shut_down() =>
            {
                return Err(AuthError::ShuttingDown { server: name });
            }
            Err(Presented::Callback(CallbackError::ServerStopped))
                if self.flows.closed.load(Ordering::SeqCst) =>
            {
                return Err(AuthError::Cancelled { server: name });
            }
            Err(Presented::Callback(source)) => {
                return Err(AuthError::Callback {
                    server: name,
                    source,
                });
            }
        };
        let Authorization { code, iss, .. } = authorization;
        let exchanged = pending
            .exchange(
                &self.runtime.http,
                &context.metadata,
                &credentials,
                &code,
                iss.as_deref(),
            )
            .await;
        let mut tokens = match exchanged {
            Ok(tokens) => tokens,
            Err(source) => {
                if source.is_invalid_client() {
                    // The server forgot our registration: forget it too, so that the next
                    // attempt registers anew.
                    state.context = None;
                    if let Err(error) = registration::forget_client(
                        self.runtime.store.as_ref(),
                        &context.metadata.issuer,
                    )
                    .await
                    {
                        tracing::warn!(server = %name, %error, "could not forget the client registration");
                    }
                }
                return Err(flow_error(source));
            }
        };
        if tokens.scopes.is_empty() {
            tokens.scopes = scopes.clone();
        }
        state.requested_scopes = scopes;
        Ok(tokens)
    }

    /// Tokens without a person: the client credentials grant, enterprise-managed authorization, or
    /// workload identity federation.
    async fn machine_grant(
        &self,
        state: &mut AuthState,
        context: &Context,
        step_up: Vec<String>,
    ) -> Result<StoredTokens, AuthError> {
        // No redirect is involved; the client is pre-registered (dynamic registration of a
        // confidential client is not attempted).
        let credentials = self
            .credentials(state, context, "http://127.0.0.1/callback")
            .await?;
        let scopes = self.scopes_for(context, None, step_up);
        let http = &self.runtime.http;
        let dpop = self.new_token_prover(&context.metadata)?;
        let obtained = match &self.settings().grant {
            Grant::EnterpriseManaged(identity) => {
                crate::enterprise::enterprise_managed_with(
                    http,
                    &context.metadata,
                    &credentials,
                    identity,
                    &context.resource,
                    &scopes,
                    dpop,
                )
                .await
            }
            Grant::JwtBearer(identity) => {
                crate::workload::jwt_bearer(
                    http,
                    &context.metadata,
                    &credentials,
                    identity,
                    &context.resource,
                    &scopes,
                    dpop.as_ref(),
                )
                .await
            }
            _ => {
                crate::grant::client_credentials_with(
                    http,
                    &context.metadata,
                    &credentials,
                    &scopes,
                    &context.resource,
                    dpop,
                )
                .await
            }
        };
        let mut tokens = obtained.map_err(|source| AuthError::Flow {
            server: self.name().to_owned(),
            source,
        })?;
        if tokens.scopes.is_empty() {
            tokens.scopes = scopes.clone();
        }
        state.requested_scopes = scopes;
        Ok(tokens)
    }
}

/// Why presenting the URL and waiting for its callback failed.
enum Presented {
    Browser(BrowserError),
    Callback(CallbackError),
}

/// Presents the URL and waits for the callback at the same time: the `follow` browser only finishes
/// once the callback has answered, and a system browser returns as soon as it has the URL.
async fn present(
    browser: &dyn Browser,
    url: &Url,
    callback: CallbackServer,
    timeout: Duration,
) -> Result<Authorization, Presented> {
    let wait = callback.wait(timeout);
    tokio::pin!(wait);
    let open = browser.open(url);
    tokio::pin!(open);
    let mut opened = false;
    loop {
        tokio::select! {
            result = &mut wait => return result.map_err(Presented::Callback),
            result = &mut open, if !opened => {
                result.map_err(Presented::Browser)?;
                opened = true;
            }
        }
    }
}
