//! The Manager against stdio servers scripted in `sh`, for misbehaviour the fixture (rmcp's server
//! side) cannot produce: lists that page for ever, a repeated cursor, requests whose params do not
//! fit their method. The scripts use only shell builtins per message, so ten thousand pages take
//! seconds, not minutes. Every wait is bounded by the session's timeouts.

use std::time::Duration;

use mcp_manager::config::ServerConfig;
use mcp_manager::{AttemptError, ConnectError, Manager, ManagerOptions};

/// Shell functions and the handshake every script starts with: `id_of LINE` sets `$id` to the
/// line's request id (our requests put `"id"` right before `"method"`); a `server/discover` probe
/// is refused as a legacy server refuses an unknown method, and the `initialize` request is
/// answered with a server offering tools.
const HANDSHAKE: &str = r#"
id_of() { rest=${1#*\"id\":}; id=${rest%%,*}; }
read -r line
case "$line" in
  *'"server/discover"'*)
    id_of "$line"
    printf '{"jsonrpc":"2.0","id":%s,"error":{"code":-32601,"message":"Method not found"}}\n' "$id"
    read -r line ;;
esac
id_of "$line"
printf '{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"scripted","version":"1"}}}\n' "$id"
read -r line
"#;

fn scripted(body: &str) -> ServerConfig {
    ServerConfig::stdio("sh", ["-c".to_owned(), format!("{HANDSHAKE}{body}")])
        .with_connect_timeout(Duration::from_secs(120))
        .with_request_timeout(Duration::from_secs(20))
}

fn manager() -> Manager {
    let mut options = ManagerOptions::default();
    options.http.proxy = mcp_transport::http::ProxyConfig::Direct;
    Manager::new(options).expect("a manager")
}

/// A server whose `tools/list` always has a next page, with the cursor `cursor` (shell words;
/// `$n` is the page number).
fn pager(cursor: &str) -> ServerConfig {
    scripted(&format!(
        r#"
n=0
while read -r line; do
  case "$line" in
    *'"tools/list"'*)
      id_of "$line"
      n=$((n+1))
      printf '{{"jsonrpc":"2.0","id":%s,"result":{{"tools":[],"nextCursor":"%s"}}}}\n' "$id" "{cursor}" ;;
  esac
done
"#
    ))
}

/// The discovery error of a failed connect, or a panic naming what came instead.
fn discovery_error(error: &ConnectError) -> &str {
    match error.last_error() {
        Some(AttemptError::Listing(message)) => message,
        _ => panic!("not a discovery error: {error}"),
    }
}

#[tokio::test]
async fn endless_distinct_cursors_are_reported_as_the_page_limit_not_as_our_kill() {
    let manager = manager();
    let error = manager
        .isolated(&pager("page-$n"))
        .await
        .expect_err("a list that never ends is refused");
    let message = discovery_error(&error);
    assert!(message.contains("tools/list"), "{message}");
    assert!(message.contains("over 10,000 pages"), "{message}");
    assert!(!message.contains("repeated"), "no cursor was: {message}");
    assert!(!error.to_string().contains("killed by signal"), "{error}");
}

