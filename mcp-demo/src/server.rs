//! The demo's MCP behaviour: its identity, tools and prompts, served through rmcp.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    handler::server::{
        router::{prompt::PromptRouter, tool::ToolRouter},
        tool::schema_for_output,
        wrapper::Parameters,
    },
    model::{
        CallToolResult, ContentBlock, Implementation, ListResourceTemplatesResult,
        ListResourcesResult, PaginatedRequestParams, PromptMessage, PromptsCapability,
        ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse, ResourcesCapability,
        Role, ServerCapabilities, ServerConfig, ToolsCapability,
    },
    prompt, prompt_handler, prompt_router, schemars,
    service::RequestContext,
    tool, tool_handler, tool_router,
};
use serde::Deserialize;
use serde_json::Value;

use super::resources;

/// The demo server's name, as reported in `initialize`.
pub const SERVER_NAME: &str = "mcpcord-demo";

/// The longest the `sleep` tool waits; longer requests are a tool error.
pub const MAX_SLEEP: Duration = Duration::from_secs(10);

/// [`MAX_SLEEP`] in milliseconds, as the `sleep` tool's schema and messages give it.
const MAX_SLEEP_MS: u64 = 10_000;

const INSTRUCTIONS: &str = "The mcpcord demo server: a small, self-contained MCP server for trying \
    MCP clients such as mcpcord. Tools: echo, add, sleep, fail, time. Resources: demo://readme, \
    demo://config and the template demo://items/{id}. Prompts: greet, summarize. It keeps no \
    state and touches nothing outside its own process.";

/// Arguments of the `echo` tool.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    text: String,
}

/// Arguments of the `add` tool.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct AddArgs {
    /// The left operand.
    a: f64,
    /// The right operand.
    b: f64,
}

/// The structured result of the `add` tool.
#[derive(Debug, schemars::JsonSchema)]
#[expect(
    dead_code,
    reason = "only its schema is used: `add` builds its JSON itself, so integral sums stay integers"
)]
struct AddOutput {
    /// `a + b`.
    sum: f64,
}

/// Arguments of the `sleep` tool.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct SleepArgs {
    /// How long to wait before answering, in milliseconds (at most 10000).
    #[schemars(range(max = 10_000))]
    ms: u64,
}

/// Arguments of the `greet` prompt.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct GreetArgs {
    /// Who to greet.
    name: String,
}

/// Arguments of the `summarize` prompt.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct SummarizeArgs {
    /// The text to summarize.
    text: String,
}

/// The demo MCP server, an rmcp [`ServerHandler`].
///
/// - tools: `echo {text}`, `add {a, b}` (with structured output `{"sum": ...}`), `sleep {ms}` (at
///   most [`MAX_SLEEP`]), `fail {}` (always answers `isError: true`), `time {}` (UTC, RFC 3339);
/// - resources: [`README_URI`](super::README_URI) (Markdown), [`CONFIG_URI`](super::CONFIG_URI)
///   (JSON), and the template [`ITEM_TEMPLATE`](super::ITEM_TEMPLATE);
/// - prompts: `greet {name}`, `summarize {text}`.
///
/// It holds no state, so one value can serve any number of sessions; serve it over any rmcp
/// transport with [`rmcp::ServiceExt::serve`], or use [`serve_stdio`](super::serve_stdio) and
/// [`DemoHttpServer`](super::DemoHttpServer).
#[derive(Debug, Clone)]
pub struct DemoServer {
    tool_router: ToolRouter<Self>,
    prompt_router: PromptRouter<Self>,
    era: DemoEra,
}

/// Which protocol eras the demo speaks (`mcpcord serve-demo --era`), so a client can be tried
/// against each: both (rmcp's default), or one only, as servers built for one revision do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DemoEra {
    /// 2026-07-28 (`server/discover`, no handshake) and every revision with `initialize`.
    #[default]
    Both,
    /// 2026-07-28 only: `initialize` is refused with an unsupported-version error.
    Modern,
    /// The revisions with `initialize` only: `server/discover` is refused with an
    /// unsupported-version error listing them.
    Legacy,
}

impl Default for DemoServer {
    fn default() -> Self {
        Self::new()
    }
}

impl DemoServer {
    /// The demo server, speaking both protocol eras.
    pub fn new() -> Self {
        Self::with_era(DemoEra::Both)
    }

    /// The demo server, speaking `era`.
    pub fn with_era(era: DemoEra) -> Self {
        Self {
            tool_router: Self::tool_router(),
            prompt_router: Self::prompt_router(),
            era,
        }
    }
}

#[tool_router]
impl DemoServer {
    /// Sends the text back.
    #[tool(description = "Return the given text unchanged")]
    fn echo(&self, Parameters(EchoArgs { text }): Parameters<EchoArgs>) -> String {
        text
    }

