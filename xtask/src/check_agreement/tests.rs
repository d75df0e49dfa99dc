//! The pure parts: JSON, globs, the explanations file, both sides' verdicts, pairing, judging and
//! the expected detections.

use std::collections::BTreeMap;

use super::detections::{Transport, findings};
use super::explanations::{self, Explanation, glob_matches};
use super::json::{self, Json};
use super::verdicts::{
    Judgement, OurReport, Ours, Pair, Verdict, judge, pairs, parse_our_report, scenario_of_dir,
    suite_verdict,
};

#[test]
fn json_reads_nested_documents_escapes_and_surrogate_pairs() {
    let value =
        json::parse(r#" {"a": [1, -2.5e3, true, null], "b": "x\"\\\n\u00e9\ud83d\ude00"} "#)
            .unwrap();
    assert_eq!(
        value.get("a"),
        Some(&Json::Array(vec![
            Json::Number("1".into()),
            Json::Number("-2.5e3".into()),
            Json::Bool(true),
            Json::Null
        ]))
    );
    assert_eq!(value.get("b").and_then(Json::as_str), Some("x\"\\\né😀"));
}

#[test]
fn json_turns_a_lone_surrogate_into_a_replacement_character() {
    let value = json::parse(r#""a\ud800b""#).unwrap();
    assert_eq!(value.as_str(), Some("a\u{FFFD}b"));
}

#[test]
fn json_refuses_truncated_and_trailing_text() {
    assert!(json::parse(r#"{"a": [1, 2"#).is_err());
    assert!(json::parse(r#"{"a": 1} x"#).is_err());
    assert!(json::parse(r#""unterminated"#).is_err());
    assert!(json::parse(&"[".repeat(1000)).is_err());
}

#[test]
fn a_glob_star_matches_any_run_of_characters() {
    assert!(glob_matches("*", ""));
    assert!(glob_matches("*", "anything"));
    assert!(glob_matches("tools-call-*", "tools-call-image"));
    assert!(glob_matches("tools-call-*", "tools-call-"));
    assert!(!glob_matches("tools-call-*", "tools-list"));
    assert!(glob_matches("noncompliant*", "noncompliant"));
    assert!(glob_matches("noncompliant*", "noncompliant/bad-envelope"));
    assert!(glob_matches("*-with-*", "prompts-get-with-args"));
    assert!(glob_matches("a*b*c", "abc"));
    assert!(!glob_matches("a*a", "a"));
    assert!(!glob_matches("ping", "ping2"));
}

const ENTRY: &str = r#"
# A comment.
[[explained]]
servers = "server-everything*"   # trailing comment
revision = "2025-11-25"
scenarios = "tools-call-*"
suite = "fail"
ours = "skip"
why = "Needs the \"test_*\" tools. Ours never calls them."
spec = "https://modelcontextprotocol.io/specification/2025-11-25/server/tools"
"#;

fn pair(server: &str, scenario: &str, suite: Verdict, ours: Ours) -> Pair {
    Pair {
        server: server.into(),
        revision: "2025-11-25".into(),
        scenario: scenario.into(),
        suite,
        ours,
    }
}

#[test]
fn an_explanation_is_parsed_with_its_line_and_first_sentence() {
    let entries = explanations::parse(ENTRY).unwrap();
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry.line, 3);
    assert_eq!(entry.servers, "server-everything*");
    assert_eq!(
        (entry.suite, entry.ours),
        (Some(Verdict::Fail), Ours::Named(Verdict::Skip))
    );
    assert_eq!(entry.except, None);
    assert_eq!(entry.first_sentence(), "Needs the \"test_*\" tools.");
}

#[test]
fn a_malformed_explanation_is_refused_with_its_line() {
    let missing_spec = ENTRY.replace("spec = ", "# spec = ");
    assert!(
        explanations::parse(&missing_spec)
            .unwrap_err()
            .starts_with("3: ")
    );
    let unknown = ENTRY.replace("ours = ", "theirs = ");
    assert!(
        explanations::parse(&unknown)
            .unwrap_err()
            .starts_with("8: ")
    );
    let agreeing = ENTRY.replace("ours = \"skip\"", "ours = \"fail\"");
    assert!(explanations::parse(&agreeing).is_err());
    let suite_skip = ENTRY.replace("suite = \"fail\"", "suite = \"skip\"");
    assert!(explanations::parse(&suite_skip).is_err());
    let any_suite_but_ours_skips = ENTRY.replace("suite = \"fail\"", "suite = \"*\"");
    assert!(explanations::parse(&any_suite_but_ours_skips).is_err());
    assert!(explanations::parse("servers = \"x\"").is_err());
    assert!(explanations::parse("[[explained]]\nservers = \"x").is_err());
}

#[test]
fn an_explanation_matches_its_servers_revision_scenarios_and_verdicts() {
    let entry: Explanation = explanations::parse(ENTRY).unwrap().remove(0);
    let base = pair(
        "server-everything",
        "tools-call-image",
        Verdict::Fail,
        Ours::Named(Verdict::Skip),
    );
    assert!(entry.explains(&base));
    assert!(!entry.explains(&Pair {
        ours: Ours::Undefined,
        ..base.clone()
    }));
    assert!(!entry.explains(&Pair {
        suite: Verdict::Pass,
        ..base.clone()
    }));
    assert!(!entry.explains(&Pair {
        revision: "2026-07-28".into(),
        ..base.clone()
    }));
    assert!(!entry.explains(&Pair {
        server: "noncompliant".into(),
        ..base.clone()
    }));
    assert!(!entry.explains(&Pair {
        scenario: "tools-list".into(),
        ..base
    }));
}

#[test]
fn an_explanation_with_any_suite_verdict_and_an_exception_matches_the_rest_of_its_family() {
    let text = ENTRY.replace("suite = \"fail\"", "suite = \"*\"").replace(
        "ours = \"skip\"",
        "except = \"tools-call-error\"\nours = \"n/a\"",
    );
    let entry: Explanation = explanations::parse(&text).unwrap().remove(0);
    let image = pair(
        "server-everything",
        "tools-call-image",
        Verdict::Pass,
        Ours::Undefined,
    );
    assert!(entry.explains(&image));
    assert!(entry.explains(&Pair {
        suite: Verdict::Fail,
        ..image.clone()
    }));
    assert!(!entry.explains(&Pair {
        scenario: "tools-call-error".into(),
        ..image
    }));
}

#[test]
fn suite_scenario_directories_are_named_with_a_timestamp() {
    assert_eq!(
        scenario_of_dir("server-tools-call-simple-text-2026-12-05T23-49-18-347Z"),
        Some("tools-call-simple-text")
    );
    assert_eq!(
        scenario_of_dir("server-server-initialize-2026-12-05T23-49-18-347Z"),
        Some("server-initialize")
    );
    assert_eq!(scenario_of_dir("server-ping"), None);
    assert_eq!(
        scenario_of_dir("client-ping-2026-12-05T23-49-18-347Z"),
        None
    );
    assert_eq!(
        scenario_of_dir("server-ping-2026-12-05X23-49-18-347Z"),
        None
    );
}

#[test]
fn the_suite_fails_a_scenario_only_on_a_failure() {
    let checks = |statuses: &[&str]| {
        let items: Vec<String> = statuses
            .iter()
            .map(|status| format!(r#"{{"id": "c", "status": "{status}"}}"#))
            .collect();
        format!("[{}]", items.join(","))
    };
    assert_eq!(suite_verdict(&checks(&[])), Ok(Verdict::Pass));
    assert_eq!(
        suite_verdict(&checks(&["SUCCESS", "WARNING", "SKIPPED", "INFO"])),
        Ok(Verdict::Pass)
    );
    assert_eq!(
        suite_verdict(&checks(&["SUCCESS", "FAILURE"])),
        Ok(Verdict::Fail)
    );
    assert!(suite_verdict(&checks(&["MAYBE"])).is_err());
    assert!(suite_verdict("{}").is_err());
}

const OURS: &str = r#"{
  "ok": false,
  "checks": [
    {"id": "tools-list", "scenario": "tools-list", "level": "MUST", "status": "pass", "section": "s", "title": "t"},
    {"id": "tools-list-invalid-cursor", "level": "SHOULD", "status": "fail", "section": "s", "title": "t"},
    {"id": "tools-call-error", "scenario": "tools-call-error", "level": "MUST", "status": "fail", "section": "s", "title": "t"}
  ],
  "scenarios": {"tools-list": "pass", "tools-call-error": "fail", "caching": "skip"}
}"#;

#[test]
fn our_report_gives_scenario_verdicts_and_check_statuses() {
    let report = parse_our_report(OURS).unwrap();
    assert_eq!(report.ok, Some(false));
    assert_eq!(report.scenarios.get("caching"), Some(&Verdict::Skip));
    let check = report.check("tools-list-invalid-cursor").unwrap();
    assert_eq!(
        (check.level.as_str(), check.status),
        ("SHOULD", Verdict::Fail)
    );
}

#[test]
fn our_report_of_an_unreachable_server_has_its_error_kind_and_no_verdicts() {
    let report =
        parse_our_report(r#"{"error": {"kind": "handshake", "server": "u", "tried": []}}"#)
            .unwrap();
    assert_eq!(report.error.as_deref(), Some("handshake"));
    assert_eq!(report.ok, None);
    assert!(report.scenarios.is_empty());
}

#[test]
fn pairs_are_the_suites_scenarios_with_ours_or_undefined() {
    let report = parse_our_report(OURS).unwrap();
    let suite = BTreeMap::from([
        ("tools-list".to_owned(), Verdict::Pass),
        ("tools-call-error".to_owned(), Verdict::Pass),
        ("tools-call-sampling".to_owned(), Verdict::Fail),
    ]);
    let made = pairs("s", "2025-11-25", &suite, &report);
    let shown: Vec<(&str, Verdict, Ours)> = made
        .iter()
        .map(|pair| (pair.scenario.as_str(), pair.suite, pair.ours))
        .collect();
    assert_eq!(
        shown,
        vec![
            (
                "tools-call-error",
                Verdict::Pass,
                Ours::Named(Verdict::Fail)
            ),
            ("tools-call-sampling", Verdict::Fail, Ours::Undefined),
            ("tools-list", Verdict::Pass, Ours::Named(Verdict::Pass)),
        ]
    );
    assert!(!made[0].agrees() && !made[1].agrees() && made[2].agrees());
}

#[test]
fn judging_uses_the_first_matching_explanation_and_reports_unused_ones_as_stale() {
    let text = format!(
        "{ENTRY}{}{}",
        ENTRY.replace("revision = \"2025-11-25\"", "revision = \"*\""),
        ENTRY.replace("tools-call-*", "prompts-*")
    );
    let entries = explanations::parse(&text).unwrap();
    let pairs = [
        pair(
            "server-everything",
            "tools-list",
            Verdict::Pass,
            Ours::Named(Verdict::Pass),
        ),
        pair(
            "server-everything",
            "tools-call-image",
            Verdict::Fail,
            Ours::Named(Verdict::Skip),
        ),
        pair(
            "server-everything",
            "resources-list",
            Verdict::Fail,
            Ours::Named(Verdict::Skip),
        ),
    ];
    let (judgements, stale) = judge(&pairs, &entries);
    assert_eq!(
        judgements,
        vec![
            Judgement::Agrees,
            Judgement::Explained(0),
            Judgement::Unexplained
        ]
    );
    assert_eq!(stale, vec![1, 2]);
}

#[test]
fn a_compliant_fixture_must_pass_every_must() {
    let report = parse_our_report(OURS).unwrap();
    let found = findings(None, Transport::Http, &report);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].missing.as_deref(),
        Some("ok: false (MUST failed: tools-call-error)")
    );
    let passing = OurReport {
        ok: Some(true),
        ..OurReport::default()
    };
    assert_eq!(findings(None, Transport::Stdio, &passing)[0].missing, None);
}

#[test]
fn a_violation_must_fail_its_checks_on_the_transports_it_affects() {
    let report = parse_our_report(OURS).unwrap();
    let pagination = findings(Some("bad-pagination"), Transport::Http, &report);
    let missing: Vec<(&str, Option<&str>)> = pagination
        .iter()
        .map(|finding| (finding.expected.as_str(), finding.missing.as_deref()))
        .collect();
    assert_eq!(
        missing,
        vec![
            ("fails tools-list-pagination", Some("the check did not run")),
            ("fails tools-list-invalid-cursor (SHOULD)", None),
        ]
    );
    assert!(findings(Some("stdout-logs"), Transport::Http, &report).is_empty());
    assert_eq!(
        findings(Some("stdout-logs"), Transport::Stdio, &report).len(),
        1
    );
}
