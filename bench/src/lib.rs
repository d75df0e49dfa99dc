//! What every benchmark subject shares: the command line, the workloads, the one JSON line of
//! results, and the few facts read from `/proc`.
//!
//! Each subject is a binary (`bench-ours`, `bench-rmcp-raw`, `bench-floor`; the Python SDK's is
//! `bench/python/bench_client.py`, the TypeScript SDK's `bench/node/bench_client.cjs`, legacy SSE
//! only) run by `cargo xtask bench` as
//!
//! ```text
//! bench-SUBJECT --workload W --transport stdio|http|sse [--sessions N] [--calls N] [--repeat N]
//!     [--protocol modern|legacy] -- TARGET...
//! ```
//!
//! `--protocol` tells a subject which protocol era to speak (see [`Protocol`]); without it each
//! client opens a session the way it does by default.
//!
//! where TARGET is the server command and its arguments (stdio), or the server's URL: the MCP
//! endpoint (http, streamable HTTP) or the SSE stream's URL (sse, the legacy HTTP+SSE transport of
//! protocol 2024-11-05). It prints
//! exactly one JSON line on stdout, `{"subject", "workload", "transport", METRIC: number, ...}`, and
//! exits 0; any failure is a message on stderr and exit status 1, so a broken subject can never pass
//! for a fast one. This is not for measuring servers: the server is the same for every subject.
//!
//! One binary here is a server, not a subject: `bench-rmcp-stock-server`, rmcp's streamable HTTP
//! service served untuned (no `TCP_NODELAY`), one of the stock servers the HTTP rows also run
//! against.
//!
//! Three variables vary how a subject runs, for the table's variant rows:
//! `MCP_BENCH_RUNTIME=current_thread` puts an async subject on a one-thread runtime ("1 thread";
//! else the multi-threaded one `#[tokio::main]` gives); `MCP_BENCH_CALLER=task` makes the
//! sequential calls from a spawned task ("from a task"); `MCP_BENCH_ONE_CPU=1` pins the subject,
//! Python included, to the highest-numbered CPU it may use before it starts anything, so the
//! server it spawns shares that core ("one CPU").

pub mod driver;
pub mod procfs;

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

/// The argument every echo call sends.
pub const ECHO_TEXT: &str = "ping";

/// What a run measures. The names are the ones on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Connect, initialize and discover (every page of tools, resources, templates and prompts),
    /// `--repeat` times after one warm-up; metric `connect_ms` (the median).
    Connect,
    /// One session making `--calls` sequential echo calls (after a few untimed warm-up calls);
    /// metrics `calls_per_s`, `p50_call_us` and `p99_call_us` (the median and 99th percentile
    /// call) and `max_call_us` (the slowest single call).
    Sequential,
    /// `--sessions` sessions, each making `--calls` sequential echo calls, all at once; metric
    /// `calls_per_s` (all calls over the time from the first call to the last answer).
    Sessions,
    /// `--sessions` sessions opened in parallel; metric `open_ms` (until the last is ready).
    Open,
    /// `--sessions` idle sessions held open; metric `kib_per_session` (VmRSS growth per session).
    Memory,
    /// An OAuth callback server bound and dropped, `--repeat` times; metric `callback_us` (median).
    Callback,
    /// A Manager holding `--sessions` live stdio connections, dropped; metrics `drop_ms` (until
    /// `drop` returns), `drop_on_cpu_ms` and `drop_waiting_ms` (how much of that the dropping
    /// thread ran, and how long it waited for a CPU) and `reaped_ms` (until no child of this
    /// process is left, zombies included).
    Drop,
}

