//! The conformance tasks' parsing and judging, on recorded suite output.

use std::collections::HashMap;

use super::output::*;
use super::revisions::{Planned, RevisionRow, plan, summary};
use super::verdicts::*;
use super::*;

const LIST_OUTPUT: &str = "Client scenarios (test against a client):\n  \
    - initialize [2025-06-18,2025-11-25]\n  \
    - auth/metadata-default [2025-11-25]\n  \
    - auth/cross-app-access-complete-flow [extension]\n";

const PASSING_RUN: &str = "\
Starting scenario: tools_call
Executing client: /x/mcp-conformance-client http://localhost:35035/mcp
loopback-preload: listening on 127.0.0.1:35035
Checks:
2026-11-24T07:54:46.106Z [incoming-request ] INFO    Received POST request for /mcp (method: initialize)
2026-11-24T07:54:46.138Z [tool-add-numbers ] SUCCESS Validates that the add_numbers tool works correctly

Test Results:
Passed: 1/1, 0 failed, 0 warnings

\u{2705} OVERALL: PASSED
";

const FAILING_RUN: &str = "\
Starting scenario: auth/metadata-default
Client exited with code 1

Stderr:
2026-11-24T07:54:59.027382Z ERROR rmcp::transport::worker: Received nothing [oops]
mcp-conformance-client (auth/metadata-default): conformance: handshake failed: connection refused

Checks:
2026-11-24T07:55:14.247Z [prm-pathbased-requested      ] FAILURE Expected Check Missing: prm-pathbased-requested
2026-11-24T07:55:14.248Z [incoming-request             ] FAILURE Expected Check Missing: incoming-request
2026-11-24T07:55:14.248Z [prm-pathbased-requested      ] FAILURE Expected Check Missing: prm-pathbased-requested

Test Results:
Passed: 0/5, 5 failed, 0 warnings

\u{26a0}\u{fe0f}  CLIENT EXITED WITH ERROR (code 1) - Test may be incomplete

Failed Checks:
  - Expected Check Missing: prm-pathbased-requested: Expected Check Missing: prm-pathbased-requested

\u{274c} OVERALL: FAILED
";

const CHECK_ERRORS_RUN: &str = "\
2026-12-05T19:59:04.210Z [sep-2243-client-supports-custom-headers] FAILURE Client supports custom headers
2026-12-05T19:59:04.214Z [sep-2243-client-omit-null              ] FAILURE Declared check sep-2243-client-omit-null was never emitted
2026-12-05T19:59:04.214Z [sep-2207-refresh                       ] WARNING Client should ask for offline_access

Failed Checks:
  - ClientSupportsCustomHeaders: Client supports custom headers
    Error: Client called test_custom_headers but sent no Mcp-Param-* headers.
  - NotObserved: Declared check sep-2243-client-omit-null was never emitted

Warning Checks:
  - RefreshToken: Client should ask for offline_access
    Warning: scope was openid
";

fn listed(name: &str, revisions: &[&str]) -> Listed {
    Listed {
        name: name.to_owned(),
        revisions: revisions
            .iter()
            .map(|&revision| revision.to_owned())
            .collect(),
    }
}

#[test]
fn scenarios_are_read_from_the_list_output_with_their_revisions() {
    assert_eq!(
        parse_scenario_list(LIST_OUTPUT),
        [
            listed("initialize", &["2025-06-18", "2025-11-25"]),
            listed("auth/metadata-default", &["2025-11-25"]),
            listed("auth/cross-app-access-complete-flow", &["extension"]),
        ]
    );
}

#[test]
fn a_scenario_line_without_revisions_lists_none() {
    assert_eq!(
        parse_scenario_list("  - initialize\n  - tools_call []\n"),
        [listed("initialize", &[]), listed("tools_call", &[])]
    );
}

#[test]
fn a_list_without_scenario_lines_has_no_scenarios() {
    assert!(parse_scenario_list("Client scenarios (test against a client):\n\n").is_empty());
}

#[test]
fn a_passing_run_reports_counts_and_a_request() {
    let report = parse_run(PASSING_RUN);
    assert_eq!(
        report,
        RunReport {
            passed: Some((1, 1)),
            failed_checks: vec![],
            overall_passed: true,
            reached_server: true,
            client_failed: None,
            client_message: None,
        }
    );
    assert_eq!(verdict(&Exit::Success, &report), Ok(()));
}

