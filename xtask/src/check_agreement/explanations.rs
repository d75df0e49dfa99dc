//! The checked-in explanations of where `mcpcord check` and the suite disagree
//! (`tests/conformance/check-agreement.toml`), and the globs they match with.
//!
//! The file is a small subset of TOML, read by hand (xtask stays std-only): comments, blank lines,
//! `[[explained]]` headers and one `key = "value"` a line (basic strings with `\"`, `\\`, `\n`,
//! `\t` escapes). Every entry has every key of [`Explanation`] but the optional `except`; an unknown
//! key, a repeated key or a malformed line is an error naming its line.

use std::path::Path;

use crate::command::TaskError;

use super::verdicts::{Ours, Pair, Verdict};

/// One `[[explained]]` entry: the verdict pair it explains, where, and why.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Explanation {
    /// A glob ([`glob_matches`]) over server labels (`server-everything`, `noncompliant/bad-envelope`).
    pub(super) servers: String,
    /// A spec revision, or `*` for any.
    pub(super) revision: String,
    /// A glob over scenario names.
    pub(super) scenarios: String,
    /// A glob over scenario names it does not explain although `scenarios` matches them (a
    /// family's member that another entry explains).
    pub(super) except: Option<String>,
    /// The suite's verdict it explains: pass or fail; `None` (written `*`) for either, allowed
    /// only with ours `n/a` (a scenario ours has no check of: the suite's verdict on it is then
    /// no concern of ours).
    pub(super) suite: Option<Verdict>,
    /// Ours: pass, fail, skip (every check of the scenario skipped), or `n/a` (no check of ours
    /// belongs to the scenario, or ours could not check the server at all).
    pub(super) ours: Ours,
    /// One or two sentences; the first is shown in the table.
    pub(super) why: String,
    /// The specification section (or suite source) that justifies it.
    pub(super) spec: String,
    /// Its `[[explained]]` line, for messages.
    pub(super) line: usize,
}

impl Explanation {
    /// Whether it explains `pair`.
    pub(super) fn explains(&self, pair: &Pair) -> bool {
        self.suite.is_none_or(|suite| suite == pair.suite)
            && self.ours == pair.ours
            && (self.revision == "*" || self.revision == pair.revision)
            && glob_matches(&self.servers, &pair.server)
            && glob_matches(&self.scenarios, &pair.scenario)
            && !self
                .except
                .as_ref()
                .is_some_and(|except| glob_matches(except, &pair.scenario))
    }

    /// The suite's verdict as written: pass, fail or `*`.
    pub(super) fn suite_label(&self) -> &'static str {
        self.suite.map_or("*", Verdict::label)
    }

    /// The first sentence of [`Self::why`] (up to and including the first `. `), for the table.
    pub(super) fn first_sentence(&self) -> &str {
        self.why
            .find(". ")
            .map_or(self.why.as_str(), |end| &self.why[..=end])
    }
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters (none included)
/// and every other character for itself.
pub(super) fn glob_matches(pattern: &str, text: &str) -> bool {
    let Some((first, rest)) = pattern.split_once('*') else {
        return pattern == text;
    };
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    let mut parts: Vec<&str> = rest.split('*').collect();
    // The part after the last `*` must end the text; the ones between go leftmost-first.
    let last = parts.pop().unwrap_or("");
    for part in parts {
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

/// Reads and parses the explanations file at `path`.
pub(super) fn read(path: &Path) -> Result<Vec<Explanation>, TaskError> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| TaskError::new(format!("could not read {}: {error}", path.display())))?;
    parse(&text).map_err(|error| TaskError::new(format!("{}:{error}", path.display())))
}

/// The keys an entry may have, each once (all but `except` must be there).
const KEYS: [&str; 8] = [
    "servers",
    "revision",
    "scenarios",
    "except",
    "suite",
    "ours",
    "why",
    "spec",
];

