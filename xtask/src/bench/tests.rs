//! The bench's own tests: reading the subjects' JSON lines, the cases each size makes, the rows'
//! labels, and that every target finds the row it is about.

use std::collections::BTreeMap;

use super::measure::{json_number, metric_value, subject_command};
use super::setup::Paths;
use super::stats::Row;
use super::subjects::{
    ALL_STOCK, MODERN_STOCK, Mode, SUBJECTS, Server, Stock, StockServer, Subject, Transport,
};
use super::targets::{GUARDED, targets};
use super::workloads::{
    CALLS_PER_S, CONNECT_MS, FULL, MAX_CALL_US, RowId, SMOKE, Sizes, Variant, Workload, cases,
};

#[test]
fn numbers_are_read_from_rust_and_python_json_lines() {
    let rust = r#"{"calls":2000,"calls_per_s":8126.068,"subject":"ours"}"#;
    let python = r#"{"subject": "python", "connect_ms": 4.148, "x": -1e3}"#;
    assert_eq!(json_number(rust, "calls_per_s"), Some(8126.068));
    assert_eq!(json_number(python, "connect_ms"), Some(4.148));
    assert_eq!(json_number(python, "x"), Some(-1000.0));
    assert_eq!(json_number(python, "open_ms"), None);
}

#[test]
fn mcpcord_slowest_call_is_read_from_its_latency_summary() {
    let mcpcord = r#"{"call_us": {"max": 41463, "p50": 40000}, "calls_per_s": 43.6,
        "connect_ms": {"max": 14}}"#;
    assert_eq!(
        metric_value(mcpcord, Subject::Mcpcord, MAX_CALL_US),
        Some(41463.0)
    );
    assert_eq!(
        metric_value(mcpcord, Subject::Mcpcord, CALLS_PER_S),
        Some(43.6)
    );
    let ours = r#"{"calls_per_s": 37.9, "max_call_us": 47937.681}"#;
    assert_eq!(
        metric_value(ours, Subject::Ours, MAX_CALL_US),
        Some(47937.681)
    );
}

#[test]
fn fixture_rows_say_it_is_tuned_and_stock_rows_name_server_and_mode() {
    let labels: Vec<String> = cases(&FULL)
        .iter()
        .flat_map(|case| case.rows.iter().map(|id| id.label()))
        .collect();
    assert!(labels.contains(&"1 x 2000 sequential http, fixture (tuned: NODELAY)".to_owned()));
    assert!(labels.contains(&"1 x 2000 sequential http, rmcp stock stateful".to_owned()));
    assert!(labels.contains(&"20 x 50 sessions http, typescript stock stateless".to_owned()));
    assert!(
        labels.contains(&"1 x 2000 sequential http, rmcp stock stateless 2026-07-28".to_owned())
    );
    assert!(
        labels
            .iter()
            .all(|label| !label.contains("http") || label.contains("http, "))
    );
}

#[test]
fn every_stock_server_runs_both_workloads_in_full_and_smoke_guards_rmcp() {
    let full = cases(&FULL);
    for stock in ALL_STOCK {
        for workload in [Workload::Sequential, Workload::Sessions] {
            assert!(
                full.iter()
                    .any(|case| case.workload == workload && case.server == Server::Stock(*stock)),
                "{} {}",
                workload.name(),
                stock.label()
            );
        }
    }
    const { assert!(SMOKE.fail_on_slow_calls) };
    assert!(GUARDED.contains(&StockServer::new(Stock::Rmcp, Mode::Stateful)));
    assert!(GUARDED.contains(&MODERN_STOCK));
    for guarded in GUARDED.map(Server::Stock) {
        assert!(
            cases(&SMOKE).iter().any(|case| {
                case.workload == Workload::Sequential
                    && case.server == guarded
                    && case.subjects.contains(&Subject::Ours)
                    && case.subjects.contains(&Subject::Mcpcord)
                    && case
                        .rows
                        .iter()
                        .any(|id| id.metric().key == MAX_CALL_US.key)
            }),
            "{}",
            guarded.label()
        );
    }
}

#[test]
fn modern_rows_run_ours_and_rmcp_in_discover_mode_without_python_in_full_and_smoke() {
    use Subject::{Mcpcord, Ours, Python, Rmcp};
    let target = ["http://127.0.0.1:1/mcp".to_owned()];
    for sizes in [&FULL, &SMOKE] {
        let paths = Paths::new(sizes.release);
        let modern: Vec<_> = cases(sizes)
            .into_iter()
            .filter(|case| case.server == Server::Stock(MODERN_STOCK))
            .collect();
        assert!(
            modern
                .iter()
                .any(|case| case.workload == Workload::Sequential),
            "{}",
            sizes.name
        );
        for case in &modern {
            assert_eq!(case.subjects, [Ours, Mcpcord, Rmcp], "{}", sizes.name);
            assert!(!case.subjects.contains(&Python));
            let args = |subject| -> Vec<String> {
                subject_command(&paths, case, subject, &target)
                    .get_args()
                    .map(|arg| arg.to_string_lossy().into_owned())
                    .collect()
            };
            let told =
                |args: &[String]| args.windows(2).any(|pair| pair == ["--protocol", "modern"]);
            assert!(
                told(&args(Rmcp)),
                "raw rmcp must open the session in discover mode"
            );
            assert!(!told(&args(Ours)), "ours finds the era out by default");
        }
    }
    let stateful = StockServer::new(Stock::Rmcp, Mode::Stateful);
    let legacy_case = cases(&SMOKE)
        .into_iter()
        .find(|case| case.server == Server::Stock(stateful))
        .expect("the smoke run has a stateful rmcp row");
    let args: Vec<String> = subject_command(&Paths::new(false), &legacy_case, Rmcp, &target)
        .get_args()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    assert!(!args.contains(&"--protocol".to_owned()));
}

