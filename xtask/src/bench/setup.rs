//! Before anything is measured: where the subjects, servers and outputs are ([`Paths`]), and
//! building them: the fixture and `mcpcord` in the main workspace, the `bench/` workspace's
//! binaries in a target directory of their own, and the Python SDK in a venv.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::command::{TaskError, cargo, program, workspace_root};

use super::PYTHON_MCP_VERSION;

/// Where everything is.
pub(super) struct Paths {
    pub(super) root: PathBuf,
    pub(super) out: PathBuf,
    pub(super) fixture: PathBuf,
    pub(super) mcpcord: PathBuf,
    pub(super) bench_bin: PathBuf,
    venv: PathBuf,
    /// The npm prefix the TypeScript SDK's stock server runs from.
    pub(super) node_prefix: PathBuf,
}

impl Paths {
    pub(super) fn new(release: bool) -> Self {
        let root = workspace_root();
        let target = root.join("target");
        let (profile, bench_target) = if release {
            ("release", target.join("bench-build"))
        } else {
            ("debug", target.clone())
        };
        Self {
            out: target.join("bench"),
            fixture: target.join(profile).join("mcp-fixture-server"),
            mcpcord: target.join(profile).join("mcpcord"),
            bench_bin: bench_target.join(profile),
            venv: target.join("bench").join("venv"),
            node_prefix: target.join("bench").join("node"),
            root,
        }
    }

    pub(super) fn python(&self) -> PathBuf {
        self.venv.join("bin").join("python")
    }
}

/// CI builds against the committed lock files.
fn locked(mut args: Vec<&'static str>) -> Vec<&'static str> {
    if std::env::var_os("CI").is_some() {
        args.push("--locked");
    }
    args
}

pub(super) fn build(paths: &Paths, release: bool) -> Result<(), TaskError> {
    let profile: &[&'static str] = if release { &["--release"] } else { &[] };
    let mut main = vec!["build"];
    main.extend(profile);
    main.extend([
        "-p",
        "mcp-tests",
        "--bin",
        "mcp-fixture-server",
        "-p",
        "mcpcord",
        "--bin",
        "mcpcord",
    ]);
    cargo(&locked(main)).run()?;
    // Release numbers get a target directory of their own; the smoke run shares the main one,
    // where every crate the two workspaces have in common is already built.
    let mut baselines = vec!["build"];
    baselines.extend(profile);
    baselines.extend([
        "--manifest-path",
        "bench/Cargo.toml",
        "--target-dir",
        if release {
            "target/bench-build"
        } else {
            "target"
        },
    ]);
    cargo(&locked(baselines)).run()?;
    let stock_rmcp = paths.bench_bin.join("bench-rmcp-stock-server");
    for binary in [&paths.fixture, &paths.mcpcord, &stock_rmcp] {
        if !binary.is_file() {
            return Err(TaskError::new(format!(
                "{} is missing after the build",
                binary.display()
            )));
        }
    }
    Ok(())
}

/// Creates `target/bench/venv` and installs the pinned `mcp` into it, unless it is already there.
pub(super) fn python_venv(paths: &Paths) -> Result<(), TaskError> {
    if installed_mcp_version(paths).as_deref() == Some(PYTHON_MCP_VERSION) {
        println!(
            "mcp=={PYTHON_MCP_VERSION} already installed in {}",
            paths.venv.display()
        );
        return Ok(());
    }
    let venv = paths.venv.to_string_lossy().into_owned();
    program("python3", "python3", &["-m", "venv", venv.as_str()])
        .run().map_err(|error| {
        TaskError::new(format!(
            "{error}; the benchmark needs Python 3.10+ with venv (e.g. `apt-get install python3-venv`)"
        ))
    })?;
    let python = paths.python().to_string_lossy().into_owned();
    let spec = format!("mcp=={PYTHON_MCP_VERSION}");
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
    match installed_mcp_version(paths) {
        Some(version) if version == PYTHON_MCP_VERSION => Ok(()),
        found => Err(TaskError::new(format!(
            "pip reported success but the venv has mcp {found:?}, not {PYTHON_MCP_VERSION}"
        ))),
    }
}

fn installed_mcp_version(paths: &Paths) -> Option<String> {
    let output = Command::new(paths.python())
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
