//! `cargo xtask conformance`: the official MCP conformance suite's client scenarios, run one at a
//! time against our `mcp-conformance-client`, with a verdict per scenario printed as a table and
//! written to `target/conformance/report.md`.
//!
//! The suite and the Node 22 it needs (the machine's own Node may be older) are pinned npm packages
//! under `target/conformance/`. A scenario passes when the suite says so *and* the client reached
//! the suite's mock server: the suite alone passes a client that does nothing on a few scenarios,
//! and one where it scored no check at all (every check skipped) is no pass either.
//! Scenarios known to fail are listed, each with its reason, in `tests/conformance/expected-failures.txt`;
//! the task fails on any other failure, and on a listed scenario that now passes, so the list cannot
//! go stale.
//!
//! The task builds `mcp-conformance-client`, runs every client scenario the suite lists, one at a
//! time, with the suite's mock servers moved to 127.0.0.1 by `tests/node/loopback-preload.cjs`
//! and each request they receive from the client logged by `tests/conformance/request-log.cjs`,
//! and judges each scenario from the suite's check lines, its summary and those request lines.
//!
//! Each scenario runs at every spec revision the suite defines it for (`--spec-version`): the
//! 2026-07-28 runs speak the handshake-free era, the earlier ones `initialize`.
//!
//! Files: this one (setup, the task and the soak), `output` (reading the suite's output: the
//! scenario list, check lines, one run's verdict), `verdicts` (the expected failures and the
//! task's judgement), `revisions` (the runs per revision, the table and its totals).

mod output;
mod revisions;
#[cfg(test)]
mod tests;
mod verdicts;

use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::command::{TaskError, cargo, workspace_root};
use crate::npm::{self, NpmPackage};

use output::RunReport;
use output::{
    Exit, Listed, parse_run, parse_scenario_list, shown_output, strip_ansi, verdict, verdict_naming,
};
use revisions::{RevisionRow, check_lines, plan, summary};
pub(crate) use verdicts::markdown_table;
use verdicts::{Row, Verdict, judge, read_expected_failures};

/// The Node the suite runs on, as an npm package (it provides `node_modules/.bin/node`).
const NODE: NpmPackage = NpmPackage {
    name: "node",
    version: "22.23.3",
};

/// The official conformance suite, at the one version the expected failures are written for: the
/// newest, the first with protocol 2026-07-28.
const SUITE: NpmPackage = NpmPackage {
    name: "@modelcontextprotocol/conformance",
    version: "0.2.0-alpha.12",
};

/// Where `cargo xtask conformance` installs [`SUITE`] (under `target/`).
const PINNED: SuiteInstall = SuiteInstall {
    package: SUITE,
    dir: "conformance",
};

/// The client under test: its package and binary.
const CLIENT_PACKAGE: &str = "mcp-tests";
const CLIENT_BIN: &str = "mcp-conformance-client";

/// Moves the suite's mock servers from every interface to 127.0.0.1 (tests bind only loopback).
const LOOPBACK_PRELOAD: &str = "tests/node/loopback-preload.cjs";
/// What the preload prints to stderr; noise in the output shown to people.
const PRELOAD_LINE_PREFIX: &str = "loopback-preload:";
/// Prints a line for each HTTP request a mock server receives from another process (the client):
/// proof the client reached it, whatever the scenario records.
const REQUEST_LOG_PRELOAD: &str = "tests/conformance/request-log.cjs";
/// How its lines start.
const REQUEST_LOG_PREFIX: &str = "request-log:";

/// The scenarios allowed to fail, with their reasons.
const EXPECTED_FAILURES: &str = "tests/conformance/expected-failures.txt";

/// The suite's own limit on the client, in milliseconds.
const SUITE_CLIENT_TIMEOUT_MS: &str = "30000";
/// Our limit on a whole scenario, suite included: a hung suite must not hang CI.
const SCENARIO_TIME_LIMIT: Duration = Duration::from_secs(120);
/// How often a running scenario is checked for exit.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Check ids the mock servers record only while handling a request from the client: the HTTP mock
/// servers log each `incoming-request`, and the `initialize` scenario's server, which logs no
/// requests, records `mcp-client-initialization` when it answers one. Mock servers that record
/// neither (newer suites have several) are covered by [`REQUEST_LOG_PRELOAD`].
const REACHED_SERVER_CHECKS: &[&str] = &["incoming-request", "mcp-client-initialization"];
/// How the mock servers describe a request they received (`Received POST request for /mcp ...`).
const RECEIVED_PREFIX: &str = "Received ";

