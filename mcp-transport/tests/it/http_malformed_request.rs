//! A request from the server whose params do not fit its method (`"params": "string"`) is answered
//! with a JSON-RPC error, POSTed in the session, and the session goes on; one with a null id has
//! nothing to answer and is dropped.

use std::time::Duration;

use http::Method;
use rmcp::model::{CallToolRequestParams, ClientRequest, Request as McpRequest};
use serde_json::json;

use crate::scripted::{
    Seen, Server, data_event, fed_sse_reply, feed, is_call, is_standalone, json_reply, reply, take,
    tool_result,
};
use crate::support::{text_of, tool_call_result};

/// The longest any step may take before the test fails rather than hangs.
const BOUND: Duration = Duration::from_secs(10);

/// A POST carrying the client's answer to one of the server's requests.
fn is_answer(seen: &Seen) -> bool {
    seen.method == Method::POST
        && seen.rpc_method().is_none()
        && (seen.body.get("result").is_some() || seen.body.get("error").is_some())
}

#[tokio::test]
async fn a_server_request_whose_params_do_not_fit_is_answered_with_an_error_and_the_session_goes_on()
 {
    let (standalone, standalone_feed) = feed();
    let mut server = Server::start(move |seen| {
        if is_standalone(seen) {
            return take(&standalone_feed).map(fed_sse_reply);
        }
        if is_call(seen) {
            return Some(json_reply(&tool_result(&seen.body["id"], "still here")));
        }
        is_answer(seen).then(|| reply(202, None, ""))
    })
    .await;
    let transport = server.transport();
    let direct = transport.direct_requests();
    let _service = rmcp::serve_client((), transport).await.expect("handshake");
    tokio::time::timeout(BOUND, server.next_http(Method::GET, is_standalone))
        .await
        .expect("the standalone stream opens");

    for id in [json!(null), json!(5)] {
        let request =
            json!({"jsonrpc": "2.0", "id": id, "method": "roots/list", "params": "string"});
        standalone
            .send(data_event(&request))
            .expect("the standalone stream is open");
    }
    let answer = tokio::time::timeout(BOUND, server.next_http(Method::POST, is_answer))
        .await
        .expect("the request with id 5 is answered");
    assert_eq!(answer.body["id"], 5, "{}", answer.body);
    assert_eq!(answer.body["error"]["code"], -32600, "{}", answer.body);

    let call = ClientRequest::CallToolRequest(McpRequest::new(CallToolRequestParams::new("echo")));
    let result = direct
        .request(call, BOUND)
        .await
        .expect("the session goes on");
    assert_eq!(text_of(&tool_call_result(result)), "still here");
}