#[test]
fn legacy_sse_rows_run_every_sse_client_against_the_typescript_sse_server_in_full_and_smoke() {
    use Subject::{Mcpcord, Ours, Python, Typescript};
    let full: Vec<String> = cases(&FULL)
        .iter()
        .flat_map(|case| case.rows.iter().map(|id| id.label()))
        .collect();
    assert!(full.contains(&"1 x 2000 sequential sse, typescript stock".to_owned()));
    assert!(full.contains(&"20 x 50 sessions sse, typescript stock".to_owned()));
    for sizes in [&FULL, &SMOKE] {
        let sse: Vec<_> = cases(sizes)
            .into_iter()
            .filter(|case| case.transport == Transport::Sse)
            .collect();
        let workloads: Vec<Workload> = sse.iter().map(|case| case.workload).collect();
        assert_eq!(
            workloads,
            [Workload::Sequential, Workload::Sessions],
            "{}",
            sizes.name
        );
        for case in &sse {
            assert_eq!(case.server, Server::TypescriptSse);
            assert_eq!(case.subjects, [Ours, Mcpcord, Python, Typescript]);
            assert!(case.rows.iter().all(|id| matches!(
                id,
                RowId::Sequential {
                    transport: Transport::Sse,
                    server: Server::TypescriptSse,
                    ..
                } | RowId::Sessions {
                    transport: Transport::Sse,
                    server: Server::TypescriptSse,
                    ..
                }
            )));
        }
    }
}

#[test]
fn only_the_sse_rows_run_the_sse_server_or_the_typescript_client() {
    for case in cases(&FULL) {
        let sse = case.transport == Transport::Sse;
        assert_eq!(case.server == Server::TypescriptSse, sse, "{:?}", case.rows);
        assert_eq!(
            case.subjects.contains(&Subject::Typescript),
            sse,
            "{:?}",
            case.rows
        );
    }
}

#[test]
fn advantage_is_above_one_when_ours_is_better_either_way() {
    let row = |id: RowId, ours, other| Row {
        id,
        medians: BTreeMap::from([(Subject::Ours, ours), (Subject::Rmcp, other)]),
    };
    let sequential = RowId::Sequential {
        transport: Transport::Stdio,
        server: Server::Fixture,
        variant: Variant::Default,
        calls: 1,
    };
    let connect = RowId::Connect(Transport::Stdio);
    assert_eq!(sequential.metric().key, CALLS_PER_S.key);
    assert_eq!(connect.metric().key, CONNECT_MS.key);
    assert_eq!(
        row(sequential, 200.0, 100.0).advantage(Subject::Rmcp),
        Some(2.0)
    );
    assert_eq!(row(connect, 1.0, 2.0).advantage(Subject::Rmcp), Some(2.0));
}

#[test]
fn smoke_runs_every_subject_on_every_workload() {
    let cases = cases(&SMOKE);
    for subject in SUBJECTS {
        assert!(cases.iter().any(|case| case.subjects.contains(&subject)));
    }
    let workloads: Vec<&str> = cases.iter().map(|case| case.workload.name()).collect();
    for workload in [
        "connect",
        "sequential",
        "sessions",
        "open",
        "memory",
        "callback",
        "drop",
    ] {
        assert!(workloads.contains(&workload), "{workload}");
    }
}

/// The table one bench would print if every subject of every case reported `value`.
fn rows_all_measured(sizes: &Sizes, value: f64) -> Vec<Row> {
    cases(sizes)
        .iter()
        .flat_map(|case| {
            case.rows.iter().map(|id| Row {
                id: *id,
                medians: case
                    .subjects
                    .iter()
                    .map(|subject| (*subject, value))
                    .collect(),
            })
        })
        .collect()
}

#[test]
fn every_target_finds_its_row_in_full_and_smoke() {
    for sizes in [&FULL, &SMOKE] {
        let report = targets(&rows_all_measured(sizes, 1.0));
        assert!(!report.contains("not measured"), "{}: {report}", sizes.name);
    }
    let full = targets(&rows_all_measured(&FULL, 1.0));
    for stock in ALL_STOCK {
        let label = stock.label();
        for line in [
            format!("- HTTP sequential calls/s >= 1.5x raw rmcp, {label}: "),
            format!("- ours: no sequential call >= 35 ms (median of the runs' slowest), {label}: "),
            format!(
                "- mcpcord: no sequential call >= 35 ms (median of the runs' slowest), {label}: "
            ),
            format!("- 20 x 50 sessions http, {label} calls/s >= 2x raw rmcp: "),
        ] {
            assert!(full.contains(&line), "{line}");
        }
    }
}

#[test]
fn row_ids_and_labels_are_unique_in_full_and_smoke() {
    for sizes in [&FULL, &SMOKE] {
        let ids: Vec<RowId> = cases(sizes)
            .iter()
            .flat_map(|case| case.rows.iter().copied())
            .collect();
        for (at, id) in ids.iter().enumerate() {
            assert!(!ids[..at].contains(id), "{}: {id:?} twice", sizes.name);
        }
        let mut labels: Vec<String> = ids.iter().map(|id| id.label()).collect();
        labels.sort();
        labels.dedup();
        assert_eq!(labels.len(), ids.len(), "{}: a label twice", sizes.name);
    }
}
