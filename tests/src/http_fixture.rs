//! The fixture server over streamable HTTP on loopback, as a child process owned by a guard.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

/// How long the fixture may take to report its address.
const STARTUP: Duration = Duration::from_secs(10);

/// `mcp-fixture-server --http 127.0.0.1:0 [--fault F]...` running; killed on drop.
#[derive(Debug)]
pub struct HttpFixture {
    child: tokio::process::Child,
    url: String,
}

impl HttpFixture {
    /// Starts `program` (the fixture binary) with `faults` and waits for its `listening on URL`
    /// line.
    ///
    /// # Panics
    /// When it does not start or report its address within 10 s: a test setup failure.
    pub async fn start(program: &str, faults: &[&str]) -> Self {
        let args: Vec<&str> = faults.iter().flat_map(|fault| ["--fault", fault]).collect();
        Self::start_with(program, &args).await
    }

    /// Starts `program` (the fixture binary) with `args` besides `--http` (`--era modern`, say)
    /// and waits for its `listening on URL` line.
    ///
    /// # Panics
    /// As [`start`](Self::start).
    pub async fn start_with(program: &str, args: &[&str]) -> Self {
        let mut command = tokio::process::Command::new(program);
        command.args(["--http", "127.0.0.1:0"]).args(args);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the fixture starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(STARTUP, lines.next_line())
            .await
            .expect("the fixture reports its address in time")
            .expect("stdout is readable")
            .expect("a listening line");
        let url = line
            .strip_prefix("listening on ")
            .expect("the listening line")
            .to_owned();
        Self { child, url }
    }

    /// The MCP endpoint, `http://127.0.0.1:PORT/mcp`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for HttpFixture {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