#[test]
fn failed_check_ids_are_collected_once_each_in_order() {
    let report = parse_run(FAILING_RUN);
    assert_eq!(report.passed, Some((0, 5)));
    let ids: Vec<&str> = report
        .failed_checks
        .iter()
        .map(|check| check.id.as_str())
        .collect();
    assert_eq!(ids, ["prm-pathbased-requested", "incoming-request"]);
    assert!(!report.overall_passed);
    assert_eq!(
        verdict(&Exit::Failure("exit status: 1".to_owned()), &report),
        Err("prm-pathbased-requested, incoming-request; \
             client exited with code 1: conformance: handshake failed: connection refused; \
             client never reached the server"
            .to_owned())
    );
}

#[test]
fn a_client_error_the_suite_allows_is_no_reason() {
    let run = PASSING_RUN.replace(
        "Checks:",
        "Client exited with code 1\n\nStderr:\nmcp-conformance-client (x): refused, as it should\nChecks:",
    );
    let report = parse_run(&run);
    assert_eq!(report.client_failed, None);
    assert_eq!(
        report.client_message.as_deref(),
        Some("refused, as it should")
    );
    assert_eq!(verdict(&Exit::Success, &report), Ok(()));
}

#[test]
fn a_client_timeout_is_a_reason() {
    let run = PASSING_RUN.replace(
        "Test Results:",
        "\u{26a0}\u{fe0f}  CLIENT TIMED OUT - Test incomplete\nTest Results:",
    );
    assert_eq!(
        verdict(&Exit::Success, &parse_run(&run)),
        Err("client timed out".to_owned())
    );
}

#[test]
fn failed_checks_carry_the_error_listed_under_them() {
    let report = parse_run(CHECK_ERRORS_RUN);
    let errors: Vec<Option<&str>> = report
        .failed_checks
        .iter()
        .map(|check| check.error.as_deref())
        .collect();
    assert_eq!(
        errors,
        [
            Some("Client called test_custom_headers but sent no Mcp-Param-* headers."),
            None,
            Some("scope was openid"),
        ]
    );
    let lines: Vec<String> = report
        .failed_checks
        .iter()
        .map(FailedCheck::short_line)
        .collect();
    assert_eq!(
        lines,
        [
            "sep-2243-client-supports-custom-headers: Client called test_custom_headers but sent no Mcp-Param-* headers.",
            "sep-2243-client-omit-null: Declared check sep-2243-client-omit-null was never emitted",
            "sep-2207-refresh (WARNING): scope was openid",
        ]
    );
}

#[test]
fn a_request_log_line_counts_as_reaching_the_server() {
    let run =
        "request-log: POST /mcp\nChecks:\nPassed: 2/2, 0 failed, 0 warnings\nOVERALL: PASSED\n";
    let report = parse_run(run);
    assert!(report.reached_server);
    assert_eq!(verdict(&Exit::Success, &report), Ok(()));
    assert_eq!(shown_output(run).lines().count(), 3);
}

#[test]
fn a_run_whose_every_check_was_skipped_is_a_failure() {
    let run = "request-log: POST /mcp\n\
               2026-12-05T19:59:06.070Z [sep-2640-host-no-prefetch] SKIPPED Hosts MUST NOT prefetch\n\
               Passed: 0/0, 0 failed, 0 warnings\nOVERALL: PASSED\n";
    assert_eq!(
        verdict(&Exit::Success, &parse_run(run)),
        Err("the suite scored no check (all skipped)".to_owned())
    );
}

#[test]
fn missing_request_checks_and_client_log_lines_do_not_count_as_reaching_the_server() {
    assert!(!parse_run(FAILING_RUN).reached_server);
}

#[test]
fn a_passing_suite_with_no_request_is_a_failure() {
    let run = "Checks:\n\nTest Results:\nPassed: 1/1, 0 failed, 0 warnings\n\nOVERALL: PASSED\n";
    let report = parse_run(run);
    assert!(report.overall_passed);
    assert_eq!(
        verdict(&Exit::Success, &report),
        Err("client never reached the server".to_owned())
    );
}

