//! Our side of the protocol: what we tell servers we support, and how we answer their requests.
//!
//! Elicitation by [`ElicitationPolicy`] (decline, or accept with the schema's defaults), roots from
//! the options, sampling through an optional [`SamplingHandler`]; progress, log and
//! resource-updated notifications become [`ManagerEvent`]s, and a `list_changed` wakes the
//! connection's refresh.
//!
//! Roots and logging are marked deprecated by rmcp (SEP-2577, in the draft protocol), but servers of
//! every released protocol version use them, so this module answers them.
#![allow(deprecated)]

use std::sync::Arc;

use rmcp::ClientHandler;
use rmcp::model::{
    ClientCapabilities, ClientConfig, CreateMessageRequestParams, CreateMessageResult,
    ElicitRequestParams, ElicitResult, ElicitationAction, Implementation, ListRootsResult,
    LoggingMessageNotificationParam, ProgressNotificationParam, ProtocolVersion,
    ResourceUpdatedNotificationParam, Root,
};
use rmcp::service::{NotificationContext, RequestContext, RoleClient};
use serde_json::{Map, Value};
use tokio::sync::{Notify, broadcast};

use crate::events::ManagerEvent;

/// How we answer a server's request for user input (elicitation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ElicitationPolicy {
    /// Decline every request: nobody is there to answer.
    #[default]
    Decline,
    /// Accept form requests with the defaults their schema declares (for tests and automation).
    AcceptDefaults,
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

/// The defaults of a schema's properties, as an elicitation answer.
fn schema_defaults(params: &ElicitRequestParams) -> Option<Value> {
    let ElicitRequestParams::FormElicitationParams {
        requested_schema, ..
    } = params
    else {
        return None;
    };
    let schema = serde_json::to_value(requested_schema).ok()?;
    let properties = schema.get("properties")?.as_object()?;
    let defaults: Map<String, Value> = properties
        .iter()
        .filter_map(|(name, property)| Some((name.clone(), property.get("default")?.clone())))
        .collect();
    Some(Value::Object(defaults))
}

// The roots callback is marked deprecated by SEP-2577 but is still how servers ask for roots.
#[allow(deprecated)]
impl ClientHandler for Handler {
    fn get_info(&self) -> ClientConfig {
        let mut capabilities = ClientCapabilities::default();
        if !self.roots.is_empty() {
            capabilities.roots = Some(Default::default());
        }
        if self.elicitation == ElicitationPolicy::AcceptDefaults {
            capabilities.elicitation = Some(Default::default());
        }
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
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, rmcp::ErrorData> {
        let content = match self.elicitation {
            ElicitationPolicy::Decline => None,
            ElicitationPolicy::AcceptDefaults => schema_defaults(&request),
        };
        let action = if content.is_some() {
            ElicitationAction::Accept
        } else {
            ElicitationAction::Decline
        };
        tracing::info!(server = %self.server, ?action, "answered an elicitation request");
        let mut result = ElicitResult::new(action);
        result.content = content;
        Ok(result)
    }

    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, rmcp::ErrorData> {
        match &self.sampling {
            Some(sampling) => sampling.create_message(&self.server, params).await,
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
