//! The authorization server's memory: clients, codes and tokens, and what was seen on the wire.
//!
//! Every entry that can expire is dropped once it has, whenever something new is stored, so a
//! long-running demo keeps only what is still usable.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use mcp_oauth::TokenAuthMethod;
use url::Url;

use super::{
    DemoAuthOptions, DemoAuthStats,
    site::Resource,
    wire::{OAuthError, random_value},
};

/// How long an authorization code may be redeemed (RFC 6749 §4.1.2 recommends ten minutes at
/// most).
const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// Dynamically registered clients kept at most: registration is open to anyone on the machine.
const MAX_CLIENTS: usize = 10_000;

/// Random bytes in a token, a code or a client secret (256 bits).
const SECRET_BYTES: usize = 32;

/// Random bytes in a dynamically registered client id (128 bits).
const CLIENT_ID_BYTES: usize = 16;

/// A client the authorization server knows.
#[derive(Debug, Clone)]
pub(super) struct Client {
    pub(super) method: TokenAuthMethod,
    pub(super) secret: Option<String>,
    /// The registered redirect URIs, compared without their port; `None` admits any loopback
    /// redirect URI (pre-registered clients and client ID metadata documents).
    pub(super) redirect_uris: Option<Vec<Url>>,
    /// Identified by a client ID metadata document URL: public, or `private_key_jwt` when the
    /// document (never fetched here) would say so.
    pub(super) cimd: bool,
}

impl Client {
    /// Whether the client may authenticate at the token endpoint with `used`.
    pub(super) fn allows(&self, used: TokenAuthMethod) -> bool {
        used == self.method || (self.cimd && used == TokenAuthMethod::PrivateKeyJwt)
    }
}

/// What an authorization code is bound to.
#[derive(Debug, Clone)]
pub(super) struct Binding {
    pub(super) client_id: String,
    /// Exactly as sent in the authorization request.
    pub(super) redirect_uri: String,
    pub(super) challenge: String,
    pub(super) s256: bool,
    /// `None` when the request named no resource (a 2025-03-26 client).
    pub(super) resource: Option<Resource>,
    pub(super) scopes: Vec<String>,
}

/// An authorization code: its binding, the grant its tokens will belong to, and its expiry.
#[derive(Debug, Clone)]
pub(super) struct Code {
    pub(super) binding: Binding,
    pub(super) grant: u64,
    expires: Instant,
}

/// What redeeming a code found.
pub(super) enum Redeem {
    /// The code, now used up.
    Fresh(Code),
    /// Redeemed before, by the grant numbered here.
    Reused(u64),
    Unknown,
}

/// What a grant of tokens carries: its number (one per authorization), client, scopes and
/// audience.
#[derive(Debug, Clone)]
pub(super) struct Grant {
    pub(super) id: u64,
    pub(super) client_id: String,
    pub(super) scopes: Vec<String>,
    /// The one resource its access tokens are good for; `None` when the client named none (a
    /// 2025-03-26 client, on a server of that revision), which makes them good for both.
    pub(super) audience: Option<Resource>,
}

/// What an access token presented to an MCP endpoint turned out to be.
pub(super) enum AccessCheck {
    Valid(Vec<String>),
    /// Issued for the other resource (RFC 8707): never accepted here, however fresh.
    OtherAudience,
    Expired,
    Unknown,
}

#[derive(Debug)]
struct Access {
    grant: u64,
    scopes: Vec<String>,
    audience: Option<Resource>,
    expires: Instant,
}

/// The state behind one lock; nothing here awaits.
#[derive(Debug)]
pub(super) struct Registry {
    clients: HashMap<String, Client>,
    codes: HashMap<String, Code>,
    /// Redeemed codes (their grant and original expiry): a second redemption revokes every token
    /// the first produced (RFC 6749 §4.1.2).
    redeemed: HashMap<String, (u64, Instant)>,
    access: HashMap<String, Access>,
    refresh: HashMap<String, Grant>,
    next_grant: u64,
    pub(super) stats: DemoAuthStats,
}

impl Registry {
    pub(super) fn new(options: &DemoAuthOptions) -> Self {
        let clients = options
            .pre_registered
            .iter()
            .map(|client| {
                let known = Client {
                    method: client.method,
                    secret: client.secret.clone(),
                    redirect_uris: None,
                    cimd: false,
                };
                (client.id.clone(), known)
            })
            .collect();
        Self {
            clients,
            codes: HashMap::new(),
            redeemed: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            next_grant: 0,
            stats: DemoAuthStats::default(),
        }
    }

    /// The client `id`: registered, or (when `cimd` is on) a client ID metadata document URL.
    pub(super) fn client(&self, id: &str, cimd: bool) -> Option<Client> {
        if let Some(client) = self.clients.get(id) {
            return Some(client.clone());
        }
        (cimd && super::wire::is_cimd_url(id)).then_some(Client {
            method: TokenAuthMethod::None,
            secret: None,
            redirect_uris: None,
            cimd: true,
        })
    }

