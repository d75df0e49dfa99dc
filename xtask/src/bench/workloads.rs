//! What the bench measures: the workloads at their two sizes ([`FULL`], [`SMOKE`]), the cases
//! they make, and the rows of the table.
//!
//! Each row has a typed identity, [`RowId`]; its label and its metric are made from it, and the
//! targets find their rows by it. The label is for people (and for the `MCP_BENCH_ONLY` filter,
//! which matches label text on purpose); rewording one cannot detach a target from its row.

use super::subjects::{
    ALL_STOCK, MODERN_STOCK, Mode, Server, Stock, StockServer, Subject, Transport, place,
};

/// How many times each case runs, and how big it is.
pub(super) struct Sizes {
    pub(super) name: &'static str,
    /// Release builds (the real numbers); the smoke run uses the dev profile and the main target
    /// directory, so CI reuses what its test step already built instead of two release builds.
    pub(super) release: bool,
    pub(super) reps: usize,
    /// More repetitions for the sequential cases: one session's calls/s swings most from run to
    /// run on a shared machine, and those rows carry the ratio targets.
    pub(super) sequential_reps: usize,
    /// Fewer repetitions for the 1,000-session memory case, which is slow for the Python SDK.
    pub(super) memory_reps: usize,
    /// Connects per connect run (after one warm-up), whose median the run reports.
    pub(super) connect_repeat: usize,
    pub(super) sequential_calls: usize,
    /// Session counts for the scaling cases (each session makes `scaling_calls` calls).
    pub(super) scaling: &'static [usize],
    pub(super) scaling_calls: usize,
    pub(super) open_sessions: usize,
    pub(super) memory_sessions: usize,
    pub(super) drop_sessions: usize,
    pub(super) callback_repeat: usize,
    /// The stock servers the sequential workload runs against.
    pub(super) stock_sequential: &'static [StockServer],
    /// Calls in each stock sequential run (and the legacy SSE one).
    pub(super) stock_sequential_calls: usize,
    /// The stock servers the sessions workload runs against.
    pub(super) stock_sessions: &'static [StockServer],
    /// Sessions, and calls per session, in each stock sessions run (and the legacy SSE one).
    pub(super) stock_sessions_size: (usize, usize),
    /// Whether a sequential call of ours or mcpcord taking
    /// [`SLOW_CALL`](super::targets::SLOW_CALL) or more against a stock rmcp server in
    /// [`GUARDED`](super::targets::GUARDED) fails the run.
    pub(super) fail_on_slow_calls: bool,
}

/// The workloads at their sizes.
pub(super) const FULL: Sizes = Sizes {
    name: "full",
    release: true,
    reps: 5,
    sequential_reps: 9,
    memory_reps: 3,
    connect_repeat: 10,
    sequential_calls: 2_000,
    scaling: &[1, 5, 10, 20, 50],
    scaling_calls: 50,
    open_sessions: 200,
    memory_sessions: 1_000,
    drop_sessions: 100,
    callback_repeat: 1_000,
    stock_sequential: ALL_STOCK,
    stock_sequential_calls: 2_000,
    stock_sessions: ALL_STOCK,
    stock_sessions_size: (20, 50),
    fail_on_slow_calls: false,
};

/// Every subject on every workload once, small.
pub(super) const SMOKE: Sizes = Sizes {
    name: "smoke",
    release: false,
    reps: 1,
    sequential_reps: 1,
    memory_reps: 1,
    connect_repeat: 2,
    sequential_calls: 200,
    scaling: &[4],
    scaling_calls: 10,
    open_sessions: 10,
    memory_sessions: 20,
    drop_sessions: 10,
    callback_repeat: 50,
    // The stock rmcp server only: it starts in milliseconds, where the Python and TypeScript
    // servers take about half a second every run (on a 2-core machine) and the TypeScript one
    // needs Node and an npm install; those two run in the full bench. Sequential against the
    // stateful one and the 2026-07-28 one (both guarded against slow calls, one per era), sessions
    // against the stateless one.
    stock_sequential: &[StockServer::new(Stock::Rmcp, Mode::Stateful), MODERN_STOCK],
    stock_sequential_calls: 50,
    stock_sessions: &[StockServer::new(Stock::Rmcp, Mode::Stateless)],
    stock_sessions_size: (4, 10),
    fail_on_slow_calls: true,
};

