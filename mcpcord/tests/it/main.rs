//! The `mcpcord` binary and the library program it is built on, one module per area, in one test
//! binary.
//!
//! `cli_signals` and `subreaper` are binaries of their own: each makes its whole process a child
//! subreaper, which adopts (and, for `subreaper`, sweeps up) the children of every test beside it.

mod cli;
mod cli_oauth;
mod cli_reliability;
mod demo_stdio;
mod shutdown_reaps;

/// The `mcpcord` binary under test.
const MCPCORD: &str = env!("CARGO_BIN_EXE_mcpcord");
