//! Running the subjects: one run of one subject is one process (with, over HTTP, a fresh
//! [`HttpServer`]), whose stdout is one JSON line; [`measure`] interleaves the subjects repetition
//! by repetition and reads each row's number out of those lines.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::command::TaskError;

use super::server::HttpServer;
use super::setup::Paths;
use super::subjects::{Subject, place};
use super::workloads::{Case, MAX_CALL_US, Metric};

/// One subject run may take this long before it is killed and the bench fails.
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// For each of a case's rows, each subject's samples.
pub(super) type CaseResults = Vec<BTreeMap<Subject, Vec<f64>>>;

/// Runs a case: every repetition runs every subject once, in turn.
pub(super) fn measure(paths: &Paths, case: &Case) -> Result<CaseResults, TaskError> {
    let mut results: CaseResults = vec![BTreeMap::new(); case.rows.len()];
    print!(
        "{} {} (sessions {}, calls {}):",
        case.workload.name(),
        place(case.transport, case.server),
        case.sessions,
        case.calls
    );
    for _ in 0..case.reps {
        for &subject in &case.subjects {
            let stdout = run_subject(paths, case, subject)?;
            for (id, samples) in case.rows.iter().zip(&mut results) {
                let metric = id.metric();
                let value = metric_value(&stdout, subject, metric).ok_or_else(|| {
                    TaskError::new(format!(
                        "{} {} printed no `{}`: {}",
                        subject.name(),
                        case.workload.name(),
                        metric.key,
                        stdout.trim()
                    ))
                })?;
                samples.entry(subject).or_default().push(value);
            }
            print!(" {}", subject.name());
            flush_stdout();
        }
    }
    println!();
    Ok(results)
}

/// A metric from a subject's JSON line. `mcpcord bench` reports the slowest call inside its latency
/// summary, `"call_us": {"p50": .., "p99": .., "max": ..}`; every other number is a top-level key.
pub(super) fn metric_value(stdout: &str, subject: Subject, metric: Metric) -> Option<f64> {
    if subject == Subject::Mcpcord && metric.key == MAX_CALL_US.key {
        let summary = &stdout[stdout.find("\"call_us\"")?..];
        return json_number(summary, "max");
    }
    json_number(stdout, metric.key)
}

fn flush_stdout() {
    use std::io::Write as _;
    // Progress dots only; a closed stdout will fail the final report instead.
    let _ = std::io::stdout().flush();
}

/// Runs one subject once (with a fresh HTTP server when the case is over HTTP) and returns its
/// stdout; a failure names the subject and quotes the end of its stderr.
fn run_subject(paths: &Paths, case: &Case, subject: Subject) -> Result<String, TaskError> {
    let server = if case.transport.over_http() {
        Some(HttpServer::start(paths, case.server)?)
    } else {
        None
    };
    let target: Vec<String> = match &server {
        Some(server) => vec![server.url.clone()],
        None => vec![
            paths.fixture.to_string_lossy().into_owned(),
            "--stdio".to_owned(),
        ],
    };
    let mut command = subject_command(paths, case, subject, &target);
    let logs = paths.out.join("logs");
    std::fs::create_dir_all(&logs)
        .map_err(|error| TaskError::new(format!("cannot create {}: {error}", logs.display())))?;
    let stem = format!(
        "{}-{}-{}{}{}",
        subject.name(),
        case.workload.name(),
        case.transport.name(),
        case.server.log_suffix(),
        case.variant.log_suffix()
    );
    let out_path = logs.join(format!("{stem}.out"));
    let err_path = logs.join(format!("{stem}.err"));
    let create = |path: &Path| {
        File::create(path)
            .map_err(|error| TaskError::new(format!("cannot create {}: {error}", path.display())))
    };
    command
        .stdin(Stdio::null())
        .stdout(create(&out_path)?)
        .stderr(create(&err_path)?)
        .current_dir(&paths.root)
        .env("MCPCORD_HOME", paths.out.join("mcpcord-home"));
    if let Some((name, value)) = case.variant.environment() {
        command.env(name, value);
    }
    let shown = format!("{:?}", command);
    let child = command
        .spawn()
        .map_err(|error| TaskError::new(format!("could not start {shown}: {error}")))?;
    let outcome = wait_limited(child, RUN_LIMIT);
    drop(server);
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    match outcome {
        Ok(true) => Ok(stdout),
        Ok(false) | Err(_) => {
            let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
            let tail: Vec<&str> = stderr.lines().rev().take(10).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            Err(TaskError::new(format!(
                "{} failed on {} {} ({}); command: {shown}\n{}",
                subject.name(),
                case.workload.name(),
                place(case.transport, case.server),
                match outcome {
                    Err(reason) => reason,
                    _ => "non-zero exit".to_owned(),
                },
                tail.join("\n")
            )))
        }
    }
}

pub(super) fn subject_command(
    paths: &Paths,
    case: &Case,
    subject: Subject,
    target: &[String],
) -> Command {
    let counts = [
        "--sessions".to_owned(),
        case.sessions.to_string(),
        "--calls".to_owned(),
        case.calls.to_string(),
    ];
    let mut command;
    match subject {
        Subject::Mcpcord => {
            command = Command::new(&paths.mcpcord);
            command.args(["--json", "bench"]);
            // Given a URL, `mcpcord` finds the transport (streamable HTTP, else legacy SSE) itself.
            if case.transport.over_http() {
                command.args(target).args(counts)
            } else {
                command.args(counts).arg("--").args(target)
            };
            return command;
        }
        Subject::Python => {
            command = Command::new(paths.python());
            command.arg(
                paths
                    .root
                    .join("bench")
                    .join("python")
                    .join("bench_client.py"),
            );
        }
        Subject::Typescript => {
            command = Command::new("node");
            command
                .arg(
                    paths
                        .root
                        .join("bench")
                        .join("node")
                        .join("bench_client.cjs"),
                )
                .env("NODE_PATH", paths.node_prefix.join("node_modules"));
        }
        Subject::Ours | Subject::Rmcp | Subject::Floor => {
            let binary = match subject {
                Subject::Ours => "bench-ours",
                Subject::Rmcp => "bench-rmcp-raw",
                _ => "bench-floor",
            };
            command = Command::new(paths.bench_bin.join(binary));
        }
    }
    command
        .args([
            "--workload",
            case.workload.name(),
            "--transport",
            case.transport.name(),
        ])
        .args(counts)
        .args(["--repeat", &case.repeat.to_string()]);
    // A 2026-07-28-only server: raw rmcp is told to open the session as rmcp's README shows for
    // that revision (`ClientLifecycleMode::Discover`), since its default `initialize` is refused.
    // Ours is not told: its default finds the era out, as a user's config leaves it to.
    if subject == Subject::Rmcp && case.server.modern_only() {
        command.args(["--protocol", "modern"]);
    }
    command.arg("--").args(target);
    command
}

/// Waits for the child; `Ok(success)`, or `Err` after killing it when `limit` passes.
fn wait_limited(mut child: Child, limit: Duration) -> Result<bool, String> {
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status.success()),
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("killed after {}s", limit.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(error) => return Err(format!("cannot wait for it: {error}")),
        }
    }
}
/// The number after `"key":` in a JSON document (xtask stays std-only; the subjects print flat
/// objects whose keys are unique, so a search is enough).
pub(super) fn json_number(json: &str, key: &str) -> Option<f64> {
    let quoted = format!("\"{key}\"");
    let rest = &json[json.find(&quoted)? + quoted.len()..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}
