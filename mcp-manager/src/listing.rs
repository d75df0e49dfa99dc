//! What a server offers, listed in full (every page) right after connecting and again on `list_changed`.
//!
//! Only what the server advertises is asked for, and the four lists (tools, resources, templates,
//! prompts) are asked for at once. A cursor handed out twice, or more than 10,000 pages, is an
//! error that names the method and says which of the two it was, not a loop. Identical tool
//! schemas are shared across sessions through a table of weak references, so a schema lives only
//! as long as a session that lists it.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hasher};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use rmcp::model::{
    ClientRequest, Implementation, JsonObject, PaginatedRequestParams, Prompt, ProtocolVersion,
    Resource, ResourceTemplate, ServerCapabilities, ServerResult, Tool,
};

use mcp_transport::ParamHeaders;

use crate::requests::{RequestFailure, Requests};

/// Over streamable HTTP, tools whose parameters are mirrored into headers (`x-mcp-header`,
/// protocol 2026-07-28) have their declarations registered with the transport, and a tool whose
/// declarations are invalid is dropped from the list with a warning, as the specification
/// requires: a malformed tool must not make the others unusable, and must not be called.
fn mirror_param_headers(tools: &mut Vec<Tool>, declared: &mcp_transport::ToolHeaderMap) {
    let mut mirrored = Vec::new();
    tools.retain(|tool| match ParamHeaders::from_schema(&tool.input_schema) {
        Ok(Some(headers)) => {
            mirrored.push((tool.name.to_string(), headers));
            true
        }
        Ok(None) => true,
        Err(invalid) => {
            tracing::warn!(tool = %tool.name, %invalid, "tool dropped from the list: its x-mcp-header declarations are invalid");
            false
        }
    });
    declared.replace(mirrored);
}

/// A list longer than this many pages is taken for a server that never stops paging.
const MAX_PAGES: usize = 10_000;

/// [`MAX_PAGES`] as people write it, for messages.
const MAX_PAGES_TEXT: &str = "10,000";

/// A snapshot of a server: who it is and everything it offers.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Listing {
    /// The server's name and version, if it said.
    pub server_info: Option<Implementation>,
    /// The negotiated protocol version.
    pub protocol_version: Option<ProtocolVersion>,
    /// The server's instructions for clients, if any.
    pub instructions: Option<String>,
    /// What the server declared it can do (e.g. `resources.subscribe`), as it said in the
    /// handshake; empty if it said nothing.
    pub capabilities: ServerCapabilities,
    /// Every tool (empty if tools are not advertised).
    pub tools: Vec<Tool>,
    /// Every resource (empty if resources are not advertised).
    pub resources: Vec<Resource>,
    /// Every resource template (empty if resources are not advertised).
    pub resource_templates: Vec<ResourceTemplate>,
    /// Every prompt (empty if prompts are not advertised).
    pub prompts: Vec<Prompt>,
    /// Until when each list may be taken as current, from the server's caching hints.
    pub freshness: Freshness,
}

/// Until when each list of a [`Listing`] may be taken as current without asking again: the
/// server's caching hints (`ttlMs`, protocol 2026-07-28), counted from when each page arrived,
/// the earliest page deciding. `None`: stale at once (no hint, a zero hint, or a server of an
/// earlier revision). [`Manager::refresh`](crate::Manager::refresh) asks again only for the
/// stale lists; a `list_changed` notification makes them all stale.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Freshness {
    /// Until when the tools are current.
    pub tools: Option<Instant>,
    /// Until when the resources are current.
    pub resources: Option<Instant>,
    /// Until when the resource templates are current.
    pub resource_templates: Option<Instant>,
    /// Until when the prompts are current.
    pub prompts: Option<Instant>,
}

/// A list as [`list_all`] returns it: its items, and until when they are current.
type Fetched<T> = (Vec<T>, Option<Instant>);

impl Listing {
    /// Lists everything the server advertises, following every page cursor. The four lists are
    /// asked for at once (a server answers them in parallel), each request within `timeout`.
    pub(crate) async fn fetch(
        requests: &Requests,
        timeout: Duration,
    ) -> Result<Self, RequestFailure> {
        Self::fetch_stale(requests, timeout, None).await
    }

