//! What a run leaves behind: the Markdown table (stdout and `report.md`, which reads well as plain
//! text too), the report around it, and `scaling.svg`, sessions against calls/s.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::command::TaskError;
use crate::npm::TYPESCRIPT_SDK;
use crate::python::MCP_VERSION as PYTHON_MCP_VERSION;

use super::measure::CaseResults;
use super::stats::{Row, median};
use super::subjects::{SUBJECTS, Subject, Transport};
use super::workloads::{Case, Sizes};

/// A number as every cell and target shows it: no decimals from 100 up, one from 10, else two.
pub(super) fn number(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// The subjects whose ratio ours / subject has a column (mcpcord is ours too).
const RATIOS: [Subject; 4] = [
    Subject::Rmcp,
    Subject::Floor,
    Subject::Python,
    Subject::Typescript,
];

/// The table in Markdown, which also reads well as plain text.
pub(super) fn table(rows: &[Row]) -> String {
    let mut header = vec!["workload".to_owned(), "unit".to_owned()];
    header.extend(SUBJECTS.iter().map(|subject| subject.name().to_owned()));
    header.extend(RATIOS.iter().map(|other| format!("ours/{}", other.name())));
    let mut lines = vec![header];
    for row in rows {
        let arrow = if row.metric().higher_is_better {
            "↑"
        } else {
            "↓"
        };
        let mut cells = vec![row.label(), format!("{} {arrow}", row.metric().unit)];
        cells.extend(SUBJECTS.iter().map(|subject| {
            row.medians
                .get(subject)
                .map_or_else(|| "-".to_owned(), |value| number(*value))
        }));
        cells.extend(RATIOS.iter().map(|&other| {
            row.ratio(other)
                .map_or_else(|| "-".to_owned(), |ratio| format!("{ratio:.2}"))
        }));
        lines.push(cells);
    }
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|column| {
            lines
                .iter()
                .map(|line| line[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let render = |line: &[String]| {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(column, (cell, width))| {
                let pad = width - cell.chars().count();
                if column < 2 {
                    format!("{cell}{}", " ".repeat(pad))
                } else {
                    format!("{}{cell}", " ".repeat(pad))
                }
            })
            .collect();
        format!("| {} |", cells.join(" | "))
    };
    let mut text = render(&lines[0]);
    text.push('\n');
    // Markdown's alignment row: left for the labels, right for the numbers.
    let rule: Vec<String> = widths
        .iter()
        .enumerate()
        .map(|(column, width)| {
            if column < 2 {
                "-".repeat(width + 2)
            } else {
                format!("{}:", "-".repeat(width + 1))
            }
        })
        .collect();
    text.push_str(&format!("|{}|\n", rule.join("|")));
    for line in &lines[1..] {
        text.push_str(&render(line));
        text.push('\n');
    }
    text
}

/// Cores, CPU model and kernel: what the numbers were measured on.
pub(super) fn machine_line() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|release| release.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned());
    format!("machine: {cores} cores, {cpu}, Linux {kernel}")
}

/// `report.md`: what was run and how, the table, the targets, and the chart.
pub(super) fn report(
    sizes: &Sizes,
    machine: &str,
    table: &str,
    targets: &str,
    took: Duration,
) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "# `cargo xtask bench` ({})\n", sizes.name);
    let _ = writeln!(text, "{machine}; took {:.0}s.\n", took.as_secs_f64());
    let _ = writeln!(
        text,
        "Medians of {} runs per subject ({} for the sequential rows, {} for memory), subjects interleaved run by run, each run a \
         fresh process and over HTTP a fresh fixture server. Ratios are ours / other of the medians \
         (↑: higher is better, ↓: lower is better). Subjects: ours = the `Manager` API, mcpcord = \
         `mcpcord bench`, rmcp = rmcp 3.11 on its own transports (reqwest for HTTP), floor = a \
         synchronous hand-written JSON-RPC client over the pipes (stdio only), python = the official \
         SDK `mcp=={PYTHON_MCP_VERSION}`, typescript = the official SDK `{}` (legacy SSE only). \
         Every connect includes initialize and the full discovery \
         (tools, resources, templates, prompts, every page).\n",
        sizes.reps,
        sizes.sequential_reps,
        sizes.memory_reps,
        TYPESCRIPT_SDK.spec()
    );
    let _ = writeln!(
        text,
        "Servers: \"fixture (tuned: NODELAY)\" is our test fixture, which sets TCP_NODELAY on \
         every connection; the stock servers are the SDKs' own streamable HTTP servers as they \
         ship, nothing tuned, each stateful (sessions) and stateless: rmcp 3.11's \
         `StreamableHttpService` under `axum::serve`, the Python SDK's `MCPServer` \
         (`mcp=={PYTHON_MCP_VERSION}`) under uvicorn, and the TypeScript SDK's `McpServer` \
         (`{}`) on its express app; \"rmcp stock stateless 2026-07-28\" is rmcp's server \
         serving protocol 2026-07-28 only, statelessly, against which raw rmcp opens its session \
         in its discover mode (`ClientLifecycleMode::Discover`) and ours finds the era out by \
         itself. The \"sse\" rows are the legacy HTTP+SSE transport against the \
         TypeScript SDK's `SSEServerTransport` on its express app, as the interop tests run it. \
         \"slowest call\" rows are the median over runs of each run's slowest sequential call.\n",
        TYPESCRIPT_SDK.spec()
    );
    text.push_str(table);
    text.push('\n');
    text.push_str(targets);
    text.push_str("\n![sessions against calls/s](scaling.svg)\n");
    text
}

