//! The authorization code flow, refresh, and what makes tokens stop working.

use http::StatusCode;
use serde_json::json;

use super::*;
use crate::{DemoAuthOptions, IssParameter, SERVER_NAME};

#[tokio::test]
async fn a_full_code_flow_by_hand_reaches_the_mcp_server() {
    let handle = start(DemoAuthOptions::default()).await;

    // Discovery, as a client does it: the challenge, then both metadata documents.
    let challenge = mcp_post(&handle, None, None, &initialize_message()).await;
    assert_eq!(challenge.status, StatusCode::UNAUTHORIZED);
    let prm_url = format!(
        "http://{}/.well-known/oauth-protected-resource/mcp",
        handle.local_addr()
    );
    let www_authenticate = challenge.header("www-authenticate").expect("a challenge");
    assert!(
        www_authenticate.contains(&format!("resource_metadata=\"{prm_url}\"")),
        "{www_authenticate}"
    );
    let prm = get(&handle, "/.well-known/oauth-protected-resource/mcp")
        .await
        .json();
    assert_eq!(prm["resource"], json!(handle.url()));
    assert_eq!(prm["authorization_servers"], json!([handle.issuer()]));
    let metadata = get(&handle, "/.well-known/oauth-authorization-server")
        .await
        .json();
    assert_eq!(metadata["issuer"], json!(handle.issuer()));
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        json!(["S256"])
    );
    let registration_endpoint = string(&metadata, "registration_endpoint");
    assert_eq!(
        registration_endpoint,
        format!("{}/register", handle.issuer())
    );

    // Registration, authorization (approved at once), and the code exchange with PKCE.
    let client_id = register_public(&handle).await;
    let reply = authorize(&handle, &client_id, "full-flow", &[("scope", "demo:read")]).await;
    let location = reply.header("location").expect("a Location");
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    let params = reply.location_params();
    assert_eq!(params["state"], "the-state");
    assert_eq!(params["iss"], handle.issuer());
    let reply = redeem(&handle, &client_id, &params["code"], &pkce("full-flow").0).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let tokens = reply.json();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "demo:read");
    assert_eq!(tokens["expires_in"], 3600);
    assert!(tokens["refresh_token"].is_string(), "{tokens}");
    let access_token = string(&tokens, "access_token");
    assert!(
        access_token.len() >= 22,
        "at least 128 bits: {access_token}"
    );

    // The MCP server answers with the token.
    let reply = mcp_post(&handle, Some(access_token), None, &initialize_message()).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let message = reply.message();
    assert_eq!(
        message["result"]["serverInfo"]["name"], SERVER_NAME,
        "{message}"
    );

    let stats = handle.stats();
    assert_eq!(
        (
            stats.registrations,
            stats.authorizations,
            stats.code_exchanges
        ),
        (1, 1, 1)
    );
    assert_eq!((stats.prm_fetches, stats.as_metadata_fetches), (1, 1));
    assert_eq!((stats.unauthorized, stats.mcp_requests), (1, 1));
    let request = stats.last_authorization_request().expect("recorded");
    assert_eq!(request.param("client_id"), Some(client_id.as_str()));
    assert_eq!(request.param("resource"), Some(handle.url().as_str()));
    assert_eq!(request.param("code_challenge_method"), Some("S256"));
    assert_eq!(request.param("scope"), Some("demo:read"));
    let request = stats.last_token_request().expect("recorded");
    assert_eq!(request.param("grant_type"), Some("authorization_code"));
    assert_eq!(request.client_auth, Some(mcp_oauth::TokenAuthMethod::None));
    assert_eq!(request.error, None);
}

#[tokio::test]
async fn a_wrong_pkce_verifier_is_invalid_grant() {
    let handle = start(DemoAuthOptions::default()).await;
    let client_id = register_public(&handle).await;
    let code = code_for(&handle, &client_id, "right", "").await;
    let reply = redeem(&handle, &client_id, &code, &pkce("wrong").0).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error(), "invalid_grant");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let stats = handle.stats();
    assert_eq!(stats.rejected_token_requests, 1);
    let recorded = stats.last_token_request().expect("recorded");
    assert_eq!(recorded.error.as_deref(), Some("invalid_grant"));
}

