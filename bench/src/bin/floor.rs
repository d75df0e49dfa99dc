//! `bench-floor`: what the server and the pipes cost with no client framework at all. A synchronous
//! JSON-RPC client over the child's stdin and stdout: one line out, read lines until the answer with
//! that id comes back; `serde_json::Value` for parsing, std threads for parallel sessions, no async
//! runtime. Stdio only: over HTTP the floor would be an HTTP client, which is a framework of its own.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::thread;
use std::time::Instant;

use mcp_bench::driver::warm_up_calls;
use mcp_bench::procfs::ThreadTimes;
use mcp_bench::{Args, BenchError, ECHO_TEXT, Report, Target, Workload, median_ms};
use serde_json::{Value, json};

/// The protocol version the floor announces; the fixture (rmcp's server side) accepts it.
const PROTOCOL_VERSION: &str = "2025-06-18";

/// One server process and the pipes to it.
struct Session {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
    line: String,
}

impl Session {
    /// Spawns the server, initializes, and lists everything it advertises (every page).
    fn connect(command: &str, args: &[String]) -> Result<Self, BenchError> {
        let mut spawn = Command::new(command);
        // Its own process group, as our client starts a server, so the drop workload can kill the
        // group.
        std::os::unix::process::CommandExt::process_group(&mut spawn, 0);
        let mut child = spawn
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| BenchError::new(format!("cannot spawn `{command}`: {error}")))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(BenchError::new("the child's pipes are missing"));
        };
        let mut session = Self {
            child,
            stdin,
            stdout: BufReader::new(stdout),
            next_id: 0,
            line: String::new(),
        };
        let initialize = json!({
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": { "name": "bench-floor", "version": "0" },
        });
        let info = session.request("initialize", initialize)?;
        session.send(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))?;
        let capabilities = &info["capabilities"];
        if capabilities.get("tools").is_some() {
            session.list_all("tools/list")?;
        }
        if capabilities.get("resources").is_some() {
            session.list_all("resources/list")?;
            session.list_all("resources/templates/list")?;
        }
        if capabilities.get("prompts").is_some() {
            session.list_all("prompts/list")?;
        }
        Ok(session)
    }

    /// Follows `nextCursor` to the last page.
    fn list_all(&mut self, method: &str) -> Result<(), BenchError> {
        let mut params = json!({});
        loop {
            let page = self.request(method, params)?;
            match page.get("nextCursor").and_then(Value::as_str) {
                Some(cursor) => params = json!({ "cursor": cursor }),
                None => return Ok(()),
            }
        }
    }

    fn echo(&mut self) -> Result<(), BenchError> {
        let result = self.request(
            "tools/call",
            json!({ "name": "echo", "arguments": { "text": ECHO_TEXT } }),
        )?;
        if result["isError"] == Value::Bool(true) || result["content"][0]["text"] != ECHO_TEXT {
            return Err(BenchError::new(format!("unexpected echo result {result}")));
        }
        Ok(())
    }

    /// Sends a request and reads lines until its response; returns the `result`.
    fn request(&mut self, method: &str, params: Value) -> Result<Value, BenchError> {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }))?;
        loop {
            self.line.clear();
            let read = self
                .stdout
                .read_line(&mut self.line)
                .map_err(|error| BenchError::new(format!("reading the server: {error}")))?;
            if read == 0 {
                return Err(BenchError::new(format!(
                    "the server closed stdout before answering {method}"
                )));
            }
            let mut message: Value = serde_json::from_str(&self.line)
                .map_err(|error| BenchError::new(format!("not JSON from the server: {error}")))?;
            if message["id"] != json!(id) {
                continue; // a notification or a request from the server: the floor ignores both
            }
            if let Some(error) = message.get("error") {
                return Err(BenchError::new(format!("{method} failed: {error}")));
            }
            return Ok(message["result"].take());
        }
    }

    fn send(&mut self, message: &Value) -> Result<(), BenchError> {
        let mut bytes = serde_json::to_vec(message)
            .map_err(|error| BenchError::new(format!("serializing: {error}")))?;
        bytes.push(b'\n');
        self.stdin
            .write_all(&bytes)
            .and_then(|()| self.stdin.flush())
            .map_err(|error| BenchError::new(format!("writing to the server: {error}")))
    }

    /// SIGKILLs the server's process group (it leads one of its own).
    fn kill_group(&self) {
        let pid = i32::try_from(self.child.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw);
        if let Some(pid) = pid {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }

    /// Waits for the (killed) server to exit.
    fn reap(mut self) {
        let _ = self.child.wait();
    }

    /// Closes stdin (the server exits on end of input) and reaps the child.
    fn close(self) {
        let Self {
            mut child, stdin, ..
        } = self;
        drop(stdin);
        let _ = child.wait();
    }
}

