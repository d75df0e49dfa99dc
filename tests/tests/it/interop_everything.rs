//! Interop with the official reference server, `@modelcontextprotocol/server-everything`, at the version
//! `cargo xtask npm-deps` pins, through each of our transports and rmcp's client: the handshake, every
//! list the server offers (paginated to the end), a tool call, and a clean close.
//!
//! The package lives in `target/npm/`, installed by `cargo xtask npm-deps` (`cargo xtask ci` runs it
//! before the tests). Without it, or without `node`, these tests fail and say what to run: they never
//! pass by skipping.
//!
//! The HTTP server listens on every interface by default, so it is started with
//! `tests/node/loopback-preload.cjs`, which binds it to 127.0.0.1 and reports the port it really got;
//! with `PORT=0` there is no port to guess and no race for it. Nothing here waits by sleeping: the tests
//! read the server's own output, with a generous bound only so a broken server fails instead of hanging.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mcp_tests::support::text_of;
use mcp_transport::TransportError;
use mcp_transport::error::ExitInfo;
use mcp_transport::http::{HttpClient, HttpOptions, HttpTransportOptions, ProxyConfig};
use mcp_transport::stdio::{StdioSpec, StdioTransport};
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation, ProtocolVersion,
};
use rmcp::service::{QuitReason, RoleClient, RunningService};
use rustix::process::{Pid, Signal, kill_process_group};
use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::process::{ChildStderr, ChildStdout};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

/// Only a safety net: a healthy server answers in milliseconds, and starts in about a second.
const BOUND: Duration = Duration::from_secs(30);

/// The server's `serverInfo.name`.
const SERVER_NAME: &str = "mcp-servers/everything";

/// The tools the pinned version registers for a client that declares no capabilities: twelve always,
/// plus `simulate-research-query` once initialized. The roots, sampling and elicitation tools appear
/// only for clients that declare those capabilities.
pub(crate) const TOOLS: &[&str] = &[
    "echo",
    "get-annotated-message",
    "get-env",
    "get-resource-links",
    "get-resource-reference",
    "get-structured-content",
    "get-sum",
    "get-tiny-image",
    "gzip-file-as-resource",
    "simulate-research-query",
    "toggle-simulated-logging",
    "toggle-subscriber-updates",
    "trigger-long-running-operation",
];

/// One static resource per file of the package's `dist/docs/`.
pub(crate) const RESOURCES: &[&str] = &[
    "demo://resource/static/document/architecture.md",
    "demo://resource/static/document/extension.md",
    "demo://resource/static/document/features.md",
    "demo://resource/static/document/how-it-works.md",
    "demo://resource/static/document/instructions.md",
    "demo://resource/static/document/startup.md",
    "demo://resource/static/document/structure.md",
];

pub(crate) const RESOURCE_TEMPLATES: &[&str] = &[
    "demo://resource/dynamic/blob/{resourceId}",
    "demo://resource/dynamic/text/{resourceId}",
];

pub(crate) const PROMPTS: &[&str] = &[
    "args-prompt",
    "completable-prompt",
    "resource-prompt",
    "simple-prompt",
];

/// The line `loopback-preload.cjs` writes to stderr once the server listens.
const LISTENING: &str = "loopback-preload: listening on ";

type Client = RunningService<RoleClient, ClientConfig>;

/// The installed package's entry script. Panics, saying what to run, if `node` or the package is
/// missing.
pub(crate) fn server_entry() -> PathBuf {
    if let Err(error) = Command::new("node").arg("--version").output() {
        panic!(
            "`node` could not be run ({error}): install Node.js with npm, then run `cargo xtask npm-deps`"
        );
    }
    let package = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests package is inside the workspace")
        .join("target/npm/node_modules/@modelcontextprotocol/server-everything");
    assert!(
        package.join("package.json").is_file(),
        "@modelcontextprotocol/server-everything is not installed in {}: run `cargo xtask npm-deps`",
        package.display()
    );
    package.join("dist/index.js")
}

fn client_config() -> ClientConfig {
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("mcp-tests-interop", env!("CARGO_PKG_VERSION")),
    )
    .with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE)
}

