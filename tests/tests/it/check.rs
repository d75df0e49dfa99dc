//! `mcp-check` against servers that break one rule each (`mcp-noncompliant-server --violate RULE`),
//! over stdio and streamable HTTP: each violation is found by exactly the checks of its rule and
//! by no other, and the compliant server passes every check. Then the stock servers the team did
//! not write (server-everything, the Python SDK), the `--only` filter, and a run dropped halfway.

use std::collections::BTreeSet;
use std::time::Duration;

use mcp_check::{Level, Options, Report, SpecChoice, Status, Target};
use mcp_tests::http_fixture::HttpFixture;
use mcp_tests::support::{eventually, live_children_of, reaped};
use mcp_transport::StdioSpec;
use mcp_transport::http::{HttpOptions, ProxyConfig};

use crate::NONCOMPLIANT;

/// Options for a loopback server: no proxy from the environment, a short timeout (a check that
/// waits for it fails the test instead of hanging it).
fn options() -> Options {
    let mut http = HttpOptions::default();
    http.proxy = ProxyConfig::Direct;
    Options {
        spec: SpecChoice::Auto,
        timeout: Duration::from_secs(5),
        http,
        ..Options::default()
    }
}

/// The checks that failed, as `id:LEVEL`.
fn failures(report: &Report) -> BTreeSet<String> {
    report
        .checks
        .iter()
        .filter(|check| check.status == Status::Fail)
        .map(|check| {
            let level = match check.level {
                Level::Must => "MUST",
                Level::Should => "SHOULD",
                Level::Info => "INFO",
            };
            format!("{}:{level}", check.id)
        })
        .collect()
}

fn violation_args(rule: Option<&str>) -> Vec<String> {
    rule.map(|rule| vec!["--violate".to_owned(), rule.to_owned()])
        .unwrap_or_default()
}

async fn check_stdio(rule: Option<&str>) -> Report {
    let target = Target::Stdio(StdioSpec::new(NONCOMPLIANT).args(violation_args(rule)));
    mcp_check::run("noncompliant", &target, &options())
        .await
        .expect("a session opens")
}

async fn check_http(rule: Option<&str>) -> Report {
    let args = violation_args(rule);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = HttpFixture::start_with(NONCOMPLIANT, &args).await;
    let target = Target::StreamableHttp {
        url: server.url().parse().expect("a URL"),
        headers: http::HeaderMap::new(),
        credential: None,
    };
    mcp_check::run("noncompliant", &target, &options())
        .await
        .expect("a session opens")
}

/// Each rule, and exactly what it must fail over (stdio, HTTP). An empty set: nothing fails.
const EXPECTED: &[(&str, &[&str], &[&str])] = &[
    (
        "protocol-version",
        &[
            "server-initialize:MUST",
            "initialize-version-negotiation:MUST",
        ],
        &[
            "server-initialize:MUST",
            "initialize-version-negotiation:MUST",
        ],
    ),
    (
        "missing-is-error",
        &[
            "tools-call-error:MUST",
            "tools-call-unknown-tool:MUST",
            "tools-call-unknown-tool-protocol-error:SHOULD",
        ],
        &[
            "tools-call-error:MUST",
            "tools-call-unknown-tool:MUST",
            "tools-call-unknown-tool-protocol-error:SHOULD",
        ],
    ),
    (
        "bad-pagination",
        &[
            "tools-list-pagination:MUST",
            "tools-list-invalid-cursor:SHOULD",
        ],
        &[
            "tools-list-pagination:MUST",
            "tools-list-invalid-cursor:SHOULD",
        ],
    ),
    // DNS rebinding is an HTTP matter; logs on stdout, staying alive after stdin closes and
    // needing stderr read are stdio matters.
    (
        "no-dns-rebinding",
        &[],
        &[
            "localhost-host-rebinding-rejected:MUST",
            "http-origin-invalid-403:MUST",
        ],
    ),
    ("stdout-logs", &["stdio-stdout-only-jsonrpc:MUST"], &[]),
    (
        "capability-not-respected",
        &["client-capability-respect:MUST"],
        &["client-capability-respect:MUST"],
    ),
    (
        "no-exit-on-stdin-close",
        &["stdio-exit-on-stdin-close:SHOULD"],
        &[],
    ),
    (
        "bad-envelope",
        &["jsonrpc-envelope:MUST"],
        &["jsonrpc-envelope:MUST"],
    ),
    (
        "requires-stderr",
        &["stdio-stderr-not-required:SHOULD"],
        &[],
    ),
    // Killed by the malformed line, the server answers none of the bad input that follows.
    (
        "dies-on-bad-input",
        &[
            "jsonrpc-parse-error:SHOULD",
            "jsonrpc-invalid-request:SHOULD",
            "jsonrpc-survives-bad-input:MUST",
        ],
        &[
            "jsonrpc-parse-error:SHOULD",
            "jsonrpc-invalid-request:SHOULD",
            "jsonrpc-survives-bad-input:MUST",
        ],
    ),
];

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compliant_fixture_passes_every_check_over_stdio_and_http() {
    for report in [check_stdio(None).await, check_http(None).await] {
        assert_eq!(
            failures(&report),
            BTreeSet::new(),
            "{}: {:#?}",
            report.transport,
            report.checks
        );
        assert!(report.passed());
        assert_eq!(
            report.spec, "2025-11-25",
            "the fixture speaks no 2026-07-28"
        );
        // It offers the suite's fixture tools, so the suite's own checks ran rather than skipped.
        let ran = |id: &str| {
            report
                .checks
                .iter()
                .any(|check| check.id == id && check.status == Status::Pass)
        };
        for id in [
            "tools-call-image",
            "tools-call-error",
            "tools-call-with-logging",
            "tools-call-with-progress",
            "prompts-get-with-args",
            "resources-read-binary",
            "completion-complete",
        ] {
            assert!(ran(id), "{} did not pass over {}", id, report.transport);
        }
    }
}

