//! Our side of the protocol: what we tell servers we support, and how we answer their requests.
//!
//! Elicitation by [`ElicitationPolicy`] (decline, accept with the schema's defaults, or ask an
//! [`ElicitationHandler`]), roots from the options, sampling through an optional
//! [`SamplingHandler`]; progress, log and resource-updated notifications become
//! [`ManagerEvent`]s, and a `list_changed` wakes the connection's refresh.
//!
//! Roots and logging are marked deprecated by rmcp (SEP-2577, in the draft protocol), but servers of
//! every released protocol version use them, so this module answers them.
#![allow(deprecated)]

use std::sync::Arc;

use rmcp::ClientHandler;
use rmcp::model::{
    ClientCapabilities, ClientConfig, CreateMessageRequestParams, CreateMessageResult,
    ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationCapability,
    FormElicitationCapability, Implementation, ListRootsResult, LoggingMessageNotificationParam,
    ProgressNotificationParam, ProtocolVersion, ResourceUpdatedNotificationParam, Root,
    UrlElicitationCapability,
};
use rmcp::service::{NotificationContext, RequestContext, RoleClient};
use serde_json::Value;
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

use crate::ElicitationForm;
use crate::events::ManagerEvent;

/// How we answer a server's request for user input (elicitation).
#[derive(Debug, Clone, Default)]
pub enum ElicitationPolicy {
    /// Decline every request: nobody is there to answer. The capability is not advertised, so
    /// servers that check it do not ask.
    #[default]
    Decline,
    /// Accept form requests with the defaults their schema declares, when those answer the form
    /// ([`ElicitationForm::answer_defaults`]); decline the others, and URL requests. For tests
    /// and automation.
    AcceptDefaults,
    /// Hand every request to this handler (a person at a terminal, a GUI dialog), which answers
    /// it. Form mode is advertised, and URL mode when [`ElicitationHandler::supports_url`] says so;
    /// a URL request is declined without asking a handler that does not support it.
    Ask(Arc<dyn ElicitationHandler>),
}

/// Answers a server's elicitation requests (`elicitation/create`: "ask the user for this"), for
/// [`ElicitationPolicy::Ask`].
///
/// A form request carries a schema; [`ElicitationForm`](crate::ElicitationForm) turns it into
/// fields to present and checks the values entered against it. A URL request asks the user to
/// open a URL (show it in full, and open it only with their consent).
///
/// ```
/// use mcp_manager::rmcp::model::{ElicitRequestParams, ElicitResult, ElicitationAction};
/// use mcp_manager::ElicitationHandler;
///
/// /// Declines everything, saying so.
/// #[derive(Debug)]
/// struct Refuse;
///
/// impl ElicitationHandler for Refuse {
///     fn elicit(
///         &self,
///         server: &str,
///         _params: ElicitRequestParams,
///     ) -> futures::future::BoxFuture<'_, Result<ElicitResult, mcp_manager::rmcp::ErrorData>> {
///         eprintln!("{server} asked for input; declined");
///         Box::pin(async { Ok(ElicitResult::new(ElicitationAction::Decline)) })
///     }
/// }
/// ```
pub trait ElicitationHandler: Send + Sync + std::fmt::Debug {
    /// The user's answer to `params` from `server`: accept (with the form's content), decline,
    /// or cancel; or an error to return to the server.
    fn elicit(
        &self,
        server: &str,
        params: ElicitRequestParams,
    ) -> futures::future::BoxFuture<'_, Result<ElicitResult, rmcp::ErrorData>>;

    /// Whether this handler can present URL-mode requests (advertised to servers). Default: no.
    fn supports_url(&self) -> bool {
        false
    }
}

/// A directory or file the client offers to servers that ask for roots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRoot {
    /// The root's URI (`file:///...`).
    pub uri: String,
    /// A human-readable name.
    pub name: Option<String>,
}