fn sorted(names: impl IntoIterator<Item = impl Into<String>>) -> Vec<String> {
    let mut names: Vec<String> = names.into_iter().map(Into::into).collect();
    names.sort();
    names
}

/// Everything a connected client should see of the pinned server, checked list by list.
async fn assert_whole_catalogue(client: &Client) {
    let info = client
        .peer_info()
        .expect("the handshake stored the server's info");
    assert_eq!(
        info.server_info.as_ref().map(|server| server.name.as_str()),
        Some(SERVER_NAME)
    );
    assert_eq!(
        info.protocol_version,
        ProtocolVersion::LATEST_WITH_INITIALIZE
    );

    let tools = client.list_all_tools().await.expect("tools/list answers");
    assert!(
        tools.iter().any(|tool| tool.name == "echo"),
        "echo is listed"
    );
    assert_eq!(sorted(tools.iter().map(|tool| tool.name.as_ref())), TOOLS);

    let resources = client
        .list_all_resources()
        .await
        .expect("resources/list answers");
    assert_eq!(
        sorted(resources.iter().map(|resource| resource.uri.as_str())),
        RESOURCES
    );

    let templates = client
        .list_all_resource_templates()
        .await
        .expect("resources/templates/list answers");
    assert_eq!(
        sorted(
            templates
                .iter()
                .map(|template| template.uri_template.as_str())
        ),
        RESOURCE_TEMPLATES
    );

    let prompts = client
        .list_all_prompts()
        .await
        .expect("prompts/list answers");
    assert_eq!(
        sorted(prompts.iter().map(|prompt| prompt.name.as_str())),
        PROMPTS
    );
}

async fn assert_echo_round_trips(client: &Client) {
    let mut arguments = serde_json::Map::new();
    arguments.insert("message".into(), "hello from rust".into());
    let result = client
        .call_tool(CallToolRequestParams::new("echo").with_arguments(arguments))
        .await
        .expect("tools/call echo answers");
    assert_ne!(result.is_error, Some(true), "echo succeeded: {result:?}");
    assert_eq!(text_of(&result), "Echo: hello from rust");
}

/// A streamable HTTP server-everything bound to 127.0.0.1, killed with its process group on drop.
struct HttpServer {
    child: Child,
    url: String,
    /// Every line the server writes, stdout and stderr interleaved.
    output: UnboundedReceiver<String>,
    drains: Vec<JoinHandle<()>>,
}