/// What the fixture's `GET /sessions` hook answers: how many sessions it has open.
async fn open_sessions(mcp_url: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let url: url::Url = mcp_url.parse().expect("a URL");
    let host = format!(
        "{}:{}",
        url.host_str().expect("a host"),
        url.port().expect("a port")
    );
    let mut stream = tokio::net::TcpStream::connect(&host)
        .await
        .expect("connects");
    let request = format!("GET /sessions HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("writes");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("reads");
    response
        .split("\r\n\r\n")
        .nth(1)
        .expect("a body")
        .to_owned()
}

/// The probes a check sends beside its session (rebinding, negotiation, a second session) and the
/// session itself are all ended: the server is left with none open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_over_http_leaves_no_session_open() {
    let server = HttpFixture::start_with(NONCOMPLIANT, &[]).await;
    let target = Target::StreamableHttp {
        url: server.url().parse().expect("a URL"),
        headers: http::HeaderMap::new(),
        credential: None,
    };
    let report = mcp_check::run("noncompliant", &target, &options())
        .await
        .expect("a session opens");
    assert!(report.passed());
    assert_eq!(open_sessions(server.url()).await, "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_violation_fails_exactly_the_checks_of_its_rule() {
    for (rule, over_stdio, over_http) in EXPECTED {
        let stdio = check_stdio(Some(rule)).await;
        assert_eq!(failures(&stdio), set(over_stdio), "{rule} over stdio");
        let http = check_http(Some(rule)).await;
        assert_eq!(failures(&http), set(over_http), "{rule} over HTTP");
        let must_fails = over_stdio
            .iter()
            .chain(over_http.iter())
            .any(|id| id.ends_with(":MUST"));
        assert_eq!(
            !stdio.passed() || !http.passed(),
            must_fails,
            "{rule}: the verdict follows the MUSTs"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_says_what_was_sent_what_came_back_and_where_the_spec_says_so() {
    let report = check_stdio(Some("missing-is-error")).await;
    let unknown = report
        .checks
        .iter()
        .find(|check| check.id == "tools-call-unknown-tool")
        .expect("the check ran");
    assert!(
        unknown
            .sent
            .as_deref()
            .is_some_and(|sent| sent.contains("mcpcord-check-no-such-tool")),
        "{unknown:?}"
    );
    assert!(
        unknown
            .received
            .as_deref()
            .is_some_and(|received| received.contains("Failed")),
        "{unknown:?}"
    );
    assert!(
        unknown
            .detail
            .as_deref()
            .is_some_and(|why| why.contains("success")),
        "{unknown:?}"
    );
    assert!(unknown.section.contains("/server/tools#error-handling"));
    assert_eq!(
        report
            .scenario_verdicts()
            .iter()
            .find(|(name, _)| *name == "tools-call-error")
            .map(|(_, v)| *v),
        Some(Status::Fail)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_runs_the_checks_it_names_by_id_prefix_or_scenario_glob() {
    let target = Target::Stdio(StdioSpec::new(NONCOMPLIANT));
    let mut options = options();
    options.only = vec!["ping".to_owned(), "tools-call-*".to_owned()];
    let report = mcp_check::run("noncompliant", &target, &options)
        .await
        .expect("a session opens");
    let ids: BTreeSet<&str> = report.checks.iter().map(|check| check.id).collect();
    assert!(
        ids.contains("ping")
            && ids.contains("tools-call-image")
            && ids.contains("tools-call-unknown-tool"),
        "{ids:?}"
    );
    assert!(
        !ids.contains("tools-list")
            && !ids.contains("jsonrpc-envelope")
            && !ids.contains("stdio-exit-on-stdin-close"),
        "{ids:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2026_only_server_is_checked_against_2026_and_refused_when_2025_is_forced() {
    let fixture = crate::FIXTURE;
    let target = Target::Stdio(StdioSpec::new(fixture).args(["--stdio", "--era", "modern"]));
    let report = mcp_check::run("fixture", &target, &options())
        .await
        .expect("a session opens");
    assert_eq!(report.spec, "2026-07-28");
    let passed = |id: &str| {
        report
            .checks
            .iter()
            .any(|check| check.id == id && check.status == Status::Pass)
    };
    for id in [
        "sep-2575-server-implements-discover",
        "sep-2549-tools-list-caching-hints",
        "sep-2575-request-meta-invalid-missing-meta",
    ] {
        assert!(passed(id), "{id}: {:#?}", report.checks);
    }
    let mut legacy = options();
    legacy.spec = SpecChoice::Legacy;
    let refused = mcp_check::run("fixture", &target, &legacy)
        .await
        .expect("a report, though initialize is refused");
    assert!(refused.handshake_refused && !refused.passed());
    let failed = failures(&refused);
    assert_eq!(failed, set(&["server-initialize:MUST"]));
    let initialize = refused
        .checks
        .iter()
        .find(|check| check.id == "server-initialize")
        .expect("the handshake check");
    // The modern-only server names the versions it supports, as the spec asks it to.
    assert!(
        initialize
            .received
            .as_deref()
            .is_some_and(|received| received.contains("2026-07-28")),
        "{initialize:?}"
    );
}

/// A server of the new era slower to start than the discover probe waits (3 s) is still checked
/// against 2026-07-28: its late discover answer, read before its refusal of `initialize`, sends
/// the check back to discover on a new copy. (The wrapper sleeps on its first start only.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_starting_2026_server_is_not_mistaken_for_a_refusal() {
    let marker = std::env::temp_dir().join(format!(
        "mcp-check-slow-start-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
    ));
    let wrapper =
        r#"if [ ! -e "$1" ]; then : > "$1"; sleep 3.5; fi; exec "$2" --stdio --era modern"#;
    let target = Target::Stdio(StdioSpec::new("sh").args([
        "-c",
        wrapper,
        "sh",
        &marker.display().to_string(),
        crate::FIXTURE,
    ]));
    let report = mcp_check::run("slow", &target, &options())
        .await
        .expect("a session opens");
    let _ = std::fs::remove_file(&marker);
    assert!(!report.handshake_refused, "{:#?}", report.checks);
    assert_eq!(report.spec, "2026-07-28");
    assert!(report.passed(), "{:#?}", failures(&report));
}

/// A server that allows one copy at a time (here: `flock -n -o` on a lock file, held by the
/// group's leader and released when it dies) passes every check: the checks that start copies of
/// their own (stderr ignored, version negotiation) start them only once the previous copy's leader
/// is dead and reaped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_runs_one_copy_at_a_time_passes_every_check() {
    let lock = std::env::temp_dir().join(format!(
        "mcp-check-one-copy-{}-{:?}.lock",
        std::process::id(),
        std::time::SystemTime::now()
    ));
    let target = Target::Stdio(StdioSpec::new("flock").args([
        "-n",
        "-o",
        &lock.display().to_string(),
        NONCOMPLIANT,
    ]));
    let report = mcp_check::run("one-copy", &target, &options())
        .await
        .expect("a session opens");
    let _ = std::fs::remove_file(&lock);
    assert_eq!(failures(&report), BTreeSet::new(), "{:#?}", report.checks);
    for id in [
        "stdio-stderr-not-required",
        "initialize-version-negotiation",
    ] {
        assert!(
            report
                .checks
                .iter()
                .any(|check| check.id == id && check.status == Status::Pass),
            "{id}: {:#?}",
            report.checks
        );
    }
}

/// A server that never answers but always has another request ready still meets the deadline:
/// each wait is bounded, not only the waits that find nothing to read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_flooding_requests_cannot_hold_the_run_past_its_timeout() {
    // It drains its stdin (so answers never block) and writes ping requests without end.
    let flood = r#"cat >/dev/null & while :; do printf '%s\n' '{"jsonrpc":"2.0","id":"flood","method":"ping"}'; done"#;
    let target = Target::Stdio(StdioSpec::new("sh").args(["-c", flood]));
    let options = Options {
        spec: SpecChoice::Legacy,
        timeout: Duration::from_millis(500),
        ..options()
    };
    // The outer bound only turns a hang into a failure; the run ends on its own deadline.
    let error = tokio::time::timeout(
        Duration::from_secs(60),
        mcp_check::run("flood", &target, &options),
    )
    .await
    .expect("the run ends")
    .expect_err("no handshake was answered");
    assert!(error.is_unreachable(), "{error}");
    assert!(error.to_string().contains("no answer within"), "{error}");
}

/// Dropping a run halfway leaves no server process behind (cancellation is cleanup).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_dropped_while_the_server_hangs_leaves_no_process() {
    let target = Target::Stdio(StdioSpec::new(crate::FIXTURE).args([
        "--stdio",
        "--fault",
        "hang-before-initialize",
    ]));
    let run = tokio::spawn(async move {
        mcp_check::run("hanging", &target, &options())
            .await
            .map(|_| ())
    });
    // nextest runs each test in a process of its own; the command line makes sure of the child.
    let me = std::process::id();
    let child = mcp_tests::support::eventually_some("the server to start", || {
        live_children_of(me).into_iter().find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
                String::from_utf8_lossy(&cmdline).contains("hang-before-initialize")
            })
        })
    })
    .await;
    run.abort();
    let _ = run.await;
    eventually("the server to be killed and reaped", || reaped(child)).await;
}

