//! Secrets and environment placeholders: expanded where allowed, never quoted in a message.

use super::*;

#[test]
fn env_placeholders_are_expanded_in_env_and_header_values() {
    let config = toml(
        r#"
[servers.s]
command = "srv"
env = { TOKEN = "${env:REMOTE_TOKEN}", LITERAL = "$${env:REMOTE_TOKEN}" }
[servers.h]
url = "https://example.com/mcp"
headers = { Authorization = "Bearer ${env:REMOTE_TOKEN}", "X-Tenant" = "${env:TENANT}" }
"#,
    )
    .unwrap();
    assert_eq!(
        stdio(config.server("s").unwrap()).env,
        map(&[("TOKEN", SECRET), ("LITERAL", "${env:REMOTE_TOKEN}")])
    );
    assert_eq!(
        http(config.server("h").unwrap()).headers,
        map(&[
            ("Authorization", &format!("Bearer {SECRET}")),
            ("X-Tenant", "acme")
        ])
    );
}

#[test]
fn missing_env_variable_is_a_problem_naming_the_variable_and_the_key() {
    let problem = only_problem(toml(
        "[servers.h]\nurl = \"https://x.example/mcp\"\nheaders = { \"X-Key\" = \"${env:NOT_SET}\" }\n",
    ));
    assert_eq!(
        problem,
        "3:23: servers.h.headers.X-Key: environment variable NOT_SET is not set \
         (read by \"${env:NOT_SET}\")"
    );
}

#[test]
fn a_secret_is_never_quoted_in_a_message() {
    let error = toml(
        r#"
[servers.h]
url = "https://x.example/mcp"
headers = { Authorization = "${env:BROKEN}" }
auth = "tok-9f8e7d6c5b4a"
bearer_token_env = "tok-9f8e7d6c5b4a"
"#,
    )
    .unwrap_err();
    let text = error.to_string();
    assert_eq!(error.problems().len(), 3, "{text}");
    assert!(!text.contains(SECRET), "{text}");
    assert!(
        text.contains("once its placeholders are expanded"),
        "{text}"
    );
    assert!(
        text.contains("must be the name of the environment variable that holds the token"),
        "{text}"
    );
}
