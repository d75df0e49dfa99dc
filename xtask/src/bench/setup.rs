//! Before anything is measured: where the subjects, servers and outputs are ([`Paths`]), and
//! building them: the fixture and `mcpcord` in the main workspace, the `bench/` workspace's
//! binaries in a target directory of their own. The Python SDK's venv is the interop tests' one
//! ([`crate::python`]).

use std::path::PathBuf;

use crate::command::{TaskError, cargo, workspace_root};
use crate::python;

/// Where everything is.
pub(super) struct Paths {
    pub(super) root: PathBuf,
    pub(super) out: PathBuf,
    pub(super) fixture: PathBuf,
    pub(super) mcpcord: PathBuf,
    pub(super) bench_bin: PathBuf,
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
            node_prefix: target.join("bench").join("node"),
            root,
        }
    }

    /// The interpreter of the venv `cargo xtask py-deps` makes, with the pinned `mcp`.
    pub(super) fn python(&self) -> PathBuf {
        python::interpreter()
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
