//! What a run found: one result per check, and the report's JSON and JUnit forms.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

/// How strongly the specification asks for what a check checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// A MUST (or MUST NOT): a failure makes the run fail.
    Must,
    /// A SHOULD (or SHOULD NOT): a failure is a warning.
    Should,
    /// A measurement: it fails only if it could not be taken.
    Info,
}

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The server does what the check asks.
    Pass,
    /// It does not (a warning when the level is SHOULD).
    Fail,
    /// The check does not apply: a capability not declared, a fixture tool absent, another
    /// transport or era.
    Skip,
}

/// A check as the catalogue defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    /// The stable id: the conformance suite's check id where it has one.
    pub id: &'static str,
    /// The conformance suite's scenario this check belongs to, if the suite has one.
    pub scenario: Option<&'static str>,
    /// MUST, SHOULD or a measurement.
    pub level: Level,
    /// Where the specification says it (a URL).
    pub section: &'static str,
    /// One line: what is checked.
    pub title: &'static str,
}

/// One check's result.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// The check's stable id.
    pub id: &'static str,
    /// The suite's scenario, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<&'static str>,
    /// MUST, SHOULD or INFO.
    pub level: Level,
    /// The specification section.
    pub section: &'static str,
    /// What is checked.
    pub title: &'static str,
    /// The verdict.
    pub status: Status,
    /// Why it failed or was skipped, or a measurement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// On failure: what was sent (an excerpt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent: Option<String>,
    /// On failure: what came back (an excerpt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<String>,
}

impl CheckResult {
    /// `check`'s result with `status` and `detail`, nothing sent or received recorded.
    pub(crate) fn new(check: &Check, status: Status, detail: Option<String>) -> Self {
        Self {
            id: check.id,
            scenario: check.scenario,
            level: check.level,
            section: check.section,
            title: check.title,
            status,
            detail,
            sent: None,
            received: None,
        }
    }

    /// Whether this result makes the run fail: a MUST that failed.
    pub fn is_blocking(&self) -> bool {
        self.status == Status::Fail && self.level == Level::Must
    }

    /// Whether this is a SHOULD that failed.
    pub fn is_warning(&self) -> bool {
        self.status == Status::Fail && self.level != Level::Must
    }
}

/// Everything one `check` run found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The server's name as given.
    pub server: String,
    /// `stdio`, `http` or `sse`.
    pub transport: &'static str,
    /// The revision checked against.
    pub spec: String,
    /// The server's `serverInfo`, if it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_info: Option<Value>,
    /// Every check run or skipped, in order.
    pub checks: Vec<CheckResult>,
    /// The whole run's wall time.
    #[serde(serialize_with = "millis")]
    pub elapsed: Duration,
    /// Whether the server refused the handshake, so that only it was checked (another transport
    /// may be worth a try).
    pub handshake_refused: bool,
}

fn millis<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

/// Counts of a report's results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Checks that passed.
    pub passed: usize,
    /// MUST checks that failed.
    pub failed: usize,
    /// SHOULD checks that failed.
    pub warnings: usize,
    /// Checks that did not apply.
    pub skipped: usize,
}

impl Report {
    /// Whether every MUST passed (the exit status of `mcpcord check`).
    pub fn passed(&self) -> bool {
        !self.checks.iter().any(CheckResult::is_blocking)
    }

    /// How many passed, failed, warned and were skipped.
    pub fn tally(&self) -> Tally {
        let mut tally = Tally::default();
        for check in &self.checks {
            match check.status {
                Status::Pass => tally.passed += 1,
                Status::Skip => tally.skipped += 1,
                Status::Fail if check.level == Level::Must => tally.failed += 1,
                Status::Fail => tally.warnings += 1,
            }
        }
        tally
    }