/// Runs `work` on one thread per item and collects the results in order.
fn on_threads<T: Send, R: Send>(
    items: Vec<T>,
    work: impl Fn(T) -> Result<R, BenchError> + Sync,
) -> Result<Vec<R>, BenchError> {
    thread::scope(|scope| {
        let handles: Vec<_> = items
            .into_iter()
            .map(|item| scope.spawn(|| work(item)))
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .map_err(|_| BenchError::new("a session thread panicked"))?
            })
            .collect()
    })
}

fn run(args: &Args) -> Result<(), BenchError> {
    let Target::Stdio {
        command,
        args: server_args,
    } = &args.target
    else {
        return Err(BenchError::new("the floor is stdio only"));
    };
    let connect = || Session::connect(command, server_args);
    let report = Report::new("floor", args);
    let report = match args.workload {
        Workload::Connect => {
            connect()?.close();
            let mut samples = Vec::with_capacity(args.repeat);
            for _ in 0..args.repeat {
                let started = Instant::now();
                let session = connect()?;
                samples.push(started.elapsed());
                session.close();
            }
            report.metric("connect_ms", median_ms(&mut samples))
        }
        Workload::Sequential => {
            let mut session = connect()?;
            for _ in 0..warm_up_calls(args.calls) {
                session.echo()?;
            }
            let started = Instant::now();
            for _ in 0..args.calls {
                session.echo()?;
            }
            let took = started.elapsed();
            session.close();
            report.metric("calls_per_s", args.calls as f64 / took.as_secs_f64())
        }
        Workload::Sessions => {
            let sessions = on_threads(vec![(); args.sessions], |()| connect())?;
            let started = Instant::now();
            let sessions = on_threads(sessions, |mut session| {
                for _ in 0..args.calls {
                    session.echo()?;
                }
                Ok(session)
            })?;
            let took = started.elapsed();
            sessions.into_iter().for_each(Session::close);
            let calls = (args.sessions * args.calls) as f64;
            report.metric("calls_per_s", calls / took.as_secs_f64())
        }
        Workload::Open => {
            let started = Instant::now();
            let sessions = on_threads(vec![(); args.sessions], |()| connect())?;
            let took = started.elapsed();
            sessions.into_iter().for_each(Session::close);
            report.metric("open_ms", took.as_secs_f64() * 1e3)
        }
        Workload::Drop => {
            // What killing the servers costs with no framework: one SIGKILL per process group in
            // a loop (the time `drop` would take), then a blocking wait for each.
            let sessions = on_threads(vec![(); args.sessions], |()| connect())?;
            let before = ThreadTimes::now()?;
            let started = Instant::now();
            for session in &sessions {
                session.kill_group();
            }
            let dropped = started.elapsed();
            let dropping = ThreadTimes::now()?.since(before);
            sessions.into_iter().for_each(Session::reap);
            let reaped = started.elapsed();
            report.drop_times(dropped, dropping, reaped)
        }
        other => {
            return Err(BenchError::new(format!(
                "the floor does not run workload `{}`",
                other.name()
            )));
        }
    };
    report.print();
    Ok(())
}

fn main() -> ExitCode {
    mcp_bench::exit_on_error(
        mcp_bench::pin_to_one_cpu_if_asked()
            .and_then(|()| Args::from_env())
            .and_then(|args| run(&args)),
    )
}
