//! What `mcpcord check` must find in `mcp-noncompliant-server`: nothing when it is compliant, and
//! for each `--violate RULE` the checks that rule breaks. The suite cannot see several of these
//! (pagination, stdio, client capabilities), so they are asserted here rather than compared.

use super::verdicts::{OurReport, Verdict};

/// How our check reached the fixture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Transport {
    Http,
    Stdio,
}

impl Transport {
    pub(super) fn label(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Stdio => "stdio",
        }
    }
}

/// Every rule `mcp-noncompliant-server --violate RULE` can break (its `Violation`s), in its order.
pub(super) const VIOLATIONS: &[&str] = &[
    "protocol-version",
    "missing-is-error",
    "bad-pagination",
    "no-dns-rebinding",
    "stdout-logs",
    "capability-not-respected",
    "no-exit-on-stdin-close",
    "bad-envelope",
    "requires-stderr",
    "dies-on-bad-input",
];

/// One check our report must show as failed when the fixture breaks `rule`.
pub(super) struct Detection {
    pub(super) rule: &'static str,
    /// The check id.
    pub(super) check: &'static str,
    /// The level it must fail at, when that is part of the promise.
    pub(super) level: Option<&'static str>,
    /// Only over this transport (the rule changes nothing on the other); `None`: both.
    pub(super) only: Option<Transport>,
}

const fn detect(rule: &'static str, check: &'static str) -> Detection {
    Detection {
        rule,
        check,
        level: None,
        only: None,
    }
}

/// The detections each violation must produce.
pub(super) const DETECTIONS: &[Detection] = &[
    detect("protocol-version", "server-initialize"),
    detect("missing-is-error", "tools-call-error"),
    detect("missing-is-error", "tools-call-unknown-tool"),
    detect("bad-pagination", "tools-list-pagination"),
    Detection {
        level: Some("SHOULD"),
        ..detect("bad-pagination", "tools-list-invalid-cursor")
    },
    Detection {
        only: Some(Transport::Http),
        ..detect("no-dns-rebinding", "localhost-host-rebinding-rejected")
    },
    Detection {
        only: Some(Transport::Http),
        ..detect("no-dns-rebinding", "http-origin-invalid-403")
    },
    Detection {
        only: Some(Transport::Stdio),
        ..detect("stdout-logs", "stdio-stdout-only-jsonrpc")
    },
    detect("capability-not-respected", "client-capability-respect"),
    Detection {
        only: Some(Transport::Stdio),
        ..detect("no-exit-on-stdin-close", "stdio-exit-on-stdin-close")
    },
    detect("bad-envelope", "jsonrpc-envelope"),
    Detection {
        level: Some("SHOULD"),
        only: Some(Transport::Stdio),
        ..detect("requires-stderr", "stdio-stderr-not-required")
    },
    detect("dies-on-bad-input", "jsonrpc-survives-bad-input"),
];

/// One expectation about one run, met or not.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Finding {
    /// What was expected: `ok: true`, or `fails CHECK` (`fails CHECK (SHOULD)`).
    pub(super) expected: String,
    /// `None` when met; else what the report showed.
    pub(super) missing: Option<String>,
}

/// The expectations of the fixture run with `rule` (`None`: compliant) over `transport`, judged
/// against `report`.
pub(super) fn findings(
    rule: Option<&str>,
    transport: Transport,
    report: &OurReport,
) -> Vec<Finding> {
    let Some(rule) = rule else {
        let missing = match (report.ok, &report.error) {
            (Some(true), _) => None,
            (_, Some(kind)) => Some(format!("could not check ({kind} error)")),
            _ => {
                let failed: Vec<&str> = report
                    .checks
                    .iter()
                    .filter(|check| check.status == Verdict::Fail && check.level == "MUST")
                    .map(|check| check.id.as_str())
                    .collect();
                Some(format!("ok: false (MUST failed: {})", failed.join(", ")))
            }
        };
        return vec![Finding {
            expected: "ok: true".to_owned(),
            missing,
        }];
    };
    DETECTIONS
        .iter()
        .filter(|detection| detection.rule == rule)
        .filter(|detection| detection.only.is_none_or(|only| only == transport))
        .map(|detection| {
            let expected = match detection.level {
                Some(level) => format!("fails {} ({level})", detection.check),
                None => format!("fails {}", detection.check),
            };
            let missing = match report.check(detection.check) {
                _ if report.error.is_some() => Some("could not check".to_owned()),
                None => Some("the check did not run".to_owned()),
                Some(check) if check.status != Verdict::Fail => {
                    Some(format!("status {}", check.status.label()))
                }
                Some(check) if detection.level.is_some_and(|level| level != check.level) => {
                    Some(format!("failed at level {}", check.level))
                }
                Some(_) => None,
            };
            Finding { expected, missing }
        })
        .collect()
}
