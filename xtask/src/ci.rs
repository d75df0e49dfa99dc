//! `cargo xtask ci`: the checks a change must pass, in order, each timed, stopping at the first failure.
//!
//! To add a check, write a function and add one line to [`STEPS`].

use std::time::{Duration, Instant};

use crate::command::{TaskError, cargo};
use crate::{bench, check_agreement, conformance, npm, python};

/// One named check.
struct CiStep {
    name: &'static str,
    run: fn() -> Result<(), TaskError>,
}

/// The checks, cheapest and most likely to fail first.
const STEPS: &[CiStep] = &[
    CiStep {
        name: "fmt",
        run: fmt_check,
    },
    CiStep {
        name: "dependency policy",
        run: dependency_policy,
    },
    CiStep {
        name: "library weight",
        run: library_weight,
    },
    CiStep {
        name: "clippy",
        run: clippy,
    },
    CiStep {
        name: "npm deps",
        run: npm::interop_deps,
    },
    CiStep {
        name: "python deps",
        run: python::install,
    },
    CiStep {
        name: "test",
        run: test,
    },
    CiStep {
        name: "conformance",
        run: conformance::run,
    },
    CiStep {
        name: "check agreement",
        run: check_agreement::verify,
    },
    CiStep {
        name: "doc",
        run: doc,
    },
    CiStep {
        name: "bench-smoke",
        run: bench::smoke,
    },
];

/// Packages that must never appear in a product crate's dependency graph, and why.
const FORBIDDEN_DEPENDENCIES: &[(&str, &str)] = &[
    ("reqwest", "the toolkit has one HTTP stack, hyper"),
    ("openssl-sys", "TLS is rustls with the ring provider"),
    ("native-tls", "TLS is rustls with the ring provider"),
];

/// The crates users depend on or run; test-only and task crates are not held to the policy.
const PRODUCT_CRATES: &[&str] = &[
    "mcp-retry",
    "mcp-transport",
    "mcp-oauth",
    "mcp-manager",
    "mcp-check",
    "mcp-demo",
    "mcpcord",
];

/// What the library must not carry: a user of `mcp-manager` compiles no command line, no log
/// subscriber and no MCP or HTTP server (the CLI and the demo servers are crates of their own).
/// Matched against `cargo tree -p mcp-manager --edges normal,features --prefix none` lines.
const LIBRARY_WEIGHT: &[(&str, &str)] = &[
    ("clap ", "the CLI's argument parser belongs to mcpcord"),
    ("dialoguer ", "terminal prompts belong to mcpcord"),
    ("indicatif ", "spinners and progress bars belong to mcpcord"),
    (
        "tracing-subscriber ",
        "installing a log subscriber is the application's choice",
    ),
    (
        "rmcp feature \"server\"",
        "MCP servers live in mcp-demo and the test fixtures",
    ),
    (
        "hyper feature \"server\"",
        "HTTP servers live in mcp-demo and the test fixtures",
    ),
];

pub(crate) fn run() -> Result<(), TaskError> {
    let started = Instant::now();
    let mut finished: Vec<(&str, Duration)> = Vec::new();
    for step in STEPS {
        println!("\n==> {}", step.name);
        let step_started = Instant::now();
        let outcome = (step.run)();
        let took = step_started.elapsed();
        match outcome {
            Ok(()) => {
                println!("<== {} ok in {}", step.name, seconds(took));
                finished.push((step.name, took));
            }
            Err(error) => {
                println!("<== {} FAILED in {}", step.name, seconds(took));
                print_summary(&finished, Some((step.name, took)), started.elapsed());
                return Err(TaskError::new(format!(
                    "step `{}` failed: {error}",
                    step.name
                )));
            }
        }
    }
    print_summary(&finished, None, started.elapsed());
    Ok(())
}

