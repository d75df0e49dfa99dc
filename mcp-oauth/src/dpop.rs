//! DPoP (RFC 9449, MCP's SEP-1932): access tokens bound to a key pair the client holds, so that a
//! token that leaks is useless without the private key.
//!
//! # When
//! A grant asks for a DPoP-bound token when the authorization server's metadata lists `ES256` in
//! `dpop_signing_alg_values_supported` and the server's settings allow it
//! ([`OAuthSettings::dpop`](crate::OAuthSettings::dpop), on by default). If the server answers with
//! `token_type: Bearer` anyway, the token is an ordinary bearer token and the key is dropped.
//!
//! # The key's life
//! One P-256 key pair per server and token lineage: made when a grant obtains new tokens, kept with
//! them ([`StoredTokens::dpop_key`](crate::StoredTokens::dpop_key); the file store writes it, like
//! the refresh token beside it, to a file only its owner can read), and used for every refresh of
//! them and every request they authorize. Kept rather than made anew on each start because a
//! refresh token bound to a key (a public client's always is, RFC 9449 §5) is worthless without
//! that key: losing it would mean a browser login after every restart. A new login makes a new key.
//!
//! # Proofs
//! A proof is an ES256 JWT whose header is `{"typ": "dpop+jwt", "alg": "ES256", "jwk": PUBLIC}` and
//! whose claims are a random 128-bit `jti`, `htm` (the method), `htu` (the URL without query and
//! fragment), `iat`, and, on requests to the MCP server, `ath` (the base64url SHA-256 of the access
//! token); plus `nonce` once the server has supplied one. A fresh proof goes with every request,
//! retries included.
//!
//! # Nonces
//! Per server, the latest `DPoP-Nonce` its authorization server sent and the latest the MCP server
//! sent, each in memory only (nonces are short-lived, and a stale one costs one retry). A token
//! request refused with 400 `use_dpop_nonce` is sent once more with the nonce it brought
//! ([`DpopProver`] here); a 401 `use_dpop_nonce` from the MCP server is retried the same way by the
//! transport (`mcp_transport::auth::DpopSigner`).
//!
//! ```
//! use mcp_oauth::dpop::{DpopKey, DpopProver};
//!
//! let prover = DpopProver::new(DpopKey::generate()?);
//! let proof = prover.proof("POST", "https://mcp.example.com/mcp?x=1", Some("access-token"))?;
//! assert_eq!(proof.split('.').count(), 3); // header.claims.signature
//! # Ok::<(), mcp_oauth::KeyError>(())
//! ```

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_transport::TransportError;
use mcp_transport::auth::DpopSigner;
use mcp_transport::http::HttpClient;
use p256::ecdsa::SigningKey;
use p256::elliptic_curve::zeroize::Zeroizing;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::grant::KeyError;

/// The one proof algorithm this client signs with.
pub const DPOP_ALGORITHM: &str = "ES256";

/// The request header that carries a proof.
const DPOP_HEADER: &str = "dpop";

/// The response header that carries a server's nonce.
const DPOP_NONCE_HEADER: &str = "dpop-nonce";

/// The longest nonce kept: a server's nonce goes into every later proof, so an absurd one is
/// ignored rather than repeated.
const MAX_NONCE: usize = 512;

/// How many random scalars are tried before giving up; one in about 2^128 is out of range.
const KEY_ATTEMPTS: usize = 4;

/// A P-256 key pair that DPoP proofs are signed with.
///
/// Serialised (for a token store) as a JSON Web Key with its private part `d`; `Debug` shows only
/// the public key's thumbprint.
#[derive(Clone)]
pub struct DpopKey {
    key: SigningKey,
}

impl DpopKey {
    /// A new random key pair.
    ///
    /// # Errors
    /// [`KeyError::Randomness`] when the system has no randomness to give.
    pub fn generate() -> Result<Self, KeyError> {
        use rand::TryRng as _;
        for _ in 0..KEY_ATTEMPTS {
            let mut scalar = Zeroizing::new([0u8; 32]);
            rand::rngs::SysRng
                .try_fill_bytes(scalar.as_mut())
                .map_err(|error| KeyError::Randomness(error.to_string()))?;
            if let Ok(key) = SigningKey::from_slice(scalar.as_ref()) {
                return Ok(Self { key });
            }
        }
        Err(KeyError::Randomness(
            "no valid P-256 scalar from the system's randomness".to_owned(),
        ))
    }

