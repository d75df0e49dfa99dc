//! Placeholders in values. `${env:NAME}` (in `env` and `headers` values only) is how a secret
//! reaches a server without being written in the file; `$${` writes a literal `${`.
//!
//! VS Code's path variables, `${workspaceFolder}` (the project: the config file's directory, or
//! its parent when the file is in `.vscode/`) and `${userHome}` (`$HOME`), are expanded there too,
//! and they alone also in `command`, `args`, `cwd`, `envFile` and `url` ([`expand_paths`]), where
//! a secret read from the environment would show in process listings and logs.
//!
//! Messages name variables, never their values.

use std::env::VarError;
use std::path::Path;

/// Reads one environment variable; the process environment in production, a map in tests.
pub(super) type EnvLookup<'a> = &'a dyn Fn(&str) -> Result<String, VarError>;

/// What placeholders are expanded from.
#[derive(Clone, Copy)]
pub(super) struct Placeholders<'a> {
    pub(super) env: EnvLookup<'a>,
    /// The value of `${workspaceFolder}`.
    pub(super) workspace_folder: &'a Path,
}

/// The directory `${workspaceFolder}` names for a config file in `dir`: VS Code keeps a project's
/// `mcp.json` in `<project>/.vscode/`, and means the project.
pub(super) fn workspace_folder(dir: &Path) -> &Path {
    match (dir.file_name(), dir.parent()) {
        (Some(name), Some(parent)) if name == ".vscode" => parent,
        _ => dir,
    }
}

/// `text` with only `${workspaceFolder}` and `${userHome}` expanded; any other `${...}` is left as
/// it is written.
pub(super) fn expand_paths(text: &str, vars: Placeholders<'_>) -> Result<String, String> {
    let mut expanded = text.to_owned();
    if expanded.contains("${workspaceFolder}") {
        let folder = vars.workspace_folder.to_string_lossy();
        expanded = expanded.replace("${workspaceFolder}", &folder);
    }
    if expanded.contains("${userHome}") {
        expanded = expanded.replace("${userHome}", &user_home(vars.env)?);
    }
    Ok(expanded)
}

fn user_home(env: EnvLookup<'_>) -> Result<String, String> {
    env("HOME").map_err(|_| "\"${userHome}\" is used but HOME is not set".to_owned())
}

/// `text` with every placeholder replaced by its value, or one message per placeholder that could
/// not be expanded.
pub(super) fn expand(text: &str, vars: Placeholders<'_>) -> Result<String, Vec<String>> {
    let mut expanded = String::with_capacity(text.len());
    let mut problems = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        expanded.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$${") {
            expanded.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let Some(close) = after.find('}') else {
                problems.push(
                    r#"a "${" is never closed by "}" (placeholders are written "${env:NAME}"; write "$${" for a literal "${")"#
                        .to_owned(),
                );
                rest = "";
                break;
            };
            match placeholder(&after[..close], vars) {
                Ok(value) => expanded.push_str(&value),
                Err(problem) => problems.push(problem),
            }
            rest = &after[close + 1..];
        } else {
            expanded.push('$');
            rest = &tail[1..];
        }
    }
    expanded.push_str(rest);
    if problems.is_empty() {
        Ok(expanded)
    } else {
        Err(problems)
    }
}

/// The value of one placeholder, given what is between `${` and `}`.
fn placeholder(inner: &str, vars: Placeholders<'_>) -> Result<String, String> {
    let env = vars.env;
    match inner {
        "workspaceFolder" => return Ok(vars.workspace_folder.to_string_lossy().into_owned()),
        "userHome" => return user_home(env),
        _ => {}
    }
    if let Some(name) = inner.strip_prefix("env:") {
        if !is_env_name(name) {
            // Not quoted back: whatever was written there is not a name, and might be a secret.
            return Err(
                r#"a "${env:...}" placeholder holds something that is not an environment variable name (letters, digits and "_", not starting with a digit)"#
                    .to_owned(),
            );
        }
        return match env(name) {
            Ok(value) => Ok(value),
            Err(VarError::NotPresent) => Err(format!(
                "environment variable {name} is not set (read by \"${{env:{name}}}\")"
            )),
            Err(VarError::NotUnicode(_)) => Err(format!(
                "environment variable {name} is not valid UTF-8 (read by \"${{env:{name}}}\")"
            )),
        };
    }
    if is_env_name(inner) {
        return Err(format!(
            r#""${{{inner}}}" is not expanded; write "${{env:{inner}}}" to read the environment variable {inner}, or "$${{{inner}}}" for the text itself"#
        ));
    }
    if inner.starts_with("input:") {
        return Err(
            r#"VS Code input variables ("${input:...}") are not supported; set an environment variable and write "${env:NAME}""#
                .to_owned(),
        );
    }
    Err(
        r#"unsupported placeholder: "${env:NAME}" reads an environment variable, and "$${" writes a literal "${""#
            .to_owned(),
    )
}

