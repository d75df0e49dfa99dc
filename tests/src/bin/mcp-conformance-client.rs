//! The client the official MCP conformance suite (`@modelcontextprotocol/conformance`) drives:
//! `mcp-conformance-client [ARGS...] SERVER_URL`, with the scenario in `MCP_CONFORMANCE_SCENARIO`
//! and, for some scenarios, credentials or the tool calls to make as JSON in
//! `MCP_CONFORMANCE_CONTEXT`.
//!
//! It speaks MCP only through `mcp-manager`, as a user of the toolkit would: whatever a scenario
//! needs that the Manager lacks belongs in the Manager. Per scenario it configures the server
//! (OAuth client identity, grant, elicitation policy), connects (logging in with the `follow`
//! browser, since the suite's authorization server approves without a person), and calls the tools
//! the scenario expects. Exit 0 when everything succeeded, 1 otherwise (with the reason on stderr).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use mcp_manager::config::{OAuthConfig, OAuthGrant, ServerConfig, TransportConfig};
use mcp_manager::model::Tool;
use mcp_manager::{ElicitationPolicy, Manager, ManagerOptions, ServerId, Url};
use mcp_oauth::browser::FollowBrowser;
use mcp_oauth::flow::TokenAuthMethod;
use mcp_oauth::store::MemoryStore;
use mcp_transport::http::{HttpClient, HttpOptions, ProxyConfig};
use serde_json::{Map, Value, json};

/// The client metadata document URL the suite's CIMD scenario expects.
const CLIENT_METADATA_URL: &str = "https://conformance-test.local/client-metadata.json";

/// Tools the scenarios expect to be called, with their arguments.
const EXPECTED_TOOLS: &[(&str, &str)] = &[
    ("add_numbers", r#"{"a": 5, "b": 3}"#),
    ("test_client_elicitation_defaults", "{}"),
    ("test-tool", "{}"),
    // SEP-2322 (multi-round-trip requests): called at once, so each round's answers and state
    // must stay with their own request.
    ("test_mrtr_echo_state", "{}"),
    ("test_mrtr_no_state", "{}"),
    ("test_mrtr_unrelated", "{}"),
    ("test_mrtr_no_result_type", "{}"),
];

/// The tool whose input schema the 2020-12 preservation scenario checks, and the tool that takes
/// that schema back as its `schema` argument.
const SCHEMA_FOCAL_TOOL: &str = "json_schema_2020_12_tool";
const SCHEMA_ECHO_TOOL: &str = "json_schema_echo";

/// A tool to call, by name, and its arguments.
type ToolCall = (String, Map<String, Value>);

fn main() -> ExitCode {
    let Some(url) = std::env::args().skip(1).last() else {
        eprintln!(
            "usage: mcp-conformance-client SERVER_URL (scenario in MCP_CONFORMANCE_SCENARIO)"
        );
        return ExitCode::from(2);
    };
    let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
    let context = match std::env::var("MCP_CONFORMANCE_CONTEXT") {
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(value) => value,
            Err(error) => {
                eprintln!("MCP_CONFORMANCE_CONTEXT is not JSON: {error}");
                return ExitCode::from(2);
            }
        },
        Err(_) => Value::Null,
    };
    let level = if std::env::var_os("MCP_CONFORMANCE_DEBUG").is_some() {
        tracing::Level::DEBUG
    } else {
        tracing::Level::INFO
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("no runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(&url, &scenario, &context)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mcp-conformance-client ({scenario}): {message}");
            ExitCode::from(1)
        }
    }
}

