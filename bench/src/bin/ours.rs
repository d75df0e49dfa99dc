//! `bench-ours`: our client, through the `Manager` API (`connect`, `call_tool`, `disconnect`), as a
//! user's program would use it; plus the workloads only we have (the OAuth callback server, and
//! `Drop` of a manager with live stdio connections).

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mcp_bench::driver::{self, Subject};
use mcp_bench::{
    Args, BenchError, Protocol, Report, Target, Workload, echo_arguments, median_ms, procfs,
};
use mcp_manager::config::{HttpTransportKind, ProtocolEra, ServerConfig};
use mcp_manager::{Manager, ManagerOptions, ServerId, Url};
use mcp_oauth::callback::{CallbackOptions, CallbackServer};
use mcp_oauth::store::MemoryStore;
use mcp_transport::http::ProxyConfig;

/// How long every child may take to be reaped after the manager is dropped before the run fails.
const REAP_LIMIT: Duration = Duration::from_secs(10);

struct Ours {
    manager: Manager,
    config: ServerConfig,
    next_name: AtomicUsize,
}

impl Subject for Ours {
    type Session = ServerId;

    async fn connect(&self) -> Result<ServerId, BenchError> {
        let name = format!("s{}", self.next_name.fetch_add(1, Ordering::Relaxed));
        self.manager
            .connect(&name, &self.config)
            .await
            .map_err(|error| BenchError::new(format!("connect failed: {error}")))
    }

    async fn echo(&self, session: &ServerId) -> Result<(), BenchError> {
        let result = self
            .manager
            .call_tool(*session, "echo", Some(echo_arguments()))
            .await
            .map_err(|error| BenchError::new(format!("echo failed: {error}")))?;
        if result.content.is_empty() {
            return Err(BenchError::new("echo answered with no content"));
        }
        Ok(())
    }

    async fn close(&self, session: ServerId) {
        let _ = self.manager.disconnect(session).await;
    }
}

fn manager() -> Result<Manager, BenchError> {
    let mut options = ManagerOptions::default();
    // No token files are read or written, and no proxy from the environment stands in between.
    options.token_store = Some(Arc::new(MemoryStore::new()));
    options.http.proxy = ProxyConfig::Direct;
    options.connect_concurrency = 256;
    Manager::new(options).map_err(|error| BenchError::new(format!("no manager: {error}")))
}

/// The server's configuration as a user's would say it: found out (the era too) unless `protocol`
/// names the era, as the config key `protocol` does.
fn server_config(target: &Target, protocol: Option<Protocol>) -> Result<ServerConfig, BenchError> {
    let parse = |url: &str| {
        Url::parse(url).map_err(|error| BenchError::new(format!("invalid URL {url:?}: {error}")))
    };
    let config = match target {
        Target::Stdio { command, args } => ServerConfig::stdio(command.clone(), args.clone()),
        // Streamable HTTP, found out as a user's default config finds it (its first POST answers).
        Target::Http { url } => ServerConfig::http(parse(url)?),
        // Told, as a config saying `"type": "sse"` tells it: no streamable HTTP attempt first.
        Target::Sse { url } => {
            ServerConfig::http(parse(url)?).with_http_transport(HttpTransportKind::LegacySse)
        }
    };
    Ok(match protocol {
        Some(Protocol::Modern) => config.with_protocol(ProtocolEra::Modern),
        Some(Protocol::Legacy) => config.with_protocol(ProtocolEra::Legacy),
        None => config,
    })
}

async fn run(args: Args) -> Result<(), BenchError> {
    let report = Report::new("ours", &args);
    let report = match args.workload {
        Workload::Callback => callback(&args, report)?,
        Workload::Drop => drop_manager(&args, report).await?,
        _ => {
            let subject = Arc::new(Ours {
                manager: manager()?,
                config: server_config(&args.target, args.protocol)?,
                next_name: AtomicUsize::new(0),
            });
            driver::run(subject, &args, report).await?
        }
    };
    report.print();
    Ok(())
}

/// Binds a callback server and drops it, `--repeat` times after a few warm-ups.
fn callback(args: &Args, report: Report) -> Result<Report, BenchError> {
    let once = || {
        let started = Instant::now();
        let server = CallbackServer::bind(CallbackOptions::new())
            .map_err(|error| BenchError::new(format!("callback server: {error}")))?;
        drop(server);
        Ok::<_, BenchError>(started.elapsed())
    };
    for _ in 0..10 {
        once()?;
    }
    let mut samples = (0..args.repeat)
        .map(|_| once())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(report.metric("callback_us", median_ms(&mut samples) * 1e3))
}

/// Connects `--sessions` stdio servers, then times `drop(manager)` and the wait until no child of
/// this process is left (not even a zombie).
async fn drop_manager(args: &Args, report: Report) -> Result<Report, BenchError> {
    let Target::Stdio { .. } = args.target else {
        return Err(BenchError::new("the drop workload needs a stdio server"));
    };
    let manager = manager()?;
    let config = server_config(&args.target, args.protocol)?;
    let servers: Vec<_> = (0..args.sessions)
        .map(|n| (format!("s{n}"), config.clone()))
        .collect();
    for (name, result) in manager.connect_all(&servers).await {
        result.map_err(|error| BenchError::new(format!("connect {name} failed: {error}")))?;
    }
    let children = procfs::child_count();
    if children < args.sessions {
        return Err(BenchError::new(format!(
            "{children} children alive, expected {}",
            args.sessions
        )));
    }
    let before = procfs::ThreadTimes::now()?;
    let started = Instant::now();
    drop(manager);
    let dropped = started.elapsed();
    let dropping = procfs::ThreadTimes::now()?.since(before);
    let reaped = tokio::task::block_in_place(|| procfs::wait_for_no_children(started, REAP_LIMIT))
        .ok_or_else(|| {
            BenchError::new(format!(
                "{} children still there {REAP_LIMIT:?} after the manager was dropped",
                procfs::child_count()
            ))
        })?;
    Ok(report.drop_times(dropped, dropping, reaped))
}

fn main() -> ExitCode {
    mcp_bench::exit_on_error(
        mcp_bench::pin_to_one_cpu_if_asked()
            .and_then(|()| Args::from_env())
            .and_then(|args| mcp_bench::runtime()?.block_on(run(args))),
    )
}
