//! Processes as /proc shows them, and the server that leaves its process group: what the CLI and
//! Manager tests about children, orphans and reaping share.

#![allow(dead_code)] // Each test binary uses its own part.

use std::path::{Path, PathBuf};

/// The `mcpcord` binary under test.
pub(crate) const MCPCORD: &str = env!("CARGO_BIN_EXE_mcpcord");

/// Children of `parent` that have not exited (from /proc).
pub(crate) fn live_children_of(parent: u32) -> Vec<u32> {
    let parent = parent.to_string();
    std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| {
                    let child: u32 = entry.file_name().to_string_lossy().parse().ok()?;
                    let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
                    let (_, rest) = stat.rsplit_once(')')?;
                    let mut fields = rest.split_whitespace();
                    let state = fields.next()?;
                    (fields.next()? == parent && state != "Z").then_some(child)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The process state letter of `pid` (`Z` for a zombie), or `None` once it does not exist at all.
pub(crate) fn state_of(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().next().map(str::to_owned)
}

/// A fresh path named `label` in a temporary directory of this test process (`scope` tells the
/// test binaries apart).
pub(crate) fn temp_file(scope: &str, label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{scope}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let file = dir.join(label);
    let _ = std::fs::remove_file(&file);
    file
}

/// A server script for `sh -c`: starts `sleep 1000` in a session of its own (out of the server's
/// process group, so no group kill reaches it) with its pid written to `pid_file`, waits until it
/// is, then runs the demo server over stdio.
pub(crate) fn escaping_server_script(pid_file: &Path) -> String {
    let file = pid_file.display();
    format!(
        "setsid sh -c 'echo $$ > {file}; exec sleep 1000' </dev/null >/dev/null 2>&1 & \
         while [ ! -s {file} ]; do sleep 0.01; done; exec {MCPCORD} serve-demo --stdio"
    )
}
