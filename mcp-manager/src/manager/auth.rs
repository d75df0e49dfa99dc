//! Credentials for HTTP servers: none, a static bearer token or OAuth; login and logout.
//!
//! `authorizer_for` picks by the server's `auth` mode: none, a `StaticBearer` read from the named
//! variable, or an `OAuthAuthorizer` from the manager's one `OAuthRuntime` (token store and browser
//! from [`ManagerOptions`]). The attempt's guard, then the `Live` session, hold that authorizer and
//! cancel its browser flows when dropped, so a cancelled connect or a closed session closes its
//! callback listener at once. `login` runs one isolated attempt with the held tokens set aside;
//! `logout` clears the store's entry.

use std::sync::Arc;
use std::time::Duration;

use mcp_oauth::CallbackOptions;
use mcp_oauth::ClientIdentity;
use mcp_oauth::EnterpriseIdentity;
use mcp_oauth::PrivateKeyJwt;
use mcp_oauth::WorkloadIdentity;
use mcp_oauth::{FileStore, MemoryStore, StoredTokens, TokenStore};
use mcp_oauth::{Grant, OAuthAuthorizer, OAuthSettings};
use mcp_transport::{Authorizer, StaticBearer};
use url::Url;

use crate::config::{AuthMode, HttpConfig, OAuthGrant, ServerConfig, TransportConfig};
use crate::error::{AttemptError, ConnectError};

use super::*;

impl Manager {
    /// The credentials a connect to `config` (an HTTP server) would present, for requests made
    /// outside a connection (`mcpcord check`): `None` for a stdio server or `auth = "none"`, a
    /// static bearer token, or OAuth with this manager's token store and browser (stored tokens
    /// first; a 401 signs in). Dropping the last clone ends its browser flows.
    ///
    /// # Errors
    /// [`AttemptError::Config`] for a bearer variable that is unset, or an OAuth setting that
    /// cannot be used.
    pub fn authorizer(
        &self,
        name: &str,
        config: &ServerConfig,
    ) -> Result<Option<Arc<dyn Authorizer>>, AttemptError> {
        match &config.transport {
            TransportConfig::Http(http) => Ok(self.authorizer_for(name, http)?.0),
            TransportConfig::Stdio(_) => Ok(None),
        }
    }

    /// The credentials for an HTTP server: none, a static bearer token, or OAuth (on a 401); with
    /// OAuth, also the authorizer itself, whose flows end with the attempt or session.
    #[allow(clippy::type_complexity)]
    pub(super) fn authorizer_for(
        &self,
        name: &str,
        http: &HttpConfig,
    ) -> Result<(Option<Arc<dyn Authorizer>>, Option<OAuthAuthorizer>), AttemptError> {
        match (http.auth, &http.bearer_token_env) {
            (AuthMode::None, _) => Ok((None, None)),
            (AuthMode::Bearer | AuthMode::Auto, Some(variable)) => StaticBearer::from_env(variable)
                .map(|bearer| (Some(Arc::new(bearer) as Arc<dyn Authorizer>), None))
                .map_err(|error| AttemptError::Config(error.to_string())),
            (AuthMode::Bearer, None) => Err(AttemptError::Config(
                "auth = \"bearer\" needs bearer_token_env".to_owned(),
            )),
            (AuthMode::Auto | AuthMode::OAuth, _) => {
                let oauth = self.oauth_authorizer(name, http)?;
                Ok((
                    Some(Arc::new(oauth.clone()) as Arc<dyn Authorizer>),
                    Some(oauth),
                ))
            }
        }
    }

    pub(super) fn oauth_authorizer(
        &self,
        name: &str,
        http: &HttpConfig,
    ) -> Result<OAuthAuthorizer, AttemptError> {
        Ok(self.inner.oauth.authorizer(oauth_settings(name, http)?))
    }

