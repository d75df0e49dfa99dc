//! `ElicitationPolicy::Ask`: a server's request for input reaches the application's handler, in
//! both protocol eras, and the handler's answer reaches the server.

use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use mcp_manager::config::{ProtocolEra, ServerConfig};
use mcp_manager::rmcp::ErrorData;
use mcp_manager::rmcp::model::{ElicitRequestParams, ElicitResult, ElicitationAction};
use mcp_manager::{
    ElicitationForm, ElicitationHandler, ElicitationPolicy, Manager, ManagerOptions,
};
use mcp_tests::support::{stdio_fixture_args, text_of};
use serde_json::json;

use crate::FIXTURE;

/// Answers every form with `proceed: false`, recording who asked and what.
#[derive(Debug, Default)]
struct Refuser {
    asked: Mutex<Vec<(String, String, Vec<String>)>>,
}

impl ElicitationHandler for Refuser {
    fn elicit(
        &self,
        server: &str,
        params: ElicitRequestParams,
    ) -> BoxFuture<'_, Result<ElicitResult, ErrorData>> {
        let ElicitRequestParams::FormElicitationParams {
            message,
            requested_schema,
            ..
        } = params
        else {
            panic!("the fixture asks with a form");
        };
        let form = ElicitationForm::from_schema(message, &requested_schema).expect("a form");
        let fields = form.fields().iter().map(|f| f.name().to_owned()).collect();
        self.asked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((server.to_owned(), form.message().to_owned(), fields));
        let content = form
            .answer(
                json!({ "proceed": false })
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            )
            .expect("a valid answer");
        let mut result = ElicitResult::new(ElicitationAction::Accept);
        result.content = Some(serde_json::Value::Object(content));
        Box::pin(async move { Ok(result) })
    }
}

#[tokio::test]
async fn an_ask_policy_hands_the_request_to_the_handler_and_its_answer_to_the_server() {
    for era in [ProtocolEra::Legacy, ProtocolEra::Modern] {
        let handler = Arc::new(Refuser::default());
        let mut options = ManagerOptions::default();
        options.elicitation = ElicitationPolicy::Ask(handler.clone());
        let manager = Manager::new(options).expect("a manager");
        let config = ServerConfig::stdio(FIXTURE, stdio_fixture_args(&[])).with_protocol(era);
        let id = manager.connect("asker", &config).await.expect("connected");
        let answer = manager
            .call_tool(id, "confirm", ())
            .await
            .expect("answered");
        assert_eq!(text_of(&answer), r#"accept {"proceed":false}"#, "{era:?}");
        let asked = handler
            .asked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        assert_eq!(
            asked,
            [(
                "asker".to_owned(),
                "Proceed?".to_owned(),
                vec!["proceed".to_owned()]
            )],
            "{era:?}"
        );
        manager.shutdown(std::time::Duration::from_secs(2)).await;
    }
}
