//! Registering clients, and how each kind authenticates at the token endpoint.

use http::StatusCode;
use mcp_oauth::TokenAuthMethod;
use serde_json::json;

use super::*;
use crate::{DemoAuthOptions, DemoClient};

#[tokio::test]
async fn registration_requires_loopback_redirect_uris() {
    let handle = start(DemoAuthOptions::default()).await;
    for redirect_uris in [
        json!(["https://attacker.example/callback"]),
        json!(["http://localhost:1/callback"]),
        json!([]),
        json!("http://127.0.0.1:1/callback"),
    ] {
        let metadata =
            json!({ "redirect_uris": redirect_uris, "token_endpoint_auth_method": "none" });
        let reply = post_json(&handle, "/register", &metadata).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{redirect_uris}");
        assert_eq!(reply.error(), "invalid_redirect_uri", "{redirect_uris}");
    }
    let reply = post_json(&handle, "/register", &json!({ "redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "private_key_jwt" })).await;
    assert_eq!(reply.error(), "invalid_client_metadata");
    let stats = handle.stats();
    assert_eq!((stats.registrations, stats.rejected_registrations), (0, 5));
    assert_eq!(stats.registration_requests.len(), 5);
}

#[tokio::test]
async fn a_registered_public_client_gets_no_secret_and_a_confidential_one_does() {
    let handle = start(DemoAuthOptions::default()).await;
    let public = json!({ "redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none", "client_name": "t" });
    let reply = post_json(&handle, "/register", &public).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let registered = reply.json();
    assert!(registered.get("client_secret").is_none(), "{registered}");
    assert_eq!(registered["client_name"], "t");
    assert_eq!(registered["redirect_uris"], json!([REDIRECT_URI]));

    // RFC 7591 §2: without a method, the client is client_secret_basic.
    let reply = post_json(
        &handle,
        "/register",
        &json!({ "redirect_uris": [REDIRECT_URI] }),
    )
    .await;
    let registered = reply.json();
    assert_eq!(
        registered["token_endpoint_auth_method"],
        "client_secret_basic"
    );
    assert_eq!(registered["client_secret_expires_at"], 0);
    let client_id = string(&registered, "client_id");
    let secret = string(&registered, "client_secret");

    let code = code_for(&handle, client_id, "confidential", "").await;
    let resource = handle.url();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", &pkce("confidential").0),
        ("resource", &resource),
    ];
    let reply = post_form(&handle, "/token", &form, Some((client_id, secret))).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let recorded = handle
        .stats()
        .token_requests
        .back()
        .cloned()
        .expect("recorded");
    assert_eq!(
        recorded.client_auth,
        Some(TokenAuthMethod::ClientSecretBasic)
    );
}

#[tokio::test]
async fn confidential_clients_must_use_their_own_method_and_secret() {
    let options = DemoAuthOptions::default()
        .with_client_credentials(true)
        .with_pre_registered(DemoClient::with_secret(
            "basic-client",
            "basic-secret",
            TokenAuthMethod::ClientSecretBasic,
        ))
        .with_pre_registered(DemoClient::with_secret(
            "post-client",
            "post-secret",
            TokenAuthMethod::ClientSecretPost,
        ));
    let handle = start(options).await;
    let grant = ("grant_type", "client_credentials");
    let resource = handle.url();
    let resource = ("resource", resource.as_str());

    let reply = post_form(
        &handle,
        "/token",
        &[grant, resource],
        Some(("basic-client", "basic-secret")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let tokens = reply.json();
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    assert_eq!(tokens["scope"], "demo:read demo:write");

    let post = [
        grant,
        resource,
        ("client_id", "post-client"),
        ("client_secret", "post-secret"),
    ];
    let reply = post_form(&handle, "/token", &post, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");

    let wrong_secret = post_form(
        &handle,
        "/token",
        &[grant, resource],
        Some(("basic-client", "nope")),
    )
    .await;
    assert_eq!(wrong_secret.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_secret.error(), "invalid_client");
    assert!(
        wrong_secret
            .header("www-authenticate")
            .is_some_and(|h| h.starts_with("Basic"))
    );

    let wrong_method = post_form(
        &handle,
        "/token",
        &[grant, resource],
        Some(("post-client", "post-secret")),
    )
    .await;
    assert_eq!(wrong_method.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_method.error(), "invalid_client");

    let both = [grant, resource, ("client_secret", "basic-secret")];
    let reply = post_form(
        &handle,
        "/token",
        &both,
        Some(("basic-client", "basic-secret")),
    )
    .await;
    assert_eq!(reply.error(), "invalid_request", "one method only");

    let stats = handle.stats();
    assert_eq!(stats.client_credentials_grants, 5);
    assert_eq!(stats.rejected_token_requests, 3);
    let recorded = stats
        .token_requests
        .iter()
        .find(|request| request.has("client_secret"))
        .expect("recorded");
    assert_eq!(recorded.param("client_secret"), Some("<redacted>"));
}

#[tokio::test]
async fn client_credentials_is_for_confidential_clients_and_only_when_offered() {
    let handle = start(DemoAuthOptions::default().with_client_credentials(true)).await;
    let client_id = register_public(&handle).await;
    let resource = handle.url();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id.as_str()),
        ("resource", &resource),
    ];
    let reply = post_form(&handle, "/token", &form, None).await;
    assert_eq!(reply.error(), "unauthorized_client");

    let options = DemoAuthOptions::default().with_pre_registered(DemoClient::with_secret(
        "c",
        "s",
        TokenAuthMethod::ClientSecretBasic,
    ));
    let handle = start(options).await;
    let form = [
        ("grant_type", "client_credentials"),
        ("resource", &resource),
    ];
    let reply = post_form(&handle, "/token", &form, Some(("c", "s"))).await;
    assert_eq!(reply.error(), "unsupported_grant_type");
}

#[tokio::test]
async fn private_key_jwt_assertions_go_through_the_verifier() {
    let options = DemoAuthOptions::default()
        .with_client_credentials(true)
        .with_pre_registered(DemoClient::private_key_jwt("jwt-client"))
        .with_jwt_verifier(|assertion, client_id| {
            assertion == "header.payload.good-signature" && client_id == "jwt-client"
        });
    let handle = start(options).await;
    let resource = handle.url();
    let token = |assertion: &'static str| {
        [
            ("grant_type", "client_credentials"),
            ("client_id", "jwt-client"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
        ]
    };
    let mut form = token("header.payload.good-signature").to_vec();
    form.push(("resource", &resource));
    let reply = post_form(&handle, "/token", &form, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let recorded = handle
        .stats()
        .last_token_request()
        .cloned()
        .expect("recorded");
    assert_eq!(recorded.client_auth, Some(TokenAuthMethod::PrivateKeyJwt));
    assert_eq!(recorded.param("client_assertion"), Some("<redacted>"));

    let mut form = token("header.payload.bad-signature").to_vec();
    form.push(("resource", &resource));
    let reply = post_form(&handle, "/token", &form, None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.error(), "invalid_client");
}

#[tokio::test]
async fn client_id_metadata_document_urls_are_accepted_and_recorded_when_supported() {
    let cimd = "https://client.example/oauth/client.json";
    let handle = start(DemoAuthOptions::default()).await;
    let code = code_for(&handle, cimd, "cimd", "").await;
    let reply = redeem(&handle, cimd, &code, &pkce("cimd").0).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(handle.stats().cimd_client_ids, [cimd]);

    let handle = start(DemoAuthOptions::default().with_cimd(false)).await;
    let reply = authorize(&handle, cimd, "cimd", &[]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error(), "invalid_client");
}

#[tokio::test]
async fn a_code_cannot_be_redeemed_by_another_client() {
    let handle = start(DemoAuthOptions::default()).await;
    let owner = register_public(&handle).await;
    let thief = register_public(&handle).await;
    let code = code_for(&handle, &owner, "owner", "").await;
    let reply = redeem(&handle, &thief, &code, &pkce("owner").0).await;
    assert_eq!(reply.error(), "invalid_grant");
}