    /// The public key's affine coordinates, base64url.
    fn coordinates(&self) -> (String, String) {
        let point = self.key.verifying_key().to_sec1_point(false);
        let encode = |bytes: Option<&[u8]>| URL_SAFE_NO_PAD.encode(bytes.unwrap_or_default());
        (
            encode(point.x().map(|x| x.as_slice())),
            encode(point.y().map(|y| y.as_slice())),
        )
    }

    /// The public key as a JSON Web Key (RFC 7517): what every proof's header carries.
    pub fn public_jwk(&self) -> serde_json::Value {
        let (x, y) = self.coordinates();
        serde_json::json!({"kty": "EC", "crv": "P-256", "x": x, "y": y})
    }

    /// The public key's JWK thumbprint (RFC 7638, SHA-256, base64url): the `jkt` a bound token's
    /// `cnf` claim names.
    pub fn thumbprint(&self) -> String {
        let (x, y) = self.coordinates();
        // RFC 7638 §3.2: the required members only, in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// The key that checks this key's signatures.
    #[cfg(test)]
    pub(crate) fn verifying_key(&self) -> p256::ecdsa::VerifyingKey {
        *self.key.verifying_key()
    }

    /// A proof for a `method` request to `url`, presenting `access_token` if given, carrying
    /// `nonce` if given.
    fn proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<String, KeyError> {
        let jti = crate::callback::random_state()
            .map_err(|error| KeyError::Randomness(error.to_string()))?;
        let header = serde_json::json!({
            "typ": "dpop+jwt",
            "alg": DPOP_ALGORITHM,
            "jwk": self.public_jwk(),
        });
        let mut claims = serde_json::json!({
            "jti": jti,
            "htm": method,
            "htu": target_uri(url),
            "iat": crate::flow::now(),
        });
        if let Some(fields) = claims.as_object_mut() {
            if let Some(token) = access_token {
                fields.insert("ath".to_owned(), token_hash(token).into());
            }
            if let Some(nonce) = nonce {
                fields.insert("nonce".to_owned(), nonce.into());
            }
        }
        crate::grant::sign_es256(&self.key, &header, &claims)
    }
}

impl PartialEq for DpopKey {
    fn eq(&self, other: &Self) -> bool {
        self.key.verifying_key() == other.key.verifying_key()
    }
}

impl Eq for DpopKey {}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopKey")
            .field("thumbprint", &self.thumbprint())
            .field("private_key", &"<redacted>")
            .finish()
    }
}

/// The stored form: a P-256 JWK with its private part.
#[derive(Serialize, Deserialize)]
struct PrivateJwk {
    kty: String,
    crv: String,
    x: String,
    y: String,
    d: String,
}

impl Serialize for DpopKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (x, y) = self.coordinates();
        PrivateJwk {
            kty: "EC".to_owned(),
            crv: "P-256".to_owned(),
            x,
            y,
            d: URL_SAFE_NO_PAD.encode(self.key.to_bytes()),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for DpopKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let jwk = PrivateJwk::deserialize(deserializer)?;
        if jwk.kty != "EC" || jwk.crv != "P-256" {
            return Err(D::Error::custom("the DPoP key is not an EC key on P-256"));
        }
        // Messages never quote `d`.
        let scalar = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(jwk.d.as_bytes())
                .map_err(|_| D::Error::custom("the DPoP key's private part is not base64url"))?,
        );
        let key = SigningKey::from_slice(&scalar)
            .map_err(|_| D::Error::custom("the DPoP key's private part is not a P-256 scalar"))?;
        let key = Self { key };
        if key.coordinates() != (jwk.x, jwk.y) {
            return Err(D::Error::custom(
                "the DPoP key's public part does not match its private part",
            ));
        }
        Ok(key)
    }
}

/// The latest nonce one server supplied, shared by everything that sends it proofs.
#[derive(Debug, Default)]
pub(crate) struct NonceSlot(Mutex<Option<String>>);

impl NonceSlot {
    fn get(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Keeps `nonce` if it is one (RFC 9449 §8.1: `NQCHAR`s) of sane length; ignores it otherwise.
    fn set(&self, nonce: &str) {
        let valid = !nonce.is_empty()
            && nonce.len() <= MAX_NONCE
            && nonce
                .bytes()
                .all(|byte| matches!(byte, 0x21 | 0x23..=0x5b | 0x5d..=0x7e));
        if valid {
            *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(nonce.to_owned());
        }
    }
}

/// Makes proofs with one [`DpopKey`] for one server, carrying the latest nonce that server
/// supplied. Cheap to clone; clones share the nonce.
#[derive(Clone)]
pub struct DpopProver {
    key: DpopKey,
    nonce: Arc<NonceSlot>,
}

impl DpopProver {
    /// A prover with `key` and no nonce yet.
    pub fn new(key: DpopKey) -> Self {
        Self::sharing(key, Arc::default())
    }

