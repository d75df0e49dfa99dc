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
//! `requests` (read, prompt, complete, list, ping, log-level), `watch` (a session's notifications,
//! streamed), `live` (spinners, progress bars and server log lines on a terminal's stderr), `auth`
//! (login, logout), `client_side` (roots, and answers to servers' elicitation and sampling
//! requests), `demo`,
//! `render` (tables and `--json`), `content` (images, audio and resources for reading; `--save`),
//! `completions` (`completions SHELL`, `man`), `output` (stdout), `old_store` (the tokens kept
//! under the CLI's old name, imported once), `procs` (its own children, from `/proc`).

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
mod check;
mod client_side;
mod commands;
mod completions;
mod content;
mod demo;
mod live;
mod old_store;
mod output;
mod procs;
mod render;
mod requests;
mod skills;
mod target;
mod watch;

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

/// The command-line client for testing MCP (Model Context Protocol) servers.
///
/// mcpcord connects to MCP servers over stdio or HTTP (with OAuth) to check their health, show
/// what they offer, call their tools, read their resources, get their prompts and benchmark them.
#[derive(Debug, Parser)]
#[command(name = "mcpcord", version)]
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
    #[command(flatten)]
    client_side: client_side::ClientSideArgs,
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
    /// The protocol era to speak: auto (found out, the default), modern (2026-07-28, no
    /// initialize) or legacy (initialize); to check a server's support of one era.
    #[arg(long, global = true, value_enum, value_name = "ERA")]
    protocol: Option<ProtocolArg>,
}

/// `--protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ProtocolArg {
    /// Found out: server/discover first, initialize when the server does not know it.
    Auto,
    /// 2026-07-28 only.
    Modern,
    /// initialize only.
    Legacy,
}

