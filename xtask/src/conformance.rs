//! `cargo xtask conformance`: the official MCP conformance suite's client scenarios, run one at a
//! time against our `mcp-conformance-client`, with a verdict per scenario printed as a table and
//! written to `target/conformance/report.md`.
//!
//! The suite and the Node 22 it needs (the machine's own Node may be older) are pinned npm packages
//! under `target/conformance/`. A scenario passes when the suite says so *and* the client reached
//! the suite's mock server: the suite alone passes a client that does nothing on a few scenarios.
//! Scenarios known to fail are listed, each with its reason, in `tests/conformance/expected-failures.txt`;
//! the task fails on any other failure, and on a listed scenario that now passes, so the list cannot
//! go stale.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::command::{TaskError, cargo, workspace_root};
use crate::npm::{self, NpmPackage};

/// The Node the suite runs on, as an npm package (it provides `node_modules/.bin/node`).
const NODE: NpmPackage = NpmPackage {
    name: "node",
    version: "22.23.3",
};

/// The official conformance suite, at the one version the expected failures are written for.
const SUITE: NpmPackage = NpmPackage {
    name: "@modelcontextprotocol/conformance",
    version: "0.1.16",
};

/// The client under test: its package and binary.
const CLIENT_PACKAGE: &str = "mcp-tests";
const CLIENT_BIN: &str = "mcp-conformance-client";

/// Moves the suite's mock servers from every interface to 127.0.0.1 (tests bind only loopback).
const LOOPBACK_PRELOAD: &str = "tests/node/loopback-preload.cjs";
/// What the preload prints to stderr; noise in the output shown to people.
const PRELOAD_LINE_PREFIX: &str = "loopback-preload:";

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
/// requests, records `mcp-client-initialization` when it answers one.
const REACHED_SERVER_CHECKS: &[&str] = &["incoming-request", "mcp-client-initialization"];
/// How the mock servers describe a request they received (`Received POST request for /mcp ...`).
const RECEIVED_PREFIX: &str = "Received ";

/// The scenario that a race once failed 1 run in 5 (an answer on the standalone stream was lost),
/// and how many runs in a row `cargo xtask conformance-soak` makes of it.
const SOAK_SCENARIO: &str = "sse-retry";
const SOAK_RUNS: usize = 50;
/// The extra runs of it `cargo xtask conformance` (and so CI) makes after the table: a few, since
/// each takes seconds.
const CI_SOAK_RUNS: usize = 3;

/// What every run of the suite needs, installed and built.
struct Setup {
    root: PathBuf,
    node: PathBuf,
    suite: PathBuf,
    client: PathBuf,
    results: PathBuf,
    expected: HashMap<String, String>,
}

