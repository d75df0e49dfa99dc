//! Discovery against a scripted metadata server on 127.0.0.1.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mcp_oauth::discovery::{DiscoveryError, SsrfGuard, discover_resource, discover_server};
use mcp_transport::http::{HttpClient, HttpOptions, ProxyConfig};
use mcp_transport::www_authenticate::parse_challenges;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

/// Serves `documents` by path (404 for others) and records the paths asked for.
async fn metadata_server(
    documents: impl Fn(&str) -> HashMap<String, String> + Send + 'static,
) -> (Url, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let base = Url::parse(&format!(
        "http://{}",
        listener.local_addr().expect("address")
    ))
    .expect("a URL");
    let documents = documents(base.as_str().trim_end_matches('/'));
    let asked: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&asked);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                    break;
                }
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
            log.lock().expect("log").push(path.clone());
            let response = match documents.get(&path) {
                Some(body) => format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    .to_owned(),
            };
            let _ = stream.write_all(response.as_bytes()).await;
        }
    });
    (base, asked)
}

fn http() -> HttpClient {
    let mut options = HttpOptions::default();
    options.proxy = ProxyConfig::Direct;
    HttpClient::new(options).expect("a client")
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
        asked.lock().expect("log").as_slice(),
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
    assert_eq!(asked.lock().expect("log").as_slice(), ["/custom-prm"]);
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
        asked.lock().expect("log").as_slice(),
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
