//! The legacy HTTP+SSE endpoint behind the tokens, as a protected resource of its own (`/sse`,
//! with `/messages` under the same identifier): its metadata, its challenges at `GET /sse` and at
//! every `POST /messages`, and tokens whose audience keeps them to the resource they were issued
//! for.

use http::{Method, StatusCode};
use serde_json::json;

use super::*;
use crate::tests::sse_client::{SseStream, call, initialized, post, post_accepted};
use crate::{DemoAuthOptions, MetadataLocation};

const SSE_PRM_PATH: &str = "/.well-known/oauth-protected-resource/sse";

/// The `WWW-Authenticate` of a response, with the server's origin replaced by `ORIGIN`.
fn challenge_of(handle: &DemoAuthHandle, headers: &HeaderMap) -> String {
    let origin = format!("http://{}", handle.local_addr());
    headers
        .get("www-authenticate")
        .and_then(|value| value.to_str().ok())
        .expect("a challenge")
        .replace(&origin, "ORIGIN")
}

#[tokio::test]
async fn the_sse_resource_has_its_own_metadata_document() {
    let handle = start(DemoAuthOptions::default()).await;
    let prm = get(&handle, SSE_PRM_PATH).await;
    assert_eq!(prm.status, StatusCode::OK, "{prm:?}");
    let prm = prm.json();
    assert_eq!(prm["resource"], json!(handle.sse_url()));
    assert_eq!(prm["authorization_servers"], json!([handle.issuer()]));
    assert_eq!(prm["scopes_supported"], json!(["demo:read", "demo:write"]));
    assert_eq!(prm["bearer_methods_supported"], json!(["header"]));
    // The streamable endpoint's is unchanged.
    let mcp = get(&handle, "/.well-known/oauth-protected-resource/mcp").await;
    assert_eq!(mcp.json()["resource"], json!(handle.url()));
    assert_eq!(handle.stats().prm_fetches, 2);
    // Metadata is read with GET only.
    let post = request(Method::POST, SSE_PRM_PATH)
        .body(Full::default())
        .expect("a request");
    assert_eq!(
        send(&handle, post).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn the_sse_metadata_follows_the_knobs_of_the_mcp_metadata() {
    let options = DemoAuthOptions::default()
        .with_wrong_resource(true)
        .with_scopes_in_prm(false);
    let handle = start(options).await;
    let prm = get(&handle, SSE_PRM_PATH).await.json();
    assert_eq!(
        prm["resource"],
        json!(format!("http://{}/elsewhere/sse", handle.local_addr()))
    );
    assert!(prm.get("scopes_supported").is_none(), "{prm}");

    // The root URL holds one document, the streamable endpoint's; the SSE endpoint's is at its
    // path-based URL only.
    let handle = start(DemoAuthOptions::default().with_prm_locations(false, true)).await;
    assert_eq!(
        get(&handle, SSE_PRM_PATH).await.status,
        StatusCode::NOT_FOUND
    );
    let root = get(&handle, "/.well-known/oauth-protected-resource").await;
    assert_eq!(root.json()["resource"], json!(handle.url()));

    for legacy in [MetadataLocation::Legacy, MetadataLocation::LegacyNoMetadata] {
        let handle = start(DemoAuthOptions::default().with_metadata(legacy)).await;
        let reply = get(&handle, SSE_PRM_PATH).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{legacy:?}");
        let stream = SseStream::open(handle.local_addr(), None).await;
        assert_eq!(
            challenge_of(&handle, &stream.headers),
            "Bearer",
            "{legacy:?}"
        );
    }
}

#[tokio::test]
async fn sse_and_messages_without_a_token_are_401_naming_the_sse_metadata() {
    let handle = start(DemoAuthOptions::default().with_challenge_scope("demo:read")).await;
    let addr = handle.local_addr();
    let expected =
        format!("Bearer scope=\"demo:read\", resource_metadata=\"ORIGIN{SSE_PRM_PATH}\"");

    let stream = SseStream::open(addr, None).await;
    assert_eq!(stream.status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge_of(&handle, &stream.headers), expected);
    let posted = post(addr, "/messages?sessionId=x", None, "{}").await;
    assert_eq!(posted.status, StatusCode::UNAUTHORIZED, "{posted:?}");
    assert_eq!(challenge_of(&handle, &posted.headers), expected);
    // A streamable client's POST to the SSE URL (before it falls back) is challenged the same way.
    let posted = post(addr, "/sse", None, initialize_message().to_string()).await;
    assert_eq!(posted.status, StatusCode::UNAUTHORIZED, "{posted:?}");
    assert_eq!(challenge_of(&handle, &posted.headers), expected);
    // The streamable endpoint names its own.
    let mcp = mcp_post(&handle, None, None, &initialize_message()).await;
    assert_eq!(
        challenge_of(&handle, &mcp.headers),
        "Bearer scope=\"demo:read\", resource_metadata=\"ORIGIN/.well-known/oauth-protected-resource/mcp\""
    );

    let stream = SseStream::open(addr, Some("not-a-token")).await;
    assert_eq!(stream.status, StatusCode::UNAUTHORIZED);
    assert!(stream.text().await.contains("invalid_token"));
    assert_eq!(handle.sse_sessions(), 0);
    assert_eq!(handle.stats().unauthorized, 5);
}

#[tokio::test]
async fn with_an_sse_token_a_post_to_the_sse_url_is_405_so_clients_fall_back() {
    let handle = start(DemoAuthOptions::default()).await;
    let (_, tokens) = log_in_to(&handle, &handle.sse_url(), "").await;
    let token = string(&tokens, "access_token");
    let posted = post(
        handle.local_addr(),
        "/sse",
        Some(token),
        initialize_message().to_string(),
    )
    .await;
    assert_eq!(posted.status, StatusCode::METHOD_NOT_ALLOWED, "{posted:?}");
}

#[tokio::test]
async fn a_token_for_the_mcp_endpoint_is_refused_at_sse_and_messages() {
    let handle = start(DemoAuthOptions::default()).await;
    let addr = handle.local_addr();
    let (_, mcp_tokens) = log_in(&handle, "").await;
    let mcp_token = string(&mcp_tokens, "access_token");
    let (_, sse_tokens) = log_in_to(&handle, &handle.sse_url(), "").await;
    let sse_token = string(&sse_tokens, "access_token");

    let stream = SseStream::open(addr, Some(mcp_token)).await;
    assert_eq!(stream.status, StatusCode::UNAUTHORIZED);
    let challenge = challenge_of(&handle, &stream.headers);
    assert!(
        challenge.starts_with(
            "Bearer error=\"invalid_token\", error_description=\"the access token was issued for \
             another resource\""
        ),
        "{challenge}"
    );
    assert!(
        challenge.ends_with(&format!("resource_metadata=\"ORIGIN{SSE_PRM_PATH}\"")),
        "{challenge}"
    );
    // Nor can it post into a session opened with the right token.
    let (_stream, endpoint, _) = initialized(addr, Some(sse_token)).await;
    let echo = call(2, "echo", json!({ "text": "hi" })).to_string();
    let posted = post(addr, &endpoint, Some(mcp_token), echo).await;
    assert_eq!(posted.status, StatusCode::UNAUTHORIZED, "{posted:?}");
    assert!(challenge_of(&handle, &posted.headers).contains("another resource"));
    // It still works where it belongs.
    open_session(&handle, mcp_token).await;
}

#[tokio::test]
async fn a_token_for_the_sse_endpoint_is_refused_at_mcp() {
    let handle = start(DemoAuthOptions::default()).await;
    let (_, tokens) = log_in_to(&handle, &handle.sse_url(), "").await;
    let token = string(&tokens, "access_token");
    let reply = mcp_post(&handle, Some(token), None, &initialize_message()).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    assert_eq!(reply.error(), "invalid_token");
    let challenge = challenge_of(&handle, &reply.headers);
    assert!(
        challenge
            .ends_with("resource_metadata=\"ORIGIN/.well-known/oauth-protected-resource/mcp\""),
        "{challenge}"
    );
    assert_eq!(handle.stats().mcp_requests, 0);
}

#[tokio::test]
async fn a_code_and_its_refresh_tokens_stay_with_the_resource_they_were_issued_for() {
    let handle = start(DemoAuthOptions::default()).await;
    let client_id = register_public(&handle).await;
    let (mcp, sse) = (handle.url(), handle.sse_url());
    let verifier = pkce("sse").0;
    let authorized = authorize(&handle, &client_id, "sse", &[("resource", &sse)]).await;
    let code = authorized.location_params()["code"].clone();
    let reply = redeem_for(&handle, &mcp, &client_id, &code, &verifier).await;
    assert_eq!(
        reply.error(),
        "invalid_target",
        "a code for /sse is not one for /mcp"
    );

    let authorized = authorize(&handle, &client_id, "sse", &[("resource", &sse)]).await;
    let code = authorized.location_params()["code"].clone();
    let reply = redeem_for(&handle, &sse, &client_id, &code, &verifier).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let tokens = reply.json();
    let refresh = |resource: String, refresh_token: String| {
        let (handle, client_id) = (&handle, client_id.clone());
        async move {
            let form = [
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.as_str()),
                ("client_id", client_id.as_str()),
                ("resource", resource.as_str()),
            ];
            post_form(handle, "/token", &form, None).await
        }
    };
    let moved = refresh(mcp, string(&tokens, "refresh_token").to_owned()).await;
    assert_eq!(moved.error(), "invalid_target", "{moved:?}");
    let renewed = refresh(sse, string(&tokens, "refresh_token").to_owned()).await;
    assert_eq!(renewed.status, StatusCode::OK, "{renewed:?}");
    let token = string(&renewed.json(), "access_token").to_owned();
    let stream = SseStream::open(handle.local_addr(), Some(&token)).await;
    assert_eq!(stream.status, StatusCode::OK);
    let reply = mcp_post(&handle, Some(&token), None, &initialize_message()).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
}

#[tokio::test]
async fn a_2025_03_26_token_issued_without_a_resource_is_good_at_both_endpoints() {
    // Clients of that revision send no `resource`, so the server cannot tell which endpoint a
    // token is for: it serves both with it, as such a server would.
    let handle = start(DemoAuthOptions::default().with_metadata(MetadataLocation::Legacy)).await;
    let client_id = register_public(&handle).await;
    let reply = redeem_without_resource(&handle, &client_id).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let token = string(&reply.json(), "access_token").to_owned();
    open_session(&handle, &token).await;
    let (mut stream, endpoint, _) = initialized(handle.local_addr(), Some(&token)).await;
    post_accepted(
        handle.local_addr(),
        &endpoint,
        Some(&token),
        &call(2, "echo", json!({ "text": "hi" })),
    )
    .await;
    assert_eq!(stream.message().await["result"]["content"][0]["text"], "hi");
}

#[tokio::test]
async fn sse_with_a_valid_token_serves_the_demo_and_close_ends_the_stream() {
    let handle = start(DemoAuthOptions::default()).await;
    let addr = handle.local_addr();
    assert_eq!(handle.sse_url(), format!("http://{addr}/sse"));
    let (_, tokens) = log_in_to(&handle, &handle.sse_url(), "").await;
    let token = string(&tokens, "access_token");

    let (mut stream, endpoint, _) = initialized(addr, Some(token)).await;
    post_accepted(
        addr,
        &endpoint,
        Some(token),
        &call(2, "echo", json!({ "text": "hi" })),
    )
    .await;
    let answer = stream.message().await;
    assert_eq!(answer["result"]["content"][0]["text"], "hi");

    // Every message needs the token, not only the stream.
    let posted = post(
        addr,
        &endpoint,
        None,
        call(3, "echo", json!({ "text": "x" })).to_string(),
    )
    .await;
    assert_eq!(posted.status, StatusCode::UNAUTHORIZED, "{posted:?}");
    assert_eq!(handle.sse_sessions(), 1);

    let watch = handle.watch();
    let closing = tokio::spawn(handle.close());
    assert_eq!(stream.next_event().await, None, "close ends the stream");
    bounded("closing", closing)
        .await
        .expect("the close task")
        .expect("a clean stop");
    assert!(!watch.is_open());
}

#[tokio::test]
async fn a_step_up_tool_posted_without_its_scope_is_403_insufficient_scope() {
    let handle = start(DemoAuthOptions::default().with_step_up("add", "demo:admin")).await;
    let addr = handle.local_addr();
    let (_, tokens) = log_in_to(&handle, &handle.sse_url(), "").await;
    let token = string(&tokens, "access_token");
    let (mut stream, endpoint, _) = initialized(addr, Some(token)).await;

    let add = call(2, "add", json!({ "a": 1, "b": 2 }));
    let posted = post(addr, &endpoint, Some(token), add.to_string()).await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN, "{posted:?}");
    assert_eq!(
        challenge_of(&handle, &posted.headers),
        format!(
            "Bearer error=\"insufficient_scope\", error_description=\"this tool needs a scope the \
             access token lacks\", scope=\"demo:admin\", resource_metadata=\"ORIGIN{SSE_PRM_PATH}\""
        )
    );

    // Other tools are not affected.
    post_accepted(
        addr,
        &endpoint,
        Some(token),
        &call(3, "echo", json!({ "text": "hi" })),
    )
    .await;
    assert_eq!(stream.message().await["id"], 3);
}
