//! Client identity: the priority order, the client metadata document rules, and dynamic client
//! registration against a scripted registration endpoint on 127.0.0.1.

use mcp_oauth::discovery::{ServerMetadata, SsrfGuard};
use mcp_oauth::flow::{ClientCredentials, TokenAuthMethod};
use mcp_oauth::grant::PrivateKeyJwt;
use mcp_oauth::registration::{ClientIdentity, RegistrationError, forget_client, resolve_client};
use mcp_oauth::store::{MemoryStore, StoredClient, TokenStore};
use p256::pkcs8::{EncodePrivateKey as _, LineEnding};

use crate::support::{Stub, http, metadata, metadata_with};

const REDIRECT: &str = "http://127.0.0.1:7777/callback";

/// A registration endpoint (the stub's `/register`) that answers every request with `status` and
/// `reply`: its base URL and the stub, which records what it saw.
async fn registration_endpoint(status: u16, reply: String) -> (String, Stub) {
    let stub = Stub::json(status, reply).await;
    (stub.base.clone(), stub)
}

/// An authorization server at `base` offering registration at `/register` and metadata documents.
fn offering_everything(base: &str) -> ServerMetadata {
    metadata_with(
        base,
        serde_json::json!({
            "registration_endpoint": format!("{base}/register"),
            "client_id_metadata_document_supported": true,
        }),
    )
}

fn open_guard() -> SsrfGuard {
    SsrfGuard::new(true)
}

/// Resolves the client for `identity` at `server` with `store`, a direct HTTP client, an open SSRF
/// guard and [`REDIRECT`].
async fn resolve(
    store: &MemoryStore,
    server: &ServerMetadata,
    identity: &ClientIdentity,
) -> Result<ClientCredentials, RegistrationError> {
    resolve_client(&http(), &open_guard(), store, server, identity, REDIRECT).await
}

/// [`resolve`] with nothing configured against a server at `base` offering everything: dynamic
/// registration unless `store` holds a registration.
async fn register(store: &MemoryStore, base: &str) -> Result<ClientCredentials, RegistrationError> {
    resolve(
        store,
        &offering_everything(base),
        &ClientIdentity::default(),
    )
    .await
}

const PUBLIC_CLIENT: &str = r#"{"client_id":"dcr-1","token_endpoint_auth_method":"none"}"#;

fn stored_client(issuer: &str) -> StoredClient {
    StoredClient {
        client_id: "stored-1".to_owned(),
        client_secret: None,
        registered_at: 1,
        issuer: issuer.to_owned(),
        redirect_uri: Some("http://127.0.0.1:5555/callback".to_owned()),
        token_endpoint_auth_method: Some("none".to_owned()),
    }
}

/// A registration endpoint answering [`PUBLIC_CLIENT`], and a store already holding an earlier
/// registration with it ([`stored_client`]).
async fn registered_before() -> (String, Stub, MemoryStore) {
    let (base, seen) = registration_endpoint(201, PUBLIC_CLIENT.to_owned()).await;
    let store = MemoryStore::new();
    store
        .save_client(&stored_client(&base))
        .await
        .expect("stored");
    (base, seen, store)
}

fn key() -> PrivateKeyJwt {
    let pem = p256::SecretKey::from_slice(&[0x22; 32])
        .expect("a valid scalar")
        .to_pkcs8_pem(LineEnding::LF)
        .expect("PEM");
    PrivateKeyJwt::from_pem(&pem, None).expect("a key")
}

#[tokio::test]
async fn a_pre_registered_client_wins_over_everything_else() {
    let (base, seen, store) = registered_before().await;
    let server = offering_everything(&base);
    let identity = ClientIdentity {
        client_id: Some("pre-1".to_owned()),
        client_metadata_url: Some("https://app.example/client.json".to_owned()),
        ..ClientIdentity::default()
    };
    let client = resolve(&store, &server, &identity).await.expect("a client");
    assert_eq!(client.client_id, "pre-1");
    assert_eq!(client.auth_method, TokenAuthMethod::None);
    assert!(seen.requests().is_empty(), "no registration");
}

#[tokio::test]
async fn a_pre_registered_secret_or_key_chooses_the_method() {
    let server = metadata_with(
        "https://as.example",
        serde_json::json!({"token_endpoint_auth_methods_supported": ["client_secret_post"]}),
    );
    let store = MemoryStore::new();
    let with_secret = ClientIdentity {
        client_id: Some("pre-1".to_owned()),
        client_secret: Some("s".to_owned()),
        ..ClientIdentity::default()
    };
    let client = resolve(&store, &server, &with_secret)
        .await
        .expect("a client");
    assert_eq!(client.auth_method, TokenAuthMethod::ClientSecretPost);
    assert_eq!(client.client_secret.as_deref(), Some("s"));

    let with_key = ClientIdentity {
        client_id: Some("pre-1".to_owned()),
        private_key: Some(key()),
        ..ClientIdentity::default()
    };
    let client = resolve(&store, &server, &with_key).await.expect("a client");
    assert_eq!(client.auth_method, TokenAuthMethod::PrivateKeyJwt);
    assert!(client.private_key.is_some());
}

