//! What a server offers, listed in full (every page) right after connecting and again on `list_changed`.

use std::collections::HashSet;
use std::time::Duration;

use rmcp::model::{
    ClientRequest, Implementation, PaginatedRequestParams, Prompt, ProtocolVersion, Resource,
    ResourceTemplate, ServerResult, Tool,
};

use crate::requests::{RequestFailure, Requests};

/// A list longer than this many pages is taken for a server that never stops paging.
const MAX_PAGES: usize = 10_000;

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
    /// Lists everything the server advertises, following every page cursor. The four lists are
    /// asked for at once (a server answers them in parallel), each request within `timeout`.
    pub(crate) async fn fetch(
        requests: &Requests,
        timeout: Duration,
    ) -> Result<Self, RequestFailure> {
        let info = requests.peer().peer_info();
        let capabilities = info
            .as_ref()
            .map(|info| info.capabilities.clone())
            .unwrap_or_default();
        let resources = capabilities.resources.is_some();
        let (tools, resources, resource_templates, prompts) = futures::future::try_join4(
            list_all(requests, timeout, capabilities.tools.is_some(), tools_page),
            list_all(requests, timeout, resources, resources_page),
            list_all(requests, timeout, resources, templates_page),
            list_all(
                requests,
                timeout,
                capabilities.prompts.is_some(),
                prompts_page,
            ),
        )
        .await?;
        Ok(Discovery {
            server_info: info.as_ref().and_then(|info| info.server_info.clone()),
            protocol_version: info.as_ref().map(|info| info.protocol_version.clone()),
            instructions: info.as_ref().and_then(|info| info.instructions.clone()),
            tools,
            resources,
            resource_templates,
            prompts,
        })
    }

    /// The server's name, or `"unknown"`.
    pub fn server_name(&self) -> &str {
        self.server_info
            .as_ref()
            .map_or("unknown", |info| info.name.as_str())
    }
}

/// One page's items and the cursor of the next page, if there is one.
type PageItems<T> = (Vec<T>, Option<String>);

/// One kind of list: how to ask for a page, and how to read one.
struct Page<T> {
    method: &'static str,
    request: fn(PaginatedRequestParams) -> ClientRequest,
    read: fn(ServerResult) -> Option<PageItems<T>>,
}

fn tools_page() -> Page<Tool> {
    Page {
        method: "tools/list",
        request: |params| {
            ClientRequest::ListToolsRequest(rmcp::model::ListToolsRequest::with_param(params))
        },
        read: |result| match result {
            ServerResult::ListToolsResult(page) => Some((page.tools, page.next_cursor)),
            _ => None,
        },
    }
}

fn resources_page() -> Page<Resource> {
    Page {
        method: "resources/list",
        request: |params| {
            ClientRequest::ListResourcesRequest(rmcp::model::ListResourcesRequest::with_param(
                params,
            ))
        },
        read: |result| match result {
            ServerResult::ListResourcesResult(page) => Some((page.resources, page.next_cursor)),
            _ => None,
        },
    }
}

fn templates_page() -> Page<ResourceTemplate> {
    Page {
        method: "resources/templates/list",
        request: |params| {
            ClientRequest::ListResourceTemplatesRequest(
                rmcp::model::ListResourceTemplatesRequest::with_param(params),
            )
        },
        read: |result| match result {
            ServerResult::ListResourceTemplatesResult(page) => {
                Some((page.resource_templates, page.next_cursor))
            }
            _ => None,
        },
    }
}

fn prompts_page() -> Page<Prompt> {
    Page {
        method: "prompts/list",
        request: |params| {
            ClientRequest::ListPromptsRequest(rmcp::model::ListPromptsRequest::with_param(params))
        },
        read: |result| match result {
            ServerResult::ListPromptsResult(page) => Some((page.prompts, page.next_cursor)),
            _ => None,
        },
    }
}

/// Every item of one list (nothing when `advertised` is false), page after page. A cursor the
/// server hands out twice would loop forever: it is an error naming the method.
async fn list_all<T>(
    requests: &Requests,
    timeout: Duration,
    advertised: bool,
    kind: fn() -> Page<T>,
) -> Result<Vec<T>, RequestFailure> {
    let mut items = Vec::new();
    if !advertised {
        return Ok(items);
    }
    let page = kind();
    let mut seen = HashSet::new();
    let mut cursor = None;
    loop {
        let params = PaginatedRequestParams::default().with_cursor(cursor);
        let result = requests.send((page.request)(params), timeout).await?;
        let Some((mut page_items, next)) = (page.read)(result) else {
            return Err(nonsense(format!(
                "the server answered {} with another kind of result",
                page.method
            )));
        };
        items.append(&mut page_items);
        match next {
            None => return Ok(items),
            Some(next) if seen.len() >= MAX_PAGES || !seen.insert(next.clone()) => {
                return Err(nonsense(format!(
                    "the server's {} pages never end (cursor {next:?} repeated, or over {MAX_PAGES} pages)",
                    page.method
                )));
            }
            Some(next) => cursor = Some(next),
        }
    }
}

fn nonsense(detail: String) -> RequestFailure {
    RequestFailure::Lost {
        transport: None,
        detail,
    }
}
