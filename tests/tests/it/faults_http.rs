//! Every HTTP fault of the fixture server, through our hyper client and rmcp's streamable HTTP
//! transport: each gives a typed error with the right retry decision, or is recovered as MCP expects.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_retry::{ByRetryable, Decision, Jitter, RetryPolicy, Retryable};
use mcp_tests::http_fixture::HttpFixture;
use mcp_tests::support::{refused_port, text_of};
use mcp_transport::TransportError;
use mcp_transport::auth::{Authorizer, StaticBearer};
use mcp_transport::http::HttpTransportOptions;
use rmcp::model::{CallToolRequestParams, ClientConfig, ProtocolVersion};
use rmcp::service::{RoleClient, RunningService};

use crate::{FIXTURE, client_config, http_client};

const BOUND: Duration = Duration::from_secs(10);

type Client = RunningService<RoleClient, ClientConfig>;

async fn fixture(faults: &[&str]) -> HttpFixture {
    HttpFixture::start(FIXTURE, faults).await
}

async fn connect_with(
    url: &str,
    authorizer: Option<Arc<dyn Authorizer>>,
) -> Result<Client, TransportError> {
    let transport = http_client()
        .transport(url, authorizer, HttpTransportOptions::default())
        .expect("a valid URL");
    rmcp::serve_client(client_config(), transport)
        .await
        .map_err(|error| {
            TransportError::find_in(&error).unwrap_or_else(|| TransportError::Protocol {
                detail: error.to_string(),
            })
        })
}

async fn connect(url: &str) -> Result<Client, TransportError> {
    connect_with(url, None).await
}

fn echo(text: &str) -> CallToolRequestParams {
    let arguments = serde_json::json!({ "text": text });
    CallToolRequestParams::new("echo")
        .with_arguments(arguments.as_object().cloned().unwrap_or_default())
}

async fn assert_echo(client: &Client, text: &str) {
    let result = client.call_tool(echo(text)).await.expect("echo answers");
    assert_eq!(text_of(&result), text);
}

#[tokio::test]
async fn healthy_server_connects_lists_and_answers() {
    let fixture = fixture(&[]).await;
    let client = connect(fixture.url()).await.expect("connected");
    let tools = client.list_all_tools().await.expect("tools");
    let names: Vec<&str> = tools.iter().map(|tool| tool.name.as_ref()).collect();
    for expected in ["echo", "add", "sleep", "crash", "fail"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    assert_echo(&client, "over http").await;
    client.cancel().await.expect("closed");
}

#[tokio::test]
async fn server_error_is_a_retryable_status_with_the_body() {
    let fixture = fixture(&["http-500"]).await;
    let Err(error) = connect(fixture.url()).await else {
        panic!("the connection should be refused")
    };
    assert_eq!(error.status(), Some(500), "{error:?}");
    assert_eq!(error.retry_decision(), Decision::Retry);
    assert!(
        error.to_string().ends_with("fixture: internal error"),
        "{error}"
    );
}

#[tokio::test]
async fn too_many_requests_asks_to_retry_after_two_seconds() {
    let fixture = fixture(&["http-429"]).await;
    let Err(error) = connect(fixture.url()).await else {
        panic!("the connection should be refused")
    };
    assert_eq!(error.status(), Some(429));
    assert_eq!(
        error.retry_decision(),
        Decision::RetryAfter(Duration::from_secs(2))
    );
}

#[tokio::test]
async fn unauthorized_carries_the_challenge_and_is_not_retried() {
    let fixture = fixture(&["http-401"]).await;
    let Err(error) = connect(fixture.url()).await else {
        panic!("the connection should be refused")
    };
    assert!(error.is_auth_required(), "{error:?}");
    assert_eq!(error.retry_decision(), Decision::Stop);
    let challenge = error.challenge().expect("a parsed challenge");
    assert_eq!(challenge.error(), Some("invalid_token"));
    assert_eq!(challenge.scope(), Some("fixture.read"));
    assert!(
        challenge
            .resource_metadata()
            .is_some_and(|url| url.ends_with("/.well-known/oauth-protected-resource/mcp"))
    );
}

#[tokio::test]
async fn the_right_bearer_token_is_let_in() {
    let fixture = fixture(&["http-401"]).await;
    let authorizer: Arc<dyn Authorizer> = Arc::new(StaticBearer::new("fixture-token"));
    let client = connect_with(fixture.url(), Some(authorizer))
        .await
        .expect("connected");
    assert_echo(&client, "authorized").await;
}

#[tokio::test]
async fn an_expired_session_is_reinitialised_transparently() {
    let fixture = fixture(&["expire-session-after:3"]).await;
    let client = connect(fixture.url()).await.expect("connected");
    // initialize, notifications/initialized and one call use up the session; rmcp re-initialises on
    // the 404 and replays the call once.
    for round in 0..4 {
        assert_echo(&client, &format!("round {round}")).await;
    }
}

#[tokio::test]
async fn a_reset_connection_is_retryable_and_a_whole_new_attempt_succeeds() {
    let fixture = fixture(&["reset:1"]).await;
    let policy = RetryPolicy::builder()
        .base_delay(Duration::from_millis(10))
        .jitter(Jitter::None)
        .build()
        .expect("a policy");
    let mut first_error = None;
    let client = mcp_retry::Retry::new(&policy, ByRetryable)
        .on_retry(|_, _, error: &TransportError| first_error = Some(error.clone()))
        .run(|_| connect(fixture.url()))
        .await
        .expect("the second attempt connects");
    let first_error = first_error.expect("the first attempt failed");
    assert!(first_error.is_io(), "{first_error:?}");
    assert!(first_error.is_retryable());
    assert_echo(&client, "after reset").await;
}

#[tokio::test]
async fn a_slow_drip_is_cut_by_the_callers_connect_timeout() {
    let fixture = fixture(&["slow-drip"]).await;
    let started = Instant::now();
    let outcome = tokio::time::timeout(Duration::from_millis(300), connect(fixture.url())).await;
    if let Ok(handshake) = outcome {
        panic!(
            "the handshake cannot finish in time, yet it ended: {:?}",
            handshake.map(|client| client.peer_info())
        );
    }
    assert!(started.elapsed() < BOUND);
}

#[tokio::test]
async fn a_server_without_a_get_stream_still_works() {
    let fixture = fixture(&["no-get-stream"]).await;
    let client = connect(fixture.url()).await.expect("connected");
    assert_echo(&client, "no stream").await;
}

#[tokio::test]
async fn nothing_listening_is_connection_refused() {
    let port = refused_port();
    let Err(error) = connect(&format!("http://127.0.0.1:{port}/mcp")).await else {
        panic!("nothing listens there")
    };
    assert!(error.is_connection_refused(), "{error:?}");
    assert_eq!(error.retry_decision(), Decision::Retry);
}

#[tokio::test]
async fn discover_lifecycle_works_over_http() {
    let fixture = fixture(&[]).await;
    let transport = http_client()
        .transport(fixture.url(), None, HttpTransportOptions::default())
        .expect("a valid URL");
    let lifecycle = rmcp::service::ClientLifecycleMode::Discover {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
    };
    let client = rmcp::service::serve_client_with_lifecycle(client_config(), transport, lifecycle)
        .await
        .expect("discover works");
    let negotiated = client.peer_info().map(|info| info.protocol_version.clone());
    assert_eq!(negotiated, Some(ProtocolVersion::V_2026_07_28));
    assert_echo(&client, "modern").await;
}
