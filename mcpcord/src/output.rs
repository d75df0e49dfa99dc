//! Writing results to stdout, and what happens when that fails.
//!
//! A failed write (a full disk, `> /dev/full`, an I/O error) is an error: the user would otherwise
//! believe a result that was never written, so `mcpcord` says so on stderr and exits 1. A closed pipe
//! (`mcpcord ... | head`) is not: the reader has what it wanted, so `mcpcord` stops writing and ends
//! quietly with the command's own exit code, as it always has. (Rust ignores SIGPIPE, so a closed
//! pipe arrives here as a `BrokenPipe` error rather than killing the process with 141.)

use std::io::{self, Write as _};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set after the first failed write: nothing more is written.
static STOPPED: AtomicBool = AtomicBool::new(false);

/// The first write error that was not a closed pipe.
static FAILED: OnceLock<io::Error> = OnceLock::new();

/// Writes one line to stdout, remembering a failure for [`finish`].
pub(crate) fn line(args: std::fmt::Arguments<'_>) {
    if STOPPED.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = io::stdout().lock();
    if let Err(error) = writeln!(stdout, "{args}") {
        failed(error);
    }
}

/// Writes `bytes` to stdout as they are (a generated script or man page), remembering a failure
/// for [`finish`].
pub(crate) fn bytes(bytes: &[u8]) {
    if STOPPED.load(Ordering::Relaxed) {
        return;
    }
    if let Err(error) = io::stdout().lock().write_all(bytes) {
        failed(error);
    }
}

fn failed(error: io::Error) {
    STOPPED.store(true, Ordering::Relaxed);
    if error.kind() != io::ErrorKind::BrokenPipe {
        let _ = FAILED.set(error);
    }
}

/// Flushes stdout; the first write error, unless it was only a closed pipe.
pub(crate) fn finish() -> Result<(), &'static io::Error> {
    if !STOPPED.load(Ordering::Relaxed)
        && let Err(error) = io::stdout().lock().flush()
    {
        failed(error);
    }
    FAILED.get().map_or(Ok(()), Err)
}