fn print_summary(passed: &[(&str, Duration)], failed: Option<(&str, Duration)>, total: Duration) {
    println!("\nci summary");
    for (name, took) in passed {
        println!("  {name:<20} ok      {:>8}", seconds(*took));
    }
    if let Some((name, took)) = failed {
        println!("  {name:<20} FAILED  {:>8}", seconds(took));
    }
    let not_run = STEPS.len() - passed.len() - usize::from(failed.is_some());
    for step in &STEPS[STEPS.len() - not_run..] {
        println!("  {:<20} not run", step.name);
    }
    match failed {
        None => println!("ci: all {} steps ok in {}", STEPS.len(), seconds(total)),
        Some((name, _)) => println!("ci: failed at `{name}` after {}", seconds(total)),
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

/// CI checks against the committed lock file; locally Cargo may update it as usual.
fn locked(mut args: Vec<&'static str>) -> Vec<&'static str> {
    if std::env::var_os("CI").is_some() {
        args.push("--locked");
    }
    args
}

fn fmt_check() -> Result<(), TaskError> {
    cargo(&["fmt", "--all", "--check"]).run()?;
    // `bench/` is a workspace of its own, which `--all` does not reach.
    cargo(&[
        "fmt",
        "--manifest-path",
        "bench/Cargo.toml",
        "--all",
        "--check",
    ])
    .run()
}

fn dependency_policy() -> Result<(), TaskError> {
    let mut args = locked(vec![
        "tree", "--edges", "all", "--prefix", "none", "--format", "{p}",
    ]);
    for package in PRODUCT_CRATES {
        args.extend(["--package", package]);
    }
    let output = cargo(&args).output()?;
    if !output.status.success() {
        return Err(TaskError::new(format!(
            "`cargo tree` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let tree = String::from_utf8_lossy(&output.stdout);
    let violations: Vec<String> = FORBIDDEN_DEPENDENCIES
        .iter()
        .filter(|(name, _)| {
            tree.lines()
                .any(|line| line.split_whitespace().next() == Some(*name))
        })
        .map(|(name, why)| format!("{name} ({why}); `cargo tree -i {name}` shows who pulls it in"))
        .collect();
    if violations.is_empty() {
        println!(
            "none of {} in {}",
            FORBIDDEN_DEPENDENCIES
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(", "),
            PRODUCT_CRATES.join(", ")
        );
        Ok(())
    } else {
        Err(TaskError::new(format!(
            "forbidden dependencies in the product crates: {}",
            violations.join("; ")
        )))
    }
}

/// The facade a library user depends on carries no binary or demo weight ([`LIBRARY_WEIGHT`]).
fn library_weight() -> Result<(), TaskError> {
    let args = locked(vec![
        "tree",
        "--package",
        "mcp-manager",
        "--edges",
        "normal,features",
        "--prefix",
        "none",
    ]);
    let output = cargo(&args).output()?;
    if !output.status.success() {
        return Err(TaskError::new(format!(
            "`cargo tree` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let tree = String::from_utf8_lossy(&output.stdout);
    let found: Vec<String> = LIBRARY_WEIGHT
        .iter()
        .filter(|(pattern, _)| tree.lines().any(|line| line.starts_with(pattern)))
        .map(|(pattern, why)| format!("{} ({why})", pattern.trim()))
        .collect();
    if found.is_empty() {
        println!("mcp-manager's normal dependencies carry no CLI, subscriber or server");
        Ok(())
    } else {
        Err(TaskError::new(format!(
            "mcp-manager carries: {}; `cargo tree -p mcp-manager -e normal,features -i NAME` shows who pulls it in",
            found.join("; ")
        )))
    }
}

fn clippy() -> Result<(), TaskError> {
    let mut args = locked(vec!["clippy", "--workspace", "--all-targets"]);
    args.extend(["--", "-D", "warnings"]);
    cargo(&args).run()
}

fn nextest_installed() -> bool {
    cargo(&["nextest", "--version"])
        .output()
        .is_ok_and(|output| output.status.success())
}

fn test() -> Result<(), TaskError> {
    if nextest_installed() {
        cargo(&locked(vec![
            "nextest",
            "run",
            "--workspace",
            "--profile",
            "ci",
        ]))
        .run()?;
        cargo(&locked(vec!["test", "--workspace", "--doc"])).run()
    } else {
        println!("cargo-nextest is not installed; using cargo test");
        cargo(&locked(vec!["test", "--workspace"])).run()
    }
}

fn doc() -> Result<(), TaskError> {
    cargo(&locked(vec!["doc", "--workspace", "--no-deps"]))
        .env("RUSTDOCFLAGS", "-D warnings")
        .run()
}
