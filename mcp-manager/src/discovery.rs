//! What a server offers, listed in full (every page) right after connecting and again on `list_changed`.

use rmcp::Peer;
use rmcp::model::{Implementation, Prompt, ProtocolVersion, Resource, ResourceTemplate, Tool};
use rmcp::service::RoleClient;

/// A snapshot of a server: who it is and everything it offers.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Discovery {
    /// The server's name and version, if it said.
    pub server_info: Option<Implementation>,
    /// The negotiated protocol version.
    pub protocol_version: Option<ProtocolVersion>,
    /// The server's instructions for clients, if any.
    pub instructions: Option<String>,
    /// Every tool (empty if tools are not advertised).
    pub tools: Vec<Tool>,
    /// Every resource (empty if resources are not advertised).
    pub resources: Vec<Resource>,
    /// Every resource template (empty if resources are not advertised).
    pub resource_templates: Vec<ResourceTemplate>,
    /// Every prompt (empty if prompts are not advertised).
    pub prompts: Vec<Prompt>,
}

impl Discovery {
    /// Lists everything the server advertises, following every page cursor.
    pub(crate) async fn fetch(peer: &Peer<RoleClient>) -> Result<Self, rmcp::ServiceError> {
        let info = peer.peer_info();
        let capabilities = info
            .as_ref()
            .map(|info| info.capabilities.clone())
            .unwrap_or_default();
        let mut discovery = Discovery {
            server_info: info.as_ref().and_then(|info| info.server_info.clone()),
            protocol_version: info.as_ref().map(|info| info.protocol_version.clone()),
            instructions: info.as_ref().and_then(|info| info.instructions.clone()),
            ..Discovery::default()
        };
        if capabilities.tools.is_some() {
            discovery.tools = peer.list_all_tools().await?;
        }
        if capabilities.resources.is_some() {
            discovery.resources = peer.list_all_resources().await?;
            discovery.resource_templates = peer.list_all_resource_templates().await?;
        }
        if capabilities.prompts.is_some() {
            discovery.prompts = peer.list_all_prompts().await?;
        }
        Ok(discovery)
    }

    /// The server's name, or `"unknown"`.
    pub fn server_name(&self) -> &str {
        self.server_info
            .as_ref()
            .map_or("unknown", |info| info.name.as_str())
    }
}
