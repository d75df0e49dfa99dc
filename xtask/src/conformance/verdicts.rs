//! The verdicts: one row per scenario, the Markdown table, the expected-failures file, and the
//! task's judgement (fail on an unexpected failure, and on a listed scenario that now passes).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::command::TaskError;

use super::*;

/// A verdict once the expected failures are taken into account.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Verdict {
    Pass,
    Fail,
    ExpectedFail,
}

impl Verdict {
    pub(super) fn label(self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::Fail => "FAIL",
            Self::ExpectedFail => "EXPECTED FAIL",
        }
    }
}

/// One scenario's line in the table.
pub(super) struct Row {
    pub(super) scenario: String,
    pub(super) verdict: Verdict,
    pub(super) checks: String,
    pub(super) detail: String,
}

impl Row {
    pub(super) fn new(
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

/// A Markdown table, padded so it also reads as plain text; `|` in a cell is escaped.
pub(crate) fn markdown_table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let rows: Vec<[String; N]> = rows
        .iter()
        .map(|row| row.each_ref().map(|cell| cell.replace('|', "\\|")))
        .collect();
    let mut widths = header.map(|title| title.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let mut line = |cells: [&str; N]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(text, "| {} |", padded.join(" | "));
    };
    line(header);
    let rules = widths.map(|width| "-".repeat(width));
    line(rules.each_ref().map(String::as_str));
    for row in &rows {
        line(row.each_ref().map(String::as_str));
    }
    text
}

/// Ok when every failure is an expected one and every expected one still fails.
pub(super) fn judge(rows: &[Row], expected: &HashMap<String, String>) -> Result<(), TaskError> {
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
pub(super) fn read_expected_failures(path: &Path) -> Result<HashMap<String, String>, TaskError> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| TaskError::new(format!("could not read {}: {error}", path.display())))?;
    parse_expected_failures(&text)
        .map_err(|error| TaskError::new(format!("{}:{error}", path.display())))
}

/// Parses the expected failures: `NAME  # reason` a line, every reason non-empty; blank lines and
/// lines starting with `#` are comments. An error starts with the line number.
pub(super) fn parse_expected_failures(text: &str) -> Result<HashMap<String, String>, String> {
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