    /// Adds two numbers; the sum comes as structured content and as its JSON text.
    #[tool(
        description = "Add two numbers; the result is structured: {\"sum\": a + b}",
        output_schema = schema_for_output::<AddOutput>()
    )]
    fn add(&self, Parameters(AddArgs { a, b }): Parameters<AddArgs>) -> CallToolResult {
        match number(a + b) {
            Some(sum) => CallToolResult::structured(serde_json::json!({ "sum": sum })),
            None => tool_error(format!("{a} + {b} is not a finite number")),
        }
    }

    /// Waits, then answers `slept`; refuses waits longer than [`MAX_SLEEP`].
    #[tool(
        description = "Wait for the given number of milliseconds (at most 10000), then answer \"slept\""
    )]
    async fn sleep(&self, Parameters(SleepArgs { ms }): Parameters<SleepArgs>) -> CallToolResult {
        if ms > MAX_SLEEP_MS {
            return tool_error(format!(
                "ms must be at most {MAX_SLEEP_MS} (10 s), got {ms}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(ms)).await;
        CallToolResult::success(vec![ContentBlock::text("slept")])
    }

    /// Answers with a tool-level error, to show how clients report one.
    #[tool(description = "Always fail: answers with a tool error (isError: true)")]
    fn fail(&self) -> CallToolResult {
        tool_error("this tool always fails: it shows how a tool error (isError: true) looks")
    }

    /// The current time in UTC.
    #[tool(description = "The current UTC time in RFC 3339, e.g. 2025-01-31T12:00:00Z")]
    fn time(&self) -> CallToolResult {
        match rfc3339(SystemTime::now()) {
            Some(now) => CallToolResult::success(vec![ContentBlock::text(now)]),
            None => tool_error("the system clock is outside what RFC 3339 can express"),
        }
    }
}

// rmcp's `#[prompt]` generates undocumented `pub fn greet_prompt_attr()` and
// `summarize_prompt_attr()`; `#[tool]` documents its own.
#[allow(missing_docs)]
#[prompt_router]
impl DemoServer {
    /// Asks the model to greet someone.
    #[prompt(name = "greet", description = "Greet someone by name")]
    async fn greet(
        &self,
        Parameters(GreetArgs { name }): Parameters<GreetArgs>,
    ) -> Vec<PromptMessage> {
        vec![PromptMessage::new_text(
            Role::User,
            format!("Please greet {name} warmly, in one short sentence."),
        )]
    }

    /// Asks the model to summarize a text.
    #[prompt(
        name = "summarize",
        description = "Summarize a text in one or two sentences"
    )]
    async fn summarize(
        &self,
        Parameters(SummarizeArgs { text }): Parameters<SummarizeArgs>,
    ) -> Vec<PromptMessage> {
        vec![PromptMessage::new_text(
            Role::User,
            format!("Summarize the following text in one or two sentences:\n\n{text}"),
        )]
    }
}

#[tool_handler(router = self.tool_router)]
#[prompt_handler(router = self.prompt_router)]
impl ServerHandler for DemoServer {
    fn supported_protocol_versions(&self) -> std::borrow::Cow<'static, [ProtocolVersion]> {
        let known = ProtocolVersion::KNOWN_VERSIONS;
        let legacy = |version: &&ProtocolVersion| version.has_initialize();
        match self.era {
            DemoEra::Modern => known
                .iter()
                .filter(|version| !legacy(version))
                .cloned()
                .collect::<Vec<_>>()
                .into(),
            DemoEra::Legacy => known
                .iter()
                .filter(legacy)
                .cloned()
                .collect::<Vec<_>>()
                .into(),
            _ => known.into(),
        }
    }

    fn get_info(&self) -> ServerConfig {
        let mut capabilities = ServerCapabilities::default();
        let mut tools = ToolsCapability::default();
        tools.list_changed = Some(false);
        capabilities.tools = Some(tools);
        let mut resources = ResourcesCapability::default();
        resources.list_changed = Some(false);
        capabilities.resources = Some(resources);
        let mut prompts = PromptsCapability::default();
        prompts.list_changed = Some(false);
        capabilities.prompts = Some(prompts);
        ServerConfig::new(capabilities)
            .with_server_info(
                Implementation::new(SERVER_NAME, env!("CARGO_PKG_VERSION"))
                    .with_title("mcpcord demo server"),
            )
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(resources::list()))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(
            resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        resources::read(&request.uri).map(Into::into)
    }
}

fn tool_error(message: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message.into())])
}

/// `value` as JSON, as an integer when it is one (so `1 + 2` gives `3`, not `3.0`), or `None` when
/// it is not finite, which JSON cannot express.
fn number(value: f64) -> Option<Value> {
    // Within ±2^53 every integer is exact in an f64, so the conversion loses nothing.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if !value.is_finite() {
        None
    } else if value.fract() == 0.0 && value.abs() <= EXACT {
        Some(Value::from(value as i64))
    } else {
        Some(Value::from(value))
    }
}

/// `time` in RFC 3339 to the second, or `None` for a clock humantime cannot format.
fn rfc3339(time: SystemTime) -> Option<String> {
    // humantime panics on times before the epoch and fails (rather than panics, through
    // `write!`) after the year 9999.
    time.duration_since(UNIX_EPOCH).ok()?;
    let mut text = String::new();
    write!(text, "{}", humantime::format_rfc3339_seconds(time)).ok()?;
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_sums_are_integers_and_others_stay_fractional() {
        assert_eq!(number(3.0), Some(serde_json::json!(3)));
        assert_eq!(number(-0.5), Some(serde_json::json!(-0.5)));
        assert_eq!(number(f64::INFINITY), None);
        assert_eq!(number(f64::NAN), None);
    }

    #[test]
    fn times_format_as_rfc3339_and_unformattable_clocks_give_none() {
        let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(rfc3339(time).as_deref(), Some("2023-11-14T22:13:20Z"));
        let before_epoch = UNIX_EPOCH.checked_sub(Duration::from_secs(1));
        if let Some(before_epoch) = before_epoch {
            assert_eq!(rfc3339(before_epoch), None);
        }
        let after_9999 = UNIX_EPOCH.checked_add(Duration::from_secs(253_402_300_800));
        if let Some(after_9999) = after_9999 {
            assert_eq!(rfc3339(after_9999), None);
        }
    }

    #[test]
    fn the_sleep_bound_matches_its_millisecond_form() {
        assert_eq!(MAX_SLEEP, Duration::from_millis(MAX_SLEEP_MS));
    }
}
