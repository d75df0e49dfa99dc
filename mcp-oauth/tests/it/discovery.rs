//! Discovery against a scripted metadata server on 127.0.0.1.

use std::collections::HashMap;

use mcp_oauth::discovery::{DiscoveryError, SsrfGuard, discover_resource, discover_server};
use mcp_transport::www_authenticate::parse_challenges;
use url::Url;

use crate::support::{Response, Stub, http};

/// Serves `documents(base)` by path as JSON (404 for other paths); returns the base URL and the
/// stub, which records the paths asked for.
async fn metadata_server(
    documents: impl Fn(&str) -> HashMap<String, String> + Send + 'static,
) -> (Url, Stub) {
    let stub = Stub::start(
        move |request, base| match documents(base).get(&request.target) {
            Some(body) => Response::json(200, body.as_str()),
            None => Response::status(404),
        },
    )
    .await;
    (stub.url(), stub)
}

fn doc(pairs: &[(&str, String)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(path, body)| ((*path).to_owned(), body.clone()))
        .collect()
}

#[tokio::test]
async fn path_based_resource_metadata_is_found_before_the_root() {
    let (base, asked) = metadata_server(|base| {
        doc(&[
            (
                "/.well-known/oauth-protected-resource/mcp",
                format!(r#"{{"resource":"{base}/mcp","authorization_servers":["{base}"]}}"#),
            ),
            (
                "/.well-known/oauth-protected-resource",
                r#"{"resource":"wrong"}"#.to_owned(),
            ),
        ])
    })
    .await;
    let server = base.join("/mcp").expect("a URL");
    let guard = SsrfGuard::for_server(&server).await;
    let metadata = discover_resource(&http(), &guard, &server, None)
        .await
        .expect("found");
    assert_eq!(metadata.authorization_servers.len(), 1);
    assert_eq!(
        asked.targets(),
        ["/.well-known/oauth-protected-resource/mcp"]
    );
}

#[tokio::test]
async fn the_challenge_pointer_wins_and_a_foreign_resource_is_refused() {
    let (base, asked) = metadata_server(|_| {
        doc(&[(
            "/custom-prm",
            r#"{"resource":"https://elsewhere.example/mcp"}"#.to_owned(),
        )])
    })
    .await;
    let server = base.join("/mcp").expect("a URL");
    let header = format!(r#"Bearer resource_metadata="{}custom-prm""#, base);
    let challenges = parse_challenges(&header).expect("a challenge");
    let guard = SsrfGuard::for_server(&server).await;
    let error = discover_resource(&http(), &guard, &server, challenges.first())
        .await
        .expect_err("another server's metadata");
    assert!(
        matches!(error, DiscoveryError::ResourceMismatch { .. }),
        "{error:?}"
    );
    assert_eq!(asked.targets(), ["/custom-prm"]);
}

#[tokio::test]
async fn server_metadata_checks_the_issuer() {
    let (base, _) = metadata_server(|base| {
        doc(&[(
            "/.well-known/oauth-authorization-server/tenant",
            format!(
                r#"{{"issuer":"{base}/other","authorization_endpoint":"{base}/a","token_endpoint":"{base}/t"}}"#
            ),
        )])
    })
    .await;
    let issuer = base.join("/tenant").expect("a URL");
    let guard = SsrfGuard::for_server(&issuer).await;
    let error = discover_server(&http(), &guard, &issuer)
        .await
        .expect_err("wrong issuer");
    assert!(
        matches!(error, DiscoveryError::IssuerMismatch { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn openid_configuration_is_the_fallback() {
    let (base, asked) = metadata_server(|base| {
        doc(&[(
            "/.well-known/openid-configuration",
            format!(
                r#"{{"issuer":"{base}","authorization_endpoint":"{base}/a","token_endpoint":"{base}/t","code_challenge_methods_supported":["S256"]}}"#
            ),
        )])
    })
    .await;
    let guard = SsrfGuard::for_server(&base).await;
    let metadata = discover_server(&http(), &guard, &base)
        .await
        .expect("found");
    metadata.require_s256().expect("S256 offered");
    assert_eq!(
        asked.targets(),
        [
            "/.well-known/oauth-authorization-server",
            "/.well-known/openid-configuration"
        ]
    );
}

#[tokio::test]
async fn nothing_found_lists_what_was_tried() {
    let (base, _) = metadata_server(|_| HashMap::new()).await;
    let server = base.join("/mcp").expect("a URL");
    let guard = SsrfGuard::for_server(&server).await;
    let error = discover_resource(&http(), &guard, &server, None)
        .await
        .expect_err("nothing");
    assert!(
        error
            .to_string()
            .contains("/.well-known/oauth-protected-resource/mcp"),
        "{error}"
    );
}