    /// Whether a connect to this server may include a person signing in.
    pub(super) fn may_log_in(&self, config: &ServerConfig) -> bool {
        match &config.transport {
            TransportConfig::Http(http) => {
                self.inner.oauth.is_interactive()
                    && match http.auth {
                        AuthMode::OAuth => true,
                        AuthMode::Auto => http.bearer_token_env.is_none(),
                        AuthMode::Bearer | AuthMode::None => false,
                    }
                    && http
                        .oauth
                        .as_ref()
                        .is_none_or(|oauth| oauth.grant == OAuthGrant::AuthorizationCode)
            }
            TransportConfig::Stdio(_) => false,
        }
    }

    /// Signs in to an HTTP server anew, ignoring any stored tokens: connects once (the server's
    /// 401 starts the authorization), stores the tokens, and closes the session. Returns the
    /// tokens' description, or `None` when the server did not ask for authorization.
    ///
    /// A browser must be configured ([`ManagerOptions::browser`]) for the authorization code
    /// grant; the client credentials grant needs none.
    ///
    /// # Errors
    /// [`ConnectError`] as for [`isolated`](Self::isolated); a configuration that cannot use OAuth
    /// (stdio, `auth = "bearer"` or `"none"`) fails with a configuration error.
    pub async fn login(
        &self,
        name: &str,
        config: &ServerConfig,
    ) -> Result<Option<LoginReport>, ConnectError> {
        let authorizer = self.login_authorizer(name, config)?;
        authorizer.forget_held().await;
        let session = self.isolated_named(name, config).await?;
        session.close(Duration::from_secs(2)).await;
        let tokens = authorizer
            .tokens()
            .await
            .map_err(|error| ConnectError::Auth {
                server: name.to_owned(),
                error: Box::new(error),
            })?;
        Ok(tokens.as_ref().map(LoginReport::from_tokens))
    }

    /// Forgets the stored tokens of an HTTP server (logout). Returns whether there were any.
    ///
    /// # Errors
    /// A configuration that cannot use OAuth, or the token store failing.
    pub async fn logout(&self, name: &str, config: &ServerConfig) -> Result<bool, ConnectError> {
        let authorizer = self.login_authorizer(name, config)?;
        authorizer
            .logout()
            .await
            .map_err(|error| ConnectError::Auth {
                server: name.to_owned(),
                error: Box::new(error),
            })
    }

    pub(super) fn login_authorizer(
        &self,
        name: &str,
        config: &ServerConfig,
    ) -> Result<OAuthAuthorizer, ConnectError> {
        let config_error = |message: String| ConnectError::Config {
            server: name.to_owned(),
            message,
        };
        let TransportConfig::Http(http) = &config.transport else {
            return Err(config_error(
                "login is for HTTP servers; this one runs over stdio".to_owned(),
            ));
        };
        if matches!(http.auth, AuthMode::Bearer | AuthMode::None) {
            return Err(config_error(format!(
                "auth is {:?}, which never uses OAuth",
                match http.auth {
                    AuthMode::Bearer => "bearer",
                    _ => "none",
                }
            )));
        }
        self.oauth_authorizer(name, http)
            .map_err(|error| config_error(error.to_string()))
    }
}

/// The file store under `$MCPCORD_HOME`, or memory when there is no home directory to keep it in.
pub(super) fn default_token_store() -> Arc<dyn TokenStore> {
    match FileStore::open_default() {
        Ok(store) => Arc::new(store),
        Err(error) => {
            tracing::warn!(%error, "no token store directory; OAuth tokens are kept in memory only");
            Arc::new(MemoryStore::new())
        }
    }
}