#[tokio::test]
async fn a_configured_method_without_its_secret_is_a_typed_error() {
    let server = metadata("https://as.example");
    let identity = ClientIdentity {
        client_id: Some("pre-1".to_owned()),
        auth_method: Some(TokenAuthMethod::ClientSecretBasic),
        ..ClientIdentity::default()
    };
    let error = resolve(&MemoryStore::new(), &server, &identity)
        .await
        .expect_err("incomplete");
    assert!(
        matches!(
            error,
            RegistrationError::IncompleteCredentials {
                missing: "client secret",
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn the_metadata_document_wins_over_a_stored_registration_when_advertised() {
    let (base, seen, store) = registered_before().await;
    let identity = ClientIdentity {
        client_metadata_url: Some("https://app.example/oauth/client.json".to_owned()),
        ..ClientIdentity::default()
    };
    let client = resolve(&store, &offering_everything(&base), &identity)
        .await
        .expect("a client");
    assert_eq!(client.client_id, "https://app.example/oauth/client.json");
    assert_eq!(client.auth_method, TokenAuthMethod::None);
    assert!(seen.requests().is_empty(), "no registration");
}

#[tokio::test]
async fn the_metadata_document_is_ignored_when_the_server_does_not_advertise_it() {
    let (base, seen) = registration_endpoint(201, PUBLIC_CLIENT.to_owned()).await;
    let server = metadata_with(
        &base,
        serde_json::json!({"registration_endpoint": format!("{base}/register")}),
    );
    let identity = ClientIdentity {
        client_metadata_url: Some("https://app.example/client.json".to_owned()),
        ..ClientIdentity::default()
    };
    let client = resolve(&MemoryStore::new(), &server, &identity)
        .await
        .expect("a client");
    assert_eq!(client.client_id, "dcr-1");
    assert_eq!(seen.requests().len(), 1, "registered instead");
}

#[tokio::test]
async fn a_metadata_document_url_must_be_https_with_a_path() {
    let server = offering_everything("https://as.example");
    for url in ["http://app.example/client.json", "https://app.example/"] {
        let identity = ClientIdentity {
            client_metadata_url: Some(url.to_owned()),
            ..ClientIdentity::default()
        };
        let error = resolve(&MemoryStore::new(), &server, &identity)
            .await
            .expect_err("invalid URL");
        assert!(
            matches!(&error, RegistrationError::InvalidClientMetadataUrl { url: found, .. } if found == url),
            "{error}"
        );
    }
}

#[tokio::test]
async fn a_stored_registration_wins_over_dynamic_registration() {
    let (base, seen, store) = registered_before().await;
    // Another loopback port than the one registered: RFC 8252 makes the server accept it.
    let client = register(&store, &base).await.expect("a client");
    assert_eq!(client.client_id, "stored-1");
    assert!(seen.requests().is_empty(), "no registration");
}

#[tokio::test]
async fn dynamic_registration_sends_exactly_the_native_public_client_metadata() {
    let (base, seen) = registration_endpoint(201, PUBLIC_CLIENT.to_owned()).await;
    let identity = ClientIdentity {
        client_name: "test client".to_owned(),
        ..ClientIdentity::default()
    };
    let client = resolve(&MemoryStore::new(), &offering_everything(&base), &identity)
        .await
        .expect("a client");
    assert_eq!(client.client_id, "dcr-1");
    assert_eq!(client.auth_method, TokenAuthMethod::None);
    let sent = seen.first();
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.target, "/register");
    assert_eq!(sent.headers["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_str(&sent.body).expect("JSON");
    assert_eq!(
        body,
        serde_json::json!({
            "client_name": "test client",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "application_type": "native",
        })
    );
}

#[tokio::test]
async fn the_auth_method_the_server_registered_is_honoured_and_stored() {
    let (base, _) = registration_endpoint(
        200,
        r#"{"client_id":"dcr-2","client_secret":"s3cret","client_secret_expires_at":0,"token_endpoint_auth_method":"client_secret_post"}"#
            .to_owned(),
    )
    .await;
    let store = MemoryStore::new();
    let client = register(&store, &base).await.expect("a client");
    assert_eq!(client.auth_method, TokenAuthMethod::ClientSecretPost);
    assert_eq!(client.client_secret.as_deref(), Some("s3cret"));
    let stored = store
        .load_client(&base)
        .await
        .expect("readable")
        .expect("stored");
    assert_eq!(
        stored.token_endpoint_auth_method.as_deref(),
        Some("client_secret_post")
    );
    assert_eq!(stored.client_secret.as_deref(), Some("s3cret"));
}

#[tokio::test]
async fn a_secret_without_a_method_means_client_secret_basic() {
    let (base, _) = registration_endpoint(
        201,
        r#"{"client_id":"dcr-3","client_secret":"s"}"#.to_owned(),
    )
    .await;
    let client = register(&MemoryStore::new(), &base)
        .await
        .expect("a client");
    assert_eq!(client.auth_method, TokenAuthMethod::ClientSecretBasic);
}

#[tokio::test]
async fn a_registration_is_stored_per_issuer_and_reused_without_a_second_post() {
    let (base, seen) = registration_endpoint(201, PUBLIC_CLIENT.to_owned()).await;
    let store = MemoryStore::new();
    for _ in 0..2 {
        let client = register(&store, &base).await.expect("a client");
        assert_eq!(client.client_id, "dcr-1");
    }
    assert_eq!(seen.requests().len(), 1, "one registration");
    let stored = store
        .load_client(&base)
        .await
        .expect("readable")
        .expect("stored under the issuer");
    assert_eq!(stored.issuer, base);
    assert_eq!(stored.redirect_uri.as_deref(), Some(REDIRECT));
    assert_eq!(stored.token_endpoint_auth_method.as_deref(), Some("none"));
    assert!(stored.registered_at > 0);
    assert!(
        store
            .load_client("https://other.example")
            .await
            .expect("readable")
            .is_none(),
        "never used with another issuer"
    );
}

#[tokio::test]
async fn a_forgotten_registration_is_made_again() {
    let (base, seen) = registration_endpoint(201, PUBLIC_CLIENT.to_owned()).await;
    let store = MemoryStore::new();
    register(&store, &base).await.expect("registered");
    forget_client(&store, &base).await.expect("forgotten");
    register(&store, &base).await.expect("registered again");
    assert_eq!(seen.requests().len(), 2);
}

#[tokio::test]
async fn invalid_redirect_uri_is_a_typed_error_with_the_description() {
    let (base, _) = registration_endpoint(
        400,
        r#"{"error":"invalid_redirect_uri","error_description":"loopback\nnot allowed"}"#
            .to_owned(),
    )
    .await;
    let error = register(&MemoryStore::new(), &base)
        .await
        .expect_err("refused");
    let RegistrationError::InvalidRedirectUri {
        redirect_uri,
        description,
    } = &error
    else {
        panic!("not typed: {error}");
    };
    assert_eq!(redirect_uri, REDIRECT);
    assert_eq!(description.as_deref(), Some("loopbacknot allowed"));
    assert!(error.to_string().contains(REDIRECT), "{error}");
}

#[tokio::test]
async fn invalid_client_metadata_is_a_typed_error() {
    let (base, _) = registration_endpoint(
        400,
        r#"{"error":"invalid_client_metadata","error_description":"application_type"}"#.to_owned(),
    )
    .await;
    let error = register(&MemoryStore::new(), &base)
        .await
        .expect_err("refused");
    assert!(
        matches!(&error, RegistrationError::InvalidClientMetadata { description: Some(d) } if d == "application_type"),
        "{error}"
    );
}

#[tokio::test]
async fn a_registration_without_a_client_id_is_refused_and_not_stored() {
    let (base, _) = registration_endpoint(201, r#"{"client_name":"x"}"#.to_owned()).await;
    let store = MemoryStore::new();
    let error = register(&store, &base).await.expect_err("unusable");
    assert!(
        matches!(error, RegistrationError::InvalidResponse { .. }),
        "{error}"
    );
    assert!(store.load_client(&base).await.expect("readable").is_none());
}

#[tokio::test]
async fn an_oversized_registration_response_is_refused() {
    let padding = "x".repeat(70 * 1024);
    let (base, _) = registration_endpoint(
        201,
        format!(r#"{{"client_id":"dcr-1","padding":"{padding}"}}"#),
    )
    .await;
    let error = register(&MemoryStore::new(), &base)
        .await
        .expect_err("too large");
    assert!(
        matches!(error, RegistrationError::Transport { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn without_a_registration_endpoint_the_user_is_told_to_configure_a_client_id() {
    let server = metadata("https://as.example");
    let error = resolve(&MemoryStore::new(), &server, &ClientIdentity::default())
        .await
        .expect_err("no identity");
    assert!(
        matches!(&error, RegistrationError::NoClientIdentity { issuer } if issuer == "https://as.example"),
        "{error}"
    );
    assert!(error.to_string().contains("oauth.client_id"), "{error}");
}

#[tokio::test]
async fn a_registration_endpoint_refused_by_the_ssrf_guard_is_never_contacted() {
    let (base, seen) = registration_endpoint(201, PUBLIC_CLIENT.to_owned()).await;
    let error = resolve_client(
        &http(),
        &SsrfGuard::new(false),
        &MemoryStore::new(),
        &offering_everything(&base),
        &ClientIdentity::default(),
        REDIRECT,
    )
    .await
    .expect_err("refused");
    assert!(
        matches!(error, RegistrationError::EndpointRefused(_)),
        "{error}"
    );
    assert!(seen.requests().is_empty(), "nothing was sent");
}

#[test]
fn debug_hides_the_secret() {
    let identity = ClientIdentity {
        client_id: Some("c".to_owned()),
        client_secret: Some("hunter2".to_owned()),
        private_key: Some(key()),
        ..ClientIdentity::default()
    };
    let debug = format!("{identity:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert_eq!(ClientIdentity::default().client_name, "mcpcord");
}
