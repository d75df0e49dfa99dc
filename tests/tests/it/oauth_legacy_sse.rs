//! MCP authorization over the legacy HTTP+SSE transport (protocol 2024-11-05), end to end: the
//! Manager against the demo's `/sse` endpoint and its built-in authorization server, reached by URL
//! alone (a 401, one login, then the fallback from streamable HTTP) and configured as `LegacySse`.
//! The legacy endpoints are a protected resource of their own, so the tokens are for the SSE URL.

use std::sync::Arc;
use std::time::Duration;

use mcp_demo::{DemoAuthHandle, DemoAuthOptions};
use mcp_manager::config::{HttpTransportKind, ServerConfig};
use mcp_manager::{Manager, ManagerEvent, ServerId, TransportKind};
use mcp_oauth::store::{MemoryStore, TokenStore};

use crate::oauth::{demo, echo, follow, key, manager, server};

/// Connects `manager` to `config` as "legacy" and checks that it runs over the legacy transport
/// and serves the demo: `echo` is listed, and called.
async fn connected_over_sse(manager: &Manager, config: &ServerConfig) -> ServerId {
    let id = manager
        .connect("legacy", config)
        .await
        .unwrap_or_else(|error| panic!("connect: {error} ({error:?})"));
    assert_eq!(
        manager.transport(id).expect("known"),
        TransportKind::LegacySse
    );
    let listing = manager.listing(id).expect("known");
    assert!(
        listing.tools.iter().any(|tool| tool.name == "echo"),
        "{:?}",
        listing.tools
    );
    echo(manager, id).await;
    id
}