/// The scenario that a race once failed 1 run in 5 (an answer on the standalone stream was lost),
/// and how many runs in a row `cargo xtask conformance-soak` makes of it.
const SOAK_SCENARIO: &str = "sse-retry";
/// The revision it is defined for (the suite's default revision has no SSE streams to retry).
const SOAK_REVISION: &str = "2025-11-25";
const SOAK_RUNS: usize = 50;
/// The extra runs of it `cargo xtask conformance` (and so CI) makes after the table: a few, since
/// each takes seconds.
const CI_SOAK_RUNS: usize = 3;

/// One version of the suite and its own npm prefix under `target/`, where it is installed with
/// [`NODE`], its reports and its runs' output: two versions side by side never share a
/// `node_modules`, so installing one never changes the other.
struct SuiteInstall {
    package: NpmPackage,
    /// The prefix's directory name under `target/`.
    dir: &'static str,
}

impl SuiteInstall {
    /// Installs Node and the suite into this install's prefix; returns the prefix, the Node 22
    /// binary and the suite's entry script.
    fn install(&self) -> Result<(PathBuf, PathBuf, PathBuf), TaskError> {
        let prefix = workspace_root().join("target").join(self.dir);
        let package = NpmPackage {
            name: self.package.name,
            version: self.package.version,
        };
        npm::install(&prefix, &[NODE, package])?;
        let node = node_22(&prefix)?;
        let suite = prefix
            .join("node_modules")
            .join(self.package.name)
            .join("dist")
            .join("index.js");
        Ok((prefix, node, suite))
    }
}

/// The pinned suite and the Node 22 it runs on, installed as `cargo xtask conformance` installs
/// them (for `cargo xtask check-agreement`, which runs its server mode): the Node binary and the
/// suite's entry script.
pub(crate) fn install_pinned() -> Result<(PathBuf, PathBuf), TaskError> {
    let (_, node, suite) = PINNED.install()?;
    Ok((node, suite))
}

/// The pinned suite, `name@version`.
pub(crate) fn pinned_spec() -> String {
    SUITE.spec()
}

/// What every run of the suite needs, installed and built.
struct Setup {
    root: PathBuf,
    /// The npm prefix the suite is installed in; reports go here too.
    prefix: PathBuf,
    node: PathBuf,
    suite: PathBuf,
    client: PathBuf,
    results: PathBuf,
}

impl Setup {
    /// Installs Node and the suite `install` names, and builds the client.
    fn prepare(install: &SuiteInstall) -> Result<Self, TaskError> {
        let root = workspace_root();
        let (prefix, node, suite) = install.install()?;
        cargo(&["build", "-p", CLIENT_PACKAGE, "--bin", CLIENT_BIN]).run()?;
        let client = client_binary(&root)?;
        Ok(Self {
            results: prefix.join("results"),
            root,
            prefix,
            node,
            suite,
            client,
        })
    }

    /// Writes `text` to `name` in the suite's prefix; returns the path written.
    fn write_report(&self, name: &str, text: &str) -> Result<PathBuf, TaskError> {
        let path = self.prefix.join(name);
        std::fs::write(&path, text).map_err(|error| {
            TaskError::new(format!("could not write {}: {error}", path.display()))
        })?;
        Ok(path)
    }

    fn suite_run(&self) -> SuiteRun<'_> {
        SuiteRun {
            root: &self.root,
            node: &self.node,
            suite: &self.suite,
            client: &self.client,
            results: self.results.clone(),
        }
    }
}

/// `cargo xtask conformance-soak`: [`SOAK_SCENARIO`] [`SOAK_RUNS`] times in a row.
pub(crate) fn soak() -> Result<(), TaskError> {
    let setup = Setup::prepare(&PINNED)?;
    repeat(&setup.suite_run(), SOAK_SCENARIO, SOAK_RUNS)
}

/// Runs `scenario` `runs` times; fails if any run fails, after all of them.
fn repeat(suite_run: &SuiteRun<'_>, scenario: &str, runs: usize) -> Result<(), TaskError> {
    let started = Instant::now();
    let mut failed = Vec::new();
    for run in 1..=runs {
        let (exit, output) = suite_run.scenario(scenario, Some(SOAK_REVISION))?;
        if let Err(why) = verdict(&exit, &parse_run(&output)) {
            println!(
                "{scenario} run {run}/{runs}: FAIL ({why})\n{}",
                shown_output(&output)
            );
            failed.push(run.to_string());
        }
    }
    println!(
        "{scenario}: {} of {runs} runs in a row passed in {:.1}s",
        runs - failed.len(),
        started.elapsed().as_secs_f64()
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(TaskError::new(format!(
            "{scenario} failed in runs {}",
            failed.join(", ")
        )))
    }
}

