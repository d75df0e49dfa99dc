//! What a configuration may say: the keys of a server, their types and their rules.
//!
//! Walks a [`Node`] tree (from either format), builds the servers, and collects every problem on
//! the way rather than stopping at the first, so one run shows the user everything to fix.
//!
//! Every rule is a method of one [`Schema`] walk, which holds the problems found so far; the rules
//! are grouped by subject:
//! - [`keys`]: which keys exist (a server's, by transport; the `oauth` and `retry` tables').
//! - [`report`]: how a problem is worded: expected and found, unknown keys with "did you mean",
//!   keys written twice.
//! - [`values`]: plain value types: tables, strings, lists, booleans, durations, URLs.
//! - [`server`]: the document's server list and each server entry: stdio or HTTP, and the
//!   [`ServerConfig`] built from it.
//! - [`env`]: environment variables: names that hold secrets, `${env:NAME}` expansion, and a stdio
//!   server's `env` and `cwd`.
//! - [`http`]: an HTTP server's URL, headers, auth mode, and the settings that contradict each
//!   other.
//! - [`oauth`]: the `oauth` table: client, grant, client authentication, and what each grant needs.
//! - [`retry`]: the `retry` table, checked here and built by `mcp_retry`.

use std::path::Path;

use super::document::{Format, Node};
use super::placeholder::EnvLookup;
use super::types::ServerConfig;

mod env;
mod http;
mod keys;
mod oauth;
mod report;
mod retry;
mod server;
mod values;

#[cfg(test)]
pub(super) use keys::RETRY_KEYS;

/// One problem, located by byte offset; the loader turns offsets into lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RawProblem {
    pub(super) offset: usize,
    pub(super) key: String,
    pub(super) message: String,
}

/// The servers a document describes, in file order, or every problem with it.
pub(super) fn read_servers(
    root: &Node,
    format: Format,
    base_dir: &Path,
    env: EnvLookup<'_>,
) -> Result<Vec<(String, ServerConfig)>, Vec<RawProblem>> {
    let mut schema = Schema {
        format,
        base_dir,
        env,
        problems: Vec::new(),
    };
    let servers = schema.document(root);
    if schema.problems.is_empty() {
        Ok(servers)
    } else {
        Err(schema.problems)
    }
}

/// One walk over a document: what it needs to read values, and the problems found so far.
struct Schema<'a> {
    format: Format,
    /// The config file's directory, against which a relative `cwd` is resolved.
    base_dir: &'a Path,
    env: EnvLookup<'a>,
    problems: Vec<RawProblem>,
}

/// A dotted key path, with segments that are not bare keys quoted: `servers."my server".url`.
pub(super) fn join(parent: &str, key: &str) -> String {
    let segment = if is_bare(key) {
        key.to_owned()
    } else {
        format!("{key:?}")
    };
    if parent.is_empty() {
        segment
    } else {
        format!("{parent}.{segment}")
    }
}

/// Letters, digits, `_` and `-`: a bare key in TOML, and the rule for server names, which become
/// tool-name prefixes.
fn is_bare(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