impl ClientRoot {
    fn to_model(&self) -> Root {
        let mut root = Root::new(self.uri.clone());
        root.name = self.name.clone();
        root
    }
}

/// Answers a server's sampling requests (`sampling/createMessage`: "run this prompt through your
/// model"). Without one, the sampling capability is not advertised and servers do not ask.
pub trait SamplingHandler: Send + Sync + std::fmt::Debug {
    /// Produces the model's answer for `params`, or an error to return to the server.
    fn create_message(
        &self,
        server: &str,
        params: CreateMessageRequestParams,
    ) -> futures::future::BoxFuture<'_, Result<CreateMessageResult, rmcp::ErrorData>>;
}

/// The handler each connection runs; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Handler {
    pub(crate) server: Arc<str>,
    pub(crate) elicitation: ElicitationPolicy,
    pub(crate) roots: Arc<[ClientRoot]>,
    pub(crate) events: broadcast::Sender<ManagerEvent>,
    /// Woken when the server says a list changed, so the connection lists again.
    pub(crate) list_changed: Arc<Notify>,
    pub(crate) sampling: Option<Arc<dyn SamplingHandler>>,
}

impl Handler {
    fn publish(&self, event: ManagerEvent) {
        // Nobody listening is fine.
        let _ = self.events.send(event);
    }
}

/// The answer `--elicit defaults`-style automation gives: accept a form request with the defaults
/// its schema declares, if they answer the form (each fits its field, every required field has
/// one); decline otherwise, and every URL request.
fn accept_defaults(server: &str, request: &ElicitRequestParams) -> ElicitResult {
    let ElicitRequestParams::FormElicitationParams {
        message,
        requested_schema,
        ..
    } = request
    else {
        return ElicitResult::new(ElicitationAction::Decline);
    };
    let answer = ElicitationForm::from_schema(message.as_str(), requested_schema)
        .and_then(|form| form.answer_defaults());
    match answer {
        Ok(content) => {
            let mut result = ElicitResult::new(ElicitationAction::Accept);
            result.content = Some(Value::Object(content));
            result
        }
        Err(error) => {
            tracing::info!(%server, %error, "declined an elicitation request: its defaults do not answer it");
            ElicitResult::new(ElicitationAction::Decline)
        }
    }
}

/// `work`, or an error for the server once `ct` is cancelled (the server sent
/// `notifications/cancelled`, or the session closed). rmcp cancels the token but keeps polling
/// the handler, so without this a form or a sampling command would run on for a request nobody
/// waits for; dropping `work` ends it.
async fn unless_cancelled<T>(
    ct: &CancellationToken,
    work: impl std::future::Future<Output = Result<T, rmcp::ErrorData>>,
) -> Result<T, rmcp::ErrorData> {
    tokio::select! {
        result = work => result,
        () = ct.cancelled() => Err(rmcp::ErrorData::internal_error("the request was cancelled", None)),
    }
}

