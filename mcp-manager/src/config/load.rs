//! Finding the configuration file and reading it: the lookup order, the format by extension, and
//! turning the problems' byte offsets into lines and columns.
//!
//! A file is read only up to [`MAX_CONFIG_BYTES`] (1 MiB), and the read itself is bounded, not
//! only the size checked first: `--config /dev/zero` or a named pipe reports no size.
//! `toml_syntax` or `json_syntax` then turns the text into one spanned tree (`document`), which
//! `schema` checks as a whole.

use std::env::VarError;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::document::{Format, LineIndex};
use super::error::{ConfigError, NamedBy, Problem};
use super::placeholder::EnvLookup;
use super::types::Config;
use super::{json_syntax, schema, toml_syntax};

/// The environment variable naming the configuration file when none is given explicitly.
pub const CONFIG_ENV_VAR: &str = "MCPCORD_CONFIG";

/// The files looked for in the current directory, in order, when no file is named.
pub const DEFAULT_CONFIG_FILES: [&str; 2] = ["mcpcord.toml", ".mcp.json"];

/// The most a configuration file may hold: 1 MiB, far more than any real one (a server takes a
/// few hundred bytes), and little enough to read whole.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Reads the file at `path`, refusing one larger than [`MAX_CONFIG_BYTES`].
///
/// Why the read itself is bounded and not only the size checked first: a path need not be a
/// regular file (`--config /dev/zero`, a named pipe, `<(...)`), and such a "file" reports no size,
/// or a wrong one, while it may never end. So at most one byte more than the limit is read.
fn read_bounded(path: &Path) -> Result<Vec<u8>, ConfigError> {
    use std::io::Read as _;

    let failed = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ConfigError::NotFound {
                path: path.to_owned(),
                named_by: NamedBy::Caller,
            }
        } else {
            ConfigError::Read {
                path: path.to_owned(),
                source,
            }
        }
    };
    let too_large = || ConfigError::TooLarge {
        path: path.to_owned(),
        limit: MAX_CONFIG_BYTES,
    };
    let file = std::fs::File::open(path).map_err(failed)?;
    let metadata = file.metadata().map_err(failed)?;
    if metadata.is_file() && metadata.len() > MAX_CONFIG_BYTES {
        return Err(too_large());
    }
    let expected = if metadata.is_file() {
        metadata.len()
    } else {
        0
    };
    let mut bytes = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(failed)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

impl Config {
    /// Reads the configuration file at `path`: TOML if its name ends in `.toml`, JSON (the
    /// Claude Desktop, Cursor or VS Code form) if it ends in `.json`.
    ///
    /// A relative `cwd` in the file is resolved against the file's directory, and `${env:NAME}`
    /// placeholders are expanded from the process environment. A JSON file is read leniently:
    /// see [`Config::disabled`], [`Config::invalid`] and [`Config::warnings`].
    ///
    /// # Errors
    /// [`ConfigError::NotFound`] or [`ConfigError::Read`] if the file cannot be read,
    /// [`ConfigError::TooLarge`] if it holds more than [`MAX_CONFIG_BYTES`],
    /// [`ConfigError::UnknownFormat`] for any other extension, and [`ConfigError::Invalid`] with
    /// every problem found if the file is not a valid configuration.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let bytes = read_bounded(path)?;
        let format = format_of(path).ok_or_else(|| ConfigError::UnknownFormat {
            path: path.to_owned(),
        })?;
        let text = String::from_utf8(bytes).map_err(|error| {
            let valid = error.utf8_error().valid_up_to();
            let prefix = std::str::from_utf8(&error.as_bytes()[..valid]).unwrap_or_default();
            let (line, column) = LineIndex::new(prefix).locate(valid);
            ConfigError::Invalid {
                path: path.to_owned(),
                problems: vec![Problem::new(
                    line,
                    column,
                    String::new(),
                    "the file is not UTF-8 text".to_owned(),
                )],
            }
        })?;
        parse(&text, path, format, &process_env)
    }

    /// Reads a configuration in mcpcord's TOML form. `origin` is where it came from: the path that
    /// messages name, and the directory a relative `cwd` is resolved against.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`], with every problem found.
    pub fn from_toml_str(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        parse(text, origin, Format::Toml, &process_env)
    }

    /// Reads a configuration in one of the JSON forms: `{"mcpServers": {...}}` (Claude Desktop,
    /// Cursor, Claude Code's `.mcp.json`) or `{"servers": {...}}` (VS Code, whose comments and
    /// trailing commas are accepted). `origin` is as for [`Config::from_toml_str`].
    ///
    /// Other clients' keys are taken, honoured or warned about ([`Config::warnings`]); a server
    /// whose entry has a problem is skipped and listed in [`Config::invalid`] while the others
    /// load; `"disabled": true` servers are listed in [`Config::disabled`].
    ///
    /// # Errors
    /// [`ConfigError::Invalid`], with every problem found, for a syntax error or a problem outside
    /// every server entry.
    pub fn from_json_str(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        parse(text, origin, Format::Json, &process_env)
    }

    /// Which configuration file to use: `explicit` if given, else the file named by
    /// `$MCPCORD_CONFIG` (if set and not empty), else `./mcpcord.toml`, else `./.mcp.json`; `None` if
    /// there is none of these.
    ///
    /// # Errors
    /// [`ConfigError::NotFound`] if `explicit` or `$MCPCORD_CONFIG` names a file that does not
    /// exist (a named file is never silently skipped); [`ConfigError::Read`] if its existence
    /// cannot be checked.
    pub fn find(explicit: Option<&Path>) -> Result<Option<PathBuf>, ConfigError> {
        find_in(explicit, std::env::var_os(CONFIG_ENV_VAR), Path::new(""))
    }
}

