//! `cargo xtask check-agreement [--check]`: `mcpcord check` and the official conformance suite's
//! server mode, run against the same servers, must agree scenario by scenario, or say why not.
//!
//! The servers, all on 127.0.0.1:
//! - `@modelcontextprotocol/server-everything` over streamable HTTP, at both revisions (suite
//!   `--requirements R` against `mcpcord check --spec R`);
//! - the Python SDK's stock streamable HTTP server (`tests/python/http_server.py`, PyPI `mcp`),
//!   which speaks both eras, at both revisions;
//! - `mcp-noncompliant-server`, compliant and under each `--violate RULE`, over HTTP at 2025-11-25;
//! - the same fixture over stdio, ours only (the suite has no stdio server mode).
//!
//! Every scenario the suite ran makes a pair of verdicts ([`verdicts`]). A pair agrees when both
//! sides pass or both fail; any other pair must match an entry of [`EXPLANATIONS`]
//! ([`explanations`]), and every entry must match some pair, so the file cannot go stale. The
//! fixture runs must also show the detections [`detections`] lists. The table of every pair is
//! written to [`TABLE`] ([`report`]); with `--check` (CI) the task fails instead when the
//! checked-in table differs. Timings go to stdout only, so the table stays deterministic.
//!
//! The stdio runs start first and go on alongside the HTTP ones (a stdio run mostly waits, on
//! the server or on a timeout of its own); the HTTP runs go one at a time, the suite before ours,
//! so their timings are not skewed by each other. Each run's output stays under
//! `target/check-agreement/`.

mod detections;
mod explanations;
mod json;
mod processes;
mod report;
#[cfg(test)]
mod tests;
mod verdicts;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::command::{TaskError, cargo, workspace_root};
use crate::{conformance, npm};

use detections::{Finding, Transport, VIOLATIONS, findings};
use processes::{EverythingServer, Finished, FixtureServer, Running};
use report::{DetectionRow, Section, Totals};
use verdicts::{Judgement, OurReport, Pair, judge, pairs, parse_our_report, read_suite_dir};

/// The explanations of every disagreement.
const EXPLANATIONS: &str = "tests/conformance/check-agreement.toml";
/// The generated comparison table.
const TABLE: &str = "tests/conformance/check-agreement.md";
/// Where the runs' output goes, under the target directory.
const WORK_DIR: &str = "check-agreement";
/// Moves server-everything from every interface to 127.0.0.1.
const LOOPBACK_PRELOAD: &str = "tests/node/loopback-preload.cjs";
/// server-everything's entry script, under `target/npm/node_modules/`.
const EVERYTHING_SCRIPT: &str = "@modelcontextprotocol/server-everything/dist/index.js";
/// The revisions server-everything is compared at; the fixture speaks only the first.
const REVISIONS: [&str; 2] = ["2025-11-25", "2026-07-28"];
/// The fixture's revision.
const FIXTURE_REVISION: &str = REVISIONS[0];
/// server-everything's label in the table and the explanations.
const EVERYTHING: &str = "server-everything";
/// The Python SDK server's label.
const PYTHON: &str = "python-sdk";
/// The Python SDK's stock streamable HTTP server.
const PYTHON_SERVER: &str = "tests/python/http_server.py";
/// The fixture's label; a violation's is `noncompliant/RULE`.
const FIXTURE: &str = "noncompliant";
/// One run of the suite or of ours may take this long (each takes seconds).
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// `cargo xtask check-agreement [--check]`: with `--check`, as [`verify`]; else writes [`TABLE`].
pub(crate) fn run() -> Result<(), TaskError> {
    agreement(std::env::args().skip(2).any(|arg| arg == "--check"))
}

/// The CI step: as `cargo xtask check-agreement --check`.
pub(crate) fn verify() -> Result<(), TaskError> {
    agreement(true)
}

/// The programs and paths every run uses.
struct Tools {
    root: PathBuf,
    node: PathBuf,
    suite: PathBuf,
    mcpcord: PathBuf,
    fixture: PathBuf,
    out: PathBuf,
}

/// One server at one revision, with both sides' results.
struct Comparison {
    server: String,
    revision: &'static str,
    pairs: Vec<Pair>,
    ours: OurReport,
    suite_time: Duration,
    ours_time: Duration,
}

/// One run of ours against the fixture, with its expected detections.
struct FixtureRun {
    server: String,
    transport: Transport,
    findings: Vec<Finding>,
    ours_time: Duration,
}