/// The workspace's root.
fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is inside the workspace")
        .to_path_buf()
}

/// Servers the team did not write: the Python SDK's stock stdio server (which speaks 2026-07-28)
/// and the three stock HTTP+SSE servers, each passing every MUST on its transport.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_servers_pass_every_must_over_stdio_and_legacy_sse() {
    let python = root().join("target/python/venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run `cargo xtask py-deps`",
        python.display()
    );
    let script = root().join("tests/python/stdio_server.py");
    let target = Target::Stdio(
        StdioSpec::new(python.display().to_string()).args([script.display().to_string()]),
    );
    let report = mcp_check::run("python", &target, &options())
        .await
        .expect("a session opens");
    assert_eq!(report.spec, "2026-07-28");
    assert!(report.passed(), "{:#?}", failures(&report));
    // The stdio rules hold for the stock server, stderr ignored included.
    for id in [
        "stdio-stdout-only-jsonrpc",
        "stdio-exit-on-stdin-close",
        "stdio-stderr-not-required",
    ] {
        assert!(
            report
                .checks
                .iter()
                .any(|check| check.id == id && check.status == Status::Pass),
            "{id}: {:#?}",
            report.checks
        );
    }

    for kind in mcp_tests::support::LegacySseKind::ALL {
        let server =
            tokio::task::spawn_blocking(move || mcp_tests::support::LegacySseServer::start(kind))
                .await
                .expect("the server starts");
        let target = Target::Sse {
            url: server.sse_url().parse().expect("a URL"),
            headers: http::HeaderMap::new(),
            credential: None,
        };
        let mut legacy = options();
        legacy.spec = SpecChoice::Legacy;
        let report = mcp_check::run("sse", &target, &legacy)
            .await
            .expect("a session opens");
        assert_eq!(report.transport, "sse");
        assert!(report.passed(), "{kind:?}: {:#?}", failures(&report));
        let ran = report
            .checks
            .iter()
            .filter(|check| check.status != Status::Skip)
            .count();
        assert!(ran > 20, "{kind:?}: only {ran} checks ran");
    }
}