fn text(context: &Value, key: &str) -> Option<String> {
    context.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// A URL the harness gave (on the command line or in the scenario's context), parsed.
fn parse_url(url: &str, what: &str) -> Result<Url, String> {
    Url::parse(url).map_err(|error| format!("invalid {what} {url:?}: {error}"))
}

/// The server's configuration for this scenario.
fn server_config(url: &str, scenario: &str, context: &Value) -> Result<ServerConfig, String> {
    let mut config = ServerConfig::http(parse_url(url, "server URL")?)
        .with_connect_timeout(Duration::from_secs(20))
        .with_request_timeout(Duration::from_secs(20));
    let TransportConfig::Http(http) = &mut config.transport else {
        return Ok(config);
    };
    let oauth = http.oauth.get_or_insert_with(OAuthConfig::default);
    // Used only when the authorization server says it accepts metadata documents.
    oauth.client_metadata_url = Some(parse_url(CLIENT_METADATA_URL, "client metadata URL")?);
    oauth.client_id = text(context, "client_id");
    oauth.client_secret = text(context, "client_secret");
    oauth.private_key_pem = text(context, "private_key_pem");
    match scenario {
        "auth/client-credentials-basic" => {
            oauth.grant = OAuthGrant::ClientCredentials;
            oauth.token_endpoint_auth_method = Some(TokenAuthMethod::ClientSecretBasic);
        }
        "auth/client-credentials-jwt" => {
            oauth.grant = OAuthGrant::ClientCredentials;
            oauth.token_endpoint_auth_method = Some(TokenAuthMethod::PrivateKeyJwt);
        }
        // The suite renamed the scenario in 0.2 (the pinned 0.1.16 still uses the old name).
        "auth/cross-app-access-complete-flow" | "auth/enterprise-managed-authorization" => {
            oauth.grant = OAuthGrant::EnterpriseManaged;
            oauth.token_endpoint_auth_method = Some(TokenAuthMethod::ClientSecretBasic);
            oauth.idp_token_endpoint = text(context, "idp_token_endpoint")
                .map(|endpoint| parse_url(&endpoint, "idp_token_endpoint"))
                .transpose()?;
            oauth.idp_client_id = text(context, "idp_client_id");
            oauth.id_token = text(context, "idp_id_token");
        }
        // Workload identity federation (SEP-1933): the workload's JWT is the context's; the suite
        // also gives expired and wrongly addressed ones, for clients that test their refusal.
        "auth/wif-jwt-bearer" => {
            oauth.grant = OAuthGrant::JwtBearer;
            oauth.assertion = text(context, "valid_jwt");
        }
        _ => {}
    }
    Ok(config)
}

async fn run(url: &str, scenario: &str, context: &Value) -> Result<(), String> {
    let mut http_options = HttpOptions::default();
    http_options.proxy = ProxyConfig::Direct;
    let http = HttpClient::new(http_options.clone()).map_err(|error| error.to_string())?;
    let mut options = ManagerOptions::default();
    options.http = http_options;
    options.token_store = Some(Arc::new(MemoryStore::new()));
    options.browser = Some(Arc::new(FollowBrowser::new(http)));
    options.login_timeout = Duration::from_secs(20);
    if scenario.starts_with("elicitation") {
        options.elicitation = ElicitationPolicy::AcceptDefaults;
    }
    let manager = Manager::new(options).map_err(|error| error.to_string())?;
    let config = server_config(url, scenario, context)?;
    let outcome = exercise(&manager, &config, scenario, context).await;
    manager.shutdown(Duration::from_secs(2)).await;
    outcome
}

/// Connects (discovery lists the tools) and calls the tools the scenario expects.
async fn exercise(
    manager: &Manager,
    config: &ServerConfig,
    scenario: &str,
    context: &Value,
) -> Result<(), String> {
    let id = manager
        .connect("conformance", config)
        .await
        .map_err(|error| error.to_string())?;
    if scenario.starts_with("sep-2640") {
        return use_skills(manager, id, scenario).await;
    }
    let tools: Vec<Tool> = manager
        .listing(id)
        .map(|discovery| discovery.tools.clone())
        .unwrap_or_default();
    let calls = planned_calls(scenario, context, &tools)?;
    let call = |(tool, arguments): ToolCall| async move {
        let result = manager
            .call_tool(id, &tool, Some(arguments))
            .await
            .map_err(|error| format!("calling {tool}: {error}"))?;
        tracing::info!(%tool, result = %json!(result), "called");
        Ok::<(), String>(())
    };
    if scenario.starts_with("sep-2322") {
        futures::future::try_join_all(calls.into_iter().map(call)).await?;
    } else {
        for planned in calls {
            call(planned).await?;
        }
    }
    Ok(())
}

/// SEP-2640 (skills): lists the skills, as a host building its registry does, and nothing more
/// in `no-prefetch`, which checks that listing reads no file. Otherwise uses each skill as a host
/// would: loads it (its `SKILL.md`, verified) and reads its other files, each verified; a skill
/// that fails verification reads nothing further, and the run reports it.
async fn use_skills(manager: &Manager, id: ServerId, scenario: &str) -> Result<(), String> {
    let skills = manager
        .list_skills(id)
        .await
        .map_err(|error| error.to_string())?;
    if scenario == "sep-2640-client-no-prefetch" {
        return Ok(());
    }
    let mut refused = Vec::new();
    for entry in &skills {
        let skill = match manager.load_skill(id, entry).await {
            Ok(skill) => skill,
            Err(error) => {
                refused.push(error.to_string());
                continue;
            }
        };
        for file in skill.files().iter().filter(|file| file.uri != skill.uri()) {
            if let Err(error) = manager.read_skill_file(&skill, &file.uri).await {
                refused.push(error.to_string());
                break;
            }
        }
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(refused.join("; "))
    }
}

/// The tool calls for this scenario: those the suite names in the context's `toolCalls`, with
/// their arguments; the schema echo or nothing where a scenario's server expects that; otherwise
/// the [`EXPECTED_TOOLS`] the server offers, or failing those the first tool it lists.
fn planned_calls(scenario: &str, context: &Value, tools: &[Tool]) -> Result<Vec<ToolCall>, String> {
    if let Some(named) = context.get("toolCalls") {
        return context_calls(named);
    }
    match scenario {
        // The scenario watches whether listing fetches a network `$ref` in the schema; its server
        // answers only the listing, so calling the tool would fail a run that passed.
        "json-schema-ref-no-deref" => return Ok(Vec::new()),
        // The server cannot see the schema the client kept, so the client sends it back.
        "json-schema-2020-12-preservation" => {
            let focal = tools
                .iter()
                .find(|tool| tool.name == SCHEMA_FOCAL_TOOL)
                .ok_or_else(|| format!("the server does not list {SCHEMA_FOCAL_TOOL}"))?;
            let mut arguments = Map::new();
            arguments.insert(
                "schema".to_owned(),
                Value::Object(focal.input_schema.as_ref().clone()),
            );
            return Ok(vec![(SCHEMA_ECHO_TOOL.to_owned(), arguments)]);
        }
        _ => {}
    }
    let offered = |name: &str| tools.iter().any(|tool| tool.name == name);
    let mut calls: Vec<ToolCall> = EXPECTED_TOOLS
        .iter()
        .filter(|(name, _)| offered(name))
        .map(|(name, arguments)| {
            let arguments =
                serde_json::from_str::<Map<String, Value>>(arguments).unwrap_or_default();
            ((*name).to_owned(), arguments)
        })
        .collect();
    if calls.is_empty()
        && let Some(first) = tools.first()
    {
        calls.push((first.name.to_string(), Map::new()));
    }
    Ok(calls)
}

/// The context's `toolCalls`: `[{"name": ..., "arguments": {...}}]`. Arguments are passed on as
/// given, nulls included, since how the client treats them is what such scenarios check.
fn context_calls(named: &Value) -> Result<Vec<ToolCall>, String> {
    let malformed = || format!("MCP_CONFORMANCE_CONTEXT has malformed toolCalls: {named}");
    named
        .as_array()
        .ok_or_else(malformed)?
        .iter()
        .map(|call| {
            let name = call
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(malformed)?;
            let arguments = match call.get("arguments") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(arguments)) => arguments.clone(),
                Some(_) => return Err(malformed()),
            };
            Ok((name.to_owned(), arguments))
        })
        .collect()
}
