//! `mcpcord check`: the compliance checks of `mcp-check` against one server, as a report on the
//! terminal, as JSON, or as JUnit XML.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use mcp_check::{CheckResult, Options, Report, RunError, SpecChoice, Status, Target};
use mcp_manager::Manager;
use mcp_manager::config::{HttpConfig, HttpTransportKind, ServerConfig, TransportConfig};
use mcp_manager::transport::Credential;
use serde_json::json;

use crate::commands::single;
use mcp_manager::transport::error::terminal_safe;

use crate::render::{self, one_line, shown};
use crate::{CheckArgs, Cli, Outcome};

/// Runs the checks and shows the report; exit 0 only when every MUST passed.
pub(crate) async fn check(cli: &Cli, manager: &Manager, args: &CheckArgs) -> Outcome {
    let (name, config) = match single(cli, args.server.as_ref(), &args.command) {
        Ok(server) => server,
        Err(message) => return Outcome::Usage(message),
    };
    // The credentials a connect would present: a bearer token, or the OAuth tokens `mcpcord
    // login` stored (refreshed if they expired). `check` itself never opens a browser.
    let credential = match manager.authorizer(&name, &config) {
        Ok(None) => None,
        Ok(Some(authorizer)) => match authorizer.credential().await {
            Ok(credential) => credential,
            Err(error) => {
                eprintln!(
                    "mcpcord: {}: {}",
                    shown(&name),
                    one_line(&error.to_string())
                );
                return Outcome::Failed;
            }
        },
        Err(error) => return Outcome::Usage(error.to_string()),
    };
    let targets = match targets(&config, credential) {
        Ok(targets) => targets,
        Err(message) => return Outcome::Usage(message),
    };
    let options = Options {
        spec: args.spec.into(),
        only: args.only.clone(),
        timeout: args
            .timeout
            .unwrap_or_else(|| config.request_timeout.min(Duration::from_secs(10))),
        ..Options::default()
    };
    // Each transport in turn until one gives a session; a refused handshake is kept as the report
    // unless a later transport does better (a URL that is really a legacy SSE stream).
    let mut failures = Vec::new();
    let mut refused = None;
    let mut report = None;
    for target in &targets {
        match mcp_check::run(&name, target, &options).await {
            Ok(done) if done.handshake_refused => {
                refused.get_or_insert(done);
            }
            Ok(done) => {
                report = Some(done);
                break;
            }
            Err(error) => failures.push((target.transport_name(), error)),
        }
    }
    let Some(report) = report.or(refused) else {
        return unreachable(cli, &name, &failures);
    };
    if let Some(path) = &args.junit
        && let Err(error) = std::fs::write(path, report.to_junit())
    {
        eprintln!("mcpcord: could not write {}: {error}", path.display());
        return Outcome::Failed;
    }
    if cli.json {
        render::print_json(&report.to_json());
    } else if !cli.quiet {
        show(&report);
    }
    if report.passed() {
        Outcome::Ok
    } else {
        Outcome::Failed
    }
}

/// The ways to reach the configured server, in the order to try them: the legacy SSE transport
/// after streamable HTTP when the configuration lets either serve.
fn targets(config: &ServerConfig, credential: Option<Credential>) -> Result<Vec<Target>, String> {
    match &config.transport {
        TransportConfig::Stdio(stdio) => Ok(vec![Target::Stdio(stdio.spec())]),
        TransportConfig::Http(http) => {
            let headers = headers(http)?;
            let url = http.url.clone();
            let streamable = Target::StreamableHttp {
                url: url.clone(),
                headers: headers.clone(),
                credential: credential.clone(),
            };
            let sse = Target::Sse {
                url,
                headers,
                credential,
            };
            Ok(match http.transport {
                HttpTransportKind::StreamableHttp => vec![streamable],
                HttpTransportKind::LegacySse => vec![sse],
                _ => vec![streamable, sse],
            })
        }
        _ => Err("check knows stdio and HTTP servers only".to_owned()),
    }
}

/// The configured headers.
fn headers(http: &HttpConfig) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    for (name, value) in &http.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name:?}"))?;
        let value =
            HeaderValue::from_str(value).map_err(|_| format!("invalid value for header {name}"))?;
        headers.insert(name, value);
    }
    Ok(headers)
}

/// No report: the server could not be reached, did not answer in time, or wants a login, on
/// every transport tried.
fn unreachable(cli: &Cli, name: &str, failures: &[(&str, RunError)]) -> Outcome {
    let kind = if failures.iter().any(|(_, error)| error.is_auth_required()) {
        "auth_required"
    } else if failures.iter().all(|(_, error)| error.is_unreachable()) {
        "unreachable"
    } else {
        "http_client"
    };
    if cli.json {
        let tried: Vec<_> = failures
            .iter()
            .map(|(transport, error)| json!({ "transport": transport, "message": error.to_string() }))
            .collect();
        render::print_json(&json!({ "error": { "kind": kind, "server": name, "tried": tried } }));
    }
    for (transport, error) in failures {
        eprintln!(
            "mcpcord: {} ({transport}): {}",
            shown(name),
            one_line(&error.to_string())
        );
    }
    if kind == "auth_required" {
        eprintln!("mcpcord: sign in first: mcpcord login {}", shown(name));
    }
    Outcome::Failed
}

