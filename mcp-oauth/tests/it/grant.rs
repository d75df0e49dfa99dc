//! Client authentication on the wire, the client_credentials grant, and private keys, against a
//! scripted token endpoint on 127.0.0.1.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use mcp_oauth::flow::{
    ClientCredentials, FlowError, TokenAuthMethod, authorization_request, refresh,
};
use mcp_oauth::grant::{KeyError, PrivateKeyJwt, client_credentials};
use mcp_oauth::store::StoredTokens;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{EncodePrivateKey as _, LineEnding};

use crate::support::{Request, Stub, http, metadata};

/// A token endpoint answering every request with `status` and `reply`: its base URL and the stub.
async fn token_endpoint(status: u16, reply: &str) -> (String, Stub) {
    let stub = Stub::json(status, reply).await;
    (stub.base.clone(), stub)
}

const TOKENS: &str = r#"{"access_token":"at-1","token_type":"Bearer","expires_in":3600}"#;

/// Runs the client_credentials grant for `client` (no scopes, no resource) against a token
/// endpoint answering [`TOKENS`]; returns the endpoint's base URL and the request it saw.
async fn client_credentials_request(client: &ClientCredentials) -> (String, Request) {
    let (base, seen) = token_endpoint(200, TOKENS).await;
    client_credentials(&http(), &metadata(&base), client, &[], "")
        .await
        .expect("tokens");
    (base, seen.first())
}

/// Runs the client_credentials grant for `client` against a token endpoint answering
/// [`TOKENS`], expecting a refusal before any request; returns the error.
async fn refused_before_any_request(client: &ClientCredentials) -> FlowError {
    let (base, seen) = token_endpoint(200, TOKENS).await;
    let error = client_credentials(&http(), &metadata(&base), client, &[], "")
        .await
        .expect_err("refused");
    assert!(seen.requests().is_empty(), "nothing was sent");
    error
}

fn test_key() -> p256::SecretKey {
    p256::SecretKey::from_slice(&[0x11; 32]).expect("a valid scalar")
}

fn pkcs8_pem() -> String {
    test_key()
        .to_pkcs8_pem(LineEnding::LF)
        .expect("PKCS#8 PEM")
        .to_string()
}

fn sec1_pem() -> String {
    test_key()
        .to_sec1_pem(LineEnding::LF)
        .expect("SEC1 PEM")
        .to_string()
}

fn decode_json(part: &str) -> serde_json::Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

/// Checks the assertion's signature with the test key's public half; returns header and claims.
fn verified(assertion: &str) -> (serde_json::Value, serde_json::Value) {
    let parts: Vec<&str> = assertion.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS");
    let signature =
        Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).expect("base64url")).expect("r||s");
    let public = VerifyingKey::from(&SigningKey::from(&test_key()));
    public
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .expect("the signature verifies with the public key");
    (decode_json(parts[0]), decode_json(parts[1]))
}

