//! The two sides' verdicts, read from their reports, and the pairs they make.
//!
//! - The suite writes `DIR/server-<scenario>-<timestamp>/checks.json` per scenario, an array of
//!   checks with a `status`; its verdict is FAIL iff a check has status `FAILURE` (a WARNING never
//!   fails a scenario), and a scenario that threw leaves its directory empty, which counts as FAIL.
//! - `mcpcord check --json` has `scenarios`, each suite scenario its checks belong to mapped to
//!   `pass`, `fail` or `skip`; a scenario it skipped or does not name is n/a for it.
//!
//! A [`Pair`] is one scenario the suite ran, with both verdicts; it agrees when both are PASS or
//! both FAIL, and otherwise needs an [`Explanation`].

use std::collections::BTreeMap;
use std::path::Path;

use super::explanations::Explanation;
use super::json::{self, Json};

/// A verdict on one scenario; the suite's is only ever pass or fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    Pass,
    Fail,
    Skip,
}

impl Verdict {
    /// As the explanations file and the table write it.
    pub(super) fn label(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Skip => "skip",
        }
    }
}

/// Our verdict on a scenario the suite ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ours {
    /// In our `scenarios`, with this verdict.
    Named(Verdict),
    /// Not in our `scenarios`: ours has no check of that scenario (or never got to run one).
    Undefined,
}

impl Ours {
    /// As the table and the explanations file write it.
    pub(super) fn label(self) -> &'static str {
        match self {
            Self::Named(verdict) => verdict.label(),
            Self::Undefined => "n/a",
        }
    }
}

/// One scenario the suite ran against one server at one revision, with both verdicts.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Pair {
    pub(super) server: String,
    pub(super) revision: String,
    pub(super) scenario: String,
    pub(super) suite: Verdict,
    pub(super) ours: Ours,
}

impl Pair {
    /// Both PASS or both FAIL.
    pub(super) fn agrees(&self) -> bool {
        self.ours == Ours::Named(self.suite) && self.suite != Verdict::Skip
    }
}

/// The pairs of one server and revision: one per scenario the suite ran, sorted by scenario.
pub(super) fn pairs(
    server: &str,
    revision: &str,
    suite: &BTreeMap<String, Verdict>,
    ours: &OurReport,
) -> Vec<Pair> {
    suite
        .iter()
        .map(|(scenario, &verdict)| Pair {
            server: server.to_owned(),
            revision: revision.to_owned(),
            scenario: scenario.clone(),
            suite: verdict,
            ours: ours
                .scenarios
                .get(scenario)
                .map_or(Ours::Undefined, |&ours| Ours::Named(ours)),
        })
        .collect()
}

/// How a pair is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Judgement {
    Agrees,
    /// Explained by the explanation at this index (the first that matches).
    Explained(usize),
    Unexplained,
}

/// Judges every pair; also returns the indices of the explanations no pair used (stale ones).
pub(super) fn judge(pairs: &[Pair], explanations: &[Explanation]) -> (Vec<Judgement>, Vec<usize>) {
    let mut used = vec![false; explanations.len()];
    let judgements = pairs
        .iter()
        .map(|pair| {
            if pair.agrees() {
                return Judgement::Agrees;
            }
            match explanations.iter().position(|entry| entry.explains(pair)) {
                Some(index) => {
                    used[index] = true;
                    Judgement::Explained(index)
                }
                None => Judgement::Unexplained,
            }
        })
        .collect();
    let stale = (0..explanations.len())
        .filter(|&index| !used[index])
        .collect();
    (judgements, stale)
}

/// The scenario a suite output directory is for: `server-<scenario>-<timestamp>`, the timestamp
/// an ISO one with `:` and `.` replaced by `-` (`2026-12-05T23-49-18-347Z`).
pub(super) fn scenario_of_dir(name: &str) -> Option<&str> {
    const TIMESTAMP: usize = "2026-12-05T23-49-18-347Z".len();
    let rest = name.strip_prefix("server-")?;
    let split = rest.len().checked_sub(TIMESTAMP + 1)?;
    let (scenario, stamp) = rest.split_at(split);
    let stamp = stamp.strip_prefix('-')?;
    let shape_ok = stamp.bytes().enumerate().all(|(at, byte)| match at {
        10 => byte == b'T',
        23 => byte == b'Z',
        4 | 7 | 13 | 16 | 19 => byte == b'-',
        _ => byte.is_ascii_digit(),
    });
    (shape_ok && !scenario.is_empty()).then_some(scenario)
}

