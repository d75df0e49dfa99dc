//! `mcpcord`: connect to MCP servers, check them, inspect them, call them, benchmark them.
//!
//! Exit codes: 0 ok, 1 a server or tool failed (or the output could not be written), 2 usage or
//! configuration error; stopped by a signal, 128 + its number after a clean shutdown: 129 SIGHUP,
//! 130 SIGINT (Ctrl+C), 143 SIGTERM (`timeout`, systemd, `docker stop`). A closed stdout (`| head`)
//! is not an error.
//!
//! `main` parses the arguments and starts the runtime; `run` builds one `Manager` (a child
//! subreaper, with the browser `--browser` or `$MCPCORD_BROWSER` chooses) and runs the command
//! against it (`serve-demo` needs none). The stop signals are caught before any work starts; each
//! leads to `Manager::shutdown` within a 2 s grace, a wait (at most 1 s) until no child process is
//! left, and the exit code above.
//!
//! Rooms: `target` (what the user typed, to servers), `commands` (health, inspect, call, bench),
//! `requests` (read, prompt, complete, list, ping, log-level), `auth` (login, logout), `demo`,
//! `render` (tables and `--json`), `output` (stdout), `old_store` (the tokens kept under the CLI's
//! old name, imported once), `procs` (its own children, from `/proc`).

/// `println!` that tolerates a closed stdout (`mcpcord ... | head`): output nobody reads is not an
/// error. Any other failed write makes `mcpcord` exit 1 at the end (see `output`).
macro_rules! out {
    () => {{
        $crate::output::line(format_args!(""));
    }};
    ($($arg:tt)*) => {{
        $crate::output::line(format_args!($($arg)*));
    }};
}

mod auth;
mod commands;
mod demo;
mod old_store;
mod output;
mod procs;
mod render;
mod requests;
mod target;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use futures::FutureExt;
use mcp_manager::oauth::BrowserMode;
use mcp_manager::transport::{HttpClient, HttpOptions};
use mcp_manager::{Manager, ManagerOptions};
use tokio::signal::unix::{Signal, SignalKind, signal};

/// How long `mcpcord` gives servers to close before killing them, on exit, Ctrl+C or SIGTERM.
const GRACE: Duration = Duration::from_secs(2);

/// How long, after a stop signal and the shutdown, `mcpcord` waits for its killed servers to be reaped.
const REAP_WAIT: Duration = Duration::from_secs(1);

/// The signals that stop `mcpcord` with a clean shutdown: what it says, and its exit code (128 + the
/// signal's number, what a shell reports for a process the signal killed).
const STOP_SIGNALS: [(SignalKind, &str, u8); 3] = [
    (SignalKind::interrupt(), "interrupted", 130),
    (SignalKind::terminate(), "terminated", 143),
    (SignalKind::hangup(), "hung up", 129),
];

/// Connect to MCP servers: check, inspect, call and benchmark them.
#[derive(Debug, Parser)]
#[command(name = "mcpcord", version, about)]
struct Cli {
    /// The configuration file (else $MCPCORD_CONFIG, ./mcpcord.toml, ./.mcp.json).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print one JSON document on stdout (logs go to stderr).
    #[arg(long, global = true)]
    json: bool,
    /// More logging on stderr (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// How to present an OAuth login: system (the platform's browser), none (print the URL), or
    /// follow (fetch it and follow redirects: for authorization servers that approve without a
    /// person). Default: $MCPCORD_BROWSER, else system when stdin is a terminal; without either, a
    /// server that needs a login fails with a hint to run `mcpcord login`.
    #[arg(long, global = true, value_name = "MODE")]
    browser: Option<BrowserMode>,
    #[command(flatten)]
    ad_hoc: AdHocArgs,
    #[command(subcommand)]
    command: Command,
}

