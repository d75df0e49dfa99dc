//! Every client scenario at every spec revision it is defined for: the suite lists each
//! scenario's revisions, and the wire differs between them (a 2026-07-28 run has no `initialize`),
//! so one run says nothing about another. An extension scenario, off the spec's timeline, runs
//! once without a revision. This module plans the runs and writes the table and its totals.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::output::{FailedCheck, Listed};
use super::verdicts::{Row, Verdict, markdown_table};

/// The revision label of a scenario the list gives none.
const NO_REVISION: &str = "-";

/// One run to make: a scenario at one revision.
#[derive(Debug, PartialEq)]
pub(super) struct Planned<'a> {
    pub(super) scenario: &'a str,
    /// As the list shows it: a spec revision, `extension`, or [`NO_REVISION`].
    pub(super) revision: &'a str,
    /// What `--spec-version` gets: the revision when it is a dated one; otherwise nothing, and
    /// the suite picks the wire.
    pub(super) spec_version: Option<&'a str>,
}

/// Every run the listed scenarios need, in the list's order.
pub(super) fn plan(listed: &[Listed]) -> Vec<Planned<'_>> {
    let mut runs = Vec::new();
    for scenario in listed {
        if scenario.revisions.is_empty() {
            runs.push(Planned {
                scenario: &scenario.name,
                revision: NO_REVISION,
                spec_version: None,
            });
        }
        for revision in &scenario.revisions {
            let dated = revision.starts_with(|c: char| c.is_ascii_digit());
            runs.push(Planned {
                scenario: &scenario.name,
                revision,
                spec_version: dated.then_some(revision.as_str()),
            });
        }
    }
    runs
}

/// One run's line in the table.
pub(super) struct RevisionRow {
    pub(super) revision: String,
    pub(super) row: Row,
}

/// The failed checks, each as its shortened line.
pub(super) fn check_lines(checks: &[FailedCheck]) -> String {
    checks
        .iter()
        .map(FailedCheck::short_line)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The table: one line a run.
pub(super) fn table(rows: &[RevisionRow]) -> String {
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|RevisionRow { revision, row }| {
            [
                row.scenario.clone(),
                revision.clone(),
                row.verdict.label().to_owned(),
                row.checks.clone(),
                row.detail.clone(),
            ]
        })
        .collect();
    markdown_table(
        [
            "Scenario",
            "Revision",
            "Verdict",
            "Checks",
            "Failing checks / reason",
        ],
        &cells,
    )
}

/// The totals: scenarios that pass at every revision they are defined for, then runs passed per
/// revision, in the order the revisions sort (dates, then `extension`).
pub(super) fn summary(rows: &[RevisionRow]) -> String {
    let mut scenarios: Vec<(&str, bool)> = Vec::new();
    let mut revisions: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for RevisionRow { revision, row } in rows {
        let passed = row.verdict == Verdict::Pass;
        match scenarios.iter_mut().find(|(name, _)| *name == row.scenario) {
            Some((_, all_passed)) => *all_passed &= passed,
            None => scenarios.push((row.scenario.as_str(), passed)),
        }
        let (passes, runs) = revisions.entry(revision.as_str()).or_default();
        *passes += usize::from(passed);
        *runs += 1;
    }
    let all_passed = scenarios.iter().filter(|(_, passed)| *passed).count();
    let runs_passed: usize = revisions.values().map(|(passes, _)| passes).sum();
    let mut text = format!(
        "{all_passed} of {} scenarios pass at every revision they are defined for; \
         {runs_passed} of {} runs pass.\n\n",
        scenarios.len(),
        rows.len()
    );
    for (revision, (passes, runs)) in &revisions {
        let _ = writeln!(text, "- {revision}: {passes} of {runs} runs pass");
    }
    text
}
