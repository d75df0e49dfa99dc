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
    /// Whether the mock server recorded a request from the client.
    pub(super) reached_server: bool,
}

/// A check the suite did not pass, as its check line describes it.
#[derive(Debug, PartialEq)]
pub(super) struct FailedCheck {
    pub(super) id: String,
    /// `FAILURE` or `WARNING`.
    pub(super) status: String,
    pub(super) description: String,
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

    /// Its line shortened for a table cell: the id and at most [`SHORT_DESCRIPTION`] characters
    /// of the description, which for a check that never happened is only `missing`.
    pub(super) fn short_line(&self) -> String {
        let missing = format!("Expected Check Missing: {}", self.id);
        let description = if self.description == missing {
            "missing".to_owned()
        } else if self.description.chars().count() > SHORT_DESCRIPTION {
            let kept: String = self.description.chars().take(SHORT_DESCRIPTION).collect();
            format!("{}…", kept.trim_end())
        } else {
            self.description.clone()
        };
        format!("{}: {description}", self.name())
    }
}

/// How much of a failed check's description a table cell keeps.
const SHORT_DESCRIPTION: usize = 90;

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
    for line in output.lines() {
        let trimmed = line.trim();
        if let Some(check) = CheckLine::parse(trimmed) {
            report.reached_server |= check.shows_a_request();
            let failed = matches!(check.status, "FAILURE" | "WARNING");
            if failed && !report.failed_checks.iter().any(|seen| seen.id == check.id) {
                report.failed_checks.push(FailedCheck {
                    id: check.id.to_owned(),
                    status: check.status.to_owned(),
                    description: check.description.to_owned(),
                });
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
pub(super) fn shown_output(output: &str) -> String {
    output
        .lines()
        .filter(|line| !line.starts_with(PRELOAD_LINE_PREFIX))
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