impl From<ProtocolArg> for mcp_manager::config::ProtocolEra {
    fn from(protocol: ProtocolArg) -> Self {
        match protocol {
            ProtocolArg::Auto => Self::Auto,
            ProtocolArg::Modern => Self::Modern,
            ProtocolArg::Legacy => Self::Legacy,
        }
    }
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
    /// List a server's skills, or load one (its SKILL.md, or --file one of its files), each file
    /// verified against the skill's listed size, digest and frontmatter.
    Skills(SkillsArgs),
    /// Stream what a server sends (list changes, resource updates, log messages, progress) until
    /// Ctrl+C; one line per event, or with --json one JSON object per line.
    Watch(WatchArgs),
    /// Open N isolated sessions in parallel, each making M sequential calls; report latencies.
    Bench(BenchArgs),
    /// Check a server against the MCP specification (the conformance suite's checks and more):
    /// one line per check with its MUST/SHOULD level; exit 1 when a MUST fails.
    Check(CheckArgs),
    /// Sign in to an HTTP server with OAuth and store its tokens (under $MCPCORD_HOME).
    Login(LoginArgs),
    /// Delete a server's stored OAuth tokens.
    Logout(LogoutArgs),
    /// Run the built-in demo: the demo server over stdio, over HTTP and behind its demo OAuth
    /// server (logged in to without a browser); health, discovery, calls, shutdown.
    Demo,
    /// Serve the built-in demo MCP server.
    ServeDemo(ServeDemoArgs),
    /// Print a shell completion script (bash, elvish, fish, powershell or zsh).
    Completions(CompletionsArgs),
    /// Print the man page, mcpcord(1), or a command's, in roff (`mcpcord man | man -l -`).
    Man(ManArgs),
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
    /// Save each image, audio clip and binary resource of the result in this directory (named
    /// after the tool, or the resource's URI; never overwriting a file).
    #[arg(long, value_name = "DIR")]
    save: Option<PathBuf>,
    /// An ad-hoc stdio server: the command and its arguments, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(Debug, Args)]
struct ReadArgs {
    /// SERVER URI, or just URI when the server is given after `--`.
    #[arg(required = true, num_args = 1..=2, value_name = "SERVER URI")]
    positionals: Vec<String>,
    /// Save binary contents in this directory (named after the URI's last segment; never
    /// overwriting a file).
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
    /// Save each image, audio clip and binary resource of the messages in this directory (named
    /// after the prompt, or the resource's URI; never overwriting a file).
    #[arg(long, value_name = "DIR")]
    save: Option<PathBuf>,
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
struct CheckArgs {
    /// The server (a configured name or URL); or give a stdio command after `--`.
    server: Option<String>,
    /// The revision to check against: auto (2026-07-28 if the server answers server/discover,
    /// else 2025-11-25), 2025-11-25 or 2026-07-28.
    #[arg(long, value_enum, default_value = "auto", value_name = "REVISION")]
    spec: CheckSpec,
    /// Run only the checks whose id or conformance scenario matches (a prefix, or a glob with
    /// `*`); repeat or separate with commas.
    #[arg(long, value_name = "PATTERN", value_delimiter = ',')]
    only: Vec<String>,
    /// Also write the report as JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<std::path::PathBuf>,
    /// How long one request may take: `10s`, `500ms`, `2m` (default: the server's request
    /// timeout, at most 10 s).
    #[arg(long, value_name = "DURATION", value_parser = check::parse_timeout)]
    timeout: Option<std::time::Duration>,
    /// An ad-hoc stdio server: the command and its arguments, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// `check --spec`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum CheckSpec {
    /// The newest the server speaks.
    Auto,
    /// 2025-11-25: initialize and sessions.
    #[value(name = "2025-11-25")]
    Legacy,
    /// 2026-07-28: server/discover, stateless.
    #[value(name = "2026-07-28")]
    Modern,
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
struct SkillsArgs {
    /// SERVER, then optionally SKILL (SERVER left out when given after `--`); SKILL is a skill's
    /// name or the URI of its SKILL.md.
    #[arg(num_args = 0..=2, value_name = "SERVER SKILL")]
    positionals: Vec<String>,
    /// Print this file of the skill instead (a path relative to the skill, or its URI).
    #[arg(long, value_name = "PATH")]
    file: Option<String>,
    /// An ad-hoc stdio server: the command and its arguments, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(Debug, Args)]
struct WatchArgs {
    /// The server (a configured name or URL); or give a stdio command after `--`.
    server: Option<String>,
    /// Subscribe to updates of this resource (repeatable); without any, only listen.
    #[arg(long = "resource", value_name = "URI")]
    resources: Vec<String>,
    /// Set the server's log level for this session first (debug ... emergency).
    #[arg(long, value_name = "LEVEL")]
    log_level: Option<String>,
    /// Once subscribed, call this tool in the same session (e.g. one that makes the server send
    /// updates or progress); its result is shown as an event.
    #[arg(long, value_name = "TOOL")]
    call: Option<String>,
    /// The arguments of the --call tool as a JSON object.
    #[arg(long, value_name = "JSON", requires = "call")]
    args: Option<String>,
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
    /// Which protocol eras to speak, to try a client against each: both (the default), modern
    /// (2026-07-28 only: no initialize) or legacy (the revisions with initialize only).
    #[arg(long, value_enum, default_value_t = EraArg::Both, conflicts_with = "oauth")]
    era: EraArg,
}

/// `serve-demo --era`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum EraArg {
    /// 2026-07-28 and every revision with `initialize`.
    Both,
    /// 2026-07-28 only.
    Modern,
    /// The revisions with `initialize` only.
    Legacy,
}

impl From<EraArg> for mcp_demo::DemoEra {
    fn from(era: EraArg) -> Self {
        match era {
            EraArg::Both => Self::Both,
            EraArg::Modern => Self::Modern,
            EraArg::Legacy => Self::Legacy,
        }
    }
}

#[derive(Debug, Args)]
struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
struct ManArgs {
    /// The command whose page to print, mcpcord-COMMAND(1); without one, mcpcord(1).
    command: Option<String>,
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
    let cli = match parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    live::init(&cli);
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
    // A form still waiting for the person (the call timed out) must not leave the terminal raw,
    // nor a sampling command outlive mcpcord.
    client_side::restore_terminal();
    live::release_held();
    client_side::kill_sampling_commands();
    code
}

/// The command line, or how a bad one ends: clap's message on stderr and exit 2, and with `--json`
/// also a JSON error (`"kind": "usage"`) on stdout like any other; help and version as usual.
fn parse() -> Result<Cli, ExitCode> {
    use clap::error::ErrorKind;

    Cli::try_parse().map_err(|error| {
        // The parse failed, so `--json` is looked for by hand (before any `--`).
        let json = std::env::args_os()
            .skip(1)
            .take_while(|arg| arg != "--")
            .any(|arg| arg == "--json");
        if !json
            || matches!(
                error.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            )
        {
            error.exit();
        }
        // clap's first paragraph, on one line: what is wrong, without the usage and the tip.
        let text = error.render().to_string();
        let what: Vec<&str> = text
            .lines()
            .take_while(|line| !line.trim().is_empty())
            .map(str::trim)
            .collect();
        let what = what.join(" ");
        render::usage_json(what.strip_prefix("error: ").unwrap_or(&what));
        let _ = error.print();
        ExitCode::from(2)
    })
}

async fn run(cli: Cli) -> ExitCode {
    let serverless = match cli.command {
        Command::Demo => Some("demo"),
        Command::ServeDemo(_) => Some("serve-demo"),
        Command::Completions(_) => Some("completions"),
        Command::Man(_) => Some("man"),
        _ => None,
    };
    if let Some(Err(message)) = serverless.map(|command| {
        target::refuse_ad_hoc_flags(&cli.ad_hoc, command)
            .and_then(|()| client_side::refuse_for(&cli.client_side, command))
    }) {
        return render::usage_error(cli.json, &message);
    }
    match &cli.command {
        Command::Completions(args) => return completions::completions(args.shell),
        Command::Man(args) => return completions::man(args.command.as_deref(), cli.json),
        _ => {}
    }
    if let Command::ServeDemo(args) = &cli.command {
        return demo::serve_demo(args.stdio, args.http, args.oauth, args.era.into()).await;
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
            Ok(http) => {
                options.browser = Some(live::browser(mode, &http, options.login_timeout));
            }
            Err(error) => return render::usage_error(cli.json, &error.to_string()),
        },
        Ok(None) => {}
        Err(message) => return render::usage_error(cli.json, &message),
    }
    if let Err(message) = client_side::configure(&cli, &mut options) {
        return render::usage_error(cli.json, &message);
    }
    let manager = match Manager::new(options) {
        Ok(manager) => manager,
        Err(error) => return render::usage_error(cli.json, &error.to_string()),
    };
    // What `watch` subscribed to, released before the shutdown whichever way it ends.
    let subscriptions = watch::Subscriptions::default();
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
            Command::Skills(args) => skills::skills(&cli, &manager, args).await,
            Command::Watch(args) => watch::watch(&cli, &manager, args, &subscriptions).await,
            Command::Bench(args) => commands::bench(&cli, &manager, args).await,
            Command::Check(args) => check::check(&cli, &manager, args).await,
            Command::Login(args) => auth::login(&cli, &manager, args).await,
            Command::Logout(args) => auth::logout(&cli, &manager, args).await,
            Command::Demo => demo::demo(&cli, &manager).await,
            Command::ServeDemo(_) | Command::Completions(_) | Command::Man(_) => Outcome::Ok,
        }
    };
    // `watch` shows the server's log messages as its own events.
    let show_logs = !matches!(cli.command, Command::Watch(_));
    let outcome = tokio::select! {
        outcome = live::with_server_logs(&manager, show_logs, work) => outcome,
        (what, code) = stopped(stops) => {
            // Not `eprintln!`: after a hang-up stderr may be a dead terminal, and a failed write
            // must not cut the shutdown short with a panic.
            live::clear();
            let _ = writeln!(std::io::stderr(), "mcpcord: {what}; shutting down");
            subscriptions.release(&manager).await;
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
        Outcome::Usage(message) => render::usage_error(cli.json, &message),
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
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    // Servers' log messages are shown by `live`, one sanitised line each; rmcp logs every message
    // it receives at info as a `Debug` dump, which only -vvv shows, and every error our handler
    // answers a server with (a declined sampling request) as a warning with a `Debug` dump, which
    // the person was already told of in a line of their own: -vv shows those.
    let rmcp = match level {
        tracing::Level::TRACE => LevelFilter::TRACE,
        tracing::Level::DEBUG => LevelFilter::WARN,
        _ => LevelFilter::ERROR,
    };
    let filter = Targets::new()
        .with_default(level)
        .with_target("mcp_manager::server_log", LevelFilter::OFF)
        .with_target("rmcp::service", rmcp);
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(live::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .finish()
        .with(filter)
        .try_init();
}