/// How to reach and treat a server given ad hoc (a URL, or a command after `--`); `target` checks
/// and applies them. A configured server takes these from its configuration instead.
#[derive(Debug, Args)]
#[command(next_help_heading = "Ad-hoc servers (a URL, or a command after --)")]
struct AdHocArgs {
    /// Set an environment variable for the stdio server (repeatable).
    #[arg(long = "env", global = true, value_name = "NAME=VALUE")]
    env: Vec<String>,
    /// Give the stdio server all of mcpcord's environment, not only the safe set (PATH, HOME, ...).
    #[arg(long, global = true)]
    inherit_env: bool,
    /// The stdio server's working directory.
    #[arg(long, global = true, value_name = "DIR")]
    cwd: Option<PathBuf>,
    /// Send this header with every request to the HTTP server (repeatable).
    #[arg(long = "header", global = true, value_name = "NAME: VALUE")]
    header: Vec<String>,
    /// Send the bearer token held by this environment variable to the HTTP server.
    #[arg(long, global = true, value_name = "NAME")]
    bearer_env: Option<String>,
    /// The limit on one connect attempt (default 30s).
    #[arg(long, global = true, value_name = "DURATION")]
    connect_timeout: Option<String>,
    /// The limit on each request (default 60s).
    #[arg(long, global = true, value_name = "DURATION")]
    request_timeout: Option<String>,
    /// Connect attempts in all, the first included (default 3; 1: no retry).
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    retries: Option<u32>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Connect to every (or the named) server in parallel and report each one's health.
    Health(Targets),
    /// Show servers' info, tools with their input schemas, resources, templates and prompts (several
    /// servers are connected in parallel).
    Inspect(Targets),
    /// Call a tool and print its result; exit 1 when the tool reports an error.
    Call(CallArgs),
    /// Read a resource: its text, or its binary contents summarised (or saved with --save).
    Read(ReadArgs),
    /// Get a prompt with its arguments and print its messages.
    Prompt(PromptArgs),
    /// Ask for completions of a prompt's or resource template's argument.
    Complete(CompleteArgs),
    /// List one kind of what a server offers: tools, resources, templates or prompts.
    List(ListArgs),
    /// Ping a server and print the round trip time.
    Ping(PingArgs),
    /// Set the level of the log messages a server sends (debug ... emergency).
    LogLevel(LogLevelArgs),
    /// Open N isolated sessions in parallel, each making M sequential calls; report latencies.
    Bench(BenchArgs),
    /// Sign in to an HTTP server with OAuth and store its tokens (under $MCPCORD_HOME).
    Login(LoginArgs),
    /// Delete a server's stored OAuth tokens.
    Logout(LogoutArgs),
    /// Run the built-in demo: the demo server over stdio, over HTTP and behind its demo OAuth
    /// server (logged in to without a browser); health, discovery, calls, shutdown.
    Demo,
    /// Serve the built-in demo MCP server.
    ServeDemo(ServeDemoArgs),
}