/// A number a run reports, and which way is better.
#[derive(Debug, Clone, Copy)]
pub(super) struct Metric {
    pub(super) key: &'static str,
    pub(super) unit: &'static str,
    pub(super) higher_is_better: bool,
}

impl Metric {
    const fn higher_is_better(key: &'static str, unit: &'static str) -> Self {
        Self {
            key,
            unit,
            higher_is_better: true,
        }
    }

    const fn lower_is_better(key: &'static str, unit: &'static str) -> Self {
        Self {
            key,
            unit,
            higher_is_better: false,
        }
    }
}

pub(super) const CONNECT_MS: Metric = Metric::lower_is_better("connect_ms", "ms");
pub(super) const CALLS_PER_S: Metric = Metric::higher_is_better("calls_per_s", "calls/s");
const OPEN_MS: Metric = Metric::lower_is_better("open_ms", "ms");
const KIB_PER_SESSION: Metric = Metric::lower_is_better("kib_per_session", "KiB/session");
const CALLBACK_US: Metric = Metric::lower_is_better("callback_us", "µs");
const DROP_MS: Metric = Metric::lower_is_better("drop_ms", "ms");
const DROP_ON_CPU_MS: Metric = Metric::lower_is_better("drop_on_cpu_ms", "ms");
const DROP_WAITING_MS: Metric = Metric::lower_is_better("drop_waiting_ms", "ms");
const REAPED_MS: Metric = Metric::lower_is_better("reaped_ms", "ms");
/// The slowest single call of a sequential run (`mcpcord bench` reports it as `call_us.max`).
pub(super) const MAX_CALL_US: Metric = Metric::lower_is_better("max_call_us", "µs");

/// What the subjects do in a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Workload {
    Connect,
    Sequential,
    Sessions,
    Open,
    Memory,
    Callback,
    Drop,
}

impl Workload {
    /// The name on the subjects' command lines (and in the log file names).
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Sequential => "sequential",
            Self::Sessions => "sessions",
            Self::Open => "open",
            Self::Memory => "memory",
            Self::Callback => "callback",
            Self::Drop => "drop",
        }
    }
}

/// The ways the subjects run: every workload the default way, the sequential one also the three
/// other ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Variant {
    /// The async subjects on the multi-threaded runtime `#[tokio::main]` gives, calling from the
    /// future `block_on` runs.
    Default,
    /// The async subjects (ours, raw rmcp) on a one-thread tokio runtime: the caller, rmcp's loop
    /// and the reader share it, so no answer crosses to another thread.
    OneThread,
    /// The async subjects make their calls from a spawned task, as a server or a test harness
    /// would: an answer read on a worker wakes a task queued on that worker, not the thread in
    /// `block_on`.
    FromTask,
    /// Every subject, and the server it starts, pinned to one CPU: no call waits for another core
    /// to wake up, so the row compares what each client costs in CPU time.
    OneCpu,
}

impl Variant {
    pub(super) const ALL: [Self; 4] =
        [Self::Default, Self::OneThread, Self::FromTask, Self::OneCpu];

    /// What the row's label ends with.
    pub(super) fn label(self) -> &'static str {
        match self {
            Self::Default => "",
            Self::OneThread => ", 1 thread",
            Self::FromTask => ", from a task",
            Self::OneCpu => ", one CPU",
        }
    }

    /// What the run's log file names end with.
    pub(super) fn log_suffix(self) -> &'static str {
        match self {
            Self::Default => "",
            Self::OneThread => "-1-thread",
            Self::FromTask => "-from-task",
            Self::OneCpu => "-one-cpu",
        }
    }

    /// The environment variable that tells a subject to run this way, and its value.
    pub(super) fn environment(self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::Default => None,
            Self::OneThread => Some(("MCP_BENCH_RUNTIME", "current_thread")),
            Self::FromTask => Some(("MCP_BENCH_CALLER", "task")),
            Self::OneCpu => Some(("MCP_BENCH_ONE_CPU", "1")),
        }
    }
}

