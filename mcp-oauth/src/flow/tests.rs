//! Unit tests of the flow's steps: scope selection, the authorization URL, `iss` checks, token
//! responses.

use super::*;
use mcp_transport::www_authenticate::parse_challenges;

fn server(extra: serde_json::Value) -> ServerMetadata {
    let mut base = serde_json::json!({
        "issuer": "https://as.example",
        "authorization_endpoint": "https://as.example/authorize",
        "token_endpoint": "https://as.example/token",
        "code_challenge_methods_supported": ["S256"],
    });
    if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
        base.extend(extra.clone());
    }
    serde_json::from_value(base).unwrap()
}

fn credentials() -> ClientCredentials {
    ClientCredentials::public("client-1")
}

#[test]
fn the_challenge_scope_wins_and_offline_access_is_added_when_offered() {
    let challenges = parse_challenges(r#"Bearer scope="files:read files:write""#).unwrap();
    let resource: ResourceMetadata =
        serde_json::from_value(serde_json::json!({"resource": "x", "scopes_supported": ["all"]}))
            .unwrap();
    let offering =
        server(serde_json::json!({"scopes_supported": ["files:read", "offline_access"]}));
    assert_eq!(
        select_scopes(challenges.first(), Some(&resource), &offering),
        ["files:read", "files:write", "offline_access"]
    );
    assert_eq!(
        select_scopes(None, Some(&resource), &server(serde_json::json!({}))),
        ["all"]
    );
    assert!(select_scopes(None, None, &server(serde_json::json!({}))).is_empty());
}

#[test]
fn the_authorization_url_carries_pkce_state_resource_and_scopes() {
    let pending = authorization_request(
        &server(serde_json::json!({})),
        &credentials(),
        "http://127.0.0.1:5555/callback",
        "https://mcp.example/mcp",
        &["read".to_owned()],
    )
    .unwrap();
    let query: std::collections::HashMap<String, String> = pending
        .authorization_url
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], "client-1");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["code_challenge"].len(), 43);
    assert_eq!(query["state"], pending.state);
    assert_eq!(query["state"].len(), 32);
    assert_eq!(query["resource"], "https://mcp.example/mcp");
    assert_eq!(query["scope"], "read");
    assert_eq!(query["redirect_uri"], "http://127.0.0.1:5555/callback");
}

#[test]
fn a_server_without_s256_is_refused_before_any_request() {
    let plain = server(serde_json::json!({"code_challenge_methods_supported": ["plain"]}));
    let error = authorization_request(&plain, &credentials(), "http://127.0.0.1:1/cb", "r", &[])
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("does not support PKCE with S256"),
        "{error}"
    );
}

#[test]
fn iss_must_match_when_present_and_be_present_when_promised() {
    let optional = authorization_request(
        &server(serde_json::json!({})),
        &credentials(),
        "http://127.0.0.1:1/cb",
        "r",
        &[],
    )
    .unwrap();
    optional
        .check_iss(None)
        .expect("no iss where none is promised");
    optional
        .check_iss(Some("https://as.example"))
        .expect("the right iss");
    let mismatch = optional.check_iss(Some("https://evil.example"));
    assert!(
        matches!(mismatch, Err(FlowError::IssuerMismatch { .. })),
        "{mismatch:?}"
    );
    let promised = authorization_request(
        &server(serde_json::json!({"authorization_response_iss_parameter_supported": true})),
        &credentials(),
        "http://127.0.0.1:1/cb",
        "r",
        &[],
    )
    .unwrap();
    let missing = promised.check_iss(None);
    assert!(
        matches!(missing, Err(FlowError::IssuerMismatch { found: None, .. })),
        "{missing:?}"
    );
}

#[test]
fn debug_hides_the_client_secret() {
    let credentials =
        ClientCredentials::with_secret("id", "hunter2", TokenAuthMethod::ClientSecretPost);
    assert!(!format!("{credentials:?}").contains("hunter2"));
}

#[test]
fn auth_method_names_round_trip_and_unknown_names_are_refused() {
    for method in [
        TokenAuthMethod::None,
        TokenAuthMethod::ClientSecretBasic,
        TokenAuthMethod::ClientSecretPost,
        TokenAuthMethod::PrivateKeyJwt,
    ] {
        assert_eq!(TokenAuthMethod::parse(method.as_str()), Some(method));
    }
    assert_eq!(TokenAuthMethod::parse("client_secret_jwt"), None);
    assert_eq!(TokenAuthMethod::parse("Client_Secret_Basic"), None);
}

#[test]
fn server_text_loses_control_characters_and_is_bounded() {
    assert_eq!(sanitize("bad\u{1b}[31m\r\ngrant", 100), "bad[31mgrant");
    assert_eq!(sanitize("abcdef", 3), "abc…");
    assert_eq!(sanitize("äöü", 3), "äöü");
}

#[test]
fn secrets_sent_never_come_back_in_messages() {
    assert_eq!(
        redact("token rt-secret-1 is revoked", &["rt-secret-1", "ab"]),
        "token <redacted> is revoked"
    );
}

#[test]
fn invalid_grant_and_invalid_client_are_told_apart() {
    let rejected = |code: &str| FlowError::TokenRejected {
        error: code.to_owned(),
        description: None,
    };
    assert!(rejected("invalid_grant").is_invalid_grant());
    assert!(!rejected("invalid_grant").is_invalid_client());
    assert!(rejected("invalid_client").is_invalid_client());
    assert!(!FlowError::Token("invalid_grant".to_owned()).is_invalid_grant());
    assert!(
        rejected("invalid_grant")
            .to_string()
            .contains("log in again")
    );
}