    /// Registers `client` under a new random id.
    pub(super) fn register(&mut self, client: Client) -> Result<String, OAuthError> {
        if self.clients.len() >= MAX_CLIENTS {
            return Err(OAuthError::new(
                "temporarily_unavailable",
                format!("this demo keeps at most {MAX_CLIENTS} registered clients"),
            )
            .with_status(http::StatusCode::SERVICE_UNAVAILABLE));
        }
        let id = format!("demo-{}", random_value(CLIENT_ID_BYTES)?);
        self.clients.insert(id.clone(), client);
        Ok(id)
    }

    /// A new client secret.
    pub(super) fn new_secret() -> Result<String, OAuthError> {
        random_value(SECRET_BYTES)
    }

    /// Issues a code for `binding`, redeemable for [`CODE_LIFETIME`].
    pub(super) fn issue_code(&mut self, binding: Binding) -> Result<String, OAuthError> {
        self.purge();
        let value = random_value(SECRET_BYTES)?;
        let code = Code {
            binding,
            grant: self.new_grant(),
            expires: Instant::now() + CODE_LIFETIME,
        };
        self.codes.insert(value.clone(), code);
        Ok(value)
    }

    /// Takes the code out: whatever happens next, it cannot be redeemed again.
    pub(super) fn redeem(&mut self, value: &str) -> Redeem {
        if let Some(&(grant, _)) = self.redeemed.get(value) {
            return Redeem::Reused(grant);
        }
        match self.codes.remove(value) {
            Some(code) if code.expires > Instant::now() => {
                self.redeemed
                    .insert(value.to_owned(), (code.grant, code.expires));
                Redeem::Fresh(code)
            }
            _ => Redeem::Unknown,
        }
    }

    /// Revokes every access and refresh token of `grant`.
    pub(super) fn revoke_grant(&mut self, grant: u64) {
        self.access.retain(|_, token| token.grant != grant);
        self.refresh.retain(|_, token| token.id != grant);
    }

    /// A new grant number: one per authorization, or per `client_credentials` request.
    pub(super) fn new_grant(&mut self) -> u64 {
        self.next_grant += 1;
        self.next_grant - 1
    }

    /// Issues an access token of `grant`, for its scopes and audience, valid for `lifetime`.
    pub(super) fn issue_access(
        &mut self,
        grant: &Grant,
        lifetime: Duration,
    ) -> Result<String, OAuthError> {
        self.purge();
        let value = random_value(SECRET_BYTES)?;
        let access = Access {
            grant: grant.id,
            scopes: grant.scopes.clone(),
            audience: grant.audience,
            expires: Instant::now() + lifetime,
        };
        self.access.insert(value.clone(), access);
        Ok(value)
    }

    /// Issues a refresh token for `grant`.
    pub(super) fn issue_refresh(&mut self, grant: Grant) -> Result<String, OAuthError> {
        let value = random_value(SECRET_BYTES)?;
        self.refresh.insert(value.clone(), grant);
        Ok(value)
    }

    /// The grant of a refresh token, if it is still valid.
    pub(super) fn refresh_grant(&self, value: &str) -> Option<Grant> {
        self.refresh.get(value).cloned()
    }

    /// Invalidates one refresh token (it was rotated).
    pub(super) fn remove_refresh(&mut self, value: &str) {
        self.refresh.remove(value);
    }

    /// Checks an access token presented to an endpoint of `resource`.
    pub(super) fn check_access(&self, value: &str, resource: Resource) -> AccessCheck {
        match self.access.get(value) {
            None => AccessCheck::Unknown,
            Some(token) if token.audience.is_some_and(|audience| audience != resource) => {
                AccessCheck::OtherAudience
            }
            Some(token) if token.expires > Instant::now() => {
                AccessCheck::Valid(token.scopes.clone())
            }
            Some(_) => AccessCheck::Expired,
        }
    }

    /// Every current access token expires now.
    pub(super) fn expire_access_tokens(&mut self) {
        let now = Instant::now();
        for token in self.access.values_mut() {
            token.expires = token.expires.min(now);
        }
    }

    /// Every refresh token becomes invalid.
    pub(super) fn revoke_refresh_tokens(&mut self) {
        self.refresh.clear();
    }

    /// Drops codes and access tokens past their expiry. Expired access tokens stay for a while so
    /// the MCP endpoint can say "expired" rather than "unknown"; only those well past it go.
    fn purge(&mut self) {
        let now = Instant::now();
        self.codes.retain(|_, code| code.expires > now);
        self.redeemed.retain(|_, (_, expires)| *expires > now);
        self.access.retain(|_, token| {
            token
                .expires
                .checked_add(CODE_LIFETIME)
                .is_none_or(|kept_until| kept_until > now)
        });
    }
}
