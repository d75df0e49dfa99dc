//! The `mcpcord` binary and the library program it is built on, one module per area, in one test
//! binary.
//!
//! `cli_signals` and `subreaper` are binaries of their own: each makes its whole process a child
//! subreaper, which adopts (and, for `subreaper`, sweeps up) the children of every test beside it.

mod cli;
mod cli_ad_hoc;
mod cli_check;
mod cli_client_side;
mod cli_content;
mod cli_eras;
mod cli_oauth;
mod cli_output;
mod cli_reliability;
mod cli_requests;
mod cli_tty;
mod cli_watch;
mod demo_stdio;
mod shutdown_reaps;
mod support;

/// The `mcpcord` binary under test.
const MCPCORD: &str = env!("CARGO_BIN_EXE_mcpcord");

/// mcpcord's stdout as one JSON document; otherwise a failure showing what it printed instead.
fn json_of(stdout: impl AsRef<[u8]>, stderr: impl AsRef<[u8]>) -> serde_json::Value {
    serde_json::from_slice(stdout.as_ref()).unwrap_or_else(|error| {
        panic!(
            "stdout is not one JSON document ({error}): {}\nstderr: {}",
            String::from_utf8_lossy(stdout.as_ref()),
            String::from_utf8_lossy(stderr.as_ref())
        )
    })
}

/// `mcpcord serve-demo --http 127.0.0.1:0 [EXTRA]` as a child process with a home of its own: the
/// URL it announces on its first line; killed and reaped on drop.
struct HttpDemo {
    child: std::process::Child,
    url: String,
    _home: mcp_tests::support::TempDir,
}

impl HttpDemo {
    fn start(extra: &[&str]) -> Self {
        use std::io::{BufRead, BufReader};
        use std::process::Stdio;

        let home = mcp_tests::support::TempDir::new("mcpcord-http-demo");
        let mut child = mcp_tests::support::mcpcord_command(MCPCORD, home.path())
            .args(["serve-demo", "--http", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve-demo starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the listening line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self {
            child,
            url,
            _home: home,
        }
    }
}

impl Drop for HttpDemo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
