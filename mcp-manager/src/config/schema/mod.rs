//! What a configuration may say: the keys of a server, their types and their rules.
//!
//! Walks a [`Node`] tree (from either format), builds the servers, and collects every problem on
//! the way rather than stopping at the first, so one run shows the user everything to fix.
//!
//! TOML, our own format, is strict: any problem fails the file. The JSON forms are other clients'
//! files, so a key we do not use there is a warning, and a problem inside one server entry skips
//! that server (it is listed with its problems) while the others load; only a problem outside
//! every server entry fails the file.
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
use super::placeholder::{EnvLookup, Placeholders, workspace_folder};
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

/// What a document describes, when nothing outside its server entries is wrong.
#[derive(Debug, Default)]
pub(super) struct Servers {
    /// The servers to run, in file order.
    pub(super) servers: Vec<(String, ServerConfig)>,
    /// Servers marked `"disabled": true` (JSON forms).
    pub(super) disabled: Vec<String>,
    /// Servers skipped for problems in their entries, each with its problems (JSON forms).
    pub(super) invalid: Vec<(String, Vec<RawProblem>)>,
    /// What was read but not used (JSON forms).
    pub(super) warnings: Vec<RawProblem>,
}

/// The servers a document describes, in file order, or every problem with it.
pub(super) fn read_servers(
    root: &Node,
    format: Format,
    base_dir: &Path,
    env: EnvLookup<'_>,
) -> Result<Servers, Vec<RawProblem>> {
    let mut schema = Schema {
        format,
        base_dir,
        placeholders: Placeholders {
            env,
            workspace_folder: workspace_folder(base_dir),
        },
        problems: Vec::new(),
        found: Servers::default(),
    };
    schema.found.servers = schema.document(root);
    if schema.problems.is_empty() {
        Ok(schema.found)
    } else {
        // The file fails as a whole: its server entries' problems are listed with the rest.
        let mut problems = schema.problems;
        for (_, server_problems) in schema.found.invalid {
            problems.extend(server_problems);
        }
        Err(problems)
    }
}

/// One walk over a document: what it needs to read values, and the problems found so far.
struct Schema<'a> {
    format: Format,
    /// The config file's directory, against which a relative `cwd` or `envFile` is resolved.
    base_dir: &'a Path,
    placeholders: Placeholders<'a>,
    /// Problems that fail the file (in a JSON form, those not yet moved to `found.invalid`).
    problems: Vec<RawProblem>,
    found: Servers,
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