impl Workload {
    /// Parses a command-line name.
    pub fn parse(name: &str) -> Result<Self, BenchError> {
        Ok(match name {
            "connect" => Self::Connect,
            "sequential" => Self::Sequential,
            "sessions" => Self::Sessions,
            "open" => Self::Open,
            "memory" => Self::Memory,
            "callback" => Self::Callback,
            "drop" => Self::Drop,
            other => return Err(BenchError::new(format!("unknown workload `{other}`"))),
        })
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Sequential => "sequential",
            Self::Sessions => "sessions",
            Self::Open => "open",
            Self::Memory => "memory",
            Self::Callback => "callback",
            Self::Drop => "drop",
        }
    }
}

/// How the subject reaches the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Spawn this command (with these arguments) once per session and talk over its pipes.
    Stdio {
        /// The program.
        command: String,
        /// Its arguments.
        args: Vec<String>,
    },
    /// Open sessions on this streamable HTTP endpoint.
    Http {
        /// The MCP endpoint, e.g. `http://127.0.0.1:41234/mcp`.
        url: String,
    },
    /// Open sessions with the legacy HTTP+SSE transport: a GET stream here, whose `endpoint` event
    /// names where to POST.
    Sse {
        /// The SSE stream's URL, e.g. `http://127.0.0.1:41234/sse`.
        url: String,
    },
}

impl Target {
    /// `stdio`, `http` or `sse`.
    pub fn transport(&self) -> &'static str {
        match self {
            Self::Stdio { .. } => "stdio",
            Self::Http { .. } => "http",
            Self::Sse { .. } => "sse",
        }
    }
}

/// The protocol era a subject is told to speak with `--protocol`.
///
/// Without it each client does what it does by default: raw rmcp's `serve_client` sends
/// `initialize`, our manager probes `server/discover` and falls back to `initialize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// 2026-07-28: `server/discover` first, no session, `_meta` on every request.
    Modern,
    /// The `initialize` handshake of the revisions before 2026-07-28.
    Legacy,
}

impl Protocol {
    /// Parses a command-line name.
    pub fn parse(name: &str) -> Result<Self, BenchError> {
        match name {
            "modern" => Ok(Self::Modern),
            "legacy" => Ok(Self::Legacy),
            other => Err(BenchError::new(format!(
                "--protocol must be modern or legacy, not `{other}`"
            ))),
        }
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Modern => "modern",
            Self::Legacy => "legacy",
        }
    }
}

/// One run's parameters, from the command line.
#[derive(Debug, Clone)]
pub struct Args {
    /// What to measure.
    pub workload: Workload,
    /// The server.
    pub target: Target,
    /// Sessions (for `sessions`, `open`, `memory`, `drop`).
    pub sessions: usize,
    /// Calls per session (for `sequential`, `sessions`).
    pub calls: usize,
    /// Inner repetitions whose median is reported (for `connect`, `callback`).
    pub repeat: usize,
    /// The era the subject is told to speak; `None`: the client's default.
    pub protocol: Option<Protocol>,
}

impl Args {
    /// Reads the process's arguments; see the crate documentation for the syntax.
    pub fn from_env() -> Result<Self, BenchError> {
        Self::parse(std::env::args().skip(1))
    }

