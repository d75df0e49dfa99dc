//! The token requests against a scripted token endpoint on 127.0.0.1.

use mcp_oauth::flow::{ClientCredentials, TokenAuthMethod, authorization_request, refresh};

use crate::support::{Request, Stub, form, http, metadata};

/// A token endpoint answering every request with 200 and `reply`: its base URL and the stub.
async fn token_endpoint(reply: &str) -> (String, Stub) {
    token_endpoint_answering(200, reply).await
}

/// A token endpoint answering every request with `status` and `reply`.
async fn token_endpoint_answering(status: u16, reply: &str) -> (String, Stub) {
    let stub = Stub::json(status, reply).await;
    (stub.base.clone(), stub)
}

#[tokio::test]
async fn the_code_is_redeemed_with_verifier_redirect_and_resource() {
    let (base, bodies) = token_endpoint(
        r#"{"access_token":"at-1","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-1","scope":"read"}"#,
    )
    .await;
    let server = metadata(&base);
    let client = ClientCredentials::public("client-1");
    let pending = authorization_request(
        &server,
        &client,
        "http://127.0.0.1:7777/callback",
        "https://mcp.example/mcp",
        &[],
    )
    .expect("a request");
    let tokens = pending
        .exchange(&http(), &server, &client, "the-code", Some(&base))
        .await
        .expect("tokens");
    assert_eq!(tokens.access_token, "at-1");
    assert_eq!(tokens.refresh_token.as_deref(), Some("rt-1"));
    assert_eq!(tokens.scopes, ["read"]);
    assert_eq!(tokens.expires_at, Some(tokens.issued_at + 3600));
    assert_eq!(tokens.resource.as_deref(), Some("https://mcp.example/mcp"));
    let sent = bodies.first().form();
    assert_eq!(sent["grant_type"], "authorization_code");
    assert_eq!(sent["code"], "the-code");
    assert_eq!(sent["redirect_uri"], "http://127.0.0.1:7777/callback");
    assert_eq!(sent["resource"], "https://mcp.example/mcp");
    assert_eq!(sent["client_id"], "client-1");
    assert!(sent["code_verifier"].len() >= 43);
}