fn agreement(check: bool) -> Result<(), TaskError> {
    let started = Instant::now();
    let root = workspace_root();
    let explanations = explanations::read(&root.join(EXPLANATIONS))?;
    cargo(&["build", "-p", "mcpcord", "-p", "mcp-tests", "--bins"]).run()?;
    npm::interop_deps()?;
    crate::python::install()?;
    let (node, suite) = conformance::install_pinned()?;
    let tools = Tools::new(root, node, suite)?;

    let modes: Vec<Option<&str>> = std::iter::once(None)
        .chain(VIOLATIONS.iter().copied().map(Some))
        .collect();
    let stdio: Vec<(Option<&str>, Running)> = modes
        .iter()
        .map(|&rule| Ok((rule, tools.ours_stdio(rule)?)))
        .collect::<Result<_, TaskError>>()?;

    let mut comparisons = Vec::new();
    let mut fixture_runs = Vec::new();
    {
        let dir = tools.dir(EVERYTHING)?;
        let server = EverythingServer::start(
            &tools.node,
            &tools.root.join(LOOPBACK_PRELOAD),
            &everything_script(&tools.root),
            &dir,
            &dir.join("server.err"),
        )?;
        for revision in REVISIONS {
            comparisons.push(tools.compare(EVERYTHING, &server.url, revision)?);
        }
    }
    {
        let mut command = Command::new(crate::python::interpreter());
        command.arg(tools.root.join(PYTHON_SERVER));
        let server = FixtureServer::spawn(
            command,
            &tools.root.join(PYTHON_SERVER),
            &tools.dir(PYTHON)?.join("server.err"),
        )?;
        for revision in REVISIONS {
            comparisons.push(tools.compare(PYTHON, &server.url, revision)?);
        }
    }
    for &rule in &modes {
        let label = fixture_label(rule);
        let server =
            FixtureServer::start(&tools.fixture, rule, &tools.dir(&label)?.join("server.err"))?;
        let comparison = tools.compare(&label, &server.url, FIXTURE_REVISION)?;
        fixture_runs.push(FixtureRun {
            server: label,
            transport: Transport::Http,
            findings: findings(rule, Transport::Http, &comparison.ours),
            ours_time: comparison.ours_time,
        });
        comparisons.push(comparison);
    }
    for (rule, running) in stdio {
        let label = fixture_label(rule);
        let (report, finished) = our_report(running)?;
        fixture_runs.push(FixtureRun {
            findings: findings(rule, Transport::Stdio, &report),
            server: label,
            transport: Transport::Stdio,
            ours_time: finished.elapsed,
        });
    }

    let all_pairs: Vec<Pair> = comparisons
        .iter()
        .flat_map(|comparison| comparison.pairs.iter().cloned())
        .collect();
    let (judgements, stale) = judge(&all_pairs, &explanations);
    print_timings(&comparisons, &fixture_runs);

    let mut judged = all_pairs.iter().zip(judgements.iter().copied());
    let sections: Vec<Section<'_>> = comparisons
        .iter()
        .map(|comparison| Section {
            server: &comparison.server,
            revision: comparison.revision,
            ours: &comparison.ours,
            rows: judged.by_ref().take(comparison.pairs.len()).collect(),
        })
        .collect();
    let detection_rows: Vec<DetectionRow<'_>> = fixture_runs
        .iter()
        .map(|run| DetectionRow {
            server: &run.server,
            transport: run.transport.label(),
            findings: &run.findings,
        })
        .collect();
    let table = report::markdown(
        &conformance::pinned_spec(),
        &npm::SERVER_EVERYTHING.spec(),
        &sections,
        &explanations,
        &detection_rows,
    );
    let totals = Totals::of(&judgements);
    for section in &sections {
        let section_totals = Totals::of(section.rows.iter().map(|(_, judgement)| judgement));
        println!(
            "{} at {}: {}",
            section.server,
            section.revision,
            section_totals.sentence()
        );
    }
    println!(
        "check-agreement: {} in {:.1}s",
        totals.sentence(),
        started.elapsed().as_secs_f64()
    );

    let mut problems = Vec::new();
    problems.extend(unexplained(&all_pairs, &judgements));
    problems.extend(stale.iter().map(|&index| {
        let entry = &explanations[index];
        format!(
            "{EXPLANATIONS}:{}: explains no disagreement (servers {:?}, revision {:?}, scenarios \
             {:?}, suite {}, ours {}): remove it, or fix its patterns",
            entry.line,
            entry.servers,
            entry.revision,
            entry.scenarios,
            entry.suite_label(),
            entry.ours.label()
        )
    }));
    for run in &fixture_runs {
        for finding in &run.findings {
            if let Some(missing) = &finding.missing {
                problems.push(format!(
                    "{} over {}: expected {}, but {missing}",
                    run.server,
                    run.transport.label(),
                    finding.expected
                ));
            }
        }
    }
    problems.extend(tools.table(&table, check)?);
    if problems.is_empty() {
        Ok(())
    } else {
        for problem in &problems {
            println!("problem: {problem}");
        }
        let first_unexplained = all_pairs
            .iter()
            .zip(&judgements)
            .find(|(_, judgement)| **judgement == Judgement::Unexplained);
        if let Some((pair, _)) = first_unexplained {
            println!(
                "\nIf a disagreement is right (not a bug in mcpcord check), explain it in \
                 {EXPLANATIONS}, e.g.:\n{}",
                template(pair)
            );
        }
        Err(TaskError::new(format!(
            "{} problem(s), listed above",
            problems.len()
        )))
    }
}

