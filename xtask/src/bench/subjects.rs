//! Who takes part in a case: the clients under test ([`Subject`]), the transport, and the server
//! they talk to (our fixture, a stock SDK server in one mode, or the TypeScript SDK's legacy SSE
//! server), with the words the table's rows and the log file names use for each.

/// A client under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Subject {
    /// The `Manager` API directly (`bench-ours`).
    Ours,
    /// The `mcpcord bench` command.
    Mcpcord,
    /// rmcp 3.11 on its own transports (`bench-rmcp-raw`).
    Rmcp,
    /// The synchronous hand-written client (`bench-floor`), stdio only.
    Floor,
    /// The official Python SDK.
    Python,
    /// The official TypeScript SDK's client (`bench/node/bench_client.cjs`), legacy SSE only.
    Typescript,
}

/// The table's column order.
pub(super) const SUBJECTS: [Subject; 6] = [
    Subject::Ours,
    Subject::Mcpcord,
    Subject::Rmcp,
    Subject::Floor,
    Subject::Python,
    Subject::Typescript,
];

impl Subject {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::Mcpcord => "mcpcord",
            Self::Rmcp => "rmcp",
            Self::Floor => "floor",
            Self::Python => "python",
            Self::Typescript => "typescript",
        }
    }

    /// Whether it runs on Node with the TypeScript SDK (which the bench then installs).
    pub(super) fn needs_node(self) -> bool {
        self == Self::Typescript
    }

    pub(super) fn color(self) -> &'static str {
        match self {
            Self::Ours => "#1f77b4",
            Self::Mcpcord => "#17becf",
            Self::Rmcp => "#ff7f0e",
            Self::Floor => "#7f7f7f",
            Self::Python => "#2ca02c",
            Self::Typescript => "#9467bd",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transport {
    Stdio,
    /// Streamable HTTP.
    Http,
    /// The legacy HTTP+SSE transport of protocol 2024-11-05: a GET stream for the answers, a POST
    /// per message.
    Sse,
}

impl Transport {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Stdio => "stdio",
            Self::Http => "http",
            Self::Sse => "sse",
        }
    }

    /// Whether each run gets a server of its own on a loopback URL (else the subject spawns it).
    pub(super) fn over_http(self) -> bool {
        matches!(self, Self::Http | Self::Sse)
    }
}

/// The server a case's subjects talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Server {
    /// Our fixture (`mcp-fixture-server`), over stdio or HTTP; over HTTP it sets `TCP_NODELAY`.
    Fixture,
    /// An SDK's own streamable HTTP server, untuned.
    Stock(StockServer),
    /// The TypeScript SDK's legacy HTTP+SSE server (`SSEServerTransport`), stock: the interop
    /// tests' `tests/node/legacy_sse_server.cjs`, untouched. Over [`Transport::Sse`] only.
    TypescriptSse,
}

impl Server {
    /// What the rows say about the server, after the transport.
    pub(super) fn label(self) -> String {
        match self {
            Self::Fixture => "fixture (tuned: NODELAY)".to_owned(),
            Self::Stock(stock) => stock.label(),
            Self::TypescriptSse => format!("{} stock", Stock::Typescript.name()),
        }
    }

    /// What the run's log file names say about the server.
    pub(super) fn log_suffix(self) -> String {
        match self {
            Self::Fixture => String::new(),
            Self::Stock(stock) => format!("-{}-{}", stock.sdk.name(), stock.mode.name()),
            Self::TypescriptSse => format!("-{}", Stock::Typescript.name()),
        }
    }

    /// Whether it speaks protocol 2026-07-28 only: clients must be told to (raw rmcp's default
    /// `initialize` is refused), and a client of the older revisions only cannot take part.
    pub(super) fn modern_only(self) -> bool {
        matches!(self, Self::Stock(stock) if stock.mode == Mode::Modern)
    }

    /// Whether it runs on Node with the TypeScript SDK (which the bench then installs).
    pub(super) fn needs_node(self) -> bool {
        matches!(
            self,
            Self::TypescriptSse
                | Self::Stock(StockServer {
                    sdk: Stock::Typescript,
                    ..
                })
        )
    }
}

/// Where a row's subjects connected: `stdio` (always the fixture), or `http, ` or `sse, ` and the
/// server.
pub(super) fn place(transport: Transport, server: Server) -> String {
    match transport {
        Transport::Stdio => "stdio".to_owned(),
        Transport::Http | Transport::Sse => format!("{}, {}", transport.name(), server.label()),
    }
}

/// A stock server: one SDK's, in one mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct StockServer {
    pub(super) sdk: Stock,
    pub(super) mode: Mode,
}

impl StockServer {
    pub(super) const fn new(sdk: Stock, mode: Mode) -> Self {
        Self { sdk, mode }
    }

    /// `rmcp stock stateful`, ...
    pub(super) fn label(self) -> String {
        format!("{} stock {}", self.sdk.name(), self.mode.label())
    }
}

/// The stock server of protocol 2026-07-28 (issue 19): rmcp's, stateless, that revision only.
pub(super) const MODERN_STOCK: StockServer = StockServer::new(Stock::Rmcp, Mode::Modern);

/// Every stock server: each SDK's in both modes, and rmcp's modern-only one.
pub(super) const ALL_STOCK: &[StockServer] = &[
    StockServer::new(Stock::Rmcp, Mode::Stateful),
    StockServer::new(Stock::Rmcp, Mode::Stateless),
    MODERN_STOCK,
    StockServer::new(Stock::Python, Mode::Stateful),
    StockServer::new(Stock::Python, Mode::Stateless),
    StockServer::new(Stock::Typescript, Mode::Stateful),
    StockServer::new(Stock::Typescript, Mode::Stateless),
];

/// The SDKs whose streamable HTTP servers are measured against, each run as it ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stock {
    /// rmcp 3.11's `StreamableHttpService` under `axum::serve` (`bench-rmcp-stock-server`).
    Rmcp,
    /// The Python SDK's `MCPServer` under uvicorn (`bench/python/stock_server.py`).
    Python,
    /// The TypeScript SDK's `McpServer` on its express app (`bench/node/stock_server.cjs`).
    Typescript,
}

impl Stock {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Rmcp => "rmcp",
            Self::Python => "python",
            Self::Typescript => "typescript",
        }
    }
}

/// Whether a stock server keeps sessions (`Mcp-Session-Id`) or serves every request afresh; both
/// speak every revision their SDK knows. `Modern` is stateless and protocol 2026-07-28 only
/// (`bench-rmcp-stock-server --modern`), rmcp's alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Stateful,
    Stateless,
    Modern,
}

impl Mode {
    /// The word in log file names (and the stock server's command-line flag).
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Stateful => "stateful",
            Self::Stateless => "stateless",
            Self::Modern => "modern",
        }
    }

    /// What a row's label says.
    pub(super) fn label(self) -> &'static str {
        match self {
            Self::Modern => "stateless 2026-07-28",
            other => other.name(),
        }
    }
}