    /// A prover with `key` whose nonce is `nonce`, shared with other provers for the same server.
    pub(crate) fn sharing(key: DpopKey, nonce: Arc<NonceSlot>) -> Self {
        Self { key, nonce }
    }

    /// The key proofs are signed with.
    pub fn key(&self) -> &DpopKey {
        &self.key
    }

    /// The latest nonce the server supplied, which the next proof carries.
    pub fn nonce(&self) -> Option<String> {
        self.nonce.get()
    }

    /// Remembers a nonce the server supplied (a `DPoP-Nonce` header); one that is not a valid
    /// nonce is ignored.
    pub fn remember_nonce(&self, nonce: &str) {
        self.nonce.set(nonce);
    }

    /// A fresh proof for a `method` request to `url`, presenting `access_token` (its `ath`) when
    /// the request goes to a resource server, with the latest nonce.
    ///
    /// # Errors
    /// [`KeyError::Randomness`] or [`KeyError::Signing`].
    pub fn proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
    ) -> Result<String, KeyError> {
        self.key
            .proof(method, url, access_token, self.nonce().as_deref())
    }
}

impl fmt::Debug for DpopProver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopProver")
            .field("key", &self.key)
            .field("has_nonce", &self.nonce().is_some())
            .finish()
    }
}

impl DpopSigner for DpopProver {
    fn proof(
        &self,
        method: &http::Method,
        url: &str,
        access_token: &str,
    ) -> Result<String, TransportError> {
        DpopProver::proof(self, method.as_str(), url, Some(access_token))
            .map_err(TransportError::authorization)
    }

    fn nonce(&self, nonce: &str) {
        self.remember_nonce(nonce);
    }
}

/// `url` as a proof's `htu`: without query and fragment (RFC 9449 §4.2).
fn target_uri(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string()
        }
        Err(_) => url.split(['?', '#']).next().unwrap_or(url).to_owned(),
    }
}

/// An access token's hash as a proof's `ath`: base64url SHA-256 of its ASCII (RFC 9449 §4.2).
pub fn token_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

/// Sends a token request, with a proof when `dpop` is given: the nonce any answer brings is kept,
/// and a 400 `use_dpop_nonce` that brings one is answered by sending the request once more with a
/// new proof carrying it (RFC 9449 §8). The last answer is returned as it is.
pub(crate) async fn fetch_token(
    http: &HttpClient,
    request: http::Request<Vec<u8>>,
    max_body: usize,
    dpop: Option<&DpopProver>,
) -> Result<http::Response<Vec<u8>>, TransportError> {
    let Some(prover) = dpop else {
        return http.fetch(request, max_body).await;
    };
    let (parts, body) = request.into_parts();
    let url = parts.uri.to_string();
    let mut retried = false;
    loop {
        let proof = prover
            .proof(parts.method.as_str(), &url, None)
            .map_err(TransportError::authorization)?;
        let mut attempt = http::Request::from_parts(parts.clone(), body.clone());
        let value = http::HeaderValue::from_str(&proof).map_err(|_| TransportError::Protocol {
            detail: "the DPoP proof is not a valid header value".to_owned(),
        })?;
        attempt.headers_mut().insert(DPOP_HEADER, value);
        let response = http.fetch(attempt, max_body).await?;
        let nonce = response
            .headers()
            .get(DPOP_NONCE_HEADER)
            .and_then(|value| value.to_str().ok());
        if let Some(nonce) = nonce {
            prover.remember_nonce(nonce);
            if !retried
                && response.status() == http::StatusCode::BAD_REQUEST
                && is_use_dpop_nonce(response.body())
            {
                retried = true;
                continue;
            }
        }
        return Ok(response);
    }
}

/// Whether a token endpoint's error body is `{"error": "use_dpop_nonce", ...}`.
fn is_use_dpop_nonce(body: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct ErrorBody {
        error: String,
    }
    serde_json::from_slice::<ErrorBody>(body).is_ok_and(|body| body.error == "use_dpop_nonce")
}

#[cfg(test)]
mod tests;
