//! Each value's own rules: URLs, durations, the retry table, auth modes, headers and OAuth.

use mcp_oauth::TokenAuthMethod;
use url::Url;

use super::*;

#[test]
fn url_scheme_must_be_http_or_https() {
    assert_eq!(
        only_problem(toml("[servers.remote]\nurl = \"ftp://x\"\n")),
        "2:7: servers.remote.url: \"ftp://x\" is not an http:// or https:// URL"
    );
    let problem = only_problem(toml("[servers.remote]\nurl = \"example.com/mcp\"\n"));
    assert!(
        problem.contains("is not a URL (relative URL without a base)"),
        "{problem}"
    );
    let problem = only_problem(toml(
        "[servers.remote]\nurl = \"ws://u:hunter2@x.example\"\n",
    ));
    assert!(!problem.contains("hunter2"), "{problem}");
}

#[test]
fn durations_need_a_unit_and_timeouts_must_be_positive() {
    let problem = only_problem(toml("[servers.s]\ncommand = \"x\"\nrequest_timeout = 30\n"));
    assert_eq!(
        problem,
        "3:19: servers.s.request_timeout: expected a duration with a unit, found the number 30 \
         (write \"30s\" for seconds or \"30ms\" for milliseconds)"
    );
    let problem = only_problem(toml(
        "[servers.s]\ncommand = \"x\"\nconnect_timeout = \"0s\"\n",
    ));
    assert_eq!(
        problem,
        "3:19: servers.s.connect_timeout: must be longer than zero"
    );
}

#[test]
fn bad_retry_values_are_reported_where_they_are_written() {
    let problems = problems(toml(
        "[servers.s]\ncommand = \"x\"\n[servers.s.retry]\natempts = 2\nbase_delay = \"soon\"\njitter = \"lots\"\nfactor = \"2\"\n",
    ));
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert_eq!(
        problems[0],
        "4:1: servers.s.retry: unknown key \"atempts\" (did you mean \"attempts\"?)"
    );
    assert!(problems[1].starts_with("5:14: servers.s.retry.base_delay: invalid duration \"soon\""));
    assert_eq!(
        problems[2],
        "6:10: servers.s.retry.jitter: unknown variant `lots`, expected one of `none`, `full`, `equal`"
    );
    assert!(problems[3].starts_with("7:10: servers.s.retry.factor: expected a number"));
}

#[test]
fn retry_rules_of_the_policy_itself_are_reported_at_the_retry_table() {
    let problem = only_problem(toml(
        "[servers.s]\ncommand = \"x\"\nretry = { base_delay = \"1m\", max_delay = \"10s\" }\n",
    ));
    assert_eq!(
        problem,
        "3:1: servers.s.retry: base_delay (1m) is longer than max_delay (10s)"
    );
}

#[test]
fn retry_keys_are_exactly_the_table_form_mcp_retry_reads() {
    // Every key we accept is one mcp-retry reads ...
    for key in crate::config::schema::RETRY_KEYS {
        let value = match *key {
            "attempts" | "max_attempts" => "2",
            "factor" => "3",
            "jitter" => "\"none\"",
            _ => "\"1s\"",
        };
        let table = format!("{key} = {value}");
        ::toml::from_str::<RetryPolicy>(&table)
            .unwrap_or_else(|e| panic!("mcp-retry rejects {table}: {e}"));
    }
    // ... and every key it writes is one we accept.
    let full = RetryPolicy::builder()
        .max_elapsed(Some(Duration::from_secs(60)))
        .build()
        .unwrap();
    let serde_json::Value::Object(written) = serde_json::to_value(full).unwrap() else {
        panic!("a policy is written as a table");
    };
    for key in written.keys() {
        assert!(
            crate::config::schema::RETRY_KEYS.contains(&key.as_str()),
            "{key}"
        );
    }
}

