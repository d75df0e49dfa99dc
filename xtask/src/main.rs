//! Project tasks, as plain Rust so they run anywhere Cargo does: `cargo xtask <task>`.
//!
//! `cargo xtask ci` is the whole gate CI runs; `cargo xtask --help` lists every task.

mod bench;
mod check_agreement;
mod ci;
mod command;
mod conformance;
mod npm;
mod python;

use std::process::ExitCode;

use command::TaskError;

/// The flags a task accepts (it reads them itself); every other task takes no arguments.
const FLAGS: &[(&str, &str)] = &[("check-agreement", "--check")];

/// A task: its name on the command line, one line of help, and what it runs.
struct Task {
    name: &'static str,
    about: &'static str,
    run: fn() -> Result<(), TaskError>,
}

const TASKS: &[Task] = &[
    Task {
        name: "ci",
        about: "every check CI runs: formatting, dependency policy, library weight, clippy, npm and Python deps, tests, conformance, check agreement, docs, bench smoke",
        run: ci::run,
    },
    Task {
        name: "npm-deps",
        about: "install the pinned npm packages the interop tests run (into target/npm/)",
        run: npm::interop_deps,
    },
    Task {
        name: "py-deps",
        about: "install the pinned Python MCP SDK the interop tests and the benchmark run (a venv in target/python/venv/)",
        run: python::install,
    },
    Task {
        name: "conformance",
        about: "run the official MCP conformance suite's client scenarios (0.2.0-alpha.12) at every spec revision each is defined for, against mcp-conformance-client",
        run: conformance::run,
    },
    Task {
        name: "check-agreement",
        about: "run mcpcord check and the conformance suite's server mode against the same servers; fail on an unexplained disagreement (tests/conformance/check-agreement.toml) or a missed detection; write tests/conformance/check-agreement.md (--check: compare instead, as CI does)",
        run: check_agreement::run,
    },
    Task {
        name: "conformance-soak",
        about: "run the conformance scenario `sse-retry` 50 times in a row (a race once failed it 1 run in 5)",
        run: conformance::soak,
    },
    Task {
        name: "bench",
        about: "side-by-side benchmarks against raw rmcp, the floor and the Python SDK, on our fixture and on stock SDK servers (target/bench/)",
        run: bench::run,
    },
    Task {
        name: "bench-smoke",
        about: "every benchmark subject and workload once at tiny sizes (part of ci)",
        run: bench::smoke,
    },
    Task {
        name: "fmt",
        about: "format the whole workspace in place (cargo fmt --all)",
        run: fmt,
    },
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("help" | "--help" | "-h") => {
            print_help();
            ExitCode::SUCCESS
        }
        Some(name) => match TASKS.iter().find(|task| task.name == name) {
            Some(task)
                if args[1..]
                    .iter()
                    .all(|arg| FLAGS.contains(&(task.name, arg.as_str()))) =>
            {
                match (task.run)() {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(error) => {
                        eprintln!("xtask {name}: {error}");
                        ExitCode::FAILURE
                    }
                }
            }
            Some(_) => {
                eprintln!("xtask {name}: unexpected arguments {:?}", &args[1..]);
                ExitCode::from(2)
            }
            None => {
                eprintln!("xtask: unknown task `{name}`\n");
                print_help();
                ExitCode::from(2)
            }
        },
    }
}

fn print_help() {
    let width = TASKS.iter().map(|task| task.name.len()).max().unwrap_or(0);
    println!("Usage: cargo xtask <TASK>\n\nTasks:");
    for task in TASKS {
        println!("  {:<width$} {}", task.name, task.about);
    }
    println!("  {:<width$} print this list", "help");
}

fn fmt() -> Result<(), TaskError> {
    command::cargo(&["fmt", "--all"]).run()
}