/// Sessions against calls/s for the scaling cases, one panel per transport, one line per subject.
pub(super) fn scaling_svg(cases: &[Case], results: &[CaseResults]) -> String {
    const PANEL_W: f64 = 420.0;
    const PANEL_H: f64 = 280.0;
    const LEFT: f64 = 60.0;
    const TOP: f64 = 50.0;
    let mut svg = String::new();
    let width = 2.0 * (PANEL_W + LEFT) + 20.0;
    let height = PANEL_H + TOP + 60.0;
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect width="100%" height="100%" fill="white"/><text x="10" y="20" font-size="14">Echo calls/s against concurrent sessions (median; `cargo xtask bench`)</text>"#
    );
    // The subjects with a line in the chart (the TypeScript SDK's client runs no scaling case).
    let charted: Vec<Subject> = SUBJECTS
        .into_iter()
        .filter(|subject| {
            cases
                .iter()
                .any(|case| case.scaling && case.subjects.contains(subject))
        })
        .collect();
    for (legend, subject) in charted.iter().enumerate() {
        let x = 10.0 + legend as f64 * 90.0;
        let _ = writeln!(
            svg,
            r#"<rect x="{x}" y="30" width="12" height="4" fill="{}"/><text x="{}" y="36">{}</text>"#,
            subject.color(),
            x + 16.0,
            subject.name()
        );
    }
    for (panel, transport) in [Transport::Stdio, Transport::Http].into_iter().enumerate() {
        let x0 = LEFT + panel as f64 * (PANEL_W + LEFT);
        let y0 = TOP + PANEL_H;
        // (sessions, subject, calls/s) for this transport.
        let points: Vec<(usize, Subject, f64)> = cases
            .iter()
            .zip(results)
            .filter(|(case, _)| case.scaling && case.transport == transport)
            .flat_map(|(case, results)| {
                results.first().into_iter().flat_map(move |samples| {
                    samples.iter().filter_map(move |(subject, samples)| {
                        Some((case.sessions, *subject, median(samples)?))
                    })
                })
            })
            .collect();
        let max_y = points.iter().map(|(_, _, y)| *y).fold(1.0, f64::max) * 1.1;
        let max_sessions = points.iter().map(|(s, _, _)| *s).max().unwrap_or(1).max(2) as f64;
        let x_of = |sessions: usize| x0 + (sessions as f64).ln() / max_sessions.ln() * PANEL_W;
        let y_of = |value: f64| y0 - value / max_y * PANEL_H;
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" font-weight="bold">{}</text><line x1="{x0}" y1="{y0}" x2="{}" y2="{y0}" stroke="black"/><line x1="{x0}" y1="{TOP}" x2="{x0}" y2="{y0}" stroke="black"/>"#,
            x0 + 4.0,
            TOP + 12.0,
            transport.name(),
            x0 + PANEL_W
        );
        for step in 0..=4 {
            let value = max_y * f64::from(step) / 4.0;
            let y = y_of(value);
            let _ = writeln!(
                svg,
                r##"<line x1="{x0}" y1="{y}" x2="{}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{}</text>"##,
                x0 + PANEL_W,
                x0 - 4.0,
                y + 4.0,
                number(value)
            );
        }
        let mut sessions: Vec<usize> = points.iter().map(|(s, _, _)| *s).collect();
        sessions.sort_unstable();
        sessions.dedup();
        for &count in &sessions {
            let _ = writeln!(
                svg,
                r#"<text x="{}" y="{}" text-anchor="middle">{count}</text>"#,
                x_of(count),
                y0 + 16.0
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">sessions (log scale)</text>"#,
            x0 + PANEL_W / 2.0,
            y0 + 34.0
        );
        for &subject in &charted {
            let line: Vec<(f64, f64)> = sessions
                .iter()
                .filter_map(|&count| {
                    points
                        .iter()
                        .find(|(s, who, _)| *s == count && *who == subject)
                        .map(|(_, _, value)| (x_of(count), y_of(*value)))
                })
                .collect();
            let coordinates: Vec<String> =
                line.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
            let _ = writeln!(
                svg,
                r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
                coordinates.join(" "),
                subject.color()
            );
            for (x, y) in line {
                let _ = writeln!(
                    svg,
                    r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{}"/>"#,
                    subject.color()
                );
            }
        }
    }
    svg.push_str("</svg>\n");
    svg
}

pub(super) fn write_file(path: &Path, contents: &str) -> Result<(), TaskError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|error| {
            TaskError::new(format!("cannot create {}: {error}", parent.display()))
        })?;
    }
    std::fs::write(path, contents)
        .map_err(|error| TaskError::new(format!("cannot write {}: {error}", path.display())))
}