#[test]
fn warnings_fail_a_run_and_are_named_as_warnings() {
    let run = "2026-11-24T07:54:46.106Z [incoming-request] INFO    Received POST request for /mcp\n\
               2026-11-24T07:54:46.107Z [sep-2207-refresh] WARNING Client should ask for offline_access\n";
    let report = parse_run(run);
    assert_eq!(
        verdict(&Exit::Failure("exit status: 1".to_owned()), &report),
        Err("sep-2207-refresh (WARNING)".to_owned())
    );
}

#[test]
fn the_initialize_check_counts_as_reaching_the_server() {
    let run = "2026-11-24T07:54:12.029Z [mcp-client-initialization] SUCCESS Validates that MCP client properly initializes with server\n";
    assert!(parse_run(run).reached_server);
}

#[test]
fn a_received_description_counts_as_reaching_the_server() {
    let run = "2026-11-24T07:54:48.624Z [incoming-auth-request ] INFO    Received GET request for /authorize\n";
    assert!(parse_run(run).reached_server);
}

#[test]
fn a_failing_exit_without_failed_checks_is_a_failure() {
    let report = parse_run(PASSING_RUN);
    assert_eq!(
        verdict(&Exit::Failure("exit status: 1".to_owned()), &report),
        Err("suite failed (exit status: 1)".to_owned())
    );
}

#[test]
fn a_timeout_is_a_failure_even_after_a_pass() {
    let report = parse_run(PASSING_RUN);
    assert_eq!(
        verdict(&Exit::TimedOut(Duration::from_secs(120)), &report),
        Err("killed after 120s".to_owned())
    );
}

#[test]
fn ansi_colour_codes_are_stripped() {
    let coloured =
        "\u{1b}[90m2026-11-24T07:54:12.029Z\u{1b}[0m [server-info] \u{1b}[36mINFO   \u{1b}[0m ok";
    assert_eq!(
        strip_ansi(coloured),
        "2026-11-24T07:54:12.029Z [server-info] INFO    ok"
    );
}

#[test]
fn osc_and_other_escapes_are_stripped() {
    assert_eq!(
        strip_ansi("a\u{1b}]0;title\u{7}b\u{1b}]8;;x\u{1b}\\c\u{1b}(Bd\u{1b}=e"),
        "abcde"
    );
}

#[test]
fn coloured_output_parses_once_stripped() {
    let run = "\u{1b}[90m2026-11-24T07:55:14.247Z\u{1b}[0m [token-request] \u{1b}[31mFAILURE\u{1b}[0m no token\n";
    assert_eq!(
        parse_run(&strip_ansi(run)).failed_checks,
        [failed_check("token-request", "FAILURE", "no token")]
    );
}

#[test]
fn preload_lines_are_not_shown() {
    assert_eq!(
        shown_output("a\nloopback-preload: listening on 127.0.0.1:1\nb"),
        "    a\n    b"
    );
}

#[test]
fn expected_failures_are_read_with_their_reasons() {
    let text = "# header\n\n  # indented comment\nauth/x  # needs SEP-1\ninitialize#a # b\n";
    let entries = parse_expected_failures(text).expect("valid");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries["auth/x"], "needs SEP-1");
    assert_eq!(entries["initialize"], "a # b");
}

#[test]
fn comments_and_blank_lines_alone_are_an_empty_list() {
    assert!(
        parse_expected_failures("# format\n\n#\n")
            .expect("valid")
            .is_empty()
    );
}

#[test]
fn an_entry_without_a_reason_is_an_error_naming_its_line() {
    let error = parse_expected_failures("# header\nauth/x\n").expect_err("no reason");
    assert!(error.starts_with("2: no `# reason`"), "{error}");
    let error = parse_expected_failures("auth/x  #   \n").expect_err("empty reason");
    assert!(error.starts_with("1: an empty reason"), "{error}");
}

#[test]
fn an_entry_with_two_names_or_listed_twice_is_an_error() {
    let error = parse_expected_failures("a b # why\n").expect_err("two names");
    assert!(error.starts_with("1: not one scenario name"), "{error}");
    let error = parse_expected_failures("a # why\na # again\n").expect_err("twice");
    assert!(error.starts_with("2: a scenario listed twice"), "{error}");
}

