//! The Manager against three real servers of the legacy HTTP+SSE transport (protocol 2024-11-05):
//! server-everything's `sse` mode, the TypeScript SDK's `SSEServerTransport` and the Python SDK's
//! SSE app (`mcp_tests::support::legacy_sse`; installed by `cargo xtask npm-deps` and
//! `cargo xtask py-deps`). Each is reached by URL alone (the fallback from streamable HTTP) and by
//! configuration; discovery finds everything it offers, calls work, a stream closed mid-call is a
//! typed error, and a legacy server's message endpoint given by mistake names the SSE URL.

use std::collections::BTreeSet;
use std::time::Duration;

use mcp_manager::config::HttpTransportKind;
use mcp_manager::{
    AttemptError, CallError, ConnectError, Health, Manager, ManagerEvent, ManagerOptions,
    ServerConfig, TransportKind, Url,
};
use mcp_tests::support::{LegacySseKind, LegacySseServer};
use serde_json::json;

use crate::interop_everything::{PROMPTS, RESOURCE_TEMPLATES, RESOURCES, TOOLS};

fn manager() -> Manager {
    let mut options = ManagerOptions::default();
    options.http.proxy = mcp_manager::transport::ProxyConfig::Direct;
    Manager::new(options).expect("a manager")
}

fn url(text: &str) -> Url {
    Url::parse(text).expect("a URL")
}

/// What each server offers: tools, resources, resource templates, prompts.
fn offered(kind: LegacySseKind) -> [BTreeSet<&'static str>; 4] {
    let set = |items: &[&'static str]| items.iter().copied().collect::<BTreeSet<_>>();
    match kind {
        LegacySseKind::Everything => [
            set(TOOLS),
            set(RESOURCES),
            set(RESOURCE_TEMPLATES),
            set(PROMPTS),
        ],
        LegacySseKind::TypeScript => [
            set(&["add", "drop_stream", "echo"]),
            set(&["test://greeting"]),
            set(&[]),
            set(&["greet"]),
        ],
        _ => [
            set(&["add", "echo"]),
            set(&["test://greeting"]),
            set(&[]),
            set(&["greet"]),
        ],
    }
}

/// An `echo` call as each server names its argument.
fn echo_arguments(kind: LegacySseKind, text: &str) -> serde_json::Value {
    match kind {
        LegacySseKind::Everything => json!({ "message": text }),
        _ => json!({ "text": text }),
    }
}

async fn discovery_finds_everything_and_calls_work(config: ServerConfig, server: &LegacySseServer) {
    let manager = manager();
    let mut events = manager.events();
    let id = manager
        .connect("legacy", &config)
        .await
        .unwrap_or_else(|error| panic!("{:?}: {error}\n{:?}", server.kind(), server.output()));
    assert_eq!(
        manager.transport(id).expect("known"),
        TransportKind::LegacySse
    );
    let listing = manager.listing(id).expect("known");
    let names = |items: Vec<String>| items.into_iter().collect::<BTreeSet<String>>();
    let [tools, resources, templates, prompts] = offered(server.kind());
    let found = [
        names(
            listing
                .tools
                .iter()
                .map(|tool| tool.name.to_string())
                .collect(),
        ),
        names(
            listing
                .resources
                .iter()
                .map(|resource| resource.uri.clone())
                .collect(),
        ),
        names(
            listing
                .resource_templates
                .iter()
                .map(|template| template.uri_template.clone())
                .collect(),
        ),
        names(
            listing
                .prompts
                .iter()
                .map(|prompt| prompt.name.clone())
                .collect(),
        ),
    ];
    let expected = [tools, resources, templates, prompts].map(|set| {
        set.into_iter()
            .map(str::to_owned)
            .collect::<BTreeSet<String>>()
    });
    assert_eq!(found, expected, "{:?}", server.kind());

    let result = manager
        .call_tool(id, "echo", echo_arguments(server.kind(), "over legacy sse"))
        .await
        .expect("echo answers");
    let text = result.content[0]
        .as_text()
        .map(|text| text.text.clone())
        .unwrap_or_default();
    assert!(text.contains("over legacy sse"), "{text}");
    // Every resource it lists can be read.
    for resource in &listing.resources {
        manager
            .read_resource(id, &resource.uri)
            .await
            .unwrap_or_else(|error| panic!("{}: {error}", resource.uri));
    }
    let report = manager.shutdown(Duration::from_secs(2)).await;
    assert_eq!(report.graceful, ["legacy"], "{report:?}");
    // The fallback, if one happened, was said; never for a configured transport.
    let mut fell_back = false;
    while let Ok(event) = events.try_recv() {
        if let ManagerEvent::TransportFallback { transport, .. } = event {
            assert_eq!(transport, TransportKind::LegacySse);
            fell_back = true;
        }
    }
    let configured = matches!(
        &config.transport,
        mcp_manager::config::TransportConfig::Http(http) if http.transport == HttpTransportKind::LegacySse
    );
    assert_eq!(fell_back, !configured, "{:?}", server.kind());
}

#[tokio::test]
async fn each_legacy_server_is_reached_by_its_url_alone() {
    for kind in LegacySseKind::ALL {
        let server = LegacySseServer::start(kind);
        let config = ServerConfig::http(url(&server.sse_url()));
        discovery_finds_everything_and_calls_work(config, &server).await;
    }
}

#[tokio::test]
async fn each_legacy_server_is_reached_by_configuration() {
    for kind in LegacySseKind::ALL {
        let server = LegacySseServer::start(kind);
        let config = ServerConfig::http(url(&server.sse_url()))
            .with_http_transport(HttpTransportKind::LegacySse);
        discovery_finds_everything_and_calls_work(config, &server).await;
    }
}

#[tokio::test]
async fn a_stream_closed_mid_call_is_a_typed_error_and_marks_the_connection_unhealthy() {
    let server = LegacySseServer::start(LegacySseKind::TypeScript);
    let manager = manager();
    let config = ServerConfig::http(url(&server.sse_url())).with_auto_recover(false);
    let id = manager.connect("legacy", &config).await.expect("connected");
    let error = manager
        .call_tool(id, "drop_stream", ())
        .await
        .expect_err("the stream closed under the call");
    let CallError::ConnectionLost { cause, .. } = &error else {
        panic!("{error:?}");
    };
    assert!(
        cause.to_string().contains("closed the SSE stream"),
        "{cause}"
    );
    match manager.health(id).expect("known") {
        Health::Unhealthy { cause } => assert!(cause.contains("SSE stream"), "{cause}"),
        healthy => panic!("{healthy:?}"),
    }
    // Recovering opens a new stream, straight on the legacy transport.
    manager.recover(id).await.expect("recovered");
    manager
        .call_tool(id, "echo", json!({ "text": "again" }))
        .await
        .expect("echo answers after recovery");
    manager.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn a_legacy_message_endpoint_given_by_mistake_names_the_sse_url() {
    let server = LegacySseServer::start(LegacySseKind::TypeScript);
    let manager = manager();
    let config = ServerConfig::http(url(&server.message_url()));
    let error = manager
        .connect("mistaken", &config)
        .await
        .expect_err("not an MCP endpoint of either kind");
    let Some(AttemptError::NoHttpTransport(refused)) = error.last_error() else {
        panic!("{error:?}");
    };
    assert_eq!(
        refused.sse_url_hint.as_ref().map(Url::as_str),
        Some(server.sse_url().as_str())
    );
    let message = error.to_string();
    assert!(message.contains(&server.sse_url()), "{message}");
    assert!(!matches!(error, ConnectError::ShutDown(_)));
}