#[test]
fn bearer_auth_needs_a_token_variable() {
    assert_eq!(
        only_problem(toml(
            "[servers.h]\nurl = \"https://x.example/mcp\"\nauth = \"bearer\"\n"
        )),
        "3:8: servers.h.auth: is \"bearer\" but \"bearer_token_env\" is not set; name the \
         environment variable that holds the token"
    );
    let config = toml(
        "[servers.h]\nurl = \"https://x.example/mcp\"\nauth = \"bearer\"\nbearer_token_env = \"T\"\n",
    )
    .unwrap();
    assert_eq!(http(config.server("h").unwrap()).auth, AuthMode::Bearer);
}

#[test]
fn contradictory_auth_settings_are_reported() {
    let problems = problems(toml(
        r#"[servers.h]
url = "https://x.example/mcp"
auth = "none"
bearer_token_env = "T"
oauth = { client_id = "c" }
headers = { authorization = "Bearer x" }
"#,
    ));
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].contains("auth is \"none\", which sends no credentials"));
    assert!(problems[1].contains("OAuth settings are given, but auth is \"none\""));
    assert!(
        problems[2].starts_with(
            "6:13: servers.h.headers.authorization: is also set by \"bearer_token_env\""
        )
    );
}

#[test]
fn invalid_header_names_and_values_are_reported() {
    let problems = problems(json(
        r#"{"servers": {"h": {"url": "https://x.example/mcp", "headers": {
            "Bad:Name": "v", "X-Ok": "line\nbreak", "x-ok": "again"}}}}"#,
    ));
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].contains("\"Bad:Name\" is not a valid HTTP header name"));
    assert!(problems[1].contains(
        "servers.h.headers.X-Ok: is not a valid HTTP header value: it contains a line break"
    ));
    assert!(
        problems[2].contains("servers.h.headers.x-ok: is written twice (header names ignore case)")
    );
}

#[test]
fn oauth_settings_are_checked() {
    let problems = problems(toml(
        r#"[servers.h]
url = "https://x.example/mcp"
[servers.h.oauth]
client_secret_env = "SECRET"
scopes = ["read write"]
callback_port = 70000
client_metadata_url = "http://example.com/client.json"
redirect = "x"
"#,
    ));
    assert_eq!(problems.len(), 5, "{problems:#?}");
    assert!(problems[0].contains("\"client_secret_env\" needs \"client_id\""));
    assert!(problems[1].contains("servers.h.oauth.scopes[0]: a scope is one word"));
    assert!(problems[2].contains("70000 is not a port number"));
    assert!(problems[3].contains("must be an https:// URL (http:// only on localhost)"));
    assert!(problems[4].contains("unknown key \"redirect\""));
    let config = toml(
        "[servers.h]\nurl = \"https://x.example/mcp\"\noauth = { client_id = \"c\", client_secret_env = \"S\", client_metadata_url = \"http://127.0.0.1:8080/c.json\" }\n",
    )
    .unwrap();
    let oauth = http(config.server("h").unwrap()).oauth.clone().unwrap();
    assert_eq!(oauth.client_secret_env.as_deref(), Some("S"));
    assert_eq!(oauth.callback_port, None);
    assert_eq!(
        oauth.client_metadata_url,
        Some(Url::parse("http://127.0.0.1:8080/c.json").unwrap())
    );
}

#[test]
fn oauth_grants_and_client_authentication_are_checked() {
    let problems = problems(toml(
        r#"[servers.h]
url = "https://x.example/mcp"
[servers.h.oauth]
grant = "password"
token_endpoint_auth_method = "tls_client_auth"
private_key_env = "not a name"
[servers.m]
url = "https://x.example/mcp"
oauth = { grant = "client_credentials" }
"#,
    ));
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(problems[0].contains(
        "must be \"authorization_code\", \"client_credentials\", \"enterprise_managed\" or \
         \"jwt_bearer\""
    ));
    assert!(problems[1].contains(
        "\"none\", \"client_secret_basic\", \"client_secret_post\" or \"private_key_jwt\""
    ));
    assert!(problems[2].contains("servers.h.oauth.private_key_env"));
    assert!(problems[3].contains("needs \"client_id\""));
    let config = toml(
        "[servers.m]\nurl = \"https://x.example/mcp\"\noauth = { client_id = \"m\", grant = \"client_credentials\", token_endpoint_auth_method = \"private_key_jwt\", private_key_env = \"KEY_PEM\" }\n",
    )
    .unwrap();
    let oauth = http(config.server("m").unwrap()).oauth.clone().unwrap();
    assert_eq!(oauth.grant, crate::config::OAuthGrant::ClientCredentials);
    assert_eq!(
        oauth.token_endpoint_auth_method,
        Some(TokenAuthMethod::PrivateKeyJwt)
    );
    assert_eq!(oauth.private_key_env.as_deref(), Some("KEY_PEM"));
}