#[tokio::test]
async fn a_code_is_single_use_and_its_reuse_revokes_the_tokens() {
    let handle = start(DemoAuthOptions::default()).await;
    let client_id = register_public(&handle).await;
    let code = code_for(&handle, &client_id, "once", "").await;
    let verifier = pkce("once").0;
    let first = redeem(&handle, &client_id, &code, &verifier).await;
    assert_eq!(first.status, StatusCode::OK, "{first:?}");
    let access_token = string(&first.json(), "access_token").to_owned();

    let second = redeem(&handle, &client_id, &code, &verifier).await;
    assert_eq!(second.status, StatusCode::BAD_REQUEST);
    assert_eq!(second.error(), "invalid_grant");
    // RFC 6749 §4.1.2: what the first redemption produced is revoked.
    let reply = mcp_post(&handle, Some(&access_token), None, &initialize_message()).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_code_is_bound_to_its_redirect_uri_and_resource() {
    let handle = start(DemoAuthOptions::default()).await;
    let client_id = register_public(&handle).await;
    let verifier = pkce("bound").0;
    let resource = handle.url();
    for (name, value, error) in [
        (
            "redirect_uri",
            "http://127.0.0.1:2/callback",
            "invalid_grant",
        ),
        ("resource", "http://127.0.0.1:1/other", "invalid_target"),
        ("resource", "", "invalid_target"),
    ] {
        let code = code_for(&handle, &client_id, "bound", "").await;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", client_id.as_str()),
            ("code_verifier", verifier.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("resource", resource.as_str()),
        ];
        form.retain(|(existing, _)| *existing != name);
        if !value.is_empty() {
            form.push((name, value));
        }
        let reply = post_form(&handle, "/token", &form, None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{name}={value}");
        assert_eq!(reply.error(), error, "{name}={value}");
    }
}

/// A refresh by a public client, with the resource.
async fn refresh(handle: &DemoAuthHandle, client_id: &str, refresh_token: &str) -> Reply {
    let resource = handle.url();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", client_id),
        ("resource", &resource),
    ];
    post_form(handle, "/token", &form, None).await
}

#[tokio::test]
async fn refresh_with_rotation_makes_the_old_refresh_token_invalid() {
    let handle = start(DemoAuthOptions::default()).await;
    let (client_id, tokens) = log_in(&handle, "").await;
    let old = string(&tokens, "refresh_token");
    let reply = refresh(&handle, &client_id, old).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let rotated = reply.json();
    let new = string(&rotated, "refresh_token");
    assert_ne!(new, old);
    assert_eq!(rotated["scope"], "demo:read demo:write");

    let reply = refresh(&handle, &client_id, old).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error(), "invalid_grant");

    let reply = refresh(&handle, &client_id, new).await;
    assert_eq!(reply.status, StatusCode::OK, "the new one works: {reply:?}");
    assert_eq!(handle.stats().refreshes, 3);
}

#[tokio::test]
async fn without_rotation_the_refresh_token_stays_and_none_is_returned() {
    let handle = start(DemoAuthOptions::default().with_rotate_refresh_tokens(false)).await;
    let (client_id, tokens) = log_in(&handle, "").await;
    let refresh_token = string(&tokens, "refresh_token");
    for _ in 0..2 {
        let reply = refresh(&handle, &client_id, refresh_token).await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        assert!(reply.json().get("refresh_token").is_none());
    }
}

#[tokio::test]
async fn a_refresh_cannot_widen_the_scope() {
    let handle = start(DemoAuthOptions::default()).await;
    let (client_id, tokens) = log_in(&handle, "demo:read").await;
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", string(&tokens, "refresh_token")),
        ("client_id", client_id.as_str()),
        ("scope", "demo:read demo:write"),
    ];
    let reply = post_form(&handle, "/token", &form, None).await;
    assert_eq!(reply.error(), "invalid_scope");
}

#[tokio::test]
async fn revoked_refresh_tokens_are_invalid_grant() {
    let handle = start(DemoAuthOptions::default()).await;
    let (client_id, tokens) = log_in(&handle, "").await;
    handle.revoke_refresh_tokens();
    let reply = refresh(&handle, &client_id, string(&tokens, "refresh_token")).await;
    assert_eq!(reply.error(), "invalid_grant");
}

#[tokio::test]
async fn no_refresh_token_is_issued_when_turned_off() {
    let handle = start(DemoAuthOptions::default().with_refresh_tokens(false)).await;
    let (_, tokens) = log_in(&handle, "").await;
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
}

#[tokio::test]
async fn deny_redirects_with_access_denied_and_the_state() {
    let handle = start(DemoAuthOptions::default().with_deny(true)).await;
    let client_id = register_public(&handle).await;
    let params = authorize(&handle, &client_id, "deny", &[])
        .await
        .location_params();
    assert_eq!(params["error"], "access_denied");
    assert!(params.contains_key("error_description"));
    assert_eq!(params["state"], "the-state");
    assert_eq!(params["iss"], handle.issuer());
    assert!(!params.contains_key("code"));
    assert_eq!(handle.stats().rejected_authorizations, 1);
}