impl HttpServer {
    /// Starts the server and returns once it has said where it listens.
    async fn start(entry: &Path) -> Self {
        let preload = Path::new(env!("CARGO_MANIFEST_DIR")).join("node/loopback-preload.cjs");
        let mut command = Command::new("node");
        command
            .arg("--require")
            .arg(&preload)
            .arg(entry)
            .arg("streamableHttp")
            .env_clear()
            .envs(std::env::vars().filter(|(key, _)| key == "PATH" || key == "HOME"))
            .env("PORT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command.spawn().expect("node starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (lines, output) = mpsc::unbounded_channel();
        // From here on the guard owns the child: a failed assertion below kills it.
        let mut server = Self {
            child,
            url: String::new(),
            output,
            drains: vec![
                forward_lines(
                    ChildStdout::from_std(stdout).expect("stdout is a pipe"),
                    lines.clone(),
                ),
                forward_lines(
                    ChildStderr::from_std(stderr).expect("stderr is a pipe"),
                    lines,
                ),
            ],
        };
        let address = server.wait_for_line(LISTENING).await;
        let address: SocketAddr = address
            .parse()
            .unwrap_or_else(|error| panic!("not an address ({error}): {address}"));
        assert_eq!(
            address.ip().to_string(),
            "127.0.0.1",
            "the preload bound loopback"
        );
        server.url = format!("http://{address}/mcp");
        server
    }

    /// Reads the server's output up to a line starting with `prefix`, and returns the rest of it.
    async fn wait_for_line(&mut self, prefix: &str) -> String {
        let mut seen = Vec::new();
        let found = tokio::time::timeout(BOUND, async {
            while let Some(line) = self.output.recv().await {
                if let Some(rest) = line.strip_prefix(prefix) {
                    return Some(rest.to_owned());
                }
                seen.push(line);
            }
            None
        })
        .await;
        match found {
            Ok(Some(rest)) => rest,
            Ok(None) => panic!("the server exited before writing {prefix:?}; it wrote {seen:#?}"),
            Err(_) => {
                panic!("the server did not write {prefix:?} within {BOUND:?}; it wrote {seen:#?}")
            }
        }
    }
}

/// Sends each line of `pipe` to `lines` until the pipe closes, so the server never blocks on a full
/// pipe and the test can wait for what it says.
fn forward_lines<R>(pipe: R, lines: UnboundedSender<String>) -> JoinHandle<()>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut pipe = BufReader::new(pipe).lines();
        while let Ok(Some(line)) = pipe.next_line().await {
            // A closed receiver means the test is done with the output; keep draining regardless.
            let _ = lines.send(line);
        }
    })
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        // The leader is not reaped until the wait below, so its group id cannot have been reused.
        if let Some(group) = i32::try_from(self.child.id()).ok().and_then(Pid::from_raw) {
            let _ = kill_process_group(group, Signal::KILL);
        }
        // SIGKILL ends it at once, so this reaps without waiting.
        let _ = self.child.wait();
        for drain in &self.drains {
            drain.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stdio_transport_sees_the_whole_catalogue_calls_echo_and_the_server_exits_cleanly() {
    let entry = server_entry();
    let spec = StdioSpec::new("node").args([entry.to_string_lossy().into_owned(), "stdio".into()]);
    let transport = StdioTransport::spawn("server-everything", &spec).expect("node starts");
    let process = transport.process();
    let client = match tokio::time::timeout(BOUND, rmcp::serve_client(client_config(), transport))
        .await
        .expect("the handshake finishes in time")
    {
        Ok(client) => client,
        Err(error) => panic!(
            "the handshake failed: {}; stderr: {}",
            process
                .close_reason()
                .or_else(|| TransportError::find_in(&error))
                .map_or_else(|| error.to_string(), |reason| reason.to_string()),
            process.stderr_tail()
        ),
    };

    assert_whole_catalogue(&client).await;
    assert_echo_round_trips(&client).await;

    let quit = client.cancel().await.expect("the service task ends");
    assert!(matches!(quit, QuitReason::Cancelled), "{quit:?}");
    let exit = tokio::time::timeout(BOUND, process.exited())
        .await
        .expect("the server exits and is reaped once the client closes");
    assert_eq!(
        exit,
        ExitInfo::Code(0),
        "closing stdin is enough: the server exits by itself, before any signal"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn streamable_http_transport_sees_the_whole_catalogue_calls_echo_and_ends_the_session() {
    let mut server = HttpServer::start(&server_entry()).await;
    let mut options = HttpOptions::default();
    // Loopback only: a proxy from the environment must not see these requests.
    options.proxy = ProxyConfig::Direct;
    let transport = HttpClient::new(options)
        .expect("the HTTP client builds")
        .transport(&server.url, None, HttpTransportOptions::default())
        .expect("the URL is an http:// URL");
    let client = tokio::time::timeout(BOUND, rmcp::serve_client(client_config(), transport))
        .await
        .expect("the handshake finishes in time")
        .unwrap_or_else(|error| {
            panic!(
                "the handshake with {} failed: {}",
                server.url,
                TransportError::find_in(&error)
                    .map_or_else(|| error.to_string(), |reason| reason.to_string())
            )
        });

    assert_whole_catalogue(&client).await;
    assert_echo_round_trips(&client).await;

    let quit = tokio::time::timeout(BOUND, client.cancel())
        .await
        .expect("the client closes in time (the session DELETE is bounded)")
        .expect("the service task ends");
    assert!(matches!(quit, QuitReason::Cancelled), "{quit:?}");
    // Closing sends DELETE with the session id, and the server ends the session it had.
    server
        .wait_for_line("Received session termination request for session ")
        .await;
}
