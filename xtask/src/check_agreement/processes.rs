//! The processes a comparison runs, each owned by a guard that kills it on drop: the two servers
//! (server-everything in a process group of its own, the non-compliant fixture) and the timed runs
//! of the suite and of `mcpcord check`, whose output goes to files.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::command::TaskError;

/// A server has this long to say where it listens.
const START_LIMIT: Duration = Duration::from_secs(30);
/// How often a running process is polled.
const POLL: Duration = Duration::from_millis(20);
/// What the loopback preload prints to stderr once server-everything listens, before `PORT`.
const PRELOAD_LISTENING: &str = "loopback-preload: listening on 127.0.0.1:";

fn io_error(what: &str, path: &Path, error: &std::io::Error) -> TaskError {
    TaskError::new(format!("could not {what} {}: {error}", path.display()))
}

fn create(path: &Path) -> Result<File, TaskError> {
    File::create(path).map_err(|error| io_error("create", path, &error))
}

/// The last lines of a log file, for an error message.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

/// server-everything over streamable HTTP on 127.0.0.1 and a free port, in its own process group
/// (npm-installed servers may start helpers); the whole group is killed on drop.
pub(super) struct EverythingServer {
    child: Child,
    pub(super) url: String,
}

impl EverythingServer {
    /// Starts `node --require PRELOAD SCRIPT streamableHttp` with `PORT=0`, in `cwd` (a scratch
    /// directory: the server may write there), stderr to `log`.
    pub(super) fn start(
        node: &Path,
        preload: &Path,
        script: &Path,
        cwd: &Path,
        log: &Path,
    ) -> Result<Self, TaskError> {
        let mut command = Command::new(node);
        command
            .arg("--require")
            .arg(preload)
            .arg(script)
            .arg("streamableHttp")
            .env("PORT", "0")
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(create(log)?);
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command
            .spawn()
            .map_err(|error| io_error("start", node, &error))?;
        // From here on the guard owns it: every error path below kills it.
        let mut server = Self {
            child,
            url: String::new(),
        };
        let started = Instant::now();
        loop {
            let port = std::fs::read_to_string(log).ok().and_then(|text| {
                let rest = &text[text.find(PRELOAD_LISTENING)? + PRELOAD_LISTENING.len()..];
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                (!digits.is_empty()).then_some(digits)
            });
            if let Some(port) = port {
                server.url = format!("http://127.0.0.1:{port}/mcp");
                return Ok(server);
            }
            let exited = server.child.try_wait().ok().flatten();
            if exited.is_some() || started.elapsed() > START_LIMIT {
                return Err(TaskError::new(format!(
                    "server-everything did not say where it listens ({}); {}:\n{}",
                    exited.map_or_else(
                        || format!("waited {}s", START_LIMIT.as_secs()),
                        |status| format!("it exited: {status}")
                    ),
                    log.display(),
                    tail(log)
                )));
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for EverythingServer {
    fn drop(&mut self) {
        // The group's id is its leader's pid (`process_group(0)`); `kill` is the std-only way to
        // signal a group. Errors mean it is gone already; `wait` reaps the leader either way.
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `mcp-noncompliant-server --http 127.0.0.1:0 [--violate RULE]`, killed on drop.
pub(super) struct FixtureServer {
    child: Child,
    pub(super) url: String,
}

impl FixtureServer {
    /// Starts it and reads its first stdout line, `listening on URL`; stderr goes to `log`.
    pub(super) fn start(binary: &Path, rule: Option<&str>, log: &Path) -> Result<Self, TaskError> {
        let mut command = Command::new(binary);
        command.args(["--http", "127.0.0.1:0"]);
        if let Some(rule) = rule {
            command.args(["--violate", rule]);
        }
        Self::spawn(command, binary, log)
    }

    /// Starts `command` (a server that prints `listening on URL` first, as the fixture and the
    /// stock SDK servers of `tests/python/` do), `binary` naming it in errors.
    pub(super) fn spawn(
        mut command: Command,
        binary: &Path,
        log: &Path,
    ) -> Result<Self, TaskError> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(create(log)?)
            .spawn()
            .map_err(|error| io_error("start", binary, &error))?;
        // The first line is the URL; the rest (`stdout-logs` writes logs there) is drained on a
        // thread of its own so the server never blocks on a full pipe; it ends with the server.
        let (sender, receiver) = std::sync::mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            std::thread::spawn(move || {
                let mut stdout = BufReader::new(stdout);
                let mut line = String::new();
                let _ = sender.send(stdout.read_line(&mut line).map(|_| line));
                let _ = std::io::copy(&mut stdout, &mut std::io::sink());
            });
        }
        let mut server = Self {
            child,
            url: String::new(),
        };
        let line = receiver.recv_timeout(START_LIMIT);
        match &line {
            Ok(Ok(line)) if line.starts_with("listening on ") => {
                server.url = line.trim()["listening on ".len()..].to_owned();
                Ok(server)
            }
            _ => Err(TaskError::new(format!(
                "{} did not announce its URL (got {line:?}); {}:\n{}",
                binary.display(),
                log.display(),
                tail(log)
            ))),
        }
    }
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A process running with its stdout and stderr in files, killed on drop if still running. A
/// watcher thread notes when it exits, so its wall time is right even when [`Running::finish`] is
/// called long after (the stdio runs go on while the HTTP ones run).
pub(super) struct Running {
    child: Arc<Mutex<Child>>,
    exited: Arc<OnceLock<(ExitStatus, Instant)>>,
    started: Instant,
    shown: String,
    stdout: PathBuf,
    stderr: PathBuf,
}

/// How a [`Running`] process ended.
pub(super) struct Finished {
    pub(super) status: ExitStatus,
    pub(super) elapsed: Duration,
    /// What it wrote to stdout.
    pub(super) stdout: String,
    /// Its stderr file, for messages.
    pub(super) stderr: PathBuf,
}

/// The child, whoever panicked while holding it (the lock guards no invariant).
fn lock(child: &Mutex<Child>) -> MutexGuard<'_, Child> {
    child.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Running {
    /// Starts `command` with stdin closed and its output in `stdout` and `stderr`.
    pub(super) fn spawn(
        mut command: Command,
        stdout: PathBuf,
        stderr: PathBuf,
    ) -> Result<Self, TaskError> {
        let shown = format!(
            "{} {}",
            command.get_program().to_string_lossy(),
            command
                .get_args()
                .map(|arg| arg.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" ")
        );
        // Files rather than pipes: nothing has to read while it runs, and a grandchild that
        // inherits the write end cannot keep a reader waiting.
        let child = command
            .stdin(Stdio::null())
            .stdout(create(&stdout)?)
            .stderr(create(&stderr)?)
            .spawn()
            .map_err(|error| TaskError::new(format!("could not start `{shown}`: {error}")))?;
        let started = Instant::now();
        let child = Arc::new(Mutex::new(child));
        let exited = Arc::new(OnceLock::new());
        let (watched, noted) = (Arc::clone(&child), Arc::clone(&exited));
        // Ends once the child has exited (or been killed and reaped by the guard's drop).
        std::thread::spawn(move || {
            loop {
                let status = lock(&watched).try_wait();
                match status {
                    Ok(Some(status)) => {
                        let _ = noted.set((status, Instant::now()));
                        return;
                    }
                    Ok(None) => std::thread::sleep(POLL),
                    Err(_) => return,
                }
            }
        });
        Ok(Self {
            child,
            exited,
            started,
            shown,
            stdout,
            stderr,
        })
    }

    /// Waits for it to exit, killing it (and failing) once `limit` has passed since it started.
    pub(super) fn finish(self, limit: Duration) -> Result<Finished, TaskError> {
        let (status, ended) = loop {
            if let Some(&exited) = self.exited.get() {
                break exited;
            }
            if self.started.elapsed() > limit {
                return Err(TaskError::new(format!(
                    "`{}` was still running after {}s (killed); {}:\n{}",
                    self.shown,
                    limit.as_secs(),
                    self.stderr.display(),
                    tail(&self.stderr)
                )));
            }
            std::thread::sleep(POLL);
        };
        let stdout = std::fs::read_to_string(&self.stdout)
            .map_err(|error| io_error("read", &self.stdout, &error))?;
        Ok(Finished {
            status,
            elapsed: ended.duration_since(self.started),
            stdout,
            stderr: self.stderr.clone(),
        })
    }

    /// The command, as shown in messages.
    pub(super) fn shown(&self) -> &str {
        &self.shown
    }
}

impl Finished {
    /// The last lines of its stderr, for a message.
    pub(super) fn stderr_tail(&self) -> String {
        tail(&self.stderr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let mut child = lock(&self.child);
        if matches!(child.try_wait(), Ok(None)) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
