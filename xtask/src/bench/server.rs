//! The HTTP server one run talks to: our fixture, or a stock SDK server started exactly as it
//! ships; each run gets a fresh one, stopped when the run ends.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::command::TaskError;

use super::setup::Paths;
use super::subjects::{Mode, Server, Stock};

/// A server has this long to print its address before the bench gives up on it.
const SERVER_START_LIMIT: Duration = Duration::from_secs(60);

/// A server over HTTP (streamable, or legacy SSE) on loopback for one run: the fixture or a stock
/// server, which prints `listening on URL` as its first line of stdout. Stopped on drop: the
/// fixture by closing its stdin (it exits when stdin closes), then killed if it lingers; a stock
/// server, which as shipped has no such way out, is killed.
pub(super) struct HttpServer {
    child: Child,
    pub(super) url: String,
    server: Server,
}

impl HttpServer {
    pub(super) fn start(paths: &Paths, server: Server) -> Result<Self, TaskError> {
        let mut command = server_command(paths, server);
        let shown = format!("{command:?}");
        let logs = paths.out.join("logs");
        std::fs::create_dir_all(&logs).map_err(|error| {
            TaskError::new(format!("cannot create {}: {error}", logs.display()))
        })?;
        let err_path = logs.join(format!("server{}.err", server.log_suffix()));
        let stderr = File::create(&err_path).map_err(|error| {
            TaskError::new(format!("cannot create {}: {error}", err_path.display()))
        })?;
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .current_dir(&paths.root)
            .spawn()
            .map_err(|error| TaskError::new(format!("cannot start {shown}: {error}")))?;
        // The first line is the address. The rest (uvicorn's access log, for one) is read and
        // dropped on a thread of its own, so a server that logs to stdout never blocks on a full
        // pipe or writes into a closed one; the thread ends when the server does.
        let (sender, receiver) = std::sync::mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            std::thread::spawn(move || {
                let mut stdout = BufReader::new(stdout);
                let mut line = String::new();
                let read = stdout.read_line(&mut line).map(|_| line);
                let _ = sender.send(read);
                let _ = std::io::copy(&mut stdout, &mut std::io::sink());
            });
        }
        let line = receiver.recv_timeout(SERVER_START_LIMIT);
        let url = match &line {
            Ok(Ok(line)) => line.trim().strip_prefix("listening on ").map(str::to_owned),
            _ => None,
        };
        match url {
            Some(url) => Ok(Self { child, url, server }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
                let tail: Vec<&str> = stderr.lines().rev().take(10).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                Err(TaskError::new(format!(
                    "{} did not announce its address within {}s (got {line:?}); command: {shown}\n{}",
                    server.label(),
                    SERVER_START_LIMIT.as_secs(),
                    tail.join("\n")
                )))
            }
        }
    }
}

/// The command that starts `server` on 127.0.0.1 and a free port.
pub(super) fn server_command(paths: &Paths, server: Server) -> Command {
    let node = |script: PathBuf| {
        let mut command = Command::new("node");
        command
            .arg(script)
            .env("NODE_PATH", paths.node_prefix.join("node_modules"));
        command
    };
    let stock = match server {
        Server::Fixture => {
            let mut command = Command::new(&paths.fixture);
            command.args(["--http", "127.0.0.1:0"]);
            return command;
        }
        // The interop tests' server, run as they run it; it announces its SSE URL (`.../sse`).
        Server::TypescriptSse => {
            return node(
                paths
                    .root
                    .join("tests")
                    .join("node")
                    .join("legacy_sse_server.cjs"),
            );
        }
        Server::Stock(stock) => stock,
    };
    let bench = paths.root.join("bench");
    let mut command = match stock.sdk {
        Stock::Rmcp => Command::new(paths.bench_bin.join("bench-rmcp-stock-server")),
        Stock::Python => {
            let mut command = Command::new(paths.python());
            command.arg(bench.join("python").join("stock_server.py"));
            command
        }
        Stock::Typescript => node(bench.join("node").join("stock_server.cjs")),
    };
    match stock.mode {
        Mode::Stateful => {}
        Mode::Stateless => {
            command.arg("--stateless");
        }
        // rmcp's only (`bench-rmcp-stock-server --modern`).
        Mode::Modern => {
            command.arg("--modern");
        }
    }
    command
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let exited = self.server == Server::Fixture
            && matches!(
                wait_limited_ref(&mut self.child, Duration::from_secs(2)),
                Ok(true | false)
            );
        if !exited {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn wait_limited_ref(child: &mut Child, limit: Duration) -> Result<bool, ()> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            return Ok(status.success());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Err(())
}