    /// Lists again what is stale in `previous` (see [`Freshness`]), keeping the lists that are
    /// still current; everything when there is no `previous`.
    pub(crate) async fn fetch_stale(
        requests: &Requests,
        timeout: Duration,
        previous: Option<&Listing>,
    ) -> Result<Self, RequestFailure> {
        let info = requests.peer().peer_info();
        let capabilities = info
            .as_ref()
            .map(|info| info.capabilities.clone())
            .unwrap_or_default();
        let resources = capabilities.resources.is_some();
        let now = Instant::now();
        let current = |fresh: fn(&Freshness) -> Option<Instant>| {
            previous.filter(|previous| fresh(&previous.freshness).is_some_and(|until| now < until))
        };
        let ((mut tools, tools_fresh), resources, templates, prompts) = futures::future::try_join4(
            again_or_kept(
                current(|fresh| fresh.tools).map(|kept| (kept.tools.clone(), kept.freshness.tools)),
                list_all(requests, timeout, capabilities.tools.is_some(), tools_page),
            ),
            again_or_kept(
                current(|fresh| fresh.resources)
                    .map(|kept| (kept.resources.clone(), kept.freshness.resources)),
                list_all(requests, timeout, resources, resources_page),
            ),
            again_or_kept(
                current(|fresh| fresh.resource_templates).map(|kept| {
                    (
                        kept.resource_templates.clone(),
                        kept.freshness.resource_templates,
                    )
                }),
                list_all(requests, timeout, resources, templates_page),
            ),
            again_or_kept(
                current(|fresh| fresh.prompts)
                    .map(|kept| (kept.prompts.clone(), kept.freshness.prompts)),
                list_all(
                    requests,
                    timeout,
                    capabilities.prompts.is_some(),
                    prompts_page,
                ),
            ),
        )
        .await?;
        if let Some(declared) = requests.tool_headers() {
            mirror_param_headers(&mut tools, declared);
        }
        share_schemas(&mut tools);
        Ok(Listing {
            server_info: info.as_ref().and_then(|info| info.server_info.clone()),
            protocol_version: info.as_ref().map(|info| info.protocol_version.clone()),
            instructions: info.as_ref().and_then(|info| info.instructions.clone()),
            capabilities,
            tools,
            resources: resources.0,
            resource_templates: templates.0,
            prompts: prompts.0,
            freshness: Freshness {
                tools: tools_fresh,
                resources: resources.1,
                resource_templates: templates.1,
                prompts: prompts.1,
            },
        })
    }

    /// The server's name, or `"unknown"`.
    pub fn server_name(&self) -> &str {
        self.server_info
            .as_ref()
            .map_or("unknown", |info| info.name.as_str())
    }
}

/// A list still current, or else the request that lists it again (not started unless needed).
/// Boxed: four lists' page loops side by side would make every future that lists (a connect, a
/// refresh) several kilobytes larger, and deep ones overflow a test thread's stack.
fn again_or_kept<'a, T: Send + 'a>(
    kept: Option<Fetched<T>>,
    again: impl Future<Output = Result<Fetched<T>, RequestFailure>> + Send + 'a,
) -> futures::future::BoxFuture<'a, Result<Fetched<T>, RequestFailure>> {
    Box::pin(async move {
        match kept {
            Some(kept) => Ok(kept),
            None => again.await,
        }
    })
}

/// One page's items, the cursor of the next page (if there is one), and the page's caching hint
/// in milliseconds (if it gave one).
type PageItems<T> = (Vec<T>, Option<String>, Option<u64>);

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
            ServerResult::ListToolsResult(page) => {
                Some((page.tools, page.next_cursor, page.ttl_ms))
            }
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
            ServerResult::ListResourcesResult(page) => {
                Some((page.resources, page.next_cursor, page.ttl_ms))
            }
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
                Some((page.resource_templates, page.next_cursor, page.ttl_ms))
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
            ServerResult::ListPromptsResult(page) => {
                Some((page.prompts, page.next_cursor, page.ttl_ms))
            }
            _ => None,
        },
    }
}

/// Every item of one list (nothing when `advertised` is false), page after page. A cursor the
/// server hands out twice would loop forever, and so would a server that invents a new cursor for
/// every page: each is an error naming the method and saying which of the two it was.
async fn list_all<T>(
    requests: &Requests,
    timeout: Duration,
    advertised: bool,
    kind: fn() -> Page<T>,
) -> Result<Fetched<T>, RequestFailure> {
    let mut items = Vec::new();
    if !advertised {
        return Ok((items, None));
    }
    // The earliest end of any page's freshness; a page without a hint is stale at once.
    let mut fresh_until: Option<Option<Instant>> = None;
    let page = kind();
    let mut seen = HashSet::new();
    let mut cursor = None;
    let mut pages = 0usize;
    loop {
        let params = PaginatedRequestParams::default().with_cursor(cursor);
        let result = requests.send((page.request)(params), timeout).await?;
        pages += 1;
        let Some((mut page_items, next, ttl_ms)) = (page.read)(result) else {
            return Err(RequestFailure::Misbehaved(format!(
                "the server answered {} with another kind of result",
                page.method
            )));
        };
        items.append(&mut page_items);
        let page_fresh = ttl_ms
            .filter(|ttl| *ttl > 0)
            .and_then(|ttl| Instant::now().checked_add(Duration::from_millis(ttl)));
        fresh_until = Some(match fresh_until {
            None => page_fresh,
            Some(earlier) => earlier.zip(page_fresh).map(|(a, b)| a.min(b)),
        });
        let Some(next) = next else {
            return Ok((items, fresh_until.flatten()));
        };
        if pages >= MAX_PAGES {
            return Err(RequestFailure::Misbehaved(format!(
                "the server's {} pages never end: over {MAX_PAGES_TEXT} pages",
                page.method
            )));
        }
        if !seen.insert(next.clone()) {
            // The cursor is the server's text: quoted with Debug (escaped) and bounded.
            let shown: String = next.chars().take(64).collect();
            return Err(RequestFailure::Misbehaved(format!(
                "the server's {} pages never end: cursor {shown:?} repeated (page {pages})",
                page.method
            )));
        }
        cursor = Some(next);
    }
}