/// A portable environment variable name: letters, digits and `_`, not starting with a digit.
pub(super) fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(text: &str, env: EnvLookup<'_>) -> Result<String, Vec<String>> {
        super::expand(
            text,
            Placeholders {
                env,
                workspace_folder: Path::new("/work/project"),
            },
        )
    }

    fn env(name: &str) -> Result<String, VarError> {
        match name {
            "TOKEN" => Ok("s3cret".to_owned()),
            "EMPTY" => Ok(String::new()),
            "BINARY" => Err(VarError::NotUnicode("\u{fffd}".into())),
            _ => Err(VarError::NotPresent),
        }
    }

    #[test]
    fn placeholders_are_replaced_by_the_variables_value() {
        assert_eq!(
            expand("Bearer ${env:TOKEN}", &env).unwrap(),
            "Bearer s3cret"
        );
        assert_eq!(
            expand("${env:TOKEN}${env:EMPTY}-${env:TOKEN}", &env).unwrap(),
            "s3cret-s3cret"
        );
    }

    #[test]
    fn text_without_placeholders_is_unchanged() {
        assert_eq!(expand("a $b $ c$", &env).unwrap(), "a $b $ c$");
        assert_eq!(expand("日本 $", &env).unwrap(), "日本 $");
    }

    #[test]
    fn double_dollar_escapes_a_placeholder() {
        assert_eq!(
            expand("$${env:TOKEN} ${env:TOKEN}", &env).unwrap(),
            "${env:TOKEN} s3cret"
        );
    }

    #[test]
    fn missing_variable_is_named() {
        let problems = expand("${env:NOPE}", &env).unwrap_err();
        assert_eq!(
            problems,
            ["environment variable NOPE is not set (read by \"${env:NOPE}\")"]
        );
    }

    #[test]
    fn every_bad_placeholder_is_reported() {
        let problems = expand("${env:A} ${env:B} ${env:TOKEN}", &env).unwrap_err();
        assert_eq!(problems.len(), 2);
        assert!(problems[0].contains(" A "), "{problems:?}");
        assert!(problems[1].contains(" B "), "{problems:?}");
    }

    #[test]
    fn non_unicode_variable_is_named_without_its_value() {
        let problems = expand("${env:BINARY}", &env).unwrap_err();
        assert!(
            problems[0].contains("BINARY is not valid UTF-8"),
            "{problems:?}"
        );
    }

    #[test]
    fn shell_style_placeholder_suggests_the_env_form() {
        let problems = expand("${TOKEN}", &env).unwrap_err();
        assert!(
            problems[0].contains(r#"write "${env:TOKEN}""#),
            "{problems:?}"
        );
    }

    #[test]
    fn unterminated_and_malformed_placeholders_are_reported_without_quoting_them() {
        let problems = expand("x ${env:TOK", &env).unwrap_err();
        assert!(problems[0].contains("never closed"), "{problems:?}");
        let problems = expand("${env:sk-live-123}", &env).unwrap_err();
        assert!(!problems[0].contains("sk-live"), "{problems:?}");
        let problems = expand("${input:token}", &env).unwrap_err();
        assert!(
            problems[0].contains("VS Code input variables"),
            "{problems:?}"
        );
    }

    #[test]
    fn vs_code_path_variables_name_the_project_and_home() {
        fn home(name: &str) -> Result<String, VarError> {
            match name {
                "HOME" => Ok("/home/ada".to_owned()),
                _ => Err(VarError::NotPresent),
            }
        }
        assert_eq!(
            expand("${workspaceFolder}/.env:${userHome}/bin", &home).unwrap(),
            "/work/project/.env:/home/ada/bin"
        );
        let problems = expand("${userHome}", &env).unwrap_err();
        assert_eq!(problems, [r#""${userHome}" is used but HOME is not set"#]);
    }

    #[test]
    fn only_path_variables_are_expanded_where_secrets_must_not_go() {
        let vars = Placeholders {
            env: &|_| Ok("/home/ada".to_owned()),
            workspace_folder: Path::new("/work/project"),
        };
        assert_eq!(
            expand_paths("${workspaceFolder}/a ${userHome} ${env:TOKEN} $${x}", vars).unwrap(),
            "/work/project/a /home/ada ${env:TOKEN} $${x}"
        );
    }

    #[test]
    fn workspace_folder_is_the_project_above_dot_vscode() {
        assert_eq!(workspace_folder(Path::new("/p/.vscode")), Path::new("/p"));
        assert_eq!(workspace_folder(Path::new("/p")), Path::new("/p"));
    }

    #[test]
    fn env_names_are_portable_identifiers() {
        assert!(is_env_name("REMOTE_TOKEN"));
        assert!(is_env_name("_x1"));
        assert!(!is_env_name(""));
        assert!(!is_env_name("1X"));
        assert!(!is_env_name("A-B"));
        assert!(!is_env_name("Bearer abc"));
    }
}
