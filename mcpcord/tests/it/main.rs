//! The `mcpcord` binary and the library program it is built on, one module per area, in one test
//! binary.
//!
//! `cli_signals` and `subreaper` are binaries of their own: each makes its whole process a child
//! subreaper, which adopts (and, for `subreaper`, sweeps up) the children of every test beside it.

mod cli;
mod cli_ad_hoc;
mod cli_oauth;
mod cli_reliability;
mod cli_requests;
mod demo_stdio;
mod shutdown_reaps;

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
