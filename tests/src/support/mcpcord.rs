//! The `mcpcord` binary as its tests run it: away from the developer's own logins and settings.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};

/// What `mcpcord` (or the HTTP stack under it) would otherwise read from the developer's
/// environment: another token store, the old store it imports from, a browser, a configuration
/// file, proxies.
const REMOVED: [&str; 10] = [
    "MCPM_HOME",
    "XDG_CONFIG_HOME",
    "MCPCORD_BROWSER",
    "MCPCORD_CONFIG",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
];

/// A command running the `mcpcord` binary `bin` with `home` (a test's [`TempDir`](super::TempDir))
/// as its token store (`MCPCORD_HOME`), its `HOME` and its working directory, so no login, old
/// store or `./mcpcord.toml` of the developer's is read or written; no configured browser, config
/// file or proxy; stdin empty, never a terminal. Callers add the arguments and may change the
/// stdio.
///
/// ```no_run
/// # fn demo() {
/// use mcp_tests::support::{TempDir, mcpcord_command};
///
/// let home = TempDir::new("mcpcord-health");
/// let output = mcpcord_command("target/debug/mcpcord", home.path())
///     .args(["health", "http://127.0.0.1:9/mcp"])
///     .output()
///     .expect("mcpcord runs");
/// # }
/// ```
pub fn mcpcord_command(bin: impl AsRef<OsStr>, home: &Path) -> Command {
    let mut command = Command::new(bin);
    command
        .env("MCPCORD_HOME", home)
        .env("HOME", home)
        .current_dir(home)
        .stdin(Stdio::null());
    for name in REMOVED {
        command.env_remove(name);
    }
    command
}
