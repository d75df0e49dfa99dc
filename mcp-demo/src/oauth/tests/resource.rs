//! The MCP endpoint behind the tokens: step-up, and the server's lifecycle.

use std::net::SocketAddr;

use http::StatusCode;
use serde_json::json;

use super::*;
use crate::tests::assert_refused;
use crate::{DemoAuthOptions, DemoError};

#[tokio::test]
async fn a_step_up_tool_called_without_its_scope_is_403_insufficient_scope() {
    let handle = start(DemoAuthOptions::default().with_step_up("add", "demo:admin")).await;
    let (_, tokens) = log_in(&handle, "").await;
    let token = string(&tokens, "access_token");
    let session = open_session(&handle, token).await;

    let add = tool_call("add", json!({ "a": 1, "b": 2 }));
    let reply = mcp_post(&handle, Some(token), Some(&session), &add).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{reply:?}");
    let origin = format!("http://{}", handle.local_addr());
    assert_eq!(
        reply.header("www-authenticate"),
        Some(
            format!(
                "Bearer error=\"insufficient_scope\", error_description=\"this tool needs a scope \
                 the access token lacks\", scope=\"demo:admin\", \
                 resource_metadata=\"{origin}/.well-known/oauth-protected-resource/mcp\""
            )
            .as_str()
        )
    );
    // Other tools are not affected.
    let echo = tool_call("echo", json!({ "text": "hi" }));
    let reply = mcp_post(&handle, Some(token), Some(&session), &echo).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.message()["result"]["content"][0]["text"], "hi");

    // With the scope, the call reaches the tool.
    let (_, tokens) = log_in(&handle, "demo:read demo:admin").await;
    let token = string(&tokens, "access_token");
    let session = open_session(&handle, token).await;
    let reply = mcp_post(&handle, Some(token), Some(&session), &add).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.message()["result"]["structuredContent"]["sum"], 3.0);
    assert_eq!(handle.stats().insufficient_scope, 1);
}

#[tokio::test]
async fn dropping_the_handle_closes_the_port() {
    let handle = start(DemoAuthOptions::default()).await;
    let addr = handle.local_addr();
    let watch = handle.watch();
    // A connection kept alive after a response.
    let _ = get(&handle, "/.well-known/oauth-authorization-server").await;
    drop(handle);
    bounded("closing every socket", watch.closed()).await;
    assert_refused(addr).await;
}

#[tokio::test]
async fn close_stops_gracefully() {
    let handle = start(DemoAuthOptions::default()).await;
    let addr = handle.local_addr();
    let watch = handle.watch();
    bounded("closing", handle.close())
        .await
        .expect("a clean stop");
    assert!(!watch.is_open());
    assert_refused(addr).await;
}

#[tokio::test]
async fn bad_options_and_non_loopback_addresses_are_refused_before_binding() {
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    for options in [
        DemoAuthOptions::default().with_issuer_path("tenant"),
        DemoAuthOptions::default().with_issuer_path("/tenant/"),
        DemoAuthOptions::default().with_issuer_path("/mcp"),
        DemoAuthOptions::default().with_pre_registered(crate::DemoClient::private_key_jwt("j")),
        DemoAuthOptions::default().with_challenge_scope("a \"b\""),
    ] {
        let error = DemoAuthServer::bind(loopback, options)
            .await
            .expect_err("invalid");
        assert!(matches!(error, DemoError::InvalidOptions(_)), "{error:?}");
    }
    let addr: SocketAddr = "0.0.0.0:0".parse().expect("a socket address");
    let error = DemoAuthServer::bind(addr, DemoAuthOptions::default())
        .await
        .expect_err("not loopback");
    assert!(matches!(error, DemoError::NotLoopback(_)), "{error:?}");
}