impl Tools {
    /// Finds the built binaries and clears the work directory.
    fn new(root: PathBuf, node: PathBuf, suite: PathBuf) -> Result<Self, TaskError> {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| root.join("target"), |dir| root.join(dir));
        let binary = |name: &str| {
            let path = target
                .join("debug")
                .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
            if path.is_file() {
                Ok(path)
            } else {
                Err(TaskError::new(format!(
                    "`cargo build` succeeded but {} does not exist",
                    path.display()
                )))
            }
        };
        let out = target.join(WORK_DIR);
        match std::fs::remove_dir_all(&out) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(TaskError::new(format!(
                    "could not clear {}: {error}",
                    out.display()
                )));
            }
        }
        Ok(Self {
            mcpcord: binary("mcpcord")?,
            fixture: binary("mcp-noncompliant-server")?,
            root,
            node,
            suite,
            out,
        })
    }

    /// The work directory of one server label (created), `noncompliant/RULE` as `noncompliant-RULE`.
    fn dir(&self, label: &str) -> Result<PathBuf, TaskError> {
        let dir = self.out.join(label.replace('/', "-"));
        std::fs::create_dir_all(&dir).map_err(|error| {
            TaskError::new(format!("could not create {}: {error}", dir.display()))
        })?;
        Ok(dir)
    }

    /// Runs the suite, then ours, against `url` at `revision`, and pairs their verdicts.
    fn compare(
        &self,
        server: &str,
        url: &str,
        revision: &'static str,
    ) -> Result<Comparison, TaskError> {
        let dir = self.dir(server)?.join(revision);
        let results = dir.join("suite");
        std::fs::create_dir_all(&results).map_err(|error| {
            TaskError::new(format!("could not create {}: {error}", results.display()))
        })?;
        let mut suite = Command::new(&self.node);
        suite
            .current_dir(&self.root)
            .env("NO_COLOR", "1")
            .arg(&self.suite)
            .args(["server", "--url", url, "--requirements", revision, "-o"])
            .arg(&results);
        let running = Running::spawn(suite, dir.join("suite.out"), dir.join("suite.err"))?;
        let shown = running.shown().to_owned();
        let finished = running.finish(RUN_LIMIT)?;
        let suite_verdicts = read_suite_dir(&results).map_err(TaskError::new)?;
        if suite_verdicts.is_empty() {
            return Err(TaskError::new(format!(
                "`{shown}` ({}) ran no scenario; its output:\n{}\n{}",
                finished.status,
                finished.stdout.trim_end(),
                finished.stderr_tail()
            )));
        }
        let suite_time = finished.elapsed;

        let mut ours = Command::new(&self.mcpcord);
        ours.args(["check", url, "--spec", revision, "--json"]);
        let running = Running::spawn(ours, dir.join("ours.json"), dir.join("ours.err"))?;
        let (report, finished) = our_report(running)?;
        Ok(Comparison {
            server: server.to_owned(),
            revision,
            pairs: pairs(server, revision, &suite_verdicts, &report),
            ours: report,
            suite_time,
            ours_time: finished.elapsed,
        })
    }

    /// Starts ours against the fixture over stdio (`-- mcp-noncompliant-server [--violate RULE]`).
    fn ours_stdio(&self, rule: Option<&str>) -> Result<Running, TaskError> {
        let dir = self.dir(&fixture_label(rule))?.join("stdio");
        std::fs::create_dir_all(&dir).map_err(|error| {
            TaskError::new(format!("could not create {}: {error}", dir.display()))
        })?;
        let mut command = Command::new(&self.mcpcord);
        command
            .args(["check", "--spec", FIXTURE_REVISION, "--json", "--"])
            .arg(&self.fixture);
        if let Some(rule) = rule {
            command.args(["--violate", rule]);
        }
        Running::spawn(command, dir.join("ours.json"), dir.join("ours.err"))
    }

    /// Writes the table, or with `check` compares it with the checked-in one; returns the problem.
    fn table(&self, table: &str, check: bool) -> Result<Option<String>, TaskError> {
        let path = self.root.join(TABLE);
        if check {
            let current = std::fs::read_to_string(&path).unwrap_or_default();
            if current == table {
                return Ok(None);
            }
            let generated = self.out.join("check-agreement.md");
            write(&generated, table)?;
            return Ok(Some(format!(
                "{TABLE} is out of date (the generated one is {}); run `cargo xtask \
                 check-agreement` without --check and commit the file",
                generated.display()
            )));
        }
        write(&path, table)?;
        println!("wrote {TABLE}");
        Ok(None)
    }
}

