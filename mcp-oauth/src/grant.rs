//! Machine-to-machine access: the `client_credentials` grant (RFC 6749 §4.4), and the ES256 client
//! assertions of `private_key_jwt` (RFC 7523 §2.2) that any token request can authenticate with.
//!
//! A [`PrivateKeyJwt`] is read once from a PEM file (PKCS#8 or SEC1, P-256 only) and signs a fresh,
//! five-minute assertion for every token request; [`client_credentials`] asks for tokens on the
//! client's own behalf, which only a confidential client may do.
//!
//! ```no_run
//! # async fn demo(
//! #     http: &mcp_transport::http::HttpClient,
//! #     server: &mcp_oauth::ServerMetadata,
//! #     pem: &str,
//! # ) -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_oauth::grant::client_credentials;
//! use mcp_oauth::{ClientCredentials, PrivateKeyJwt};
//!
//! let key = PrivateKeyJwt::from_pem(pem, Some("key-2025".to_owned()))?;
//! let client = ClientCredentials::with_private_key("reporting-bot", key);
//! let tokens = client_credentials(
//!     http,
//!     server,
//!     &client,
//!     &["files:read".to_owned()],
//!     "https://mcp.example/mcp",
//! )
//! .await?;
//! # let _ = tokens;
//! # Ok(())
//! # }
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_transport::http::HttpClient;
use oauth2::Scope;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::zeroize::Zeroizing;
use p256::pkcs8::der::pem;

use crate::discovery::ServerMetadata;
use crate::dpop::DpopProver;
use crate::flow::{ClientCredentials, FlowError, TokenAuthMethod, TokenEndpoint, now, stored};
use crate::store::StoredTokens;

/// The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const JWT_BEARER_ASSERTION_TYPE: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is valid, in seconds: long enough for clock skew, short enough that a
/// captured one is soon useless.
const ASSERTION_LIFETIME: u64 = 300;

/// The PEM labels this module reads, for messages.
const EXPECTED_LABELS: &str = r#""PRIVATE KEY" (PKCS#8) or "EC PRIVATE KEY" (SEC1)"#;

/// Why a private key could not be read or used. Messages name what was found and what is needed;
/// they never contain key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The text holds no PEM block at all.
    #[error(
        "the private key is not PEM: expected a block starting \"-----BEGIN PRIVATE KEY-----\" or \"-----BEGIN EC PRIVATE KEY-----\""
    )]
    NotPem,
    /// A PEM block is there but cannot be decoded (a missing end line, bad base64, ...).
    #[error("the private key's PEM block is malformed: {reason}")]
    MalformedPem {
        /// What the PEM decoder reported.
        reason: String,
    },
    /// The PEM block is something other than a private key (a certificate, a public key, ...).
    #[error("the PEM block is labelled {label:?}, not a private key; expected {EXPECTED_LABELS}")]
    UnexpectedLabel {
        /// The block's label.
        label: String,
    },
    /// The key is encrypted with a passphrase, which is not supported.
    #[error(
        "the private key is encrypted; decrypt it first (for example `openssl pkcs8 -in KEY -out PLAIN.pem`) and keep the plain file readable by you only"
    )]
    Encrypted,
    /// The key is not an elliptic-curve key.
    #[error(
        "the private key is an {algorithm} key; private_key_jwt signs with ES256, which needs an EC key on P-256"
    )]
    UnsupportedAlgorithm {
        /// The algorithm found, e.g. `RSA` or `Ed25519` (or its OID when unknown).
        algorithm: String,
    },
    /// The key is an elliptic-curve key on another curve.
    #[error(
        "the EC private key is on {curve}; ES256 needs P-256 (also called prime256v1 or secp256r1)"
    )]
    WrongCurve {
        /// The curve found, e.g. `P-384 (secp384r1)` (or its OID when unknown).
        curve: String,
    },
    /// The key's structure is not a valid key of its format.
    #[error("the {format} private key cannot be read: {reason}")]
    Malformed {
        /// `PKCS#8` or `SEC1`.
        format: &'static str,
        /// What the decoder reported.
        reason: String,
    },
    /// No randomness for the assertion's `jti`.
    #[error("no randomness for the client assertion: {0}")]
    Randomness(String),
    /// Signing the assertion failed.
    #[error("signing the client assertion failed: {0}")]
    Signing(String),
}

/// A P-256 private key that signs `private_key_jwt` client assertions (ES256).
///
/// `Debug` shows only the key id.
#[derive(Clone)]
pub struct PrivateKeyJwt {
    key: SigningKey,
    key_id: Option<String>,
}