/// Servers named in the configuration, `http(s)://` URLs, or an ad-hoc stdio command after `--`.
#[derive(Debug, Args)]
struct Targets {
    /// Configured server names or URLs.
    servers: Vec<String>,
    /// An ad-hoc stdio server: the command and its arguments, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(Debug, Args)]
struct CallArgs {
    /// SERVER TOOL, or just TOOL when the server is given after `--`.
    #[arg(required = true, num_args = 1..=2, value_name = "SERVER TOOL")]
    positionals: Vec<String>,
    /// The tool's arguments as a JSON object.
    #[arg(long, value_name = "JSON")]
    args: Option<String>,
    /// An ad-hoc stdio server: the command and its arguments, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(Debug, Args)]
struct ReadArgs {
    /// SERVER URI, or just URI when the server is given after `--`.
    #[arg(required = true, num_args = 1..=2, value_name = "SERVER URI")]
    positionals: Vec<String>,
    /// Save binary contents in this directory (named after the URI's last segment) instead of
    /// summarising them.
    #[arg(long, value_name = "DIR")]
    save: Option<PathBuf>,
    /// An ad-hoc stdio server: the command and its arguments, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(Debug, Args)]
struct PromptArgs {
    /// SERVER NAME, or just NAME when the server is given after `--`.
    #[arg(required = true, num_args = 1..=2, value_name = "SERVER NAME")]
    positionals: Vec<String>,
    /// The prompt's arguments as a JSON object.
    #[arg(long, value_name = "JSON")]
    args: Option<String>,
    /// An ad-hoc stdio server: the command and its arguments, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("reference").required(true).args(["prompt", "resource"])))]
struct CompleteArgs {
    /// SERVER ARG VALUE, or just ARG VALUE when the server is given after `--`.
    #[arg(required = true, num_args = 2..=3, value_name = "SERVER ARG VALUE")]
    positionals: Vec<String>,
    /// Complete an argument of this prompt.
    #[arg(long, value_name = "NAME")]
    prompt: Option<String>,
    /// Complete an argument of this resource template (its URI template).
    #[arg(long, value_name = "TEMPLATE")]
    resource: Option<String>,
    /// An ad-hoc stdio server: the command and its arguments, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// SERVER KIND, or just KIND when the server is given after `--`; KIND is tools, resources,
    /// templates or prompts.
    #[arg(required = true, num_args = 1..=2, value_name = "SERVER KIND")]
    positionals: Vec<String>,
    /// An ad-hoc stdio server: the command and its arguments, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(Debug, Args)]
struct PingArgs {
    /// The server (a configured name or URL); or give a stdio command after `--`.
    server: Option<String>,
    /// An ad-hoc stdio server: the command and its arguments, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(Debug, Args)]
struct LogLevelArgs {
    /// SERVER LEVEL, or just LEVEL when the server is given after `--`; LEVEL is debug, info,
    /// notice, warning, error, critical, alert or emergency.
    #[arg(required = true, num_args = 1..=2, value_name = "SERVER LEVEL")]
    positionals: Vec<String>,
    /// An ad-hoc stdio server: the command and its arguments, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// The server (a configured name or URL); or give a stdio command after `--`.
    server: Option<String>,
    /// Sessions opened in parallel.
    #[arg(long, default_value_t = 10)]
    sessions: usize,
    /// Sequential calls per session.
    #[arg(long, default_value_t = 100)]
    calls: usize,
    /// The tool to call (default: `echo`).
    #[arg(long, default_value = "echo")]
    tool: String,
    /// The tool's arguments as a JSON object; default: guessed from the tool's schema (a `text` or
    /// `message` string = "bench").
    #[arg(long, value_name = "JSON")]
    args: Option<String>,
    /// An ad-hoc stdio server: the command and its arguments, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(Debug, Args)]
struct LoginArgs {
    /// The server: a configured name or an http(s):// URL.
    server: String,
    /// Scopes to request instead of the configured or advertised ones (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "SCOPES")]
    scopes: Vec<String>,
}

#[derive(Debug, Args)]
struct LogoutArgs {
    /// The server: a configured name or an http(s):// URL.
    server: String,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["stdio", "http"])))]
struct ServeDemoArgs {
    /// Serve over stdin and stdout.
    #[arg(long)]
    stdio: bool,
    /// Serve streamable HTTP at /mcp, and the legacy HTTP+SSE transport at /sse, on this loopback
    /// address (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    http: Option<std::net::SocketAddr>,
    /// With --http: protect /mcp and /sse with OAuth, served by a built-in demo authorization server
    /// on the same address (it approves every request without asking: a demo, never for real data).
    #[arg(long, requires = "http")]
    oauth: bool,
}

/// How a command ended, mapped to the exit code.
#[derive(Debug)]
enum Outcome {
    Ok,
    /// A server or tool failed (exit 1); the details were already printed.
    Failed,
    /// Bad usage or configuration (exit 2).
    Usage(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("mcpcord: could not start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(run(cli));
    // Anything still blocked (a read on stdin) must not hold up the exit.
    runtime.shutdown_background();
    code
}

async fn run(cli: Cli) -> ExitCode {
    let serverless = match cli.command {
        Command::Demo => Some("demo"),
        Command::ServeDemo(_) => Some("serve-demo"),
        _ => None,
    };
    if let Some(Err(message)) =
        serverless.map(|command| target::refuse_ad_hoc_flags(&cli.ad_hoc, command))
    {
        eprintln!("mcpcord: {message}");
        return ExitCode::from(2);
    }
    if let Command::ServeDemo(args) = &cli.command {
        return demo::serve_demo(args.stdio, args.http, args.oauth).await;
    }
    // Registered before any work starts, so an early Ctrl+C or SIGTERM is never lost to the
    // default action, which ends mcpcord at once and leaves its servers running.
    let stops: Vec<(std::io::Result<Signal>, &str, u8)> = STOP_SIGNALS
        .iter()
        .map(|&(kind, what, code)| (signal(kind), what, code))
        .collect();
    if !matches!(cli.command, Command::Demo) {
        old_store::import_once().await;
    }
    let mut options = ManagerOptions::default();
    options.connect_concurrency = 16;
    let mode = if matches!(cli.command, Command::Demo) {
        // The tour logs in to its own OAuth demo server without a person, and leaves nothing in
        // $MCPCORD_HOME.
        options.token_store = Some(std::sync::Arc::new(mcp_manager::oauth::MemoryStore::new()));
        Ok(Some(BrowserMode::Follow))
    } else {
        browser_mode(&cli)
    };
    // mcpcord owns every process it starts, so whatever escapes a server's group may be killed too.
    // (The person's browser is not adopted: the system opener runs with the subreaper paused.)
    options.subreaper = true;
    match mode {
        Ok(Some(mode)) => match HttpClient::new(HttpOptions::default()) {
            Ok(http) => options.browser = Some(mode.browser(&http)),
            Err(error) => {
                eprintln!("mcpcord: {error}");
                return ExitCode::from(2);
            }
        },
        Ok(None) => {}
        Err(message) => {
            eprintln!("mcpcord: {message}");
            return ExitCode::from(2);
        }
    }
    let manager = match Manager::new(options) {
        Ok(manager) => manager,
        Err(error) => {
            eprintln!("mcpcord: {error}");
            return ExitCode::from(2);
        }
    };
    let work = async {
        match &cli.command {
            Command::Health(targets) => commands::health(&cli, &manager, targets).await,
            Command::Inspect(targets) => commands::inspect(&cli, &manager, targets).await,
            Command::Call(args) => commands::call(&cli, &manager, args).await,
            Command::Read(args) => requests::read(&cli, &manager, args).await,
            Command::Prompt(args) => requests::prompt(&cli, &manager, args).await,
            Command::Complete(args) => requests::complete(&cli, &manager, args).await,
            Command::List(args) => requests::list(&cli, &manager, args).await,
            Command::Ping(args) => requests::ping(&cli, &manager, args).await,
            Command::LogLevel(args) => requests::log_level(&cli, &manager, args).await,
            Command::Bench(args) => commands::bench(&cli, &manager, args).await,
            Command::Login(args) => auth::login(&cli, &manager, args).await,
            Command::Logout(args) => auth::logout(&cli, &manager, args).await,
            Command::Demo => demo::demo(&cli, &manager).await,
            Command::ServeDemo(_) => Outcome::Ok,
        }
    };
    let outcome = tokio::select! {
        outcome = work => outcome,
        (what, code) = stopped(stops) => {
            // Not `eprintln!`: after a hang-up stderr may be a dead terminal, and a failed write
            // must not cut the shutdown short with a panic.
            let _ = writeln!(std::io::stderr(), "mcpcord: {what}; shutting down");
            manager.shutdown(GRACE).await;
            reap_children().await;
            return ExitCode::from(code);
        }
    };
    manager.shutdown(GRACE).await;
    if let Err(error) = output::finish() {
        eprintln!("mcpcord: could not write the output: {error}");
        if !matches!(outcome, Outcome::Usage(_)) {
            return ExitCode::from(1);
        }
    }
    match outcome {
        Outcome::Ok => ExitCode::SUCCESS,
        Outcome::Failed => ExitCode::from(1),
        Outcome::Usage(message) => {
            eprintln!("mcpcord: {message}");
            ExitCode::from(2)
        }
    }
}

/// After a stop signal: waits (at most `REAP_WAIT`) until mcpcord has no child process left, not
/// even an unreaped one, so that none is left to init. The tasks the signal aborted (a bench's
/// sessions) are dropped by the runtime's workers while `shutdown` runs, each killing its server
/// on the way, possibly after `shutdown` looked.
async fn reap_children() {
    let deadline = tokio::time::Instant::now() + REAP_WAIT;
    loop {
        // What the servers that were just killed leave behind (mcpcord is a child subreaper).
        mcp_manager::transport::stdio::kill_adopted_orphans();
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let reaped = mcp_manager::transport::stdio::all_reaped(left).await;
        if (reaped && !procs::has_children()) || tokio::time::Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// How logins are presented: `--browser`, else `$MCPCORD_BROWSER`, else the system browser when a
/// person is at the terminal (or asked for a login); otherwise none, so that a server needing a
/// login fails with a hint instead of waiting for a browser nobody sees.
fn browser_mode(cli: &Cli) -> Result<Option<BrowserMode>, String> {
    if let Some(mode) = cli.browser {
        return Ok(Some(mode));
    }
    if let Some(mode) = BrowserMode::from_env().map_err(|error| error.to_string())? {
        return Ok(Some(mode));
    }
    let asked = matches!(cli.command, Command::Login(_));
    Ok((asked || std::io::stdin().is_terminal()).then_some(BrowserMode::System))
}

/// Resolves on the first of the stop signals, with what to say and the exit code (never, if no
/// handler could be installed).
async fn stopped(stops: Vec<(std::io::Result<Signal>, &'static str, u8)>) -> (&'static str, u8) {
    let waits: Vec<_> = stops
        .into_iter()
        .filter_map(|(stream, what, code)| match stream {
            Ok(mut stream) => Some(
                async move {
                    stream.recv().await;
                    (what, code)
                }
                .boxed(),
            ),
            Err(error) => {
                tracing::warn!(%error, "cannot catch the signal for {what}; it will end mcpcord without a clean shutdown");
                None
            }
        })
        .collect();
    if waits.is_empty() {
        return std::future::pending().await;
    }
    futures::future::select_all(waits).await.0
}

fn init_logging(cli: &Cli) {
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => tracing::Level::ERROR,
        (false, 0) => tracing::Level::WARN,
        (false, 1) => tracing::Level::INFO,
        (false, 2) => tracing::Level::DEBUG,
        (false, _) => tracing::Level::TRACE,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