fn write(path: &Path, text: &str) -> Result<(), TaskError> {
    std::fs::write(path, text)
        .map_err(|error| TaskError::new(format!("could not write {}: {error}", path.display())))
}

/// The script that starts server-everything, as `cargo xtask npm-deps` installs it.
fn everything_script(root: &Path) -> PathBuf {
    root.join("target")
        .join("npm")
        .join("node_modules")
        .join(EVERYTHING_SCRIPT)
}

/// `noncompliant`, or `noncompliant/RULE`.
fn fixture_label(rule: Option<&str>) -> String {
    rule.map_or_else(|| FIXTURE.to_owned(), |rule| format!("{FIXTURE}/{rule}"))
}

/// Waits for a run of ours and reads its report: exit 0 iff `ok`, else 1 (also when it could not
/// check the server); anything else, or a report that does not parse, is an error.
fn our_report(running: Running) -> Result<(OurReport, Finished), TaskError> {
    let shown = running.shown().to_owned();
    let finished = running.finish(RUN_LIMIT)?;
    let report = parse_our_report(&finished.stdout).map_err(|error| {
        TaskError::new(format!(
            "`{shown}` ({}) printed no report ({error}); its stderr ends:\n{}",
            finished.status,
            finished.stderr_tail()
        ))
    })?;
    let expected_code = i32::from(report.ok != Some(true));
    if finished.status.code() != Some(expected_code) {
        return Err(TaskError::new(format!(
            "`{shown}` exited with {} but its report says ok: {:?}",
            finished.status, report.ok
        )));
    }
    Ok((report, finished))
}

/// The disagreements no entry explains, one line each.
fn unexplained(pairs: &[Pair], judgements: &[Judgement]) -> Vec<String> {
    pairs
        .iter()
        .zip(judgements)
        .filter(|(_, judgement)| **judgement == Judgement::Unexplained)
        .map(|(pair, _)| {
            format!(
                "unexplained: {} at {}, {}: suite {}, ours {}",
                pair.server,
                pair.revision,
                pair.scenario,
                pair.suite.label(),
                pair.ours.label()
            )
        })
        .collect()
}

/// An entry that would explain `pair`, for the person adding one.
fn template(pair: &Pair) -> String {
    format!(
        "[[explained]]\nservers = \"{}\"\nrevision = \"{}\"\nscenarios = \"{}\"\nsuite = \"{}\"\n\
         ours = \"{}\"\nwhy = \"...\"\nspec = \"https://modelcontextprotocol.io/specification/...\"",
        pair.server,
        pair.revision,
        pair.scenario,
        pair.suite.label(),
        pair.ours.label()
    )
}

/// Each run's wall time: the suite and ours per server and revision, and ours over stdio.
fn print_timings(comparisons: &[Comparison], fixture_runs: &[FixtureRun]) {
    println!("\ntimings (wall)");
    for comparison in comparisons {
        println!(
            "  {:<40} {}  suite {:>5.1}s  ours {:>5.1}s",
            comparison.server,
            comparison.revision,
            comparison.suite_time.as_secs_f64(),
            comparison.ours_time.as_secs_f64()
        );
    }
    for run in fixture_runs
        .iter()
        .filter(|run| run.transport == Transport::Stdio)
    {
        println!(
            "  {:<40} stdio                    ours {:>5.1}s",
            run.server,
            run.ours_time.as_secs_f64()
        );
    }
}