impl std::fmt::Debug for PrivateKeyJwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateKeyJwt")
            .field("key", &"<redacted>")
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl PrivateKeyJwt {
    /// Reads a P-256 private key from PEM: PKCS#8 (`BEGIN PRIVATE KEY`) or SEC1
    /// (`BEGIN EC PRIVATE KEY`, as `openssl ecparam -genkey` writes it, with or without its
    /// `EC PARAMETERS` block). `key_id` becomes the assertions' `kid` header, which the
    /// authorization server uses to pick the public key among those registered.
    ///
    /// # Errors
    /// A [`KeyError`] naming what is wrong: not PEM, not a private key, encrypted, not EC, another
    /// curve, or malformed.
    pub fn from_pem(pem: &str, key_id: Option<String>) -> Result<Self, KeyError> {
        let (label, der) = private_key_block(pem)?;
        let secret = match label.as_str() {
            "PRIVATE KEY" => from_pkcs8(&der)?,
            "EC PRIVATE KEY" => from_sec1(&der)?,
            "ENCRYPTED PRIVATE KEY" => return Err(KeyError::Encrypted),
            "RSA PRIVATE KEY" => return Err(unsupported("RSA")),
            "DSA PRIVATE KEY" => return Err(unsupported("DSA")),
            _ => return Err(KeyError::UnexpectedLabel { label }),
        };
        Ok(Self {
            key: SigningKey::from(&secret),
            key_id,
        })
    }

    /// The key id sent as the assertions' `kid`, if any.
    pub fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    /// A fresh client assertion: an ES256 JWT with `iss` = `sub` = `client_id`, `aud` = `audience`
    /// (the authorization server's issuer identifier), `iat` now, `exp` five minutes later, and a
    /// random 128-bit `jti`.
    ///
    /// # Errors
    /// [`KeyError::Randomness`] or [`KeyError::Signing`].
    pub fn assertion(&self, client_id: &str, audience: &str) -> Result<String, KeyError> {
        let issued_at = now();
        let jti = crate::callback::random_state()
            .map_err(|error| KeyError::Randomness(error.to_string()))?;
        let mut header = serde_json::json!({"alg": "ES256", "typ": "JWT"});
        if let (Some(kid), Some(fields)) = (&self.key_id, header.as_object_mut()) {
            fields.insert("kid".to_owned(), kid.as_str().into());
        }
        let claims = serde_json::json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": issued_at,
            "exp": issued_at.saturating_add(ASSERTION_LIFETIME),
            "jti": jti,
        });
        sign_es256(&self.key, &header, &claims)
    }
}

/// `header` and `claims` as a compact JWS signed with `key` (ES256, RFC 7515 §7.1): what client
/// assertions and DPoP proofs both are.
///
/// # Errors
/// [`KeyError::Signing`].
pub(crate) fn sign_es256(
    key: &SigningKey,
    header: &serde_json::Value,
    claims: &serde_json::Value,
) -> Result<String, KeyError> {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature: Signature = key
        .try_sign(signing_input.as_bytes())
        .map_err(|error| KeyError::Signing(error.to_string()))?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    ))
}

/// Asks for tokens on the client's own behalf (the `client_credentials` grant), for `resource`
/// (RFC 8707; empty for none) with `scopes`, authenticating as `credentials` say.
///
/// Only a confidential client may use this grant, so [`TokenAuthMethod::None`] is refused before
/// anything is sent. When the response lists no scopes, the requested ones are recorded.
///
/// # Errors
/// [`FlowError::ConfidentialClientRequired`]; [`FlowError::MissingCredential`];
/// [`FlowError::ClientAssertion`]; [`FlowError::TokenRejected`] when the server refuses (see
/// [`FlowError::is_invalid_client`]); [`FlowError::Token`] when the request fails.
pub async fn client_credentials(
    http: &HttpClient,
    server: &ServerMetadata,
    credentials: &ClientCredentials,
    scopes: &[String],
    resource: &str,
) -> Result<StoredTokens, FlowError> {
    client_credentials_with(http, server, credentials, scopes, resource, None).await
}

/// [`client_credentials`], asking for a token bound to `dpop`'s key when it is given.
pub(crate) async fn client_credentials_with(
    http: &HttpClient,
    server: &ServerMetadata,
    credentials: &ClientCredentials,
    scopes: &[String],
    resource: &str,
    dpop: Option<DpopProver>,
) -> Result<StoredTokens, FlowError> {
    if credentials.auth_method == TokenAuthMethod::None {
        return Err(FlowError::ConfidentialClientRequired {
            client_id: credentials.client_id.clone(),
        });
    }
    let endpoint = TokenEndpoint::new(server, credentials, None)?.with_dpop(dpop);
    let mut request = endpoint
        .client()
        .exchange_client_credentials()
        .add_scopes(scopes.iter().cloned().map(Scope::new));
    if !resource.is_empty() {
        request = request.add_extra_param("resource", resource);
    }
    let response = endpoint
        .authenticate(request)
        .request_async(&endpoint.http(http))
        .await
        .map_err(|error| endpoint.error(error, &[]))?;
    let mut tokens = stored(&response, &server.issuer, resource, endpoint.dpop_key())?;
    if tokens.scopes.is_empty() {
        tokens.scopes = scopes.to_vec();
    }
    Ok(tokens)
}

