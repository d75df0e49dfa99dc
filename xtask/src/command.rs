//! Running the commands tasks are made of, from the workspace root, echoing each one first.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Why a task failed, in words for the person reading the CI log.
#[derive(Debug)]
pub(crate) struct TaskError(String);

impl TaskError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The workspace root: xtask lives one level below it.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// A `cargo` command with the same toolchain that runs xtask, from the workspace root.
pub(crate) fn cargo<S: AsRef<OsStr>>(args: &[S]) -> Step {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(args).current_dir(workspace_root());
    Step {
        command,
        program: "cargo",
    }
}

/// Another program (a name found on `PATH`, or a path), from the workspace root; logs show it as
/// `shown`.
pub(crate) fn program<P: AsRef<OsStr>, S: AsRef<OsStr>>(
    program: P,
    shown: &'static str,
    args: &[S],
) -> Step {
    let mut command = Command::new(program);
    command.args(args).current_dir(workspace_root());
    Step {
        command,
        program: shown,
    }
}

/// One command to run.
pub(crate) struct Step {
    command: Command,
    /// How the program is shown in logs (the full path of `$CARGO` is noise).
    program: &'static str,
}

impl Step {
    /// Sets an environment variable for this command only.
    pub(crate) fn env(mut self, key: &str, value: &str) -> Self {
        self.command.env(key, value);
        self
    }

    /// Runs it with inherited output; a non-zero exit is an error that names the command.
    pub(crate) fn run(mut self) -> Result<(), TaskError> {
        let shown = self.describe();
        println!("$ {shown}");
        let status = self
            .command
            .status()
            .map_err(|error| TaskError::new(format!("could not start `{shown}`: {error}")))?;
        if status.success() {
            Ok(())
        } else {
            Err(TaskError::new(format!("`{shown}` failed ({status})")))
        }
    }

    /// Runs it quietly and returns its output, whatever the exit status.
    pub(crate) fn output(mut self) -> Result<Output, TaskError> {
        let shown = self.describe();
        println!("$ {shown}");
        self.command
            .stdin(Stdio::null())
            .output()
            .map_err(|error| TaskError::new(format!("could not start `{shown}`: {error}")))
    }

    fn describe(&self) -> String {
        std::iter::once(self.program.into())
            .chain(self.command.get_args().map(OsStr::to_string_lossy))
            .collect::<Vec<_>>()
            .join(" ")
    }
}