#[tokio::test]
async fn a_wrong_iss_stops_before_the_token_endpoint() {
    let (base, bodies) = token_endpoint(r#"{"access_token":"x","token_type":"Bearer"}"#).await;
    let server = metadata(&base);
    let client = ClientCredentials::public("c");
    let pending =
        authorization_request(&server, &client, "http://127.0.0.1:7777/callback", "r", &[])
            .expect("a request");
    let error = pending
        .exchange(
            &http(),
            &server,
            &client,
            "code",
            Some("https://evil.example"),
        )
        .await
        .expect_err("mix-up");
    assert!(error.to_string().contains("not used"), "{error}");
    assert!(bodies.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn refresh_sends_resource_and_keeps_the_old_refresh_token_when_none_comes_back() {
    let (base, bodies) =
        token_endpoint(r#"{"access_token":"at-2","token_type":"Bearer","expires_in":60}"#).await;
    let server = metadata(&base);
    let client = ClientCredentials::public("c");
    let old = mcp_oauth::store::StoredTokens {
        access_token: "at-1".to_owned(),
        token_type: "Bearer".to_owned(),
        refresh_token: Some("rt-1".to_owned()),
        scopes: vec!["read".to_owned()],
        issued_at: 0,
        expires_at: Some(1),
        issuer: Some(base.clone()),
        resource: Some("https://mcp.example/mcp".to_owned()),
        dpop_key: None,
    };
    let renewed = refresh(
        &http(),
        &server,
        &client,
        &old,
        "http://127.0.0.1:7777/callback",
    )
    .await
    .expect("refreshed");
    assert_eq!(renewed.access_token, "at-2");
    assert_eq!(renewed.refresh_token.as_deref(), Some("rt-1"));
    assert_eq!(renewed.scopes, ["read"]);
    let sent = bodies.first().form();
    assert_eq!(sent["grant_type"], "refresh_token");
    assert_eq!(sent["refresh_token"], "rt-1");
    assert_eq!(sent["resource"], "https://mcp.example/mcp");
}

#[tokio::test]
async fn a_refreshed_access_token_with_cr_lf_is_a_typed_refusal() {
    let (base, _bodies) =
        token_endpoint(r#"{"access_token":"at-2\r\nX-Evil: 1","token_type":"Bearer"}"#).await;
    let server = metadata(&base);
    let old = mcp_oauth::store::StoredTokens {
        access_token: "at-1".to_owned(),
        token_type: "Bearer".to_owned(),
        refresh_token: Some("rt-1".to_owned()),
        scopes: Vec::new(),
        issued_at: 0,
        expires_at: Some(1),
        issuer: Some(base.clone()),
        resource: None,
        dpop_key: None,
    };
    let client = ClientCredentials::public("c");
    let error = refresh(&http(), &server, &client, &old, "http://127.0.0.1:7/cb")
        .await
        .expect_err("unusable");
    assert!(error.is_unusable_token_response(), "{error:?}");
    assert!(!error.to_string().contains("at-2"), "{error}");
}

#[tokio::test]
async fn a_public_client_sends_its_id_and_never_a_secret_or_authorization_header() {
    let (base, seen) = token_endpoint(r#"{"access_token":"x","token_type":"Bearer"}"#).await;
    let server = metadata(&base);
    // A secret configured next to method `none` stays home.
    let client = ClientCredentials::with_secret("c-1", "unused-secret", TokenAuthMethod::None);
    let pending = authorization_request(&server, &client, "http://127.0.0.1:7777/cb", "r", &[])
        .expect("a request");
    pending
        .exchange(&http(), &server, &client, "code", None)
        .await
        .expect("tokens");
    let Request { head, body, .. } = seen.first();
    assert!(
        !head.to_ascii_lowercase().contains("\nauthorization:"),
        "{head}"
    );
    let sent = form(&body);
    assert_eq!(sent["client_id"], "c-1");
    assert!(!sent.contains_key("client_secret"));
    assert!(!body.contains("unused-secret"));
}

fn enterprise_identity(idp: &str) -> mcp_oauth::enterprise::EnterpriseIdentity {
    mcp_oauth::enterprise::EnterpriseIdentity {
        token_endpoint: format!("{idp}/token"),
        client_id: "idp-client".to_owned(),
        id_token: "the.id.token".to_owned(),
    }
}

#[tokio::test]
async fn enterprise_managed_exchanges_the_id_token_then_presents_the_grant() {
    let (idp, idp_seen) = token_endpoint(
        r#"{"access_token":"the-id-jag","issued_token_type":"urn:ietf:params:oauth:token-type:id-jag","token_type":"N_A"}"#,
    )
    .await;
    let (server, server_seen) = token_endpoint(
        r#"{"access_token":"at-1","token_type":"Bearer","expires_in":60,"scope":"read"}"#,
    )
    .await;
    let credentials =
        ClientCredentials::with_secret("mcp-client", "s3cret", TokenAuthMethod::ClientSecretBasic);
    let tokens = mcp_oauth::enterprise::enterprise_managed(
        &http(),
        &metadata(&server),
        &credentials,
        &enterprise_identity(&idp),
        "https://mcp.example/mcp",
        &["read".to_owned()],
    )
    .await
    .expect("tokens");
    assert_eq!(tokens.access_token, "at-1");
    assert_eq!(tokens.scopes, ["read"]);
    assert_eq!(tokens.expires_at, Some(tokens.issued_at + 60));
    assert_eq!(tokens.resource.as_deref(), Some("https://mcp.example/mcp"));

    let exchange = idp_seen.first().form();
    assert_eq!(
        exchange["grant_type"],
        "urn:ietf:params:oauth:grant-type:token-exchange"
    );
    assert_eq!(
        exchange["requested_token_type"],
        "urn:ietf:params:oauth:token-type:id-jag"
    );
    assert_eq!(exchange["subject_token"], "the.id.token");
    assert_eq!(
        exchange["subject_token_type"],
        "urn:ietf:params:oauth:token-type:id_token"
    );
    assert_eq!(exchange["audience"], server);
    assert_eq!(exchange["resource"], "https://mcp.example/mcp");
    assert_eq!(exchange["client_id"], "idp-client");

    let Request { head, body, .. } = server_seen.first();
    let bearer = form(&body);
    assert_eq!(
        bearer["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    assert_eq!(bearer["assertion"], "the-id-jag");
    assert!(!bearer.contains_key("client_secret"));
    assert!(
        head.to_ascii_lowercase().contains("authorization: basic "),
        "{head}"
    );
}

#[tokio::test]
async fn an_identity_provider_refusal_is_typed_and_never_echoes_the_id_token() {
    let (idp, _) = token_endpoint_answering(
        400,
        r#"{"error":"invalid_grant","error_description":"bad subject_token the.id.token"}"#,
    )
    .await;
    let (server, server_seen) = token_endpoint(r#"{"access_token":"never"}"#).await;
    let credentials = ClientCredentials::with_secret("c", "s", TokenAuthMethod::ClientSecretBasic);
    let error = mcp_oauth::enterprise::enterprise_managed(
        &http(),
        &metadata(&server),
        &credentials,
        &enterprise_identity(&idp),
        "https://mcp.example/mcp",
        &[],
    )
    .await
    .expect_err("refused");
    assert!(error.is_invalid_grant(), "{error}");
    assert!(!error.to_string().contains("the.id.token"), "{error}");
    assert!(
        server_seen.requests().is_empty(),
        "nothing reached the server"
    );
}

#[tokio::test]
async fn enterprise_managed_needs_a_confidential_client() {
    let error = mcp_oauth::enterprise::enterprise_managed(
        &http(),
        &metadata("http://127.0.0.1:9"),
        &ClientCredentials::public("c"),
        &enterprise_identity("http://127.0.0.1:9"),
        "https://mcp.example/mcp",
        &[],
    )
    .await;
    assert!(
        matches!(
            error,
            Err(mcp_oauth::flow::FlowError::ConfidentialClientRequired { .. })
        ),
        "{error:?}"
    );
}