/// [`Config::find`] with the environment variable's value and the directory to look in given,
/// so tests need not change the process's environment or directory.
pub(super) fn find_in(
    explicit: Option<&Path>,
    from_env: Option<OsString>,
    dir: &Path,
) -> Result<Option<PathBuf>, ConfigError> {
    let named = explicit
        .map(|path| (path.to_owned(), NamedBy::Caller))
        .or_else(|| {
            from_env
                .filter(|value| !value.is_empty())
                .map(|value| (PathBuf::from(value), NamedBy::Environment))
        });
    if let Some((path, named_by)) = named {
        return match path.try_exists() {
            Ok(true) => Ok(Some(path)),
            Ok(false) => Err(ConfigError::NotFound { path, named_by }),
            Err(source) => Err(ConfigError::Read { path, source }),
        };
    }
    Ok(DEFAULT_CONFIG_FILES
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file()))
}

/// The format a file's extension names, ignoring case.
fn format_of(path: &Path) -> Option<Format> {
    let extension = path.extension()?.to_str()?;
    if extension.eq_ignore_ascii_case("toml") {
        Some(Format::Toml)
    } else if extension.eq_ignore_ascii_case("json") {
        Some(Format::Json)
    } else {
        None
    }
}

fn process_env(name: &str) -> Result<String, VarError> {
    std::env::var(name)
}

/// Parses and checks a whole document; every problem, located, or the configuration.
pub(super) fn parse(
    text: &str,
    origin: &Path,
    format: Format,
    env: EnvLookup<'_>,
) -> Result<Config, ConfigError> {
    // Editors on Windows may start a file with a byte-order mark; it is not part of the text.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines = LineIndex::new(text);
    let invalid = |problems| ConfigError::Invalid {
        path: origin.to_owned(),
        problems,
    };
    let root = match format {
        Format::Toml => toml_syntax::parse(text),
        Format::Json => json_syntax::parse(text),
    }
    .map_err(|error| {
        let (line, column) = lines.locate(error.offset);
        invalid(vec![Problem::new(
            line,
            column,
            String::new(),
            error.message,
        )])
    })?;
    let locate = |raw: Vec<schema::RawProblem>| {
        let mut problems: Vec<Problem> = raw
            .into_iter()
            .map(|problem| {
                let (line, column) = lines.locate(problem.offset);
                Problem::new(line, column, problem.key, problem.message)
            })
            .collect();
        // Stable, so problems at one place keep the order they were found in.
        problems.sort_by_key(|problem| (problem.line(), problem.column()));
        problems
    };
    let found = schema::read_servers(&root, format, &base_dir(origin), env)
        .map_err(|raw| invalid(locate(raw)))?;
    Ok(Config {
        servers: found.servers,
        source: Some(origin.to_owned()),
        disabled: found.disabled,
        invalid: found
            .invalid
            .into_iter()
            .map(|(name, raw)| (name, locate(raw)))
            .collect(),
        warnings: locate(found.warnings),
    })
}

/// The directory of the config file, absolute where possible, so a resolved `cwd` does not depend
/// on where the program later runs from.
fn base_dir(origin: &Path) -> PathBuf {
    let dir = match origin.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned())
}