/// The report for a person: one line per check, the evidence under each failure.
fn show(report: &Report) {
    let server = report
        .server_info
        .as_ref()
        .map(|info| {
            let parts: Vec<&str> = ["name", "version"]
                .into_iter()
                .filter_map(|key| info.get(key).and_then(|value| value.as_str()))
                .filter(|part| !part.is_empty())
                .collect();
            format!(" ({})", parts.join(" "))
        })
        .filter(|shown| shown != " ()")
        .unwrap_or_default();
    out!(
        "{}{} over {}, checked against {}",
        shown(&report.server),
        one_line(server.trim_end()),
        report.transport,
        shown(&report.spec)
    );
    let shown_checks: Vec<&CheckResult> = report
        .checks
        .iter()
        .filter(|check| check.status != Status::Skip)
        .collect();
    let id_width = shown_checks
        .iter()
        .map(|check| check.id.len())
        .max()
        .unwrap_or(0);
    for check in shown_checks {
        line(check, id_width);
    }
    // Skips are many and say the same few things: one line per reason.
    let mut skipped: Vec<(&str, Vec<&str>)> = Vec::new();
    for check in report
        .checks
        .iter()
        .filter(|check| check.status == Status::Skip)
    {
        let reason = check.detail.as_deref().unwrap_or("not applicable");
        match skipped.iter_mut().find(|(known, _)| *known == reason) {
            Some((_, ids)) => ids.push(check.id),
            None => skipped.push((reason, vec![check.id])),
        }
    }
    if !skipped.is_empty() {
        out!();
        for (reason, ids) in skipped {
            out!("  skip {}: {}", one_line(reason), ids.join(", "));
        }
    }
    let tally = report.tally();
    out!();
    out!(
        "{}: {} passed, {} failed (MUST), {} warnings (SHOULD), {} skipped, in {:.2} s",
        if report.passed() { "PASS" } else { "FAIL" },
        tally.passed,
        tally.failed,
        tally.warnings,
        tally.skipped,
        report.elapsed.as_secs_f64()
    );
}

fn line(check: &CheckResult, id_width: usize) {
    let (mark, level) = match (check.status, check.is_blocking()) {
        (Status::Pass, _) => ("ok  ", format!("{:?}", check.level).to_uppercase()),
        (Status::Skip, _) => ("skip", String::new()),
        (Status::Fail, true) => ("FAIL", "MUST".to_owned()),
        (Status::Fail, false) => ("warn", format!("{:?}", check.level).to_uppercase()),
    };
    let note = check.detail.as_deref().map(one_line).unwrap_or_default();
    match check.status {
        Status::Pass if note.is_empty() => {
            out!("  {mark} {:id_width$}  {level:6} {}", check.id, check.title)
        }
        Status::Pass => out!(
            "  {mark} {:id_width$}  {level:6} {}: {note}",
            check.id,
            check.title
        ),
        Status::Skip => {}
        Status::Fail => {
            out!("  {mark} {:id_width$}  {level:6} {}", check.id, check.title);
            out!("         why:      {note}");
            if let Some(sent) = &check.sent {
                out!("         sent:     {}", evidence(sent));
            }
            if let Some(received) = &check.received {
                out!("         received: {}", evidence(received));
            }
            out!("         spec:     {}", check.section);
        }
    }
}

/// A message shown as evidence: one line, the first [`EVIDENCE_CHARS`] characters (`--json` has
/// more).
fn evidence(text: &str) -> String {
    let flat = text.replace(['\r', '\n', '\t'], " ");
    terminal_safe(&flat, EVIDENCE_CHARS)
}

/// How much of a message a failure shows on a terminal.
const EVIDENCE_CHARS: usize = 400;

/// `--timeout`: a duration (`10s`, `500ms`, `2m`) of more than nothing and at most an hour.
pub(crate) fn parse_timeout(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|error| format!("{error}: {text:?}"))?;
    if duration.is_zero() || duration > Duration::from_secs(3600) {
        return Err(format!("{text} is not between 1ms and 1h"));
    }
    Ok(duration)
}

impl From<crate::CheckSpec> for SpecChoice {
    fn from(spec: crate::CheckSpec) -> Self {
        match spec {
            crate::CheckSpec::Auto => SpecChoice::Auto,
            crate::CheckSpec::Legacy => SpecChoice::Legacy,
            crate::CheckSpec::Modern => SpecChoice::Modern,
        }
    }
}