#[tokio::test]
async fn an_unknown_client_or_a_bad_redirect_uri_is_answered_directly() {
    let handle = start(DemoAuthOptions::default()).await;
    let client_id = register_public(&handle).await;
    for (client, extra) in [
        ("no-such-client", &[][..]),
        (
            client_id.as_str(),
            &[("redirect_uri", "http://127.0.0.1:1/elsewhere")][..],
        ),
        (
            client_id.as_str(),
            &[("redirect_uri", "https://attacker.example/cb")][..],
        ),
        (client_id.as_str(), &[("redirect_uri", "")][..]),
    ] {
        let reply = authorize(&handle, client, "direct", extra).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{extra:?}");
        assert!(
            reply.header("location").is_none(),
            "never redirected: {reply:?}"
        );
        assert!(!reply.error().is_empty());
    }
    // Another loopback port is the same redirect URI (RFC 8252 §7.3).
    let reply = authorize(
        &handle,
        &client_id,
        "port",
        &[("redirect_uri", "http://127.0.0.1:9/callback")],
    )
    .await;
    assert!(reply.location_params().contains_key("code"));
}

#[tokio::test]
async fn authorization_errors_go_back_to_the_client_with_the_state() {
    let handle = start(DemoAuthOptions::default()).await;
    let client_id = register_public(&handle).await;
    let other_resource = format!("{}/", handle.url());
    for (extra, error) in [
        (&[("resource", "")][..], "invalid_target"),
        (
            &[("resource", other_resource.as_str())][..],
            "invalid_target",
        ),
        (&[("code_challenge_method", "plain")][..], "invalid_request"),
        (&[("code_challenge", "")][..], "invalid_request"),
        (
            &[("response_type", "token")][..],
            "unsupported_response_type",
        ),
        (&[("scope", "demo:read not-a-scope")][..], "invalid_scope"),
    ] {
        let params = authorize(&handle, &client_id, "errors", extra)
            .await
            .location_params();
        assert_eq!(
            params.get("error").map(String::as_str),
            Some(error),
            "{extra:?}"
        );
        assert_eq!(params["state"], "the-state");
        assert!(!params.contains_key("code"));
    }
    let params = authorize(&handle, &client_id, "errors", &[("state", "")])
        .await
        .location_params();
    assert_eq!(params["error"], "invalid_request", "a state is required");
}

#[tokio::test]
async fn the_iss_parameter_follows_its_knob() {
    for (iss, expected) in [
        (IssParameter::Omit, None),
        (IssParameter::Wrong, Some("https://wrong-issuer.example")),
    ] {
        let handle = start(DemoAuthOptions::default().with_iss_parameter(iss)).await;
        let client_id = register_public(&handle).await;
        let params = authorize(&handle, &client_id, "iss", &[])
            .await
            .location_params();
        assert_eq!(params.get("iss").map(String::as_str), expected, "{iss:?}");
    }
}

#[tokio::test]
async fn expired_access_tokens_are_401_invalid_token() {
    let handle = start(DemoAuthOptions::default()).await;
    let (_, tokens) = log_in(&handle, "").await;
    let access_token = string(&tokens, "access_token");
    let reply = mcp_post(&handle, Some(access_token), None, &initialize_message()).await;
    assert_eq!(reply.status, StatusCode::OK);

    handle.expire_access_tokens();
    let reply = mcp_post(&handle, Some(access_token), None, &initialize_message()).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let challenge = reply.header("www-authenticate").expect("a challenge");
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(challenge.contains("resource_metadata=\""), "{challenge}");

    // A token issued afterwards works.
    let (_, tokens) = log_in(&handle, "").await;
    let reply = mcp_post(
        &handle,
        Some(string(&tokens, "access_token")),
        None,
        &initialize_message(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn s256_off_lists_only_plain_and_takes_plain_challenges() {
    let handle = start(DemoAuthOptions::default().with_s256(false)).await;
    let metadata = get(&handle, "/.well-known/oauth-authorization-server")
        .await
        .json();
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        json!(["plain"])
    );

    let client_id = register_public(&handle).await;
    let params = authorize(&handle, &client_id, "plain", &[])
        .await
        .location_params();
    assert_eq!(params["error"], "invalid_request", "S256 is refused");
    let verifier = pkce("plain").0;
    let extra = [
        ("code_challenge", verifier.as_str()),
        ("code_challenge_method", "plain"),
    ];
    let params = authorize(&handle, &client_id, "plain", &extra)
        .await
        .location_params();
    let reply = redeem(&handle, &client_id, &params["code"], &verifier).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
}