pub(crate) fn run() -> Result<(), TaskError> {
    let started = Instant::now();
    let expected = &read_expected_failures(&workspace_root().join(EXPECTED_FAILURES))?;
    let setup = Setup::prepare(&PINNED)?;
    let suite_run = setup.suite_run();
    let listed = suite_run.scenarios()?;
    let runs = plan(&listed);

    let mut rows = Vec::with_capacity(runs.len());
    for (index, planned) in runs.iter().enumerate() {
        let run_started = Instant::now();
        let (exit, output) = suite_run.scenario(planned.scenario, planned.spec_version)?;
        let report = parse_run(&output);
        let outcome = verdict_naming(&exit, &report, check_lines);
        let listed = expected.get(planned.scenario);
        let row = Row::new(planned.scenario, &report, outcome, listed);
        println!(
            "[{:>2}/{}] {} @ {} {} in {:.1}s",
            index + 1,
            runs.len(),
            planned.scenario,
            planned.revision,
            row.verdict.label(),
            run_started.elapsed().as_secs_f64()
        );
        if row.verdict == Verdict::Fail {
            println!("{}", shown_output(&output));
        }
        rows.push(RevisionRow {
            revision: planned.revision.to_owned(),
            row,
        });
    }

    let elapsed = started.elapsed().as_secs_f64();
    let summary = summary(&rows);
    let table = revisions::table(&rows);
    println!("\n{table}\n{summary}");
    let report = format!(
        "# MCP conformance: client scenarios\n\n`{}` against `{CLIENT_BIN}`, each scenario at \
         every spec revision it is defined for; generated by `cargo xtask conformance` in \
         {elapsed:.0}s.\n\n{summary}\n{table}",
        SUITE.spec()
    );
    let report_path = setup.write_report("report.md", &report)?;
    println!("report written to {}", report_path.display());
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|revision_row| revision_row.row)
        .collect();
    judge(&rows, expected)?;
    repeat(&suite_run, SOAK_SCENARIO, CI_SOAK_RUNS)
}

/// The Node 22 binary the `node` package installed, checked to be the pinned version: npm creates
/// it with an install script, which an npm configured to skip scripts would not run.
fn node_22(prefix: &Path) -> Result<PathBuf, TaskError> {
    let node = prefix.join("node_modules").join(".bin").join("node");
    let wanted = format!("v{}", NODE.version);
    let found = Command::new(&node)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned());
    match found {
        Ok(version) if version == wanted => Ok(node),
        Ok(version) => Err(TaskError::new(format!(
            "{} reports {version:?}, not {wanted}; delete {} and run the task again",
            node.display(),
            prefix.display()
        ))),
        Err(error) => Err(TaskError::new(format!(
            "could not run {} ({error}); the `node` npm package creates it in an install script, \
             so npm must be allowed to run scripts (`ignore-scripts` off); delete {} and run the task again",
            node.display(),
            prefix.display()
        ))),
    }
}

/// Where `cargo build` put the client, following `CARGO_TARGET_DIR` as the build did (it ran from
/// the workspace root, so a relative directory is relative to it).
fn client_binary(root: &Path) -> Result<PathBuf, TaskError> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), |dir| root.join(dir));
    let client = target
        .join("debug")
        .join(format!("{CLIENT_BIN}{}", std::env::consts::EXE_SUFFIX));
    if !client.is_file() {
        return Err(TaskError::new(format!(
            "`cargo build` succeeded but {} does not exist",
            client.display()
        )));
    }
    // The suite splits `--command` on spaces and runs it through a shell.
    if client.to_string_lossy().contains(char::is_whitespace) {
        return Err(TaskError::new(format!(
            "the suite cannot run {}: it splits the client command on spaces; \
             use a workspace or target directory whose path has none",
            client.display()
        )));
    }
    Ok(client)
}

/// The node and suite every command runs, and the directory that collects each run's output.
struct SuiteRun<'a> {
    root: &'a Path,
    node: &'a Path,
    suite: &'a Path,
    client: &'a Path,
    results: PathBuf,
}