// The roots callback is marked deprecated by SEP-2577 but is still how servers ask for roots.
#[allow(deprecated)]
impl ClientHandler for Handler {
    fn get_info(&self) -> ClientConfig {
        let mut capabilities = ClientCapabilities::default();
        if !self.roots.is_empty() {
            capabilities.roots = Some(Default::default());
        }
        capabilities.elicitation = match &self.elicitation {
            ElicitationPolicy::Decline => None,
            // `{}`: form mode only, in every protocol version.
            ElicitationPolicy::AcceptDefaults => Some(Default::default()),
            ElicitationPolicy::Ask(handler) if handler.supports_url() => Some(
                ElicitationCapability::new()
                    .with_form(FormElicitationCapability::new())
                    .with_url(UrlElicitationCapability::new()),
            ),
            ElicitationPolicy::Ask(_) => Some(Default::default()),
        };
        if self.sampling.is_some() {
            capabilities.sampling = Some(Default::default());
        }
        ClientConfig::new(
            capabilities,
            Implementation::new("mcpcord", env!("CARGO_PKG_VERSION")),
        )
        .with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE)
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, rmcp::ErrorData> {
        let is_url = matches!(request, ElicitRequestParams::UrlElicitationParams { .. });
        let result = match &self.elicitation {
            ElicitationPolicy::Ask(handler) if !is_url || handler.supports_url() => {
                unless_cancelled(&context.ct, handler.elicit(&self.server, request)).await?
            }
            ElicitationPolicy::Ask(_) | ElicitationPolicy::Decline => {
                ElicitResult::new(ElicitationAction::Decline)
            }
            ElicitationPolicy::AcceptDefaults => accept_defaults(&self.server, &request),
        };
        tracing::info!(server = %self.server, action = ?result.action, "answered an elicitation request");
        Ok(result)
    }

    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, rmcp::ErrorData> {
        match &self.sampling {
            Some(sampling) => {
                unless_cancelled(&context.ct, sampling.create_message(&self.server, params)).await
            }
            None => Err(rmcp::ErrorData::method_not_found::<
                rmcp::model::CreateMessageRequestMethod,
            >()),
        }
    }

    async fn list_roots(
        &self,
        _context: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, rmcp::ErrorData> {
        Ok(ListRootsResult::new(
            self.roots.iter().map(ClientRoot::to_model).collect(),
        ))
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.publish(ManagerEvent::Progress {
            server: self.server.to_string(),
            progress: params.progress,
            total: params.total,
            message: params.message,
        });
    }

    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let level = serde_json::to_value(params.level)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_else(|| "info".to_owned());
        tracing::info!(target: "mcp_manager::server_log", server = %self.server, %level, data = %params.data, "server log");
        self.publish(ManagerEvent::Log {
            server: self.server.to_string(),
            level,
            logger: params.logger,
            data: params.data,
        });
    }

    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.publish(ManagerEvent::ResourceUpdated {
            server: self.server.to_string(),
            uri: params.uri.to_string(),
        });
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.list_changed.notify_one();
    }

    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.list_changed.notify_one();
    }

    async fn on_prompt_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.list_changed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use serde_json::json;

    use super::*;

    /// Raises its flag when dropped.
    struct DropFlag(Arc<AtomicBool>);

    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn a_cancelled_request_drops_its_handler_and_answers_an_error() {
        let ct = CancellationToken::new();
        let dropped = Arc::new(AtomicBool::new(false));
        let guard = DropFlag(Arc::clone(&dropped));
        let work = async move {
            let _guard = guard;
            std::future::pending::<Result<(), rmcp::ErrorData>>().await
        };
        ct.cancel();
        let answer = unless_cancelled(&ct, work).await;
        assert!(answer.is_err());
        assert!(
            dropped.load(Ordering::SeqCst),
            "the handler's future runs on"
        );
    }

    fn form_request(schema: Value) -> ElicitRequestParams {
        serde_json::from_value(json!({
            "mode": "form",
            "message": "m",
            "requestedSchema": schema,
        }))
        .expect("a form request")
    }

    #[test]
    fn defaults_that_leave_a_required_field_empty_are_declined() {
        let request = form_request(json!({
            "type": "object",
            "properties": {
                "name": { "type": "string" },
                "age": { "type": "integer", "default": 7 }
            },
            "required": ["name"]
        }));
        let result = accept_defaults("s", &request);
        assert_eq!(result.action, ElicitationAction::Decline);
        assert_eq!(result.content, None);
    }

    #[test]
    fn defaults_are_sent_only_when_they_fit_their_fields() {
        let request = form_request(json!({
            "type": "object",
            "properties": {
                "name": { "type": "string", "default": "Ada" },
                "age": { "type": "integer", "maximum": 10, "default": 500 }
            }
        }));
        let result = accept_defaults("s", &request);
        assert_eq!(result.action, ElicitationAction::Accept);
        assert_eq!(result.content, Some(json!({ "name": "Ada" })));
    }
}