/// A first run logs in exactly once, for the SSE URL as its resource, and stores the tokens; a
/// second run (no browser at all) connects with them.
async fn logs_in_once_then_reuses_the_tokens(demo: &DemoAuthHandle, config: &ServerConfig) {
    let sse_url = demo.sse_url();
    let store = Arc::new(MemoryStore::new());
    let first = manager(Some(follow()), &store);
    connected_over_sse(&first, config).await;
    let stats = demo.stats();
    assert_eq!(stats.authorizations, 1, "{stats:?}");
    assert_eq!(stats.code_exchanges, 1, "{stats:?}");
    assert_eq!(stats.registrations, 1, "{stats:?}");
    assert_eq!(stats.rejected_token_requests, 0, "{stats:?}");
    // One 401, the first request's: everything after the login carried the token.
    assert_eq!(stats.unauthorized, 1, "{stats:?}");
    let authorization = stats
        .last_authorization_request()
        .expect("an authorization");
    assert_eq!(authorization.param("resource"), Some(sse_url.as_str()));
    let exchange = stats.last_token_request().expect("a token request");
    assert_eq!(exchange.param("resource"), Some(sse_url.as_str()));
    let stored = store
        .load(&key("legacy", &sse_url))
        .await
        .expect("load")
        .expect("the tokens are stored under the SSE URL");
    assert_eq!(stored.resource.as_deref(), Some(sse_url.as_str()));
    first.shutdown(Duration::from_secs(1)).await;

    let second = manager(None, &store);
    connected_over_sse(&second, config).await;
    let stats = demo.stats();
    assert_eq!(stats.authorizations, 1, "no new login: {stats:?}");
    assert_eq!(stats.code_exchanges, 1, "{stats:?}");
    assert_eq!(stats.refreshes, 0, "{stats:?}");
    assert_eq!(
        stats.unauthorized, 1,
        "the stored token is sent from the start: {stats:?}"
    );
    second.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn an_sse_url_alone_logs_in_once_then_falls_back_to_the_legacy_transport() {
    // The streamable `initialize` POST to `/sse` is answered 401 first (the bearer check comes
    // before routing); after the login, the retried POST is 405, which is the fallback's cue, and
    // the `GET /sse` carries the token already obtained.
    let demo = demo(DemoAuthOptions::default()).await;
    let config = server(&demo.sse_url());
    logs_in_once_then_reuses_the_tokens(&demo, &config).await;
}

#[tokio::test]
async fn the_fallback_after_a_login_is_announced_as_a_transport_fallback() {
    let demo = demo(DemoAuthOptions::default()).await;
    let store = Arc::new(MemoryStore::new());
    let manager = manager(Some(follow()), &store);
    let mut events = manager.events();
    connected_over_sse(&manager, &server(&demo.sse_url())).await;
    let mut fallbacks = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let ManagerEvent::TransportFallback {
            server, transport, ..
        } = event
        {
            fallbacks.push((server, transport));
        }
    }
    assert_eq!(
        fallbacks,
        [("legacy".to_owned(), TransportKind::LegacySse)],
        "one fallback, after the login"
    );
    assert_eq!(demo.stats().authorizations, 1);
    manager.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn an_sse_server_configured_as_legacy_sse_logs_in_once_then_reuses_the_tokens() {
    let demo = demo(DemoAuthOptions::default()).await;
    let config = server(&demo.sse_url()).with_http_transport(HttpTransportKind::LegacySse);
    logs_in_once_then_reuses_the_tokens(&demo, &config).await;
}

#[tokio::test]
async fn the_streamable_and_the_legacy_endpoint_each_need_their_own_login() {
    // One server name, two URLs: two resources, two logins, two sets of tokens; neither is sent to
    // the other endpoint (the demo would refuse it: audiences are separate).
    let demo = demo(DemoAuthOptions::default()).await;
    let store = Arc::new(MemoryStore::new());
    let manager = manager(Some(follow()), &store);
    let streamable = manager
        .connect("demo", &server(&demo.url()))
        .await
        .expect("/mcp");
    echo(&manager, streamable).await;
    manager.disconnect(streamable).await.expect("disconnect");
    let legacy = manager
        .connect("demo", &server(&demo.sse_url()))
        .await
        .expect("/sse");
    assert_eq!(
        manager.transport(legacy).expect("known"),
        TransportKind::LegacySse
    );
    echo(&manager, legacy).await;
    let stats = demo.stats();
    assert_eq!(stats.authorizations, 2, "{stats:?}");
    let resources: Vec<_> = stats
        .authorization_requests
        .iter()
        .map(|request| request.param("resource").map(str::to_owned))
        .collect();
    assert_eq!(resources, [Some(demo.url()), Some(demo.sse_url())]);
    let load = |url: String| {
        let store = Arc::clone(&store);
        async move {
            store
                .load(&key("demo", &url))
                .await
                .expect("load")
                .expect("stored")
        }
    };
    let (mcp, sse) = (load(demo.url()).await, load(demo.sse_url()).await);
    assert_ne!(mcp.access_token, sse.access_token);
    manager.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn an_expired_token_on_a_message_post_is_refreshed_once_for_the_sse_resource() {
    // The open stream was authorized when it opened; the next message's POST is answered 401, and
    // the refresh names the SSE URL as its resource, which the demo requires of this grant.
    let demo = demo(DemoAuthOptions::default()).await;
    let store = Arc::new(MemoryStore::new());
    let manager = manager(Some(follow()), &store);
    let id = connected_over_sse(&manager, &server(&demo.sse_url())).await;
    let key = key("legacy", &demo.sse_url());
    let before = store.load(&key).await.expect("load").expect("tokens");
    demo.expire_access_tokens();
    echo(&manager, id).await;
    let stats = demo.stats();
    assert_eq!(stats.refreshes, 1, "{stats:?}");
    assert_eq!(stats.authorizations, 1, "no new login: {stats:?}");
    assert_eq!(stats.rejected_token_requests, 0, "{stats:?}");
    let refresh = stats.last_token_request().expect("a refresh");
    assert_eq!(refresh.param("grant_type"), Some("refresh_token"));
    assert_eq!(refresh.param("resource"), Some(demo.sse_url().as_str()));
    let after = store.load(&key).await.expect("load").expect("tokens");
    assert_ne!(before.access_token, after.access_token);
    manager.shutdown(Duration::from_secs(1)).await;
}