    /// Parses arguments (without the program name).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, BenchError> {
        let mut args = args.into_iter();
        let mut workload = None;
        let mut transport = None;
        let mut sessions = 1;
        let mut calls = 100;
        let mut repeat = 5;
        let mut protocol = None;
        let mut rest = Vec::new();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .ok_or_else(|| BenchError::new(format!("{name} needs a value")))
            };
            match arg.as_str() {
                "--workload" => workload = Some(Workload::parse(&value("--workload")?)?),
                "--transport" => transport = Some(value("--transport")?),
                "--sessions" => sessions = count("--sessions", &value("--sessions")?)?,
                "--calls" => calls = count("--calls", &value("--calls")?)?,
                "--repeat" => repeat = count("--repeat", &value("--repeat")?)?,
                "--protocol" => protocol = Some(Protocol::parse(&value("--protocol")?)?),
                "--" => {
                    rest.extend(args.by_ref());
                }
                other => return Err(BenchError::new(format!("unexpected argument `{other}`"))),
            }
        }
        let workload = workload.ok_or_else(|| BenchError::new("--workload is required"))?;
        let mut rest = rest.into_iter();
        let target = match transport.as_deref() {
            Some("stdio") => Target::Stdio {
                command: rest
                    .next()
                    .ok_or_else(|| BenchError::new("stdio needs the server command after `--`"))?,
                args: rest.collect(),
            },
            Some("http") => Target::Http {
                url: rest
                    .next()
                    .ok_or_else(|| BenchError::new("http needs the server URL after `--`"))?,
            },
            Some("sse") => Target::Sse {
                url: rest
                    .next()
                    .ok_or_else(|| BenchError::new("sse needs the SSE URL after `--`"))?,
            },
            Some(other) => {
                return Err(BenchError::new(format!(
                    "--transport must be stdio, http or sse, not `{other}`"
                )));
            }
            None => return Err(BenchError::new("--transport is required")),
        };
        Ok(Self {
            workload,
            target,
            sessions,
            calls,
            repeat,
            protocol,
        })
    }
}

fn count(name: &str, value: &str) -> Result<usize, BenchError> {
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(BenchError::new(format!(
            "{name} must be a positive integer, not `{value}`"
        ))),
    }
}

/// Why a run failed, for the person reading the bench log.
#[derive(Debug)]
pub struct BenchError(String);

impl BenchError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BenchError {}

/// The one JSON line a run prints: who, what, and the metrics.
#[derive(Debug)]
pub struct Report {
    fields: Map<String, Value>,
}

impl Report {
    /// A report for `subject` running `args`.
    pub fn new(subject: &str, args: &Args) -> Self {
        let mut fields = Map::new();
        fields.insert("subject".into(), subject.into());
        fields.insert("workload".into(), args.workload.name().into());
        fields.insert("transport".into(), args.target.transport().into());
        fields.insert("sessions".into(), args.sessions.into());
        fields.insert("calls".into(), args.calls.into());
        if let Some(protocol) = args.protocol {
            fields.insert("protocol".into(), protocol.name().into());
        }
        Self { fields }
    }

    /// Adds a metric, rounded to three decimals.
    pub fn metric(mut self, name: &str, value: f64) -> Self {
        let rounded = (value * 1000.0).round() / 1000.0;
        self.fields.insert(name.into(), rounded.into());
        self
    }

    /// The drop workload's metrics: how long `drop` took (`drop_ms`), how much of that the
    /// dropping thread ran and waited for a CPU (`drop_on_cpu_ms`, `drop_waiting_ms`), and how
    /// long until every child was reaped (`reaped_ms`).
    pub fn drop_times(
        self,
        dropped: Duration,
        dropping: procfs::ThreadTimes,
        reaped: Duration,
    ) -> Self {
        self.metric("drop_ms", dropped.as_secs_f64() * 1e3)
            .metric("drop_on_cpu_ms", dropping.on_cpu.as_secs_f64() * 1e3)
            .metric(
                "drop_waiting_ms",
                dropping.waiting_for_cpu.as_secs_f64() * 1e3,
            )
            .metric("reaped_ms", reaped.as_secs_f64() * 1e3)
    }

    /// Prints the line on stdout.
    pub fn print(self) {
        println!("{}", Value::Object(self.fields));
    }
}

/// The echo call's arguments.
pub fn echo_arguments() -> Map<String, Value> {
    let mut arguments = Map::new();
    arguments.insert("text".into(), ECHO_TEXT.into());
    arguments
}

/// The median of some durations, in milliseconds (0 for none).
pub fn median_ms(samples: &mut [Duration]) -> f64 {
    samples.sort();
    samples
        .get(samples.len() / 2)
        .map_or(0.0, |median| median.as_secs_f64() * 1e3)
}