/// The suite's verdict from one `checks.json`: FAIL iff a check has status `FAILURE`.
pub(super) fn suite_verdict(checks_json: &str) -> Result<Verdict, String> {
    let checks = json::parse(checks_json)?;
    let checks = checks
        .as_array()
        .ok_or("checks.json is not an array of checks")?;
    let mut failed = false;
    for check in checks {
        let status = check
            .get("status")
            .and_then(Json::as_str)
            .ok_or("a check without a string `status`")?;
        match status {
            "FAILURE" => failed = true,
            "SUCCESS" | "WARNING" | "SKIPPED" | "INFO" => {}
            other => return Err(format!("a check with the unknown status {other:?}")),
        }
    }
    Ok(if failed { Verdict::Fail } else { Verdict::Pass })
}

/// The suite's verdicts from its output directory `dir`: scenario to verdict.
pub(super) fn read_suite_dir(dir: &Path) -> Result<BTreeMap<String, Verdict>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|error| format!("could not list {}: {error}", dir.display()))?;
    let mut verdicts = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(|error| format!("could not list {}: {error}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(scenario) = scenario_of_dir(&name) else {
            return Err(format!(
                "{}: not a scenario directory (server-<scenario>-<timestamp>)",
                entry.path().display()
            ));
        };
        let checks = entry.path().join("checks.json");
        let verdict = match std::fs::read_to_string(&checks) {
            Ok(text) => {
                suite_verdict(&text).map_err(|error| format!("{}: {error}", checks.display()))?
            }
            // The scenario threw before writing its checks: the suite counts that as a failure.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Verdict::Fail,
            Err(error) => return Err(format!("could not read {}: {error}", checks.display())),
        };
        if verdicts.insert(scenario.to_owned(), verdict).is_some() {
            return Err(format!("{}: scenario {scenario} ran twice", dir.display()));
        }
    }
    Ok(verdicts)
}

/// What one `mcpcord check --json` said.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct OurReport {
    /// Every MUST passed; `None` when it could not check (then `error` says why).
    pub(super) ok: Option<bool>,
    /// The `kind` of its `error`, when it could not reach or handshake with the server.
    pub(super) error: Option<String>,
    /// Scenario to verdict.
    pub(super) scenarios: BTreeMap<String, Verdict>,
    /// Each check, in order.
    pub(super) checks: Vec<OurCheck>,
}

/// One check of our report.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct OurCheck {
    pub(super) id: String,
    /// `MUST`, `SHOULD` or `INFO`.
    pub(super) level: String,
    pub(super) status: Verdict,
}

impl OurReport {
    /// The check `id`, if it ran (the first, if repeated).
    pub(super) fn check(&self, id: &str) -> Option<&OurCheck> {
        self.checks.iter().find(|check| check.id == id)
    }
}

/// Parses `mcpcord check --json` output.
pub(super) fn parse_our_report(text: &str) -> Result<OurReport, String> {
    let document = json::parse(text)?;
    let verdict = |text: Option<&str>, what: &str| match text {
        Some("pass") => Ok(Verdict::Pass),
        Some("fail") => Ok(Verdict::Fail),
        Some("skip") => Ok(Verdict::Skip),
        other => Err(format!("{what} is {other:?}, not pass, fail or skip")),
    };
    if let Some(error) = document.get("error") {
        let kind = error
            .get("kind")
            .and_then(Json::as_str)
            .unwrap_or("unknown");
        return Ok(OurReport {
            error: Some(kind.to_owned()),
            ..OurReport::default()
        });
    }
    let ok = document
        .get("ok")
        .and_then(Json::as_bool)
        .ok_or("no boolean `ok` and no `error`")?;
    let mut scenarios = BTreeMap::new();
    for (name, value) in document
        .get("scenarios")
        .and_then(Json::as_object)
        .ok_or("no `scenarios` object")?
    {
        let verdict = verdict(value.as_str(), &format!("scenario {name}"))?;
        scenarios.insert(name.clone(), verdict);
    }
    let mut checks = Vec::new();
    for check in document
        .get("checks")
        .and_then(Json::as_array)
        .ok_or("no `checks` array")?
    {
        let field = |key: &str| check.get(key).and_then(Json::as_str);
        let id = field("id").ok_or("a check without an `id`")?;
        checks.push(OurCheck {
            id: id.to_owned(),
            level: field("level").unwrap_or("").to_owned(),
            status: verdict(field("status"), &format!("check {id}'s status"))?,
        });
    }
    Ok(OurReport {
        ok: Some(ok),
        error: None,
        scenarios,
        checks,
    })
}