impl SuiteRun<'_> {
    /// The suite's command line, without colour (ANSI codes are stripped anyway, to be sure).
    fn command(&self) -> Command {
        let mut command = Command::new(self.node);
        command
            .current_dir(self.root)
            .env("NO_COLOR", "1")
            .env("FORCE_COLOR", "0")
            .stdin(Stdio::null());
        command
    }

    /// The suite's client scenarios, in its order, each with the spec revisions it lists.
    fn scenarios(&self) -> Result<Vec<Listed>, TaskError> {
        let shown = format!(
            "{} {} list --client",
            self.node.display(),
            self.suite.display()
        );
        println!("$ {shown}");
        let output = self
            .command()
            .arg(self.suite)
            .args(["list", "--client"])
            .output()
            .map_err(|error| TaskError::new(format!("could not start `{shown}`: {error}")))?;
        let stdout = strip_ansi(&String::from_utf8_lossy(&output.stdout));
        if !output.status.success() {
            return Err(TaskError::new(format!(
                "`{shown}` failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let scenarios = parse_scenario_list(&stdout);
        if scenarios.is_empty() {
            return Err(TaskError::new(format!(
                "`{shown}` listed no scenarios (expected lines like `  - initialize [2025-11-25]`); it printed:\n{}",
                stdout.trim_end()
            )));
        }
        Ok(scenarios)
    }

    /// Runs one scenario within [`SCENARIO_TIME_LIMIT`], at the spec revision `spec_version` when
    /// given (else the suite picks one); returns how it ended and its output (stdout and stderr
    /// interleaved, ANSI codes stripped).
    fn scenario(
        &self,
        scenario: &str,
        spec_version: Option<&str>,
    ) -> Result<(Exit, String), TaskError> {
        let mut dir_name = scenario.replace('/', "_");
        if let Some(revision) = spec_version {
            dir_name = format!("{dir_name}@{revision}");
        }
        let dir = self.results.join(dir_name);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(error) if error.kind() == ErrorKind::NotFound => {}
            Err(error) => {
                return Err(TaskError::new(format!(
                    "could not clear {}: {error}",
                    dir.display()
                )));
            }
        }
        let log_path = dir.join("output.txt");
        let io_error =
            |what: &str, error: std::io::Error| TaskError::new(format!("{what}: {error}"));
        std::fs::create_dir_all(&dir)
            .map_err(|error| io_error(&format!("could not create {}", dir.display()), error))?;
        // A file rather than pipes: if the suite is killed, the client it started may live on with
        // the write end, and a pipe reader would then wait for it; a file needs no reader.
        let log = File::create(&log_path).map_err(|error| {
            io_error(&format!("could not create {}", log_path.display()), error)
        })?;
        let log_for_stderr = log
            .try_clone()
            .map_err(|error| io_error("could not share the log file", error))?;
        let mut command = self.command();
        command
            .arg("--require")
            .arg(self.root.join(LOOPBACK_PRELOAD))
            .arg("--require")
            .arg(self.root.join(REQUEST_LOG_PRELOAD))
            .arg(self.suite)
            .args(["client", "--command"])
            .arg(self.client)
            .args(["--scenario", scenario, "--timeout", SUITE_CLIENT_TIMEOUT_MS]);
        if let Some(revision) = spec_version {
            command.args(["--spec-version", revision]);
        }
        command
            .arg("-o")
            .arg(&dir)
            .stdout(log)
            .stderr(log_for_stderr);
        let mut child = command.spawn().map_err(|error| {
            io_error(&format!("could not start {}", self.node.display()), error)
        })?;
        let started = Instant::now();
        let exit = loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => break Exit::Success,
                Ok(Some(status)) => break Exit::Failure(status.to_string()),
                Ok(None) if started.elapsed() >= SCENARIO_TIME_LIMIT => {
                    // Kill errors mean it exited meanwhile; wait reaps it either way.
                    let _ = child.kill();
                    let _ = child.wait();
                    break Exit::TimedOut(SCENARIO_TIME_LIMIT);
                }
                Ok(None) => std::thread::sleep(POLL_INTERVAL),
                Err(error) => return Err(io_error("could not wait for the suite", error)),
            }
        };
        let output = std::fs::read(&log_path)
            .map_err(|error| io_error(&format!("could not read {}", log_path.display()), error))?;
        Ok((exit, strip_ansi(&String::from_utf8_lossy(&output))))
    }
}