/// Pins this process to one CPU when `MCP_BENCH_ONE_CPU=1`: the highest-numbered one it may run
/// on (the first is where a machine's own interrupts and daemons tend to run). Call it first in
/// `main`: the threads and processes started afterwards (the runtime's workers, the servers)
/// inherit it, so client and server share one core and no call waits for another core to wake up.
///
/// # Errors
/// When the kernel will not say which CPUs this process may use, or refuses the pin.
pub fn pin_to_one_cpu_if_asked() -> Result<(), BenchError> {
    if std::env::var("MCP_BENCH_ONE_CPU").as_deref() != Ok("1") {
        return Ok(());
    }
    let allowed = rustix::thread::sched_getaffinity(None)
        .map_err(|error| BenchError::new(format!("cannot read this process's CPUs: {error}")))?;
    let cpu = (0..rustix::thread::CpuSet::MAX_CPU)
        .rev()
        .find(|&cpu| allowed.is_set(cpu))
        .ok_or_else(|| BenchError::new("this process may run on no CPU at all"))?;
    let mut one = rustix::thread::CpuSet::new();
    one.set(cpu);
    rustix::thread::sched_setaffinity(None, &one)
        .map_err(|error| BenchError::new(format!("cannot pin to CPU {cpu}: {error}")))
}

/// Runs a subject's `main`: prints the error and exits 1 on failure.
pub fn exit_on_error(result: Result<(), BenchError>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let program = std::env::args().next().unwrap_or_default();
            eprintln!("{program}: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Whether the sequential workload's calls are made from a spawned task (`MCP_BENCH_CALLER=task`)
/// rather than from the future `block_on` runs. On the multi-threaded runtime this decides whether
/// an answer read on a worker wakes another thread (the one in `block_on`) or a task queued on that
/// same worker.
pub fn caller_in_task() -> bool {
    std::env::var("MCP_BENCH_CALLER").as_deref() == Ok("task")
}

/// The tokio runtime an async subject runs on: multi-threaded, unless `MCP_BENCH_RUNTIME` says
/// `current_thread`.
pub fn runtime() -> Result<tokio::runtime::Runtime, BenchError> {
    let mut builder = match std::env::var("MCP_BENCH_RUNTIME").as_deref() {
        Ok("current_thread") => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    builder
        .enable_all()
        .build()
        .map_err(|error| BenchError::new(format!("no runtime: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Args, BenchError> {
        Args::parse(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn stdio_target_is_the_command_after_the_separator() {
        let args = parse("--workload sequential --transport stdio --calls 7 -- srv --stdio")
            .expect("valid");
        assert_eq!(args.workload, Workload::Sequential);
        assert_eq!(args.calls, 7);
        assert_eq!(
            args.target,
            Target::Stdio {
                command: "srv".into(),
                args: vec!["--stdio".into()]
            }
        );
    }

    #[test]
    fn sse_target_is_the_stream_url() {
        let args =
            parse("--workload sessions --transport sse -- http://127.0.0.1:1/sse").expect("valid");
        assert_eq!(
            args.target,
            Target::Sse {
                url: "http://127.0.0.1:1/sse".into()
            }
        );
        assert_eq!(args.target.transport(), "sse");
    }

    #[test]
    fn protocol_is_optional_and_only_modern_or_legacy() {
        let url = "-- http://127.0.0.1:1/mcp";
        let default = parse(&format!("--workload sequential --transport http {url}"));
        assert_eq!(default.expect("valid").protocol, None);
        let modern = parse(&format!(
            "--workload sequential --transport http --protocol modern {url}"
        ));
        assert_eq!(modern.expect("valid").protocol, Some(Protocol::Modern));
        assert!(
            parse(&format!(
                "--workload open --transport http --protocol 2026 {url}"
            ))
            .is_err()
        );
    }

    #[test]
    fn zero_counts_are_refused() {
        assert!(parse("--workload open --transport http --sessions 0 -- http://x").is_err());
    }
}
