//! Reading the conformance suite's output: its scenario list, the check lines of one run, and
//! that run's verdict.

use std::time::Duration;

use super::*;

/// A scenario as `list --client` shows it.
#[derive(Debug, PartialEq)]
pub(super) struct Listed {
    pub(super) name: String,
    /// The spec revisions it is defined for (`2025-11-25`), or `extension` for one off the spec's
    /// timeline, in the suite's order; empty when the line names none.
    pub(super) revisions: Vec<String>,
}

/// The scenarios in `list --client` output, whose lines read
/// `  - auth/metadata-default [2025-11-25,2026-07-28]`.
pub(super) fn parse_scenario_list(output: &str) -> Vec<Listed> {
    output
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("- "))
        .filter_map(|rest| {
            let mut words = rest.split_whitespace();
            let name = words.next()?.to_owned();
            let revisions = words
                .next()
                .and_then(|tags| tags.strip_prefix('[')?.strip_suffix(']'))
                .map(|tags| {
                    tags.split(',')
                        .map(str::trim)
                        .filter(|tag| !tag.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            Some(Listed { name, revisions })
        })
        .collect()
}

/// How the suite's process ended.
#[derive(Debug)]
pub(super) enum Exit {
    Success,
    /// A non-zero exit, as the OS describes it.
    Failure(String),
    /// Killed at our time limit.
    TimedOut(Duration),
}

/// What the suite's output (ANSI codes stripped) says about one scenario run.
#[derive(Debug, Default, PartialEq)]
pub(super) struct RunReport {
    /// `Passed: X/Y` as `(X, Y)`, when the suite got as far as its summary.
    pub(super) passed: Option<(u32, u32)>,
    /// The checks reported as `FAILURE` or `WARNING` (the suite fails a run on either), in
    /// order, each id once.
    pub(super) failed_checks: Vec<FailedCheck>,
    /// Whether the suite printed `OVERALL: PASSED`.
    pub(super) overall_passed: bool,
    /// Whether a mock server received a request from the client.
    pub(super) reached_server: bool,
    /// How the client failed when the suite counts that against the run: `client exited with
    /// code 1`, `client timed out`.
    pub(super) client_failed: Option<String>,
    /// The reason our client gave for failing (its last line, which the suite echoes).
    pub(super) client_message: Option<String>,
}

/// A check the suite did not pass, as its check line and its entry under `Failed Checks:`
/// describe it.
#[derive(Debug, PartialEq)]
pub(super) struct FailedCheck {
    pub(super) id: String,
    /// `FAILURE` or `WARNING`.
    pub(super) status: String,
    /// What the check expects.
    pub(super) description: String,
    /// What went wrong, when the suite says (the first line of its `Error:`).
    pub(super) error: Option<String>,
}

impl FailedCheck {
    /// Whether this is a warning rather than a failure.
    fn is_warning(&self) -> bool {
        self.status == "WARNING"
    }

    /// Its id, marked when it is a warning: `sep-2207-refresh-token (WARNING)`.
    pub(super) fn name(&self) -> String {
        if self.is_warning() {
            format!("{} (WARNING)", self.id)
        } else {
            self.id.clone()
        }
    }

    /// Its line shortened for a table cell: the id and what went wrong (else what was expected),
    /// cut to [`SHORT_TEXT`] characters; a check that never happened is only `missing`.
    pub(super) fn short_line(&self) -> String {
        let missing = format!("Expected Check Missing: {}", self.id);
        let text = if self.description == missing {
            "missing".to_owned()
        } else {
            shorten(self.error.as_deref().unwrap_or(&self.description))
        };
        format!("{}: {text}", self.name())
    }
}

/// How much of a message a table cell keeps.
const SHORT_TEXT: usize = 100;

/// `text` cut to [`SHORT_TEXT`] characters, marked with `…` when cut.
pub(super) fn shorten(text: &str) -> String {
    if text.chars().count() <= SHORT_TEXT {
        return text.to_owned();
    }
    let kept: String = text.chars().take(SHORT_TEXT).collect();
    format!("{}…", kept.trim_end())
}

/// One line of the suite's check log: `<timestamp> [<id, padded>] <STATUS> <description>`.
pub(super) struct CheckLine<'a> {
    pub(super) id: &'a str,
    pub(super) status: &'a str,
    pub(super) description: &'a str,
}

impl<'a> CheckLine<'a> {
    /// The check on `line`, if it is a check line; the client's own log lines (which the suite
    /// echoes when the client fails) have a timestamp but no bracketed id, so they are not.
    pub(super) fn parse(line: &'a str) -> Option<Self> {
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
    pub(super) fn shows_a_request(&self) -> bool {
        self.status != "FAILURE"
            && (REACHED_SERVER_CHECKS.contains(&self.id)
                || self.description.starts_with(RECEIVED_PREFIX))
    }
}

/// Reads a scenario run's output.
pub(super) fn parse_run(output: &str) -> RunReport {
    let mut report = RunReport::default();
    let client_prefix = format!("{CLIENT_BIN} (");
    // The failed check the line before described in the `Failed Checks:` list: its `Error:`
    // comes next.
    let mut listed: Option<usize> = None;
    for line in output.lines() {
        let described = listed.take();
        let trimmed = line.trim();
        if line.starts_with(REQUEST_LOG_PREFIX) {
            report.reached_server = true;
        } else if let Some(check) = CheckLine::parse(trimmed) {
            report.reached_server |= check.shows_a_request();
            let failed = matches!(check.status, "FAILURE" | "WARNING");
            if failed && !report.failed_checks.iter().any(|seen| seen.id == check.id) {
                report.failed_checks.push(FailedCheck {
                    id: check.id.to_owned(),
                    status: check.status.to_owned(),
                    description: check.description.to_owned(),
                    error: None,
                });
            }
        } else if let Some(counts) = trimmed.strip_prefix("Passed:") {
            report.passed = parse_passed(counts).or(report.passed);
        } else if trimmed.ends_with("OVERALL: PASSED") {
            report.overall_passed = true;
        } else if let Some(item) = trimmed.strip_prefix("- ") {
            // `  - CheckName: description`
            listed = item.split_once(": ").and_then(|(_, description)| {
                report
                    .failed_checks
                    .iter()
                    .position(|check| check.description == description && check.error.is_none())
            });
        } else if let Some(error) = trimmed
            .strip_prefix("Error: ")
            .or_else(|| trimmed.strip_prefix("Warning: "))
        {
            if let Some(check) = described.and_then(|index| report.failed_checks.get_mut(index)) {
                check.error = Some(error.to_owned());
            }
        } else if trimmed.contains("CLIENT TIMED OUT") {
            report.client_failed = Some("client timed out".to_owned());
        } else if let Some((_, rest)) = trimmed.split_once("CLIENT EXITED WITH ERROR (code ") {
            let code = rest.split(')').next().unwrap_or(rest);
            report.client_failed = Some(format!("client exited with code {code}"));
        } else if let Some(message) = line
            .strip_prefix(&client_prefix)
            .and_then(|rest| rest.split_once("): "))
            .map(|(_, message)| message.trim())
        {
            report.client_message = Some(message.to_owned());
        }
    }
    report
}

/// `X/Y` from the rest of `Passed: X/Y, F failed, W warnings`.
pub(super) fn parse_passed(counts: &str) -> Option<(u32, u32)> {
    let (passed, rest) = counts.trim().split_once('/')?;
    let total = rest.split(|c: char| !c.is_ascii_digit()).next()?;
    Some((passed.parse().ok()?, total.parse().ok()?))
}

/// A scenario's verdict on its own (before the expected failures): `Err` says why it failed,
/// naming the failed checks by id.
pub(super) fn verdict(exit: &Exit, report: &RunReport) -> Result<(), String> {
    verdict_naming(exit, report, |checks| {
        checks
            .iter()
            .map(FailedCheck::name)
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// [`verdict`], with the failed checks described by `describe`.
pub(super) fn verdict_naming(
    exit: &Exit,
    report: &RunReport,
    describe: fn(&[FailedCheck]) -> String,
) -> Result<(), String> {
    let mut reasons = Vec::new();
    if let Exit::TimedOut(limit) = exit {
        reasons.push(format!("killed after {}s", limit.as_secs()));
    }
    if !report.failed_checks.is_empty() {
        reasons.push(describe(&report.failed_checks));
    }
    if let Some(failed) = &report.client_failed {
        reasons.push(match &report.client_message {
            Some(message) => format!("{failed}: {}", shorten(message)),
            None => failed.clone(),
        });
    }
    if !report.reached_server {
        reasons.push("client never reached the server".to_owned());
    }
    if reasons.is_empty() {
        if report.passed.is_some_and(|(_, scored)| scored == 0) {
            reasons.push("the suite scored no check (all skipped)".to_owned());
        } else if let Exit::Failure(status) = exit {
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

/// The output worth showing a person: without the preloads' lines, indented under the progress
/// line.
pub(super) fn shown_output(output: &str) -> String {
    output
        .lines()
        .filter(|line| {
            !line.starts_with(PRELOAD_LINE_PREFIX) && !line.starts_with(REQUEST_LOG_PREFIX)
        })
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Removes ANSI escape sequences: CSI (`ESC [ ... final`), OSC (`ESC ] ... BEL` or `ESC ] ... ESC \`),
/// escapes with intermediates (`ESC ( B`) and two-character escapes.
pub(super) fn strip_ansi(text: &str) -> String {
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