fn failed_check(id: &str, status: &str, description: &str) -> FailedCheck {
    FailedCheck {
        id: id.to_owned(),
        status: status.to_owned(),
        description: description.to_owned(),
        error: None,
    }
}

#[test]
fn a_missing_check_is_shortened_to_missing() {
    let check = failed_check(
        "prm-pathbased-requested",
        "FAILURE",
        "Expected Check Missing: prm-pathbased-requested",
    );
    assert_eq!(check.short_line(), "prm-pathbased-requested: missing");
}

#[test]
fn a_long_description_is_cut_with_an_ellipsis() {
    let long = "word ".repeat(40);
    let line = failed_check("x", "WARNING", &long).short_line();
    assert!(line.starts_with("x (WARNING): word word"), "{line}");
    assert!(line.ends_with("word…"), "{line}");
    assert!(line.chars().count() < long.len(), "{line}");
    let short = failed_check("x", "FAILURE", "Client sent Mcp-Method").short_line();
    assert_eq!(short, "x: Client sent Mcp-Method");
}

#[test]
fn every_revision_of_a_scenario_is_a_run_and_extensions_run_unversioned() {
    let scenarios = [
        listed("tools_call", &["2025-06-18", "2026-07-28"]),
        listed("auth/dpop", &["extension"]),
        listed("old", &[]),
    ];
    assert_eq!(
        plan(&scenarios),
        [
            Planned {
                scenario: "tools_call",
                revision: "2025-06-18",
                spec_version: Some("2025-06-18"),
            },
            Planned {
                scenario: "tools_call",
                revision: "2026-07-28",
                spec_version: Some("2026-07-28"),
            },
            Planned {
                scenario: "auth/dpop",
                revision: "extension",
                spec_version: None,
            },
            Planned {
                scenario: "old",
                revision: "-",
                spec_version: None,
            },
        ]
    );
}

fn revision_row(scenario: &str, revision: &str, verdict: Verdict) -> RevisionRow {
    RevisionRow {
        revision: revision.to_owned(),
        row: row(scenario, verdict),
    }
}

#[test]
fn a_scenario_counts_as_passing_only_at_every_revision() {
    let rows = [
        revision_row("a", "2025-11-25", Verdict::Pass),
        revision_row("a", "2026-07-28", Verdict::Fail),
        revision_row("b", "2026-07-28", Verdict::Pass),
        revision_row("c", "extension", Verdict::Pass),
    ];
    assert_eq!(
        summary(&rows),
        "2 of 3 scenarios pass at every revision they are defined for; 3 of 4 runs pass.\n\n\
         - 2025-11-25: 1 of 1 runs pass\n\
         - 2026-07-28: 1 of 2 runs pass\n\
         - extension: 1 of 1 runs pass\n"
    );
}

#[test]
fn table_cells_are_padded_and_pipes_escaped() {
    let table = markdown_table(["A", "Detail"], &[["x".to_owned(), "a|b".to_owned()]]);
    assert_eq!(table, "| A | Detail |\n| - | ------ |\n| x | a\\|b   |\n");
}

fn row(scenario: &str, verdict: Verdict) -> Row {
    Row {
        scenario: scenario.to_owned(),
        verdict,
        checks: "1/1".to_owned(),
        detail: String::new(),
    }
}

#[test]
fn expected_failures_pass_and_stale_or_unknown_entries_fail() {
    let expected: HashMap<String, String> =
        [("b".to_owned(), "why".to_owned())].into_iter().collect();
    assert!(
        judge(
            &[row("a", Verdict::Pass), row("b", Verdict::ExpectedFail)],
            &expected
        )
        .is_ok()
    );
    let stale = judge(
        &[row("a", Verdict::Pass), row("b", Verdict::Pass)],
        &expected,
    )
    .expect_err("stale");
    assert!(
        stale.to_string().contains("now pass (remove them): b"),
        "{stale}"
    );
    let unknown = judge(&[row("a", Verdict::Pass)], &expected).expect_err("unknown");
    assert!(unknown.to_string().contains("not a scenario"), "{unknown}");
    let failed = judge(
        &[row("a", Verdict::Fail), row("b", Verdict::ExpectedFail)],
        &expected,
    )
    .expect_err("failed");
    assert_eq!(failed.to_string(), "failed: a");
}