    /// The verdict of each conformance-suite scenario the run touched: `fail` if a MUST of it
    /// failed, `skip` if every check of it was skipped, else `pass` (the suite's own rule: a
    /// warning never fails a scenario).
    pub fn scenario_verdicts(&self) -> Vec<(&'static str, Status)> {
        let mut verdicts: Vec<(&'static str, Status)> = Vec::new();
        for check in &self.checks {
            let Some(scenario) = check.scenario else {
                continue;
            };
            let index = match verdicts.iter().position(|(name, _)| *name == scenario) {
                Some(index) => index,
                None => {
                    verdicts.push((scenario, Status::Skip));
                    verdicts.len() - 1
                }
            };
            let verdict = &mut verdicts[index].1;
            *verdict = match (*verdict, check.status) {
                (Status::Fail, _) => Status::Fail,
                (_, Status::Fail) if check.level == Level::Must => Status::Fail,
                (_, Status::Skip) => *verdict,
                _ => Status::Pass,
            };
        }
        verdicts
    }

    /// The report as one JSON document (`mcpcord check --json`).
    pub fn to_json(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(object) = value.as_object_mut() {
            object.insert("ok".into(), self.passed().into());
            object.insert(
                "summary".into(),
                serde_json::to_value(self.tally()).unwrap_or(Value::Null),
            );
            let scenarios: serde_json::Map<String, Value> = self
                .scenario_verdicts()
                .into_iter()
                .map(|(name, status)| {
                    (
                        name.to_owned(),
                        serde_json::to_value(status).unwrap_or(Value::Null),
                    )
                })
                .collect();
            object.insert("scenarios".into(), json!(scenarios));
        }
        value
    }

    /// The report as JUnit XML: one test suite, one test case per check; a failed MUST is a
    /// `<failure>`, a failed SHOULD passes with its warning in `<system-out>`, a skip is `<skipped>`.
    pub fn to_junit(&self) -> String {
        let tally = self.tally();
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            xml,
            "<testsuites name=\"mcpcord check\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
            self.checks.len(),
            tally.failed,
            tally.skipped,
            self.elapsed.as_secs_f64()
        );
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
            xml_escape(&format!(
                "{} ({}, {})",
                self.server, self.transport, self.spec
            )),
            self.checks.len(),
            tally.failed,
            tally.skipped
        );
        for check in &self.checks {
            let class = check.scenario.unwrap_or("mcpcord");
            let _ = write!(
                xml,
                "    <testcase classname=\"{}\" name=\"{}\">",
                xml_escape(class),
                xml_escape(check.id)
            );
            let body = check_text(check);
            match check.status {
                Status::Pass => {}
                Status::Skip => {
                    let _ = write!(
                        xml,
                        "<skipped message=\"{}\"/>",
                        xml_escape(check.detail.as_deref().unwrap_or("not applicable"))
                    );
                }
                Status::Fail if check.level == Level::Must => {
                    let _ = write!(
                        xml,
                        "<failure message=\"{}\" type=\"MUST\">{}</failure>",
                        xml_escape(check.detail.as_deref().unwrap_or(check.title)),
                        xml_escape(&body)
                    );
                }
                Status::Fail => {
                    let _ = write!(
                        xml,
                        "<system-out>{}</system-out>",
                        xml_escape(&format!("warning ({:?}): {body}", check.level))
                    );
                }
            }
            xml.push_str("</testcase>\n");
        }
        xml.push_str("  </testsuite>\n</testsuites>\n");
        xml
    }
}

/// A failed check's full text: what, why, sent, received, where.
fn check_text(check: &CheckResult) -> String {
    let mut text = format!("{}\n", check.title);
    if let Some(detail) = &check.detail {
        let _ = writeln!(text, "why: {detail}");
    }
    if let Some(sent) = &check.sent {
        let _ = writeln!(text, "sent: {sent}");
    }
    if let Some(received) = &check.received {
        let _ = writeln!(text, "received: {received}");
    }
    let _ = write!(text, "spec: {}", check.section);
    text
}

/// `text` escaped for XML, with the characters XML 1.0 cannot carry at all replaced.
fn xml_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\t' | '\n' | '\r' => escaped.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                escaped.push('\u{FFFD}');
            }
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    const MUST: Check = Check {
        id: "a",
        scenario: Some("s1"),
        level: Level::Must,
        section: "https://example.invalid/spec",
        title: "a thing",
    };

    fn result(check: Check, status: Status) -> CheckResult {
        CheckResult::new(&check, status, Some("why <not> & \u{1b}".to_owned()))
    }

    fn report(checks: Vec<CheckResult>) -> Report {
        Report {
            server: "srv".into(),
            transport: "stdio",
            spec: "2025-11-25".into(),
            server_info: None,
            checks,
            elapsed: Duration::from_millis(5),
            handshake_refused: false,
        }
    }

    #[test]
    fn a_failed_should_warns_and_a_failed_must_fails_the_run_and_its_scenario() {
        let should = Check {
            id: "b",
            level: Level::Should,
            ..MUST
        };
        let warned = report(vec![
            result(MUST, Status::Pass),
            result(should, Status::Fail),
        ]);
        assert!(warned.passed());
        assert_eq!(warned.scenario_verdicts(), vec![("s1", Status::Pass)]);
        assert_eq!(warned.tally().warnings, 1);

        let failed = report(vec![
            result(MUST, Status::Fail),
            result(should, Status::Pass),
        ]);
        assert!(!failed.passed());
        assert_eq!(failed.scenario_verdicts(), vec![("s1", Status::Fail)]);
    }

    #[test]
    fn a_scenario_whose_checks_were_all_skipped_is_skipped() {
        let other = Check {
            scenario: Some("s2"),
            ..MUST
        };
        let run = report(vec![
            result(MUST, Status::Skip),
            result(other, Status::Pass),
        ]);
        assert_eq!(
            run.scenario_verdicts(),
            vec![("s1", Status::Skip), ("s2", Status::Pass)]
        );
    }

    #[test]
    fn junit_escapes_markup_and_control_characters() {
        let xml = report(vec![result(MUST, Status::Fail)]).to_junit();
        assert!(xml.contains("why &lt;not&gt; &amp; \u{FFFD}"), "{xml}");
        assert!(xml.contains("failures=\"1\""), "{xml}");
        assert!(!xml.contains('\u{1b}'));
    }
}