/// Which row of the table a number is: what the targets look rows up by. The label and the
/// metric are functions of it, so a row cannot say one thing and be found as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RowId {
    /// Connect, initialize and the full discovery, against the fixture.
    Connect(Transport),
    /// One session's `calls` calls, one after another (over stdio always to the fixture, over SSE
    /// always to [`Server::TypescriptSse`]).
    Sequential {
        transport: Transport,
        server: Server,
        variant: Variant,
        calls: usize,
    },
    /// The slowest single call of the runs behind the stock server's (default) `Sequential` row.
    SlowestCall { stock: StockServer, calls: usize },
    /// `sessions` sessions at once, each making `calls` calls (the servers as for `Sequential`).
    Sessions {
        transport: Transport,
        server: Server,
        sessions: usize,
        calls: usize,
    },
    /// Opening `sessions` sessions in parallel, against the fixture.
    Open {
        transport: Transport,
        sessions: usize,
    },
    /// Memory per session with `sessions` idle HTTP sessions open to the fixture.
    IdleSessions { sessions: usize },
    /// Starting and stopping the OAuth callback server.
    Callback,
    /// Dropping a `Manager` with `sessions` live stdio connections (the floor: SIGKILL each).
    ManagerDrop { sessions: usize },
    /// Of that drop, the time the dropping thread spent running.
    DropOnCpu,
    /// Of that drop, the time the dropping thread was runnable but waited for a CPU.
    DropWaiting,
    /// From the drop until every one of the `sessions` children was reaped.
    Reaped { sessions: usize },
}

impl RowId {
    /// The row's label in the table (also what `MCP_BENCH_ONLY` matches).
    pub(super) fn label(self) -> String {
        match self {
            Self::Connect(transport) => {
                format!(
                    "connect+init+discovery {}",
                    place(transport, Server::Fixture)
                )
            }
            Self::Sequential {
                transport,
                server,
                variant,
                calls,
            } => format!(
                "1 x {calls} sequential {}{}",
                place(transport, server),
                variant.label()
            ),
            Self::SlowestCall { stock, calls } => {
                let sequential = Self::Sequential {
                    transport: Transport::Http,
                    server: Server::Stock(stock),
                    variant: Variant::Default,
                    calls,
                };
                format!("slowest call, {}", sequential.label())
            }
            Self::Sessions {
                transport,
                server,
                sessions,
                calls,
            } => format!("{sessions} x {calls} sessions {}", place(transport, server)),
            Self::Open {
                transport,
                sessions,
            } => format!(
                "open {sessions} in parallel {}",
                place(transport, Server::Fixture)
            ),
            Self::IdleSessions { sessions } => format!(
                "{sessions} idle sessions {}",
                place(Transport::Http, Server::Fixture)
            ),
            Self::Callback => "OAuth callback start+stop".to_owned(),
            Self::ManagerDrop { sessions } => format!("Manager drop, {sessions} stdio"),
            Self::DropOnCpu => "drop: the dropping thread ran".to_owned(),
            Self::DropWaiting => "drop: it waited for a CPU".to_owned(),
            Self::Reaped { sessions } => format!("all {sessions} children reaped"),
        }
    }

    /// The number the row shows, as the subjects report it.
    pub(super) fn metric(self) -> Metric {
        match self {
            Self::Connect(_) => CONNECT_MS,
            Self::Sequential { .. } | Self::Sessions { .. } => CALLS_PER_S,
            Self::SlowestCall { .. } => MAX_CALL_US,
            Self::Open { .. } => OPEN_MS,
            Self::IdleSessions { .. } => KIB_PER_SESSION,
            Self::Callback => CALLBACK_US,
            Self::ManagerDrop { .. } => DROP_MS,
            Self::DropOnCpu => DROP_ON_CPU_MS,
            Self::DropWaiting => DROP_WAITING_MS,
            Self::Reaped { .. } => REAPED_MS,
        }
    }
}