#[tokio::test]
async fn a_repeated_cursor_is_reported_as_repeated_not_as_our_kill() {
    let manager = manager();
    // Several at once: the kill that follows the error races the report, on every one.
    let config = pager("again");
    let outcomes = futures::future::join_all((0..8).map(|_| manager.isolated(&config))).await;
    for outcome in outcomes {
        let error = outcome.expect_err("a repeated cursor is refused");
        let message = discovery_error(&error);
        assert!(message.contains("tools/list"), "{message}");
        assert!(message.contains(r#"cursor "again" repeated"#), "{message}");
        // Not "repeated, or over 10000 pages": only what happened.
        assert!(
            !message.contains("over "),
            "the limit was not reached: {message}"
        );
        assert!(!error.to_string().contains("killed by signal"), "{error}");
    }
}

/// After the handshake the server sends a request with a null id and one with id 5, both with
/// `"params": "string"`; it answers `tools/call` once it has read the client's answer to id 5,
/// with the error code it got (`answered:-32600`), or `answered:none` if stdin ended first.
const MALFORMED_REQUESTS: &str = r#"
printf '{"jsonrpc":"2.0","id":null,"method":"roots/list","params":"string"}\n'
printf '{"jsonrpc":"2.0","id":5,"method":"roots/list","params":"string"}\n'
answer=none
while read -r line; do
  case "$line" in
    *'"id":5,'*'"error"'*) answer=$line ;;
    *'"tools/list"'*)
      id_of "$line"
      printf '{"jsonrpc":"2.0","id":%s,"result":{"tools":[{"name":"echo","inputSchema":{"type":"object"}}]}}\n' "$id" ;;
    *'"tools/call"'*)
      id_of "$line"
      while [ "$answer" = none ] && read -r next; do
        case "$next" in *'"id":5,'*'"error"'*) answer=$next ;; esac
      done
      case "$answer" in
        *'"code":-32600'*) code=-32600 ;;
        *'"code":-32602'*) code=-32602 ;;
        *) code=none ;;
      esac
      printf '{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"answered:%s"}]}}\n' "$id" "$code" ;;
  esac
done
"#;

#[tokio::test]
async fn a_request_with_params_that_do_not_fit_is_answered_with_an_error_and_the_session_goes_on() {
    let manager = manager();
    let session = manager
        .isolated(&scripted(MALFORMED_REQUESTS))
        .await
        .expect("the session survives the malformed requests");
    let result = session
        .call_tool("echo", ())
        .await
        .expect("the tool call succeeds");
    let text = format!("{:?}", result.content);
    assert!(
        text.contains("answered:-32600"),
        "id 5 answered as an invalid request: {text}"
    );
    session.close(Duration::from_secs(1)).await;
}

/// A modern (2026-07-28) server that answers `server/discover`, lists one tool, and answers every
/// call of it with `input_required` (state only, so no handler is asked): round `n` carries the
/// state `round-n`, and the script checks each retry echoes the state it was given, answering
/// with an error naming the first one that did not.
const ASKS_FOREVER: &str = r#"
id_of() { rest=${1#*\"id\":}; id=${rest%%,*}; }
n=0
while read -r line; do
  id_of "$line"
  case "$line" in
    *'"server/discover"'*)
      printf '{"jsonrpc":"2.0","id":%s,"result":{"resultType":"complete","ttlMs":0,"cacheScope":"private","supportedVersions":["2026-07-28"],"capabilities":{"tools":{}},"serverInfo":{"name":"asks-forever","version":"1"}}}\n' "$id" ;;
    *'"tools/list"'*)
      printf '{"jsonrpc":"2.0","id":%s,"result":{"resultType":"complete","ttlMs":0,"cacheScope":"private","tools":[{"name":"ask","inputSchema":{"type":"object"}}]}}\n' "$id" ;;
    *'"tools/call"'*)
      case "$line" in
        *'"requestState":"round-'$n'"'*|*'"requestState"'*'round-'$n'"'*) ;;
        *) if [ "$n" -gt 0 ]; then
             printf '{"jsonrpc":"2.0","id":%s,"error":{"code":-32602,"message":"state of round %s not echoed"}}\n' "$id" "$n"
             continue
           fi ;;
      esac
      n=$((n+1))
      printf '{"jsonrpc":"2.0","id":%s,"result":{"resultType":"input_required","requestState":"round-%s"}}\n' "$id" "$n" ;;
  esac
done
"#;

#[tokio::test]
async fn a_server_that_keeps_asking_for_input_is_stopped_after_ten_rounds() {
    let manager = manager();
    let config = ServerConfig::stdio("sh", ["-c".to_owned(), ASKS_FOREVER.to_owned()])
        .with_request_timeout(Duration::from_secs(20));
    let session = manager
        .isolated(&config)
        .await
        .expect("a modern server connects");
    let error = session
        .call_tool("ask", ())
        .await
        .expect_err("the rounds never end");
    assert!(
        error.is_unsupported(),
        "typed, and the connection is fine: {error:?}"
    );
    assert!(
        error.to_string().contains("after 10 rounds"),
        "says why, with every state echoed on the way: {error}"
    );
    session.close(Duration::from_secs(1)).await;
}