#[tokio::test]
async fn private_key_jwt_sends_a_signed_assertion_naming_the_client_and_the_issuer() {
    let key = PrivateKeyJwt::from_pem(&pkcs8_pem(), Some("key-1".to_owned())).expect("a key");
    let client = ClientCredentials::with_private_key("bot-1", key);
    let (base, sent) = client_credentials_request(&client).await;
    let form = sent.form();
    assert!(!sent.headers.contains_key("authorization"));
    assert_eq!(form["client_id"], "bot-1");
    assert_eq!(
        form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert!(!form.contains_key("client_secret"));
    let (header, claims) = verified(&form["client_assertion"]);
    assert_eq!(
        header,
        serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": "key-1"})
    );
    assert_eq!(claims["iss"], "bot-1");
    assert_eq!(claims["sub"], "bot-1");
    assert_eq!(claims["aud"], base.as_str());
    let issued_at = claims["iat"].as_u64().expect("iat");
    assert_eq!(claims["exp"].as_u64(), Some(issued_at + 300));
    assert_eq!(claims["jti"].as_str().map(str::len), Some(32));
}

#[tokio::test]
async fn every_assertion_is_fresh() {
    let key = PrivateKeyJwt::from_pem(&sec1_pem(), None).expect("a key");
    let first = key.assertion("c", "https://as.example").expect("signed");
    let second = key.assertion("c", "https://as.example").expect("signed");
    let (header, first_claims) = verified(&first);
    let (_, second_claims) = verified(&second);
    assert_eq!(header, serde_json::json!({"alg": "ES256", "typ": "JWT"}));
    assert_ne!(first_claims["jti"], second_claims["jti"]);
}

#[tokio::test]
async fn client_secret_basic_sends_form_encoded_credentials_in_the_authorization_header() {
    let client =
        ClientCredentials::with_secret("app:1", "p@ss word+/", TokenAuthMethod::ClientSecretBasic);
    let (_, sent) = client_credentials_request(&client).await;
    let form = sent.form();
    let basic = sent.headers["authorization"]
        .strip_prefix("Basic ")
        .expect("HTTP Basic");
    let decoded = String::from_utf8(STANDARD.decode(basic).expect("base64")).expect("UTF-8");
    assert_eq!(decoded, "app%3A1:p%40ss+word%2B%2F");
    assert!(!form.contains_key("client_secret"));
    assert!(!form.contains_key("client_assertion"));
}

#[tokio::test]
async fn client_secret_post_sends_id_and_secret_in_the_body_and_no_header() {
    let client =
        ClientCredentials::with_secret("app-1", "s3cret", TokenAuthMethod::ClientSecretPost);
    let (_, sent) = client_credentials_request(&client).await;
    let form = sent.form();
    assert!(!sent.headers.contains_key("authorization"));
    assert_eq!(form["client_id"], "app-1");
    assert_eq!(form["client_secret"], "s3cret");
}

#[tokio::test]
async fn code_exchange_refresh_and_client_credentials_authenticate_alike() {
    let (base, seen) = token_endpoint(
        200,
        r#"{"access_token":"at","token_type":"Bearer","refresh_token":"rt"}"#,
    )
    .await;
    let server = metadata(&base);
    let client =
        ClientCredentials::with_secret("app-1", "s3cret", TokenAuthMethod::ClientSecretPost);
    let pending = authorization_request(&server, &client, "http://127.0.0.1:1/cb", "r", &[])
        .expect("a request");
    let tokens = pending
        .exchange(&http(), &server, &client, "code", None)
        .await
        .expect("exchanged");
    refresh(&http(), &server, &client, &tokens, "http://127.0.0.1:1/cb")
        .await
        .expect("refreshed");
    client_credentials(&http(), &server, &client, &[], "")
        .await
        .expect("granted");
    let forms: Vec<_> = seen.requests().iter().map(Request::form).collect();
    let grants: Vec<&str> = forms
        .iter()
        .map(|form| form["grant_type"].as_str())
        .collect();
    assert_eq!(
        grants,
        ["authorization_code", "refresh_token", "client_credentials"]
    );
    for sent in seen.requests() {
        assert_eq!(sent.form()["client_secret"], "s3cret");
        assert!(!sent.headers.contains_key("authorization"));
    }
}

#[tokio::test]
async fn client_credentials_sends_scopes_and_resource_and_records_the_requested_scopes() {
    let (base, seen) = token_endpoint(200, TOKENS).await;
    let client = ClientCredentials::with_secret("c", "s", TokenAuthMethod::ClientSecretPost);
    let tokens = client_credentials(
        &http(),
        &metadata(&base),
        &client,
        &["files:read".to_owned(), "files:write".to_owned()],
        "https://mcp.example/mcp",
    )
    .await
    .expect("tokens");
    let form = seen.first().form();
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["scope"], "files:read files:write");
    assert_eq!(form["resource"], "https://mcp.example/mcp");
    assert!(!form.contains_key("redirect_uri"));
    assert_eq!(tokens.access_token, "at-1");
    assert_eq!(tokens.scopes, ["files:read", "files:write"]);
    assert_eq!(tokens.resource.as_deref(), Some("https://mcp.example/mcp"));
    assert_eq!(tokens.issuer.as_deref(), Some(base.as_str()));
}

#[tokio::test]
async fn a_public_client_is_refused_for_client_credentials_before_any_request() {
    let error = refused_before_any_request(&ClientCredentials::public("app")).await;
    assert!(
        matches!(&error, FlowError::ConfidentialClientRequired { client_id } if client_id == "app"),
        "{error}"
    );
    assert!(error.to_string().contains("confidential client"), "{error}");
}