/// One workload at one size over one transport, run by several subjects.
pub(super) struct Case {
    pub(super) workload: Workload,
    pub(super) transport: Transport,
    pub(super) sessions: usize,
    pub(super) calls: usize,
    pub(super) repeat: usize,
    pub(super) reps: usize,
    pub(super) subjects: Vec<Subject>,
    /// Each becomes one row of the table, in this order.
    pub(super) rows: Vec<RowId>,
    /// Part of the scaling chart.
    pub(super) scaling: bool,
    /// How the subjects run (the default, or one of the sequential rows' variations).
    pub(super) variant: Variant,
    /// The server (over stdio, always the fixture).
    pub(super) server: Server,
}

pub(super) fn cases(sizes: &Sizes) -> Vec<Case> {
    use Subject::{Floor, Mcpcord, Ours, Python, Rmcp, Typescript};
    let mut cases = Vec::new();
    let with_floor = |transport, subjects: &[Subject]| -> Vec<Subject> {
        subjects
            .iter()
            .copied()
            .filter(|subject| *subject != Floor || transport == Transport::Stdio)
            .collect()
    };
    let case = |workload, transport: Transport, sessions, calls, subjects, rows| Case {
        workload,
        transport,
        sessions,
        calls,
        repeat: sizes.connect_repeat,
        reps: sizes.reps,
        subjects,
        rows,
        scaling: false,
        variant: Variant::Default,
        server: Server::Fixture,
    };
    for transport in [Transport::Stdio, Transport::Http] {
        cases.push(case(
            Workload::Connect,
            transport,
            1,
            1,
            with_floor(transport, &[Ours, Rmcp, Floor, Python]),
            vec![RowId::Connect(transport)],
        ));
        for (variant, subjects) in [
            (Variant::Default, &[Ours, Mcpcord, Rmcp, Floor, Python][..]),
            // The floor and the Python SDK are single-threaded anyway; they run again so that the
            // row's ratios come from the same run.
            (Variant::OneThread, &[Ours, Rmcp, Floor, Python][..]),
            (Variant::FromTask, &[Ours, Rmcp, Floor][..]),
            // Stdio only: over HTTP the server is not the subject's child, so it would not share
            // the subject's CPU.
            (Variant::OneCpu, &[Ours, Rmcp, Floor, Python][..]),
        ] {
            if variant == Variant::OneCpu && transport != Transport::Stdio {
                continue;
            }
            let mut sequential = case(
                Workload::Sequential,
                transport,
                1,
                sizes.sequential_calls,
                with_floor(transport, subjects),
                vec![RowId::Sequential {
                    transport,
                    server: Server::Fixture,
                    variant,
                    calls: sizes.sequential_calls,
                }],
            );
            sequential.variant = variant;
            sequential.reps = sizes.sequential_reps;
            cases.push(sequential);
        }
        for &sessions in sizes.scaling {
            let mut scaling = case(
                Workload::Sessions,
                transport,
                sessions,
                sizes.scaling_calls,
                with_floor(transport, &[Ours, Mcpcord, Rmcp, Floor, Python]),
                vec![RowId::Sessions {
                    transport,
                    server: Server::Fixture,
                    sessions,
                    calls: sizes.scaling_calls,
                }],
            );
            scaling.scaling = true;
            cases.push(scaling);
        }
        cases.push(case(
            Workload::Open,
            transport,
            sizes.open_sessions,
            1,
            with_floor(transport, &[Ours, Rmcp, Floor, Python]),
            vec![RowId::Open {
                transport,
                sessions: sizes.open_sessions,
            }],
        ));
    }
    // The pinned Python SDK's bench client opens its session with `initialize`, which a
    // 2026-07-28-only server refuses.
    let stock_subjects = |stock: StockServer| {
        if Server::Stock(stock).modern_only() {
            vec![Ours, Mcpcord, Rmcp]
        } else {
            vec![Ours, Mcpcord, Rmcp, Python]
        }
    };
    for &stock in sizes.stock_sequential {
        let calls = sizes.stock_sequential_calls;
        let mut sequential = case(
            Workload::Sequential,
            Transport::Http,
            1,
            calls,
            stock_subjects(stock),
            vec![
                RowId::Sequential {
                    transport: Transport::Http,
                    server: Server::Stock(stock),
                    variant: Variant::Default,
                    calls,
                },
                RowId::SlowestCall { stock, calls },
            ],
        );
        sequential.server = Server::Stock(stock);
        // The Python and TypeScript servers cap every client at a few hundred calls a second, so
        // nine runs of 2,000 calls would take most of the bench's time; the usual five do.
        cases.push(sequential);
    }
    for &stock in sizes.stock_sessions {
        let (sessions, calls) = sizes.stock_sessions_size;
        let mut many = case(
            Workload::Sessions,
            Transport::Http,
            sessions,
            calls,
            stock_subjects(stock),
            vec![RowId::Sessions {
                transport: Transport::Http,
                server: Server::Stock(stock),
                sessions,
                calls,
            }],
        );
        many.server = Server::Stock(stock);
        cases.push(many);
    }
    // Legacy SSE against the TypeScript SDK's SSE server, at the stock sizes. Raw rmcp has no SSE
    // client; the TypeScript SDK's runs here only. The smoke run keeps these rows too, so that
    // every subject runs once (Node starts in a fraction of a second).
    let sse = |workload, sessions, calls, row| {
        let mut sse = case(
            workload,
            Transport::Sse,
            sessions,
            calls,
            vec![Ours, Mcpcord, Python, Typescript],
            vec![row],
        );
        sse.server = Server::TypescriptSse;
        sse
    };
    let calls = sizes.stock_sequential_calls;
    cases.push(sse(
        Workload::Sequential,
        1,
        calls,
        RowId::Sequential {
            transport: Transport::Sse,
            server: Server::TypescriptSse,
            variant: Variant::Default,
            calls,
        },
    ));
    let (sessions, calls) = sizes.stock_sessions_size;
    cases.push(sse(
        Workload::Sessions,
        sessions,
        calls,
        RowId::Sessions {
            transport: Transport::Sse,
            server: Server::TypescriptSse,
            sessions,
            calls,
        },
    ));
    let mut memory = case(
        Workload::Memory,
        Transport::Http,
        sizes.memory_sessions,
        1,
        vec![Ours, Rmcp, Python],
        vec![RowId::IdleSessions {
            sessions: sizes.memory_sessions,
        }],
    );
    memory.reps = sizes.memory_reps;
    cases.push(memory);
    let mut callback = case(
        Workload::Callback,
        Transport::Stdio,
        1,
        1,
        vec![Ours],
        vec![RowId::Callback],
    );
    callback.repeat = sizes.callback_repeat;
    cases.push(callback);
    cases.push(case(
        Workload::Drop,
        Transport::Stdio,
        sizes.drop_sessions,
        1,
        vec![Ours, Floor],
        vec![
            RowId::ManagerDrop {
                sessions: sizes.drop_sessions,
            },
            // Where the drop's wall time goes: the dropping thread's own work, and the time it was
            // runnable but the CPU was busy (on two cores, mostly the dying servers' exit work).
            RowId::DropOnCpu,
            RowId::DropWaiting,
            RowId::Reaped {
                sessions: sizes.drop_sessions,
            },
        ],
    ));
    if let Some(only) = only() {
        cases.retain(|case| case.rows.iter().any(|row| row.label().contains(&only)));
    }
    cases
}

/// The `MCP_BENCH_ONLY` filter's text, if it is set.
pub(super) fn only() -> Option<String> {
    std::env::var_os(ONLY_VARIABLE).map(|only| only.to_string_lossy().into_owned())
}

/// When set, only the cases with a row whose label contains its value run (e.g.
/// `MCP_BENCH_ONLY="rmcp stock"`): for measuring one thing without the whole bench.
const ONLY_VARIABLE: &str = "MCP_BENCH_ONLY";