/// Tool schemas seen in any session, by a hash of their JSON; held weakly, so a schema lives only
/// as long as a session that lists it.
static SCHEMAS: Mutex<SchemaTable> = Mutex::new(SchemaTable {
    by_hash: None,
    interned: 0,
});

struct SchemaTable {
    by_hash: Option<HashMap<u64, Vec<Weak<JsonObject>>>>,
    interned: usize,
}

/// Makes identical tool schemas share one allocation. A schema is a tree of maps, often the
/// largest part of what a session keeps, and a test opening hundreds of sessions to one server
/// would otherwise hold hundreds of copies of each.
fn share_schemas(tools: &mut [Tool]) {
    let mut table = SCHEMAS.lock().unwrap_or_else(PoisonError::into_inner);
    for tool in tools {
        tool.input_schema = table.share(&tool.input_schema);
        if let Some(schema) = &mut tool.output_schema {
            *schema = table.share(schema);
        }
    }
}

impl SchemaTable {
    /// Entries of ended sessions are swept after this many schemas have been looked up.
    const SWEEP_EVERY: usize = 1024;

    fn share(&mut self, schema: &Arc<JsonObject>) -> Arc<JsonObject> {
        let Some(hash) = json_hash(schema) else {
            return Arc::clone(schema);
        };
        self.interned += 1;
        if self.interned.is_multiple_of(Self::SWEEP_EVERY) {
            self.sweep();
        }
        let same = self
            .by_hash
            .get_or_insert_with(HashMap::new)
            .entry(hash)
            .or_default();
        if let Some(shared) = same
            .iter()
            .filter_map(Weak::upgrade)
            .find(|shared| shared == schema)
        {
            return shared;
        }
        same.retain(|weak| weak.strong_count() > 0);
        same.push(Arc::downgrade(schema));
        Arc::clone(schema)
    }

    fn sweep(&mut self) {
        if let Some(by_hash) = &mut self.by_hash {
            by_hash.retain(|_, same| {
                same.retain(|weak| weak.strong_count() > 0);
                !same.is_empty()
            });
        }
    }
}

/// A hash of the schema's JSON text, written straight into the hasher (no string is built).
fn json_hash(schema: &JsonObject) -> Option<u64> {
    struct HashWriter(DefaultHasher);
    impl std::io::Write for HashWriter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.write(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut writer = HashWriter(DefaultHasher::new());
    serde_json::to_writer(&mut writer, schema).ok()?;
    Some(writer.0.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(schema: serde_json::Value) -> Tool {
        let serde_json::Value::Object(schema) = schema else {
            panic!("a schema is an object");
        };
        Tool::new("t", "a tool", Arc::new(schema))
    }

    #[test]
    fn a_tool_with_invalid_header_declarations_is_dropped_and_valid_ones_are_registered() {
        let named = |name: &str, schema: serde_json::Value| {
            let mut tool = tool(schema);
            tool.name = name.to_owned().into();
            tool
        };
        let mut tools = vec![
            named("plain", serde_json::json!({"type": "object"})),
            named(
                "sql",
                serde_json::json!({"type": "object", "properties": {
                    "region": {"type": "string", "x-mcp-header": "Region"}}}),
            ),
            named(
                "broken",
                serde_json::json!({"type": "object", "properties": {
                    "ratio": {"type": "number", "x-mcp-header": "Ratio"}}}),
            ),
        ];
        let declared = mcp_transport::ToolHeaderMap::default();
        mirror_param_headers(&mut tools, &declared);
        let names: Vec<&str> = tools.iter().map(|tool| tool.name.as_ref()).collect();
        assert_eq!(names, ["plain", "sql"]);
        let expected = ParamHeaders::from_schema(&tools[1].input_schema)
            .expect("valid")
            .expect("declared");
        assert_eq!(declared.declarations("sql").as_deref(), Some(&expected));
        assert!(declared.declarations("plain").is_none());
    }

    #[test]
    fn the_page_limit_is_written_as_its_constant() {
        assert_eq!(MAX_PAGES_TEXT.replace(',', ""), MAX_PAGES.to_string());
    }

    #[test]
    fn identical_schemas_share_one_allocation_and_different_ones_do_not() {
        let schema = serde_json::json!({"type": "object", "properties": {"shared-test": {"type": "string"}}});
        let mut first = vec![tool(schema.clone())];
        let mut second = vec![
            tool(schema),
            tool(serde_json::json!({"type": "object", "x-other": 1})),
        ];
        share_schemas(&mut first);
        share_schemas(&mut second);
        assert!(Arc::ptr_eq(&first[0].input_schema, &second[0].input_schema));
        assert!(!Arc::ptr_eq(
            &second[0].input_schema,
            &second[1].input_schema
        ));
    }
}