/// The OAuth settings for one server, from its configuration; secrets are read from the
/// environment variables the configuration names.
pub(super) fn oauth_settings(name: &str, http: &HttpConfig) -> Result<OAuthSettings, AttemptError> {
    let mut settings = OAuthSettings::new(name, http.url.clone());
    let Some(oauth) = &http.oauth else {
        return Ok(settings);
    };
    let from_env = |variable: &str, holds: &str| {
        std::env::var(variable)
            .ok()
            .filter(|value| !value.trim().is_empty())
            .ok_or_else(|| {
                AttemptError::Config(format!(
                    "the environment variable {variable} (which should hold {holds}) is not set"
                ))
            })
    };
    let mut identity = ClientIdentity {
        client_id: oauth.client_id.clone(),
        ..ClientIdentity::default()
    };
    identity.client_secret = match &oauth.client_secret_env {
        Some(variable) => Some(from_env(variable, "the OAuth client secret")?),
        None => oauth.client_secret.clone(),
    };
    let key = match &oauth.private_key_env {
        Some(variable) => Some((
            variable.as_str(),
            from_env(variable, "the OAuth client's private key")?,
        )),
        None => oauth
            .private_key_pem
            .clone()
            .map(|pem| ("oauth.private_key_pem", pem)),
    };
    if let Some((source, pem)) = key {
        identity.private_key = Some(
            PrivateKeyJwt::from_pem(&pem, None)
                .map_err(|error| AttemptError::Config(format!("{source}: {error}")))?,
        );
    }
    identity.auth_method = oauth.token_endpoint_auth_method;
    identity.client_metadata_url = oauth.client_metadata_url.as_ref().map(Url::to_string);
    settings.identity = identity;
    settings.scopes = oauth.scopes.clone();
    if let Some(port) = oauth.callback_port {
        settings.callback = CallbackOptions::new().with_port(port);
    }
    if let Some(dpop) = oauth.dpop {
        settings.dpop = dpop;
    }
    settings.grant = match oauth.grant {
        OAuthGrant::AuthorizationCode => Grant::AuthorizationCode,
        OAuthGrant::ClientCredentials => Grant::ClientCredentials,
        OAuthGrant::EnterpriseManaged => {
            let missing = |what: &str| {
                AttemptError::Config(format!("grant = \"enterprise_managed\" needs oauth.{what}"))
            };
            let id_token = match &oauth.id_token_env {
                Some(variable) => from_env(variable, "the user's ID token")?,
                None => oauth
                    .id_token
                    .clone()
                    .ok_or_else(|| missing("id_token_env"))?,
            };
            Grant::EnterpriseManaged(EnterpriseIdentity {
                token_endpoint: oauth
                    .idp_token_endpoint
                    .as_ref()
                    .map(Url::to_string)
                    .ok_or_else(|| missing("idp_token_endpoint"))?,
                client_id: oauth
                    .idp_client_id
                    .clone()
                    .ok_or_else(|| missing("idp_client_id"))?,
                id_token,
            })
        }
        // Named, not read: the token is read for each token request, as platforms rotate it.
        OAuthGrant::JwtBearer => Grant::JwtBearer(
            match (
                &oauth.assertion_file,
                &oauth.assertion_env,
                &oauth.assertion,
            ) {
                (Some(file), _, _) => WorkloadIdentity::from_file(file.clone()),
                (None, Some(variable), _) => WorkloadIdentity::from_env(variable.clone()),
                (None, None, Some(token)) => WorkloadIdentity::from_token(token.clone()),
                (None, None, None) => {
                    return Err(AttemptError::Config(
                        "grant = \"jwt_bearer\" needs oauth.assertion_file or oauth.assertion_env"
                            .to_owned(),
                    ));
                }
            },
        ),
    };
    Ok(settings)
}

/// What a login obtained (never the tokens themselves).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoginReport {
    /// The authorization server that issued the tokens.
    pub issuer: Option<String>,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// When the access token expires (Unix seconds), if the server said.
    pub expires_at: Option<u64>,
    /// Whether a refresh token came with it (so later runs need no browser).
    pub refreshable: bool,
}

impl LoginReport {
    pub(super) fn from_tokens(tokens: &StoredTokens) -> Self {
        Self {
            issuer: tokens.issuer.clone(),
            scopes: tokens.scopes.clone(),
            expires_at: tokens.expires_at,
            refreshable: tokens.refresh_token.is_some(),
        }
    }
}
