//! Real servers of the deprecated HTTP+SSE transport (protocol 2024-11-05), for interop tests: a
//! client GETs the SSE URL, waits for an `endpoint` event whose data is where to POST its JSON-RPC
//! messages, and reads every answer as a `message` event on that one GET stream.
//!
//! Three servers, each as its SDK ships it ([`LegacySseKind`]), each bound to 127.0.0.1 on a port
//! the OS picks:
//!
//! | kind | runs | GET | POST |
//! |---|---|---|---|
//! | [`Everything`](LegacySseKind::Everything) | `@modelcontextprotocol/server-everything sse` | `/sse` | `/message?sessionId=UUID` |
//! | [`TypeScript`](LegacySseKind::TypeScript) | `tests/node/legacy_sse_server.cjs` (the SDK's `SSEServerTransport`) | `/sse` | `/messages?sessionId=UUID` |
//! | [`Python`](LegacySseKind::Python) | `tests/python/legacy_sse_server.py` (the SDK's `MCPServer.sse_app()`) | `/sse` | `/messages/?session_id=HEX` |
//!
//! The npm packages come from `target/npm/` (`cargo xtask npm-deps`), the Python SDK from the venv
//! `target/python/venv/` (`cargo xtask py-deps`); `cargo xtask ci` installs both before the tests.
//! Without them a test fails, naming the command to run: it never passes by skipping.
//!
//! ```no_run
//! use mcp_tests::support::{LegacySseKind, LegacySseServer};
//!
//! let server = LegacySseServer::start(LegacySseKind::TypeScript);
//! // GET server.sse_url(), read the `endpoint` event, POST to what it names...
//! drop(server); // killed and reaped: no process, no zombie
//! ```

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process_group};

/// Only a safety net: the Node servers listen within a second, Python within two on an idle
/// machine; many tests starting servers side by side on two cores take longer.
const START_BOUND: Duration = Duration::from_secs(30);

/// What `tests/node/loopback-preload.cjs` writes to stderr once server-everything listens.
const PRELOAD_LISTENING: &str = "loopback-preload: listening on ";

/// What our two scripts write to stdout once they listen, before the URL of the SSE endpoint.
const SCRIPT_LISTENING: &str = "listening on ";

/// Which stock legacy HTTP+SSE server to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegacySseKind {
    /// The official reference server, `@modelcontextprotocol/server-everything`, in its `sse` mode:
    /// its full catalogue (the same as in `interop_everything`), POSTs to `/message`.
    Everything,
    /// The TypeScript SDK's `SSEServerTransport` on express (`tests/node/legacy_sse_server.cjs`):
    /// tools `echo`, `add` and `drop_stream` (which ends the SSE stream before answering), the
    /// resource `test://greeting` and the prompt `greet`; POSTs to `/messages`.
    TypeScript,
    /// The Python SDK's `MCPServer.sse_app()` under uvicorn (`tests/python/legacy_sse_server.py`):
    /// tools `echo` and `add`, the resource `test://greeting` and the prompt `greet`; POSTs to
    /// `/messages/`.
    Python,
}

impl LegacySseKind {
    /// Every kind, for tests that run against each.
    pub const ALL: [Self; 3] = [Self::Everything, Self::TypeScript, Self::Python];

