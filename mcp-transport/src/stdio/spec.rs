//! What to start and how: the configuration of a stdio server.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The inherited variables a child gets under [`EnvPolicy::Safe`]; `LC_*` are passed too.
pub const SAFE_INHERITED_VARS: &[&str] = &[
    "HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "LANG", "TMPDIR",
];

/// Which of our own environment variables the server inherits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EnvPolicy {
    /// Only [`SAFE_INHERITED_VARS`] and `LC_*`, plus the configured variables: secrets in our
    /// environment (tokens, cloud credentials) do not leak into third-party servers.
    #[default]
    Safe,
    /// Everything we have, plus the configured variables.
    InheritAll,
}

/// How long each step of a graceful close may take before the next, harsher one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownTimings {
    /// After closing stdin, how long to wait for the server to exit by itself.
    pub after_stdin_close: Duration,
    /// After SIGTERM to the process group, how long to wait before SIGKILL.
    pub after_sigterm: Duration,
}

impl Default for ShutdownTimings {
    fn default() -> Self {
        Self {
            after_stdin_close: Duration::from_secs(2),
            after_sigterm: Duration::from_secs(2),
        }
    }
}

/// Bounds on what a server may send us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StdioLimits {
    /// The longest line accepted on stdout, in bytes (one JSON-RPC message per line).
    pub max_line_bytes: usize,
}

impl Default for StdioLimits {
    fn default() -> Self {
        Self {
            max_line_bytes: 16 * 1024 * 1024,
        }
    }
}

/// What becomes of the server's stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StderrHandling {
    /// Read to its end: each line logged under the server's name, the last lines kept for error
    /// messages ([`StdioProcess::stderr_tail`](crate::StdioProcess::stderr_tail)).
    #[default]
    Capture,
    /// Sent to the null device, as a client that ignores it would (the specification lets a
    /// client ignore stderr, so a server must work without anyone reading it). The stderr tail
    /// stays empty.
    Discard,
}

/// A stdio MCP server: the program, its arguments and environment, and how to stop it.
///
/// ```
/// # use mcp_transport::StdioSpec;
/// let spec = StdioSpec::new("npx")
///     .args(["-y", "@modelcontextprotocol/server-everything"])
///     .env("DEBUG", "1");
/// assert_eq!(spec.command, "npx");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct StdioSpec {
    /// The program: a name looked up on `PATH` (the child's, if configured), or a path.
    pub command: String,
    /// Its arguments, passed as they are (no shell).
    pub args: Vec<String>,
    /// Variables set for the child on top of the inherited ones.
    pub env: BTreeMap<String, String>,
    /// Which of our variables the child inherits.
    pub env_policy: EnvPolicy,
    /// The working directory; ours if `None`.
    pub cwd: Option<PathBuf>,
    /// The graceful-close timings.
    pub shutdown: ShutdownTimings,
    /// Bounds on the server's output.
    pub limits: StdioLimits,
    /// Whether the server's stderr is captured or discarded.
    pub stderr: StderrHandling,
}

impl StdioSpec {
    /// A spec for `command` with no arguments and the defaults.
    pub fn new(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
            ..Self::default()
        }
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets one environment variable for the child.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Chooses which of our variables the child inherits.
    pub fn env_policy(mut self, policy: EnvPolicy) -> Self {
        self.env_policy = policy;
        self
    }

    /// Sets the working directory.
    pub fn cwd(mut self, cwd: impl Into<PathBuf>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }

    /// Sets the graceful-close timings.
    pub fn shutdown(mut self, timings: ShutdownTimings) -> Self {
        self.shutdown = timings;
        self
    }

    /// Sets the bounds on the server's output.
    pub fn limits(mut self, limits: StdioLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Chooses what becomes of the server's stderr.
    pub fn stderr(mut self, handling: StderrHandling) -> Self {
        self.stderr = handling;
        self
    }

    /// The environment the child will get under this spec, given ours.
    pub fn child_env<I>(&self, ours: I) -> BTreeMap<String, String>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let mut env: BTreeMap<String, String> = ours
            .into_iter()
            .filter(|(key, _)| match self.env_policy {
                EnvPolicy::InheritAll => true,
                EnvPolicy::Safe => {
                    SAFE_INHERITED_VARS.contains(&key.as_str()) || key.starts_with("LC_")
                }
            })
            .collect();
        env.extend(self.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        env
    }
}