impl Setup {
    /// Installs the pinned Node and suite, reads the expected failures and builds the client.
    fn prepare() -> Result<Self, TaskError> {
        let root = workspace_root();
        let prefix = root.join("target").join("conformance");
        let expected = read_expected_failures(&root.join(EXPECTED_FAILURES))?;
        npm::install(&prefix, &[NODE, SUITE])?;
        let node = node_22(&prefix)?;
        let suite = prefix
            .join("node_modules")
            .join(SUITE.name)
            .join("dist")
            .join("index.js");
        cargo(&["build", "-p", CLIENT_PACKAGE, "--bin", CLIENT_BIN]).run()?;
        let client = client_binary(&root)?;
        Ok(Self {
            results: prefix.join("results"),
            root,
            node,
            suite,
            client,
            expected,
        })
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
    let setup = Setup::prepare()?;
    repeat(&setup.suite_run(), SOAK_SCENARIO, SOAK_RUNS)
}

/// Runs `scenario` `runs` times; fails if any run fails, after all of them.
fn repeat(suite_run: &SuiteRun<'_>, scenario: &str, runs: usize) -> Result<(), TaskError> {
    let started = Instant::now();
    let mut failed = Vec::new();
    for run in 1..=runs {
        let (exit, output) = suite_run.scenario(scenario)?;
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
    let setup = Setup::prepare()?;
    let expected = &setup.expected;
    let suite_run = setup.suite_run();
    let scenarios = suite_run.scenarios()?;

    let mut rows = Vec::with_capacity(scenarios.len());
    for (index, scenario) in scenarios.iter().enumerate() {
        let started = Instant::now();
        let (exit, output) = suite_run.scenario(scenario)?;
        let report = parse_run(&output);
        let outcome = verdict(&exit, &report);
        let listed = expected.get(scenario.as_str());
        let row = Row::new(scenario, &report, outcome, listed);
        println!(
            "[{:>2}/{}] {scenario} {} in {:.1}s",
            index + 1,
            scenarios.len(),
            row.verdict.label(),
            started.elapsed().as_secs_f64()
        );
        if row.verdict == Verdict::Fail {
            println!("{}", shown_output(&output));
        }
        rows.push(row);
    }

    let table = table(&rows);
    println!("\n{table}");
    let report_path = setup
        .root
        .join("target")
        .join("conformance")
        .join("report.md");
    let report = format!(
        "# MCP conformance: client scenarios\n\n`{}` against `{CLIENT_BIN}`; generated by `cargo xtask conformance`.\n\n{table}",
        SUITE.spec()
    );
    std::fs::write(&report_path, report).map_err(|error| {
        TaskError::new(format!(
            "could not write {}: {error}",
            report_path.display()
        ))
    })?;
    println!("report written to {}", report_path.display());
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

    /// The suite's client scenarios, in its order.
    fn scenarios(&self) -> Result<Vec<String>, TaskError> {
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

    /// Runs one scenario within [`SCENARIO_TIME_LIMIT`]; returns how it ended and its output
    /// (stdout and stderr interleaved, ANSI codes stripped).
    fn scenario(&self, scenario: &str) -> Result<(Exit, String), TaskError> {
        let dir = self.results.join(scenario.replace('/', "_"));
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
            .arg(self.suite)
            .args(["client", "--command"])
            .arg(self.client)
            .args(["--scenario", scenario, "--timeout", SUITE_CLIENT_TIMEOUT_MS])
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

/// The names in `list --client` output, whose lines read `  - auth/metadata-default [2025-11-25]`.
fn parse_scenario_list(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("- "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// How the suite's process ended.
#[derive(Debug)]
enum Exit {
    Success,
    /// A non-zero exit, as the OS describes it.
    Failure(String),
    /// Killed at our time limit.
    TimedOut(Duration),
}

/// What the suite's output (ANSI codes stripped) says about one scenario run.
#[derive(Debug, Default, PartialEq)]
struct RunReport {
    /// `Passed: X/Y` as `(X, Y)`, when the suite got as far as its summary.
    passed: Option<(u32, u32)>,
    /// Ids of the checks reported as `FAILURE`, in order, each once.
    failed_checks: Vec<String>,
    /// Whether the suite printed `OVERALL: PASSED`.
    overall_passed: bool,
    /// Whether the mock server recorded a request from the client.
    reached_server: bool,
}

/// One line of the suite's check log: `<timestamp> [<id, padded>] <STATUS> <description>`.
struct CheckLine<'a> {
    id: &'a str,
    status: &'a str,
    description: &'a str,
}

impl<'a> CheckLine<'a> {
    /// The check on `line`, if it is a check line; the client's own log lines (which the suite
    /// echoes when the client fails) have a timestamp but no bracketed id, so they are not.
    fn parse(line: &'a str) -> Option<Self> {
        let (timestamp, rest) = line.trim().split_once(' ')?;
        if !timestamp.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        let (id, rest) = rest.trim_start().strip_prefix('[')?.split_once(']')?;
        let rest = rest.trim_start();
        let (status, description) = rest.split_once(' ').unwrap_or((rest, ""));
        Some(Self {
            id: id.trim(),
            status,
            description: description.trim(),
        })
    }

    /// Whether the mock server wrote this line because the client sent it a request. A synthesised
    /// `FAILURE` ("Expected Check Missing: ...") is the opposite, whatever its id.
    fn shows_a_request(&self) -> bool {
        self.status != "FAILURE"
            && (REACHED_SERVER_CHECKS.contains(&self.id)
                || self.description.starts_with(RECEIVED_PREFIX))
    }
}

/// Reads a scenario run's output.
fn parse_run(output: &str) -> RunReport {
    let mut report = RunReport::default();
    for line in output.lines() {
        let trimmed = line.trim();
        if let Some(check) = CheckLine::parse(trimmed) {
            report.reached_server |= check.shows_a_request();
            if check.status == "FAILURE" && !report.failed_checks.iter().any(|id| id == check.id) {
                report.failed_checks.push(check.id.to_owned());
            }
        } else if let Some(counts) = trimmed.strip_prefix("Passed:") {
            report.passed = parse_passed(counts).or(report.passed);
        } else if trimmed.ends_with("OVERALL: PASSED") {
            report.overall_passed = true;
        }
    }
    report
}

/// `X/Y` from the rest of `Passed: X/Y, F failed, W warnings`.
fn parse_passed(counts: &str) -> Option<(u32, u32)> {
    let (passed, rest) = counts.trim().split_once('/')?;
    let total = rest.split(|c: char| !c.is_ascii_digit()).next()?;
    Some((passed.parse().ok()?, total.parse().ok()?))
}

/// A scenario's verdict on its own (before the expected failures): `Err` says why it failed.
fn verdict(exit: &Exit, report: &RunReport) -> Result<(), String> {
    let mut reasons = Vec::new();
    if let Exit::TimedOut(limit) = exit {
        reasons.push(format!("killed after {}s", limit.as_secs()));
    }
    if !report.failed_checks.is_empty() {
        reasons.push(report.failed_checks.join(", "));
    }
    if !report.reached_server {
        reasons.push("client never reached the server".to_owned());
    }
    if reasons.is_empty() {
        if let Exit::Failure(status) = exit {
            reasons.push(format!("suite failed ({status})"));
        } else if !report.overall_passed {
            reasons.push("suite did not print `OVERALL: PASSED`".to_owned());
        }
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(reasons.join("; "))
    }
}

/// The output worth showing a person: without the preload's address lines, indented under the
/// progress line.
fn shown_output(output: &str) -> String {
    output
        .lines()
        .filter(|line| !line.starts_with(PRELOAD_LINE_PREFIX))
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Removes ANSI escape sequences: CSI (`ESC [ ... final`), OSC (`ESC ] ... BEL` or `ESC ] ... ESC \`),
/// escapes with intermediates (`ESC ( B`) and two-character escapes.
fn strip_ansi(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            plain.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' {
                        break;
                    }
                    if c == '\u{1b}' {
                        chars.next_if_eq(&'\\');
                        break;
                    }
                }
            }
            Some(' '..='/') => {
                for c in chars.by_ref() {
                    if !(' '..='/').contains(&c) {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    plain
}

/// A verdict once the expected failures are taken into account.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Verdict {
    Pass,
    Fail,
    ExpectedFail,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::Fail => "FAIL",
            Self::ExpectedFail => "EXPECTED FAIL",
        }
    }
}

/// One scenario's line in the table.
struct Row {
    scenario: String,
    verdict: Verdict,
    checks: String,
    detail: String,
}

impl Row {
    fn new(
        scenario: &str,
        report: &RunReport,
        outcome: Result<(), String>,
        listed: Option<&String>,
    ) -> Self {
        let (verdict, detail) = match (outcome, listed) {
            (Ok(()), _) => (Verdict::Pass, String::new()),
            (Err(why), None) => (Verdict::Fail, why),
            (Err(why), Some(reason)) => {
                (Verdict::ExpectedFail, format!("{why} (listed: {reason})"))
            }
        };
        Self {
            scenario: scenario.to_owned(),
            verdict,
            checks: report.passed.map_or_else(
                || "-".to_owned(),
                |(passed, total)| format!("{passed}/{total}"),
            ),
            detail,
        }
    }
}

/// A Markdown table, padded so it also reads as plain text.
fn table(rows: &[Row]) -> String {
    let header = ["Scenario", "Verdict", "Checks", "Failed checks / reason"];
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|row| {
            [
                row.scenario.clone(),
                row.verdict.label().to_owned(),
                row.checks.clone(),
                row.detail.replace('|', "\\|"),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let mut line = |cells: [&str; 4]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(text, "| {} |", padded.join(" | "));
    };
    line(header);
    let rules = widths.map(|width| "-".repeat(width));
    line([&rules[0], &rules[1], &rules[2], &rules[3]]);
    for row in &cells {
        line([&row[0], &row[1], &row[2], &row[3]]);
    }
    let passed = rows
        .iter()
        .filter(|row| row.verdict == Verdict::Pass)
        .count();
    let _ = writeln!(text, "\n{passed} of {} scenarios passed.", rows.len());
    text
}

/// Ok when every failure is an expected one and every expected one still fails.
fn judge(rows: &[Row], expected: &HashMap<String, String>) -> Result<(), TaskError> {
    let names = |verdict: Verdict, wanted: bool| -> Vec<&str> {
        rows.iter()
            .filter(|row| {
                (row.verdict == verdict) && (expected.contains_key(&row.scenario) == wanted)
            })
            .map(|row| row.scenario.as_str())
            .collect()
    };
    let unexpected = names(Verdict::Fail, false);
    let stale = names(Verdict::Pass, true);
    let mut unknown: Vec<&str> = expected
        .keys()
        .filter(|name| !rows.iter().any(|row| &row.scenario == *name))
        .map(String::as_str)
        .collect();
    unknown.sort_unstable();
    let mut problems = Vec::new();
    if !unexpected.is_empty() {
        problems.push(format!("failed: {}", unexpected.join(", ")));
    }
    if !stale.is_empty() {
        problems.push(format!(
            "listed in {EXPECTED_FAILURES} but now pass (remove them): {}",
            stale.join(", ")
        ));
    }
    if !unknown.is_empty() {
        problems.push(format!(
            "listed in {EXPECTED_FAILURES} but not a scenario of {}: {}",
            SUITE.spec(),
            unknown.join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(TaskError::new(problems.join("; ")))
    }
}

/// Reads [`EXPECTED_FAILURES`]: scenario name to reason.
fn read_expected_failures(path: &Path) -> Result<HashMap<String, String>, TaskError> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| TaskError::new(format!("could not read {}: {error}", path.display())))?;
    parse_expected_failures(&text)
        .map_err(|error| TaskError::new(format!("{}:{error}", path.display())))
}

/// Parses the expected failures: `NAME  # reason` a line, every reason non-empty; blank lines and
/// lines starting with `#` are comments. An error starts with the line number.
fn parse_expected_failures(text: &str) -> Result<HashMap<String, String>, String> {
    let mut entries = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let malformed =
            |what: &str| format!("{number}: {what} in `{line}`; write `NAME  # why it fails`");
        let Some((name, reason)) = line.split_once('#') else {
            return Err(malformed("no `# reason`"));
        };
        let (name, reason) = (name.trim(), reason.trim());
        if reason.is_empty() {
            return Err(malformed("an empty reason"));
        }
        if name.split_whitespace().count() != 1 {
            return Err(malformed("not one scenario name"));
        }
        if entries.insert(name.to_owned(), reason.to_owned()).is_some() {
            return Err(malformed("a scenario listed twice"));
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST_OUTPUT: &str = "Client scenarios (test against a client):\n  \
        - initialize [2025-06-18,2025-11-25]\n  \
        - auth/metadata-default [2025-11-25]\n  \
        - auth/cross-app-access-complete-flow [extension]\n";

    const PASSING_RUN: &str = "\
Starting scenario: tools_call
Executing client: /x/mcp-conformance-client http://localhost:35035/mcp
loopback-preload: listening on 127.0.0.1:35035
Checks:
2026-11-24T07:54:46.106Z [incoming-request ] INFO    Received POST request for /mcp (method: initialize)
2026-11-24T07:54:46.138Z [tool-add-numbers ] SUCCESS Validates that the add_numbers tool works correctly

Test Results:
Passed: 1/1, 0 failed, 0 warnings

\u{2705} OVERALL: PASSED
";

    const FAILING_RUN: &str = "\
Starting scenario: auth/metadata-default
Client exited with code 1

Stderr:
2026-11-24T07:54:59.027382Z ERROR rmcp::transport::worker: Received nothing [oops]
Checks:
2026-11-24T07:55:14.247Z [prm-pathbased-requested      ] FAILURE Expected Check Missing: prm-pathbased-requested
2026-11-24T07:55:14.248Z [incoming-request             ] FAILURE Expected Check Missing: incoming-request
2026-11-24T07:55:14.248Z [prm-pathbased-requested      ] FAILURE Expected Check Missing: prm-pathbased-requested

Test Results:
Passed: 0/5, 5 failed, 0 warnings

Failed Checks:
  - Expected Check Missing: prm-pathbased-requested: Expected Check Missing: prm-pathbased-requested

\u{274c} OVERALL: FAILED
";

    #[test]
    fn scenario_names_are_read_from_the_list_output() {
        assert_eq!(
            parse_scenario_list(LIST_OUTPUT),
            [
                "initialize",
                "auth/metadata-default",
                "auth/cross-app-access-complete-flow"
            ]
        );
    }

    #[test]
    fn a_list_without_scenario_lines_has_no_scenarios() {
        assert!(parse_scenario_list("Client scenarios (test against a client):\n\n").is_empty());
    }

    #[test]
    fn a_passing_run_reports_counts_and_a_request() {
        let report = parse_run(PASSING_RUN);
        assert_eq!(
            report,
            RunReport {
                passed: Some((1, 1)),
                failed_checks: vec![],
                overall_passed: true,
                reached_server: true,
            }
        );
        assert_eq!(verdict(&Exit::Success, &report), Ok(()));
    }

    #[test]
    fn failed_check_ids_are_collected_once_each_in_order() {
        let report = parse_run(FAILING_RUN);
        assert_eq!(report.passed, Some((0, 5)));
        assert_eq!(
            report.failed_checks,
            ["prm-pathbased-requested", "incoming-request"]
        );
        assert!(!report.overall_passed);
    }

    #[test]
    fn missing_request_checks_and_client_log_lines_do_not_count_as_reaching_the_server() {
        assert!(!parse_run(FAILING_RUN).reached_server);
    }

    #[test]
    fn a_passing_suite_with_no_request_is_a_failure() {
        let run =
            "Checks:\n\nTest Results:\nPassed: 1/1, 0 failed, 0 warnings\n\nOVERALL: PASSED\n";
        let report = parse_run(run);
        assert!(report.overall_passed);
        assert_eq!(
            verdict(&Exit::Success, &report),
            Err("client never reached the server".to_owned())
        );
    }

    #[test]
    fn the_initialize_check_counts_as_reaching_the_server() {
        let run = "2026-11-24T07:54:12.029Z [mcp-client-initialization] SUCCESS Validates that MCP client properly initializes with server\n";
        assert!(parse_run(run).reached_server);
    }

    #[test]
    fn a_received_description_counts_as_reaching_the_server() {
        let run = "2026-11-24T07:54:48.624Z [incoming-auth-request ] INFO    Received GET request for /authorize\n";
        assert!(parse_run(run).reached_server);
    }

    #[test]
    fn a_failing_exit_without_failed_checks_is_a_failure() {
        let report = parse_run(PASSING_RUN);
        assert_eq!(
            verdict(&Exit::Failure("exit status: 1".to_owned()), &report),
            Err("suite failed (exit status: 1)".to_owned())
        );
    }

    #[test]
    fn a_timeout_is_a_failure_even_after_a_pass() {
        let report = parse_run(PASSING_RUN);
        assert_eq!(
            verdict(&Exit::TimedOut(Duration::from_secs(120)), &report),
            Err("killed after 120s".to_owned())
        );
    }

    #[test]
    fn ansi_colour_codes_are_stripped() {
        let coloured = "\u{1b}[90m2026-11-24T07:54:12.029Z\u{1b}[0m [server-info] \u{1b}[36mINFO   \u{1b}[0m ok";
        assert_eq!(
            strip_ansi(coloured),
            "2026-11-24T07:54:12.029Z [server-info] INFO    ok"
        );
    }

    #[test]
    fn osc_and_other_escapes_are_stripped() {
        assert_eq!(
            strip_ansi("a\u{1b}]0;title\u{7}b\u{1b}]8;;x\u{1b}\\c\u{1b}(Bd\u{1b}=e"),
            "abcde"
        );
    }

    #[test]
    fn coloured_output_parses_once_stripped() {
        let run = "\u{1b}[90m2026-11-24T07:55:14.247Z\u{1b}[0m [token-request] \u{1b}[31mFAILURE\u{1b}[0m no token\n";
        assert_eq!(parse_run(&strip_ansi(run)).failed_checks, ["token-request"]);
    }

    #[test]
    fn preload_lines_are_not_shown() {
        assert_eq!(
            shown_output("a\nloopback-preload: listening on 127.0.0.1:1\nb"),
            "    a\n    b"
        );
    }

    #[test]
    fn expected_failures_are_read_with_their_reasons() {
        let text = "# header\n\n  # indented comment\nauth/x  # needs SEP-1\ninitialize#a # b\n";
        let entries = parse_expected_failures(text).expect("valid");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries["auth/x"], "needs SEP-1");
        assert_eq!(entries["initialize"], "a # b");
    }

    #[test]
    fn comments_and_blank_lines_alone_are_an_empty_list() {
        assert!(
            parse_expected_failures("# format\n\n#\n")
                .expect("valid")
                .is_empty()
        );
    }

    #[test]
    fn an_entry_without_a_reason_is_an_error_naming_its_line() {
        let error = parse_expected_failures("# header\nauth/x\n").expect_err("no reason");
        assert!(error.starts_with("2: no `# reason`"), "{error}");
        let error = parse_expected_failures("auth/x  #   \n").expect_err("empty reason");
        assert!(error.starts_with("1: an empty reason"), "{error}");
    }

    #[test]
    fn an_entry_with_two_names_or_listed_twice_is_an_error() {
        let error = parse_expected_failures("a b # why\n").expect_err("two names");
        assert!(error.starts_with("1: not one scenario name"), "{error}");
        let error = parse_expected_failures("a # why\na # again\n").expect_err("twice");
        assert!(error.starts_with("2: a scenario listed twice"), "{error}");
    }

    fn row(scenario: &str, verdict: Verdict) -> Row {
        Row {
            scenario: scenario.to_owned(),
            verdict,
            checks: "1/1".to_owned(),
            detail: String::new(),
        }
    }

    #[test]
    fn expected_failures_pass_and_stale_or_unknown_entries_fail() {
        let expected: HashMap<String, String> =
            [("b".to_owned(), "why".to_owned())].into_iter().collect();
        assert!(
            judge(
                &[row("a", Verdict::Pass), row("b", Verdict::ExpectedFail)],
                &expected
            )
            .is_ok()
        );
        let stale = judge(
            &[row("a", Verdict::Pass), row("b", Verdict::Pass)],
            &expected,
        )
        .expect_err("stale");
        assert!(
            stale.to_string().contains("now pass (remove them): b"),
            "{stale}"
        );
        let unknown = judge(&[row("a", Verdict::Pass)], &expected).expect_err("unknown");
        assert!(unknown.to_string().contains("not a scenario"), "{unknown}");
        let failed = judge(
            &[row("a", Verdict::Fail), row("b", Verdict::ExpectedFail)],
            &expected,
        )
        .expect_err("failed");
        assert_eq!(failed.to_string(), "failed: a");
    }
}