fn unsupported(algorithm: &str) -> KeyError {
    KeyError::UnsupportedAlgorithm {
        algorithm: algorithm.to_owned(),
    }
}

/// The first PEM block that is not `EC PARAMETERS`, decoded: its label and DER bytes.
fn private_key_block(text: &str) -> Result<(String, Zeroizing<Vec<u8>>), KeyError> {
    let mut rest = text;
    loop {
        let Some(start) = rest.find("-----BEGIN ") else {
            return Err(KeyError::NotPem);
        };
        let block = &rest[start..];
        let label_start = "-----BEGIN ".len();
        let Some(label_len) = block[label_start..].find("-----") else {
            return Err(KeyError::MalformedPem {
                reason: "the BEGIN line does not end in \"-----\"".to_owned(),
            });
        };
        let label = &block[label_start..label_start + label_len];
        let end_line = format!("-----END {label}-----");
        let Some(end) = block.find(&end_line) else {
            return Err(KeyError::MalformedPem {
                reason: format!("no \"{end_line}\" line"),
            });
        };
        let block_len = end + end_line.len();
        if label != "EC PARAMETERS" {
            let (label, der) =
                pem::decode_vec(&block.as_bytes()[..block_len]).map_err(|error| {
                    KeyError::MalformedPem {
                        reason: error.to_string(),
                    }
                })?;
            return Ok((label.to_owned(), Zeroizing::new(der)));
        }
        rest = &block[block_len..];
    }
}

fn from_pkcs8(der: &[u8]) -> Result<p256::SecretKey, KeyError> {
    let malformed = |reason: String| KeyError::Malformed {
        format: "PKCS#8",
        reason,
    };
    let info = p256::pkcs8::PrivateKeyInfoRef::try_from(der)
        .map_err(|error| malformed(error.to_string()))?;
    let algorithm = info.algorithm.oid.to_string();
    if algorithm != EC_PUBLIC_KEY {
        return Err(unsupported(
            algorithm_name(&algorithm).unwrap_or(algorithm.as_str()),
        ));
    }
    let curve = info
        .algorithm
        .parameters_oid()
        .map_err(|_| malformed("the EC key names no curve".to_owned()))?
        .to_string();
    if curve != P256 {
        return Err(wrong_curve(&curve));
    }
    p256::SecretKey::try_from(info).map_err(|error| malformed(error.to_string()))
}

fn from_sec1(der: &[u8]) -> Result<p256::SecretKey, KeyError> {
    let malformed = |reason: String| KeyError::Malformed {
        format: "SEC1",
        reason,
    };
    let key = sec1::EcPrivateKey::try_from(der).map_err(|error| malformed(error.to_string()))?;
    // SEC1 allows the curve to be implied; the key's length then decides below.
    if let Some(curve) = key.parameters.and_then(sec1::EcParameters::named_curve) {
        let curve = curve.to_string();
        if curve != P256 {
            return Err(wrong_curve(&curve));
        }
    }
    p256::SecretKey::try_from(key).map_err(|error| malformed(error.to_string()))
}

fn wrong_curve(oid: &str) -> KeyError {
    KeyError::WrongCurve {
        curve: curve_name(oid).unwrap_or(oid).to_owned(),
    }
}

/// id-ecPublicKey (RFC 5480).
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
/// prime256v1 / secp256r1 (RFC 5480).
const P256: &str = "1.2.840.10045.3.1.7";

fn algorithm_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.2.840.113549.1.1.1" => "RSA",
        "1.2.840.113549.1.1.10" => "RSA-PSS",
        "1.2.840.10040.4.1" => "DSA",
        "1.3.101.110" => "X25519",
        "1.3.101.111" => "X448",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        _ => return None,
    })
}

fn curve_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.3.132.0.34" => "P-384 (secp384r1)",
        "1.3.132.0.35" => "P-521 (secp521r1)",
        "1.3.132.0.10" => "secp256k1",
        "1.2.840.10045.3.1.1" => "P-192 (prime192v1)",
        "1.3.132.0.33" => "P-224 (secp224r1)",
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1",
        "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1",
        "1.3.36.3.3.2.8.1.1.13" => "brainpoolP512r1",
        _ => return None,
    })
}
