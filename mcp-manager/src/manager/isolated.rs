//! A session of one's own, not registered in the manager.

use std::sync::Arc;
use std::time::Duration;

use mcp_transport::StdioProcess;
use rmcp::model::{CallToolRequestParams, CallToolResult, ClientRequest, ServerResult};

use crate::error::CallError;
use crate::listing::Listing;

use super::*;

/// A session of one's own (for a test, a task): not registered in the manager, one attempt, owned
/// by this guard. Dropping it kills and cleans synchronously; `close` does it gracefully.
pub struct IsolatedSession {
    pub(super) live: Option<Live>,
    pub(super) discovery: Arc<Listing>,
    pub(super) request_timeout: Duration,
    pub(super) name: String,
}

impl IsolatedSession {
    /// What the server offers.
    pub fn listing(&self) -> &Listing {
        &self.discovery
    }

    /// The server's pid, for stdio servers.
    pub fn pid(&self) -> Option<u32> {
        self.live
            .as_ref()
            .and_then(|live| live.process.as_ref().map(StdioProcess::pid))
    }

    /// Calls a tool; `isError: true` is an error, as with [`Manager::call_tool`].
    pub async fn call_tool(
        &self,
        tool: &str,
        arguments: impl serde::Serialize,
    ) -> Result<CallToolResult, CallError> {
        let requests = self
            .live
            .as_ref()
            .map(|live| live.requests.clone())
            // Only `close` takes the session, and it consumes the guard: unreachable in practice,
            // and said as what it would mean.
            .ok_or_else(|| CallError::Unhealthy {
                server: self.name.clone(),
                cause: "the session is closed".to_owned(),
            })?;
        let mut params = CallToolRequestParams::new(tool.to_owned());
        params.arguments = session::arguments_object(&self.name, tool, arguments)?;
        let request = ClientRequest::CallToolRequest(rmcp::model::Request::new(params));
        match requests.send(request, self.request_timeout).await {
            Ok(ServerResult::CallToolResult(result)) => tool_outcome(&self.name, tool, result),
            Ok(other) => Err(unexpected(&self.name, &other)),
            Err(failure) => Err(call_error(&self.name, failure)),
        }
    }

    /// Closes the session gracefully within `grace`, then forcibly; returns whether it was graceful.
    pub async fn close(mut self, grace: Duration) -> bool {
        match self.live.take() {
            Some(live) => live.close(grace).await,
            None => true,
        }
    }
}

impl std::fmt::Debug for IsolatedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IsolatedSession")
            .field("name", &self.name)
            .field("pid", &self.pid())
            .finish_non_exhaustive()
    }
}