    /// The path the server's `endpoint` event names, without the session query it adds.
    fn message_path(self) -> &'static str {
        match self {
            Self::Everything => "/message",
            Self::TypeScript => "/messages",
            Self::Python => "/messages/",
        }
    }

    /// The command that starts it, with everything it needs checked to be installed, and the line
    /// prefix it announces its address with.
    ///
    /// # Panics
    /// When the runtime or the package is missing, naming the task that installs it.
    fn command(self) -> (Command, &'static str) {
        let root = workspace_root();
        let node_modules = root.join("target/npm/node_modules");
        match self {
            Self::Everything => {
                let package = node_modules.join("@modelcontextprotocol/server-everything");
                require_node();
                require_file(&package.join("package.json"), "npm-deps");
                let mut command = clean_command("node");
                command
                    .arg("--require")
                    .arg(root.join("tests/node/loopback-preload.cjs"))
                    .arg(package.join("dist/index.js"))
                    .arg("sse")
                    .env("PORT", "0");
                (command, PRELOAD_LISTENING)
            }
            Self::TypeScript => {
                require_node();
                for package in ["@modelcontextprotocol/sdk", "express", "zod"] {
                    require_file(&node_modules.join(package).join("package.json"), "npm-deps");
                }
                let mut command = clean_command("node");
                command
                    .arg(root.join("tests/node/legacy_sse_server.cjs"))
                    .env("NODE_PATH", &node_modules);
                (command, SCRIPT_LISTENING)
            }
            Self::Python => {
                let venv = root.join("target/python/venv");
                let python = venv.join("bin/python");
                require_file(&python, "py-deps");
                assert!(
                    has_mcp(&venv),
                    "the Python SDK (`mcp`) is not installed in {}: run `cargo xtask py-deps`",
                    venv.display()
                );
                let mut command = clean_command(python);
                command.arg(root.join("tests/python/legacy_sse_server.py"));
                (command, SCRIPT_LISTENING)
            }
        }
    }

    /// The task that installs what it runs, for messages.
    fn installed_by(self) -> &'static str {
        match self {
            Self::Everything | Self::TypeScript => "cargo xtask npm-deps",
            Self::Python => "cargo xtask py-deps",
        }
    }
}

/// A running legacy HTTP+SSE server, killed with its whole process group and reaped on drop.
///
/// Its stdout and stderr are read to the end by two threads of its own, so the server never blocks
/// on a full pipe; [`output`](Self::output) returns what it has written so far, for failure messages.
#[derive(Debug)]
pub struct LegacySseServer {
    kind: LegacySseKind,
    child: Child,
    addr: SocketAddr,
    output: Arc<Output>,
}

impl LegacySseServer {
    /// Starts a server of `kind` on 127.0.0.1 and returns once it listens: when it has announced the
    /// port it bound, read from its own output (no port is guessed, no connection is retried).
    ///
    /// Blocks the calling thread meanwhile (under a second for the Node servers, one to two for
    /// Python); it needs nothing from an async runtime, so async tests may call it too.
    ///
    /// # Panics
    /// When `node`, the npm packages or the Python venv are missing (naming the `cargo xtask` task
    /// that installs them), or when the server exits, or says nothing, before it listens (with all it
    /// wrote).
    pub fn start(kind: LegacySseKind) -> Self {
        let (mut command, announcement) = kind.command();
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // A group of its own, so drop can end whatever the server started along with it.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command
            .spawn()
            .unwrap_or_else(|error| panic!("{kind:?} server: {command:?} did not start: {error}"));
        let output = Arc::new(Output::default());
        if let Some(stdout) = child.stdout.take() {
            output.drain(stdout);
        }
        if let Some(stderr) = child.stderr.take() {
            output.drain(stderr);
        }
        // From here on the guard owns the child: a panic below kills and reaps it.
        let mut server = Self {
            kind,
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            output,
        };
        let announced = server.wait_for_line(announcement);
        server.addr = parse_announcement(kind, &announced);
        server
    }

    /// Which server this is.
    pub fn kind(&self) -> LegacySseKind {
        self.kind
    }

    /// The address it listens on: always 127.0.0.1, on the port it announced.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process id (the leader of its process group), e.g. to check it is gone after drop.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The URL a client GETs to open the SSE stream: `http://127.0.0.1:PORT/sse`.
    pub fn sse_url(&self) -> String {
        format!("http://{}/sse", self.addr)
    }

    /// The URL its `endpoint` event names without the session query the server appends to it
    /// (`?sessionId=UUID` for the Node servers, `?session_id=HEX` for Python): a client POSTs to
    /// the event's URL, never to this one, which is here for assertions.
    pub fn message_url(&self) -> String {
        format!("http://{}{}", self.addr, self.kind.message_path())
    }

    /// Every line the server has written so far, stdout and stderr interleaved in arrival order.
    pub fn output(&self) -> Vec<String> {
        self.output.lock().lines.clone()
    }