#[tokio::test]
async fn a_method_without_its_secret_is_refused_before_any_request() {
    let mut client = ClientCredentials::public("app");
    client.auth_method = TokenAuthMethod::ClientSecretBasic;
    let error = refused_before_any_request(&client).await;
    assert!(
        matches!(
            error,
            FlowError::MissingCredential {
                missing: "client secret",
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn invalid_client_is_typed_and_its_description_is_cleaned() {
    let (base, _) = token_endpoint(
        401,
        r#"{"error":"invalid_client","error_description":"unknown client\u0007\u001b[2J s3cret-value"}"#,
    )
    .await;
    let client =
        ClientCredentials::with_secret("c", "s3cret-value", TokenAuthMethod::ClientSecretBasic);
    let error = client_credentials(&http(), &metadata(&base), &client, &[], "")
        .await
        .expect_err("refused");
    assert!(error.is_invalid_client(), "{error}");
    assert!(!error.is_invalid_grant());
    let FlowError::TokenRejected {
        error: code,
        description,
    } = &error
    else {
        panic!("not typed: {error}");
    };
    assert_eq!(code, "invalid_client");
    assert_eq!(description.as_deref(), Some("unknown client[2J <redacted>"));
    assert!(!error.to_string().contains("s3cret"), "{error}");
}

#[tokio::test]
async fn refresh_reports_invalid_grant_as_such() {
    let (base, _) = token_endpoint(
        400,
        r#"{"error":"invalid_grant","error_description":"refresh token rt-old-1 revoked"}"#,
    )
    .await;
    let tokens = StoredTokens {
        access_token: "at".to_owned(),
        token_type: "Bearer".to_owned(),
        refresh_token: Some("rt-old-1".to_owned()),
        scopes: Vec::new(),
        issued_at: 0,
        expires_at: None,
        issuer: Some(base.clone()),
        resource: None,
        dpop_key: None,
    };
    let error = refresh(
        &http(),
        &metadata(&base),
        &ClientCredentials::public("c"),
        &tokens,
        "http://127.0.0.1:1/cb",
    )
    .await
    .expect_err("refused");
    assert!(error.is_invalid_grant(), "{error}");
    assert!(!error.to_string().contains("rt-old-1"), "{error}");
    assert!(error.to_string().contains("log in again"), "{error}");
}

#[test]
fn pkcs8_and_sec1_keys_are_read_and_debug_shows_only_the_key_id() {
    let from_pkcs8 = PrivateKeyJwt::from_pem(&pkcs8_pem(), Some("k".to_owned())).expect("PKCS#8");
    assert_eq!(from_pkcs8.key_id(), Some("k"));
    let debug = format!("{from_pkcs8:?}");
    assert!(
        debug.contains("<redacted>") && debug.contains("\"k\""),
        "{debug}"
    );
    let openssl_style = format!(
        "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{}",
        sec1_pem()
    );
    let from_sec1 = PrivateKeyJwt::from_pem(&openssl_style, None).expect("SEC1");
    verified(&from_sec1.assertion("c", "a").expect("signed"));
}

/// Keys generated with openssl for these tests only.
const RSA_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAL3EWQghGd6TNdR/
KhDHqaTPwcqnttLMhmYGNNdZFQvsluAIp49kXi3fos31/YOUjzXtybxgyTHu1fct
97pLZVYg45k0IyTPOBS7zUfxx6QHqDLNxuGaJeQ1eHS8N6XhjUZW+niWaV/2v+V9
RFkluQ8SgRoxKncf2x7XoUDH6iu/AgMBAAECgYA3vV6xZpekqvTaz+dZOmx3/pZb
oluvG2g2u4f14TKvZ/UBJUmicsa/DrtRZ/npFk/idVAWRw+R3Sd4DUaAr/i5i6tN
wd3hhnhttC7B6vy8azIuU0u4JgSnD0pK0vWcuGrwXwDGTca3CTw+Sh1T6WJ/Ws2t
MVqT0G5dqpUSQ40skQJBAPJNKHDdGpFQ6eZu2MGqcEk7xFm07LEYoG1xxdrEeRSC
RdxhzBL3SsYhXzn1O8iX4uDf2X3b+eGh0o6lOoUdf5MCQQDIftswpZzQv3SACczQ
bzyFmoEoiG3MjisFGjQ//3Q27og7mTcNUCI5KqVZvFmSIfzA3qqLXEBLhScJP038
YIalAkAduamEbxubSDnpsx+UYrxzv4lPGAsRjtvfkV2cgQ35niHD75uBmCTsOZvd
GGDFMxz6SXv9HMeDDr8uEMclHYFRAkEAj+FxfQSsd6WdfjEKOV5KaXqKS8M0QIKZ
3syCSJcTGESvoU1/k185YBr5lF81TEh1sRdZ/i6SuV9xtxIl7gJ7PQJAW/NNR+7L
NZ9HN6307EFM9OwCOzy4VMWQwceN9BVZh029eDZ4UXH8nMGfWEJIEOJBndtS5GpZ
S77TWPxG8MaJHw==
-----END PRIVATE KEY-----
";

const P384_SEC1: &str = "-----BEGIN EC PRIVATE KEY-----
MIGkAgEBBDBvEFfB85h9sJ5M/ORy1wxuOqhKI42XLd4KBodiEXH8LYkfVdrkMQLQ
/C4ybN+lQ/mgBwYFK4EEACKhZANiAAQsoyXGnTOIHdTae94+L5Ty0Nl5jXAc+GAt
/+lr5UVCDyx5uItCyq5EM7JWy91Y/9YU0CUTVlCeLOI3LXepK7DkTg80Oi/PG07t
h7bLzxtvmAp+KXPEgMd15+elOv5TklA=
-----END EC PRIVATE KEY-----
";

const P384_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDBvEFfB85h9sJ5M/ORy
1wxuOqhKI42XLd4KBodiEXH8LYkfVdrkMQLQ/C4ybN+lQ/mhZANiAAQsoyXGnTOI
HdTae94+L5Ty0Nl5jXAc+GAt/+lr5UVCDyx5uItCyq5EM7JWy91Y/9YU0CUTVlCe
LOI3LXepK7DkTg80Oi/PG07th7bLzxtvmAp+KXPEgMd15+elOv5TklA=
-----END PRIVATE KEY-----
";

const ED25519_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIHvWAW8jMAgS5vQNqmG/BiU4Nn9K06KoAICSV1Z7xIry
-----END PRIVATE KEY-----
";

fn key_error(pem: &str) -> KeyError {
    PrivateKeyJwt::from_pem(pem, None).expect_err("refused")
}

#[test]
fn text_that_is_not_pem_is_refused_as_such() {
    assert_eq!(key_error("hunter2"), KeyError::NotPem);
    assert!(matches!(
        key_error("-----BEGIN PRIVATE KEY-----\n!!!not base64!!!\n-----END PRIVATE KEY-----\n"),
        KeyError::MalformedPem { .. }
    ));
    assert!(matches!(
        key_error("-----BEGIN PRIVATE KEY-----\nAAAA\n"),
        KeyError::MalformedPem { .. }
    ));
}

#[test]
fn keys_of_other_algorithms_are_named() {
    assert_eq!(
        key_error(RSA_PKCS8),
        KeyError::UnsupportedAlgorithm {
            algorithm: "RSA".to_owned()
        }
    );
    assert_eq!(
        key_error(ED25519_PKCS8),
        KeyError::UnsupportedAlgorithm {
            algorithm: "Ed25519".to_owned()
        }
    );
    let traditional_rsa = RSA_PKCS8.replace("PRIVATE KEY", "RSA PRIVATE KEY");
    assert!(
        key_error(&traditional_rsa)
            .to_string()
            .contains("an RSA key"),
    );
}

#[test]
fn keys_on_other_curves_are_named_in_both_formats() {
    for pem in [P384_SEC1, P384_PKCS8] {
        let error = key_error(pem);
        assert_eq!(
            error,
            KeyError::WrongCurve {
                curve: "P-384 (secp384r1)".to_owned()
            }
        );
        assert!(error.to_string().contains("needs P-256"), "{error}");
    }
}

#[test]
fn encrypted_keys_certificates_and_public_keys_are_refused_by_label() {
    let encrypted = RSA_PKCS8.replace("PRIVATE KEY", "ENCRYPTED PRIVATE KEY");
    assert_eq!(key_error(&encrypted), KeyError::Encrypted);
    let certificate = RSA_PKCS8.replace("PRIVATE KEY", "CERTIFICATE");
    assert_eq!(
        key_error(&certificate),
        KeyError::UnexpectedLabel {
            label: "CERTIFICATE".to_owned()
        }
    );
}
