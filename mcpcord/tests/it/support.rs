//! What the CLI tests share: a run against the demo, a finished run's output, the npm servers `cargo xtask npm-deps`
//! installs, Ctrl+C, and a pseudo-terminal to run `mcpcord` on.

use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use mcp_tests::support::{TempDir, eventually_some_blocking, mcpcord_command};
use rustix::fs::{Mode, OFlags};
use rustix::pty::OpenptFlags;
use rustix::termios::Winsize;

/// `mcpcord ARGS` to its end, with a home of its own.
pub(crate) fn mcpcord(args: &[&str]) -> Output {
    let home = TempDir::new("mcpcord-run");
    mcpcord_command(crate::MCPCORD, home.path())
        .args(args)
        .output()
        .expect("mcpcord runs")
}

/// `mcpcord ARGS -- mcpcord serve-demo --stdio` to its end: the built-in demo as the server.
pub(crate) fn against_demo(args: &[&str]) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--", crate::MCPCORD, "serve-demo", "--stdio"]);
    mcpcord(&all)
}

/// What a run printed on stdout, as text.
pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What a run printed on stderr, as text.
pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the exit code, showing stdout and stderr when it differs.
pub(crate) fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(output),
        stderr(output)
    );
}

/// `target/npm/node_modules`, where `cargo xtask npm-deps` installs the servers, with `package`
/// in it. Panics, saying what to run, if `node` or the package is missing: these tests never pass
/// by skipping.
pub(crate) fn node_modules_with(package: &str) -> PathBuf {
    if let Err(error) = Command::new("node").arg("--version").output() {
        panic!(
            "`node` could not be run ({error}): install Node.js with npm, then run `cargo xtask npm-deps`"
        );
    }
    let node_modules = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("mcpcord is inside the workspace")
        .join("target/npm/node_modules");
    assert!(
        node_modules.join(package).join("package.json").is_file(),
        "{package} is not installed in {}: run `cargo xtask npm-deps`",
        node_modules.display()
    );
    node_modules
}

/// The entry script of the npm server `package` (see [`node_modules_with`]).
pub(crate) fn npm_server(package: &str) -> PathBuf {
    node_modules_with(package)
        .join(package)
        .join("dist/index.js")
}

/// The reference server, `@modelcontextprotocol/server-everything`, as a stdio command.
pub(crate) fn everything() -> Vec<String> {
    let entry = npm_server("@modelcontextprotocol/server-everything");
    vec![
        "node".to_owned(),
        entry.display().to_string(),
        "stdio".to_owned(),
    ]
}

/// Ctrl+C: SIGINT to `child`, and its exit (bounded).
pub(crate) fn interrupt(child: &mut Child) -> ExitStatus {
    let pid =
        rustix::process::Pid::from_raw(i32::try_from(child.id()).expect("a pid")).expect("a pid");
    rustix::process::kill_process(pid, rustix::process::Signal::INT).expect("SIGINT");
    eventually_some_blocking("mcpcord exits after Ctrl+C", || {
        child.try_wait().expect("waitable")
    })
}

/// A pseudo-terminal of `rows` by `columns`: the primary side, the test's, and the secondary side,
/// to give `mcpcord` as its stdin, stdout or stderr.
pub(crate) struct Pty {
    pub(crate) primary: File,
    pub(crate) secondary: OwnedFd,
}

impl Pty {
    pub(crate) fn open(rows: u16, columns: u16) -> Self {
        let primary =
            rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
                .expect("a pseudo-terminal");
        rustix::pty::grantpt(&primary).expect("grantpt");
        rustix::pty::unlockpt(&primary).expect("unlockpt");
        let name = rustix::pty::ptsname(&primary, Vec::new()).expect("its name");
        // NOCTTY: the test process must not take it as its controlling terminal.
        let secondary = rustix::fs::open(
            name.as_c_str(),
            OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .expect("the secondary side");
        // A real terminal's size, so the bars and forms have a width to draw in.
        let size = Winsize {
            ws_row: rows,
            ws_col: columns,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        rustix::termios::tcsetwinsize(&primary, size).expect("a size");
        Self {
            primary: File::from(primary),
            secondary,
        }
    }
}

/// Everything read from a stream so far, gathered by a thread as it comes.
#[derive(Clone)]
pub(crate) struct Collected {
    bytes: Arc<Mutex<Vec<u8>>>,
    done: Arc<AtomicBool>,
}

impl Collected {
    /// What was read so far, as bytes.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        self.bytes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// What was read so far, as text.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().unwrap_or_else(PoisonError::into_inner))
            .into_owned()
    }

    /// Whether the stream ended.
    pub(crate) fn is_done(&self) -> bool {
        self.done.load(Ordering::SeqCst)
    }
}

/// Collects everything read from `source` until it ends (EOF, or EIO once no process holds a
/// terminal's secondary side any more).
pub(crate) fn collect(mut source: impl Read + Send + 'static) -> Collected {
    let collected = Collected {
        bytes: Arc::new(Mutex::new(Vec::new())),
        done: Arc::new(AtomicBool::new(false)),
    };
    let into = collected.clone();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(read @ 1..) = source.read(&mut buffer) {
            into.bytes
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(&buffer[..read]);
        }
        into.done.store(true, Ordering::SeqCst);
    });
    collected
}