    /// Waits until the server writes a line starting with `prefix`, and returns the rest of it.
    fn wait_for_line(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + START_BOUND;
        let mut state = self.output.lock();
        let mut scanned = 0;
        loop {
            if let Some(rest) = state.lines[scanned..]
                .iter()
                .find_map(|line| line.strip_prefix(prefix))
            {
                return rest.to_owned();
            }
            scanned = state.lines.len();
            let now = Instant::now();
            if state.open_pipes == 0 || now >= deadline {
                let lines = std::mem::take(&mut state.lines);
                drop(state);
                let what = if now >= deadline {
                    format!("did not write {prefix:?} within {START_BOUND:?}")
                } else {
                    // Its output is closed, so it is exiting, if it has not already.
                    match self.child.try_wait() {
                        Ok(Some(status)) => format!("exited ({status}) before it listened"),
                        _ => "closed its output before it listened".to_owned(),
                    }
                };
                panic!(
                    "the {:?} legacy SSE server {what}; is it installed (`{}`)? It wrote {lines:#?}",
                    self.kind,
                    self.kind.installed_by()
                );
            }
            state = self
                .output
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

impl Drop for LegacySseServer {
    fn drop(&mut self) {
        // The leader is not reaped before the wait below, so its group id cannot have been reused.
        if let Some(group) = i32::try_from(self.child.id()).ok().and_then(Pid::from_raw) {
            let _ = kill_process_group(group, Signal::KILL);
        }
        // SIGKILL ends it at once, so this reaps without waiting long. The drain threads end by
        // themselves when the pipes close; joining them could block on a descendant that escaped the
        // group with a copy of a pipe.
        let _ = self.child.wait();
    }
}

/// What a server has written, shared with the threads that read its pipes.
#[derive(Debug, Default)]
struct Output {
    state: Mutex<OutputState>,
    /// Notified on every new line and every pipe that closes.
    changed: Condvar,
}

#[derive(Debug, Default)]
struct OutputState {
    lines: Vec<String>,
    /// Pipes still being read; none once the server and everything holding its pipes are gone.
    open_pipes: usize,
}

impl Output {
    fn lock(&self) -> MutexGuard<'_, OutputState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads `pipe` line by line (lossily, so stray bytes never stop the reading) until it closes.
    fn drain(self: &Arc<Self>, pipe: impl Read + Send + 'static) {
        self.lock().open_pipes += 1;
        let output = Arc::clone(self);
        std::thread::spawn(move || {
            let mut pipe = BufReader::new(pipe);
            let mut line = Vec::new();
            while pipe.read_until(b'\n', &mut line).is_ok_and(|read| read > 0) {
                let text = String::from_utf8_lossy(&line).trim_end().to_owned();
                output.lock().lines.push(text);
                output.changed.notify_all();
                line.clear();
            }
            output.lock().open_pipes -= 1;
            output.changed.notify_all();
        });
    }
}

/// The address in a server's announcement: `127.0.0.1:PORT` from the preload,
/// `http://127.0.0.1:PORT/sse` from our scripts.
fn parse_announcement(kind: LegacySseKind, announced: &str) -> SocketAddr {
    let address = announced
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix("/sse"))
        .unwrap_or(announced);
    let addr: SocketAddr = address.parse().unwrap_or_else(|error| {
        panic!("the {kind:?} server announced {announced:?}, not an address ({error})")
    });
    assert_eq!(
        addr.ip().to_string(),
        "127.0.0.1",
        "the {kind:?} server listens on loopback only"
    );
    addr
}

/// A command for `program` that sees only `PATH` and `HOME` from this process's environment: no
/// proxy or Node and Python settings from the developer's shell change how a server runs.
fn clean_command(program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new(program);
    command
        .env_clear()
        .envs(std::env::vars_os().filter(|(key, _)| key == "PATH" || key == "HOME"))
        .current_dir(workspace_root());
    command
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests package is inside the workspace")
        .to_path_buf()
}

fn require_node() {
    if let Err(error) = Command::new("node").arg("--version").output() {
        panic!(
            "`node` could not be run ({error}): install Node.js with npm, then run `cargo xtask npm-deps`"
        );
    }
}

fn require_file(file: &Path, task: &str) {
    assert!(
        file.is_file(),
        "{} is missing: run `cargo xtask {task}`",
        file.display()
    );
}

/// Whether the venv has the `mcp` package (its import name's directory), without starting Python.
fn has_mcp(venv: &Path) -> bool {
    std::fs::read_dir(venv.join("lib"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .any(|python| {
            python
                .path()
                .join("site-packages/mcp/__init__.py")
                .is_file()
        })
}