#[test]
fn enterprise_managed_grant_needs_its_identity_provider_settings() {
    let problems = problems(toml(
        r#"[servers.e]
url = "https://x.example/mcp"
oauth = { grant = "enterprise_managed", client_id = "c", idp_token_endpoint = "http://idp.example/token" }
"#,
    ));
    assert_eq!(
        problems,
        [
            "3:9: servers.e.oauth: grant = \"enterprise_managed\" needs \"client_id\", \
             \"idp_token_endpoint\", \"idp_client_id\" and \"id_token_env\"",
            "3:79: servers.e.oauth.idp_token_endpoint: \"http://idp.example/token\" must be an \
             https:// URL (http:// only on localhost)",
        ]
    );
    let config = toml(
        "[servers.e]\nurl = \"https://x.example/mcp\"\noauth = { grant = \"enterprise_managed\", client_id = \"c\", idp_token_endpoint = \"https://idp.example/token\", idp_client_id = \"i\", id_token_env = \"ID_TOKEN\" }\n",
    )
    .unwrap();
    let oauth = http(config.server("e").unwrap()).oauth.clone().unwrap();
    assert_eq!(oauth.grant, crate::config::OAuthGrant::EnterpriseManaged);
    assert_eq!(
        oauth.idp_token_endpoint,
        Some(Url::parse("https://idp.example/token").unwrap())
    );
    assert_eq!(oauth.id_token_env.as_deref(), Some("ID_TOKEN"));
}

#[test]
fn jwt_bearer_grant_needs_exactly_one_place_for_the_workload_token() {
    let problems = problems(toml(
        r#"[servers.w]
url = "https://x.example/mcp"
oauth = { grant = "jwt_bearer" }

[servers.both]
url = "https://x.example/mcp"
oauth = { grant = "jwt_bearer", assertion_env = "WIF_TOKEN", assertion_file = "/run/token" }

[servers.stray]
url = "https://x.example/mcp"
oauth = { assertion_env = "WIF_TOKEN" }
"#,
    ));
    assert_eq!(problems.len(), 3, "{problems:#?}");
    for problem in &problems[..2] {
        assert!(
            problem.contains(
                "grant = \"jwt_bearer\" needs exactly one of \"assertion_env\" and \
                 \"assertion_file\""
            ),
            "{problem}"
        );
    }
    assert!(
        problems[2].contains("servers.stray.oauth: \"assertion_env\" and \"assertion_file\" are for grant = \"jwt_bearer\""),
        "{}",
        problems[2]
    );
    let config = toml(
        "[servers.w]\nurl = \"https://x.example/mcp\"\noauth = { grant = \"jwt_bearer\", assertion_file = \"/var/run/secrets/tokens/mcp\", dpop = false }\n",
    )
    .unwrap();
    let oauth = http(config.server("w").unwrap()).oauth.clone().unwrap();
    assert_eq!(oauth.grant, crate::config::OAuthGrant::JwtBearer);
    assert_eq!(
        oauth.assertion_file.as_deref(),
        Some(std::path::Path::new("/var/run/secrets/tokens/mcp"))
    );
    assert_eq!(oauth.dpop, Some(false));
}

#[test]
fn dpop_is_true_or_false() {
    let problems = problems(toml(
        "[servers.d]\nurl = \"https://x.example/mcp\"\noauth = { dpop = \"yes\" }\n",
    ));
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].contains("servers.d.oauth.dpop"),
        "{}",
        problems[0]
    );
    assert!(problems[0].contains("true or false"), "{}", problems[0]);
}