/// Parses the explanations; an error starts with its line number.
pub(super) fn parse(text: &str) -> Result<Vec<Explanation>, String> {
    let mut entries: Vec<(usize, Vec<(&'static str, String)>)> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "[[explained]]" {
            entries.push((number, Vec::new()));
            continue;
        }
        let Some((_, fields)) = entries.last_mut() else {
            return Err(format!(
                "{number}: `{line}` before the first `[[explained]]`"
            ));
        };
        let (key, value) = key_value(line).map_err(|what| format!("{number}: {what}"))?;
        let Some(&key) = KEYS.iter().find(|known| **known == key) else {
            return Err(format!(
                "{number}: unknown key `{key}`; an entry has {}",
                KEYS.join(", ")
            ));
        };
        if fields.iter().any(|(seen, _)| *seen == key) {
            return Err(format!("{number}: `{key}` given twice in one entry"));
        }
        fields.push((key, value));
    }
    entries
        .into_iter()
        .map(|(line, fields)| entry(line, fields).map_err(|what| format!("{line}: {what}")))
        .collect()
}

/// An entry from its fields, checked.
fn entry(line: usize, mut fields: Vec<(&'static str, String)>) -> Result<Explanation, String> {
    let has_except = fields.iter().any(|(name, _)| *name == "except");
    let mut take = |key: &str| -> Result<String, String> {
        let at = fields
            .iter()
            .position(|(name, _)| *name == key)
            .ok_or_else(|| format!("`[[explained]]` without `{key}`"))?;
        let value = fields.swap_remove(at).1;
        if value.trim().is_empty() {
            return Err(format!("`{key}` is empty"));
        }
        Ok(value)
    };
    let except = if has_except {
        Some(take("except")?)
    } else {
        None
    };
    let suite = take("suite")?;
    let explanation = Explanation {
        servers: take("servers")?,
        revision: take("revision")?,
        scenarios: take("scenarios")?,
        except,
        suite: if suite == "*" {
            None
        } else {
            Some(verdict(&suite)?)
        },
        ours: ours(&take("ours")?)?,
        why: take("why")?,
        spec: take("spec")?,
        line,
    };
    if explanation.suite.map(Ours::Named) == Some(explanation.ours) {
        return Err(
            "`suite` and `ours` are equal: that pair agrees, there is nothing to explain"
                .to_owned(),
        );
    }
    if explanation.suite.is_none() && explanation.ours != Ours::Undefined {
        return Err(
            "`suite = \"*\"` needs `ours = \"n/a\"`: either verdict of the suite is \
                    explained only where ours has none"
                .to_owned(),
        );
    }
    if !explanation.spec.starts_with("https://") {
        return Err(format!(
            "`spec` is not an https URL: {:?}",
            explanation.spec
        ));
    }
    Ok(explanation)
}

/// The suite's `pass` or `fail`.
fn verdict(text: &str) -> Result<Verdict, String> {
    match text {
        "pass" => Ok(Verdict::Pass),
        "fail" => Ok(Verdict::Fail),
        _ => Err(format!("`suite` is {text:?}, not pass, fail or *")),
    }
}

/// Ours: `pass`, `fail`, `skip` or `n/a`.
fn ours(text: &str) -> Result<Ours, String> {
    match text {
        "pass" => Ok(Ours::Named(Verdict::Pass)),
        "fail" => Ok(Ours::Named(Verdict::Fail)),
        "skip" => Ok(Ours::Named(Verdict::Skip)),
        "n/a" => Ok(Ours::Undefined),
        _ => Err(format!("`ours` is {text:?}, not pass, fail, skip or n/a")),
    }
}

/// `key = "value"` with an optional `# comment` after the value.
fn key_value(line: &str) -> Result<(&str, String), String> {
    let (key, rest) = line
        .split_once('=')
        .ok_or_else(|| format!("expected `key = \"value\"`, got `{line}`"))?;
    let key = key.trim();
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("`{key}` is not a bare key"));
    }
    let rest = rest.trim_start();
    let body = rest
        .strip_prefix('"')
        .ok_or_else(|| format!("the value of `{key}` is not a \"string\""))?;
    let mut value = String::new();
    let mut chars = body.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => {
                let after = body[at + 1..].trim();
                if !(after.is_empty() || after.starts_with('#')) {
                    return Err(format!("text after the value of `{key}`: `{after}`"));
                }
                return Ok((key, value));
            }
            '\\' => match chars.next().map(|(_, escaped)| escaped) {
                Some('"') => value.push('"'),
                Some('\\') => value.push('\\'),
                Some('n') => value.push('\n'),
                Some('t') => value.push('\t'),
                other => return Err(format!("unsupported escape `\\{}`", other.unwrap_or(' '))),
            },
            _ => value.push(c),
        }
    }
    Err(format!("the value of `{key}` has no closing quote"))
}
