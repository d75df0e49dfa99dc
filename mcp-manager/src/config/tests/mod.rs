//! The loader's behaviour, end to end: text in, `Config` or located problems out.
//!
//! This file holds the helpers every subject uses; the tests are grouped by subject:
//! [`formats`] (each format's happy path and the defaults), [`secrets`] (placeholders and what is
//! never quoted), [`foreign`] (other clients' keys, warnings and skipped servers in JSON files), [`structure`] (located problems: keys, server entries, syntax), [`values`]
//! (each value's rules: URLs, durations, retry, auth, headers, OAuth) and [`files`] (finding and
//! reading files, and paths relative to them).

use std::collections::BTreeMap;
use std::env::VarError;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcp_retry::RetryPolicy;
use mcp_transport::EnvPolicy;

use super::document::Format;
use super::load::{find_in, parse};
use super::*;

mod files;
mod foreign;
mod formats;
mod secrets;
mod structure;
mod values;

const ORIGIN: &str = "/srv/project/mcpcord.toml";
const SECRET: &str = "tok-9f8e7d6c5b4a";

fn env(name: &str) -> Result<String, VarError> {
    match name {
        "REMOTE_TOKEN" => Ok(SECRET.to_owned()),
        "TENANT" => Ok("acme".to_owned()),
        "BROKEN" => Ok(format!("{SECRET}\r\nX-Injected: 1")),
        _ => Err(VarError::NotPresent),
    }
}

fn toml(text: &str) -> Result<Config, ConfigError> {
    parse(text, Path::new(ORIGIN), Format::Toml, &env)
}

fn json(text: &str) -> Result<Config, ConfigError> {
    parse(
        text,
        Path::new("/srv/project/.mcp.json"),
        Format::Json,
        &env,
    )
}

/// Each warning as `LINE:COLUMN: KEY: MESSAGE`.
fn warnings(config: &Config) -> Vec<String> {
    config.warnings.iter().map(ToString::to_string).collect()
}

/// Each problem as `LINE:COLUMN: KEY: MESSAGE`: those that failed the file or, in a JSON file
/// whose only problems are in server entries, those of the servers skipped for them.
fn problems(result: Result<Config, ConfigError>) -> Vec<String> {
    match result {
        Ok(config) => {
            let skipped: Vec<String> = config
                .invalid
                .iter()
                .flat_map(|(_, problems)| problems)
                .map(ToString::to_string)
                .collect();
            assert!(!skipped.is_empty(), "expected problems, got {config:#?}");
            skipped
        }
        Err(error) => {
            assert!(!error.problems().is_empty(), "{error}");
            error.problems().iter().map(ToString::to_string).collect()
        }
    }
}

fn only_problem(result: Result<Config, ConfigError>) -> String {
    let problems = problems(result);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    problems.into_iter().next().unwrap()
}

fn stdio(config: &ServerConfig) -> &StdioConfig {
    match &config.transport {
        TransportConfig::Stdio(stdio) => stdio,
        other => panic!("not stdio: {other:?}"),
    }
}

fn http(config: &ServerConfig) -> &HttpConfig {
    match &config.transport {
        TransportConfig::Http(http) => http,
        other => panic!("not http: {other:?}"),
    }
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}
