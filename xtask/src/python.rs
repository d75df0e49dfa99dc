//! The pinned Python MCP SDK, in one venv under `target/`, installed only when its version differs.
//!
//! `cargo xtask py-deps` makes `target/python/venv/` with PyPI `mcp` at [`MCP_VERSION`]. The interop
//! tests run `tests/python/legacy_sse_server.py` with that venv's interpreter, and `cargo xtask bench`
//! runs its Python client and stock server with it too, so the pin here is the one version of the
//! SDK anything in the workspace ever runs.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::command::{TaskError, program, workspace_root};

/// The official Python SDK (PyPI `mcp`), at the one version the interop tests and the benchmark's
/// numbers are for.
pub(crate) const MCP_VERSION: &str = "2.3.0";

/// Where the venv is: the tests look for it at the same place.
fn venv() -> PathBuf {
    workspace_root().join("target").join("python").join("venv")
}

/// The venv's interpreter, which sees the pinned `mcp`.
pub(crate) fn interpreter() -> PathBuf {
    venv().join("bin").join("python")
}

/// `cargo xtask py-deps`: creates `target/python/venv/` and installs `mcp==`[`MCP_VERSION`] into
/// it, unless it is already there (then nothing touches the network).
pub(crate) fn install() -> Result<(), TaskError> {
    let venv = venv();
    if installed_mcp_version().as_deref() == Some(MCP_VERSION) {
        println!("mcp=={MCP_VERSION} already installed in {}", venv.display());
        return Ok(());
    }
    let venv_arg = venv.to_string_lossy().into_owned();
    program("python3", "python3", &["-m", "venv", venv_arg.as_str()])
        .run()
        .map_err(|error| {
            TaskError::new(format!(
                "{error}; Python 3.10+ with venv is needed (e.g. `apt-get install python3-venv`)"
            ))
        })?;
    let python = interpreter().to_string_lossy().into_owned();
    let spec = format!("mcp=={MCP_VERSION}");
    program(
        &python,
        "python",
        &[
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &spec,
        ],
    )
    .run()?;
    match installed_mcp_version() {
        Some(version) if version == MCP_VERSION => Ok(()),
        found => Err(TaskError::new(format!(
            "pip reported success but {} has mcp {found:?}, not {MCP_VERSION}",
            venv.display()
        ))),
    }
}

/// The version of `mcp` the venv's interpreter imports, or `None` without a venv or without `mcp`.
fn installed_mcp_version() -> Option<String> {
    let output = Command::new(interpreter())
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('mcp'))",
        ])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}
