//! What the authorizer does with a token response it cannot use: nothing is stored, and what was
//! stored before stays; and how often a token that claims to expire at once is refreshed.
//!
//! The MCP server's metadata, the authorization server and its token endpoint are one scripted
//! stub on 127.0.0.1; the `follow` browser approves the authorization.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use mcp_oauth::authorizer::{OAuthAuthorizer, OAuthRuntime, OAuthSettings};
use mcp_oauth::browser::FollowBrowser;
use mcp_oauth::store::{FileStore, StoreKey, StoredTokens, TokenStore};
use mcp_transport::auth::{AuthChallenge, Authorizer};
use url::Url;

use crate::support::{Request, Response, Stub, TempDir, http};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// The MCP server at `/mcp` with its protected-resource metadata, the authorization server at the
/// origin (auto-approving: `/authorize` redirects straight back with a code), and a token
/// endpoint answering every request with `token_reply`.
async fn servers(token_reply: &'static str) -> Stub {
    Stub::start(move |request: &Request, base: &str| {
        let path = request.target.split('?').next().unwrap_or_default();
        match path {
            "/.well-known/oauth-protected-resource/mcp" => Response::json(
                200,
                serde_json::json!({
                    "resource": format!("{base}/mcp"),
                    "authorization_servers": [base],
                })
                .to_string(),
            ),
            "/.well-known/oauth-authorization-server" => Response::json(
                200,
                serde_json::json!({
                    "issuer": base,
                    "authorization_endpoint": format!("{base}/authorize"),
                    "token_endpoint": format!("{base}/token"),
                    "code_challenge_methods_supported": ["S256"],
                })
                .to_string(),
            ),
            "/authorize" => {
                let url = Url::parse(&format!("{base}{}", request.target)).expect("a URL");
                let param = |name: &str| {
                    url.query_pairs()
                        .find(|(key, _)| key == name)
                        .map(|(_, value)| value.into_owned())
                        .unwrap_or_default()
                };
                let mut back = Url::parse(&param("redirect_uri")).expect("redirect URI");
                back.query_pairs_mut()
                    .append_pair("code", "the-code")
                    .append_pair("state", &param("state"));
                Response::status(302).header("location", back)
            }
            "/token" => Response::json(200, token_reply),
            _ => Response::status(404),
        }
    })
    .await
}

/// An interactive authorizer for the stub's MCP server over a file store in `dir`, as a
/// pre-registered public client; and the store and its key.
fn authorizer(stub: &Stub, dir: &TempDir) -> (OAuthAuthorizer, Arc<FileStore>, StoreKey) {
    let mut settings = OAuthSettings::new("remote", stub.join("/mcp"));
    settings.identity.client_id = Some("client-1".to_owned());
    let key = settings.store_key();
    let store = Arc::new(FileStore::new(dir.path().join("home")));
    let runtime = Arc::new(
        OAuthRuntime::new(http(), Arc::clone(&store) as Arc<dyn TokenStore>)
            .with_browser(Arc::new(FollowBrowser::new(http()))),
    );
    (runtime.authorizer(settings), store, key)
}

fn stored(access: &str, refresh: Option<&str>, issuer: &str, expires_in: u64) -> StoredTokens {
    let issued_at = now();
    StoredTokens {
        access_token: access.to_owned(),
        token_type: "Bearer".to_owned(),
        refresh_token: refresh.map(str::to_owned),
        scopes: Vec::new(),
        issued_at,
        expires_at: Some(issued_at + expires_in),
        issuer: Some(issuer.to_owned()),
        resource: None,
        dpop_key: None,
    }
}

fn token_requests(stub: &Stub) -> usize {
    stub.targets()
        .iter()
        .filter(|target| target.as_str() == "/token")
        .count()
}

#[tokio::test]
async fn an_access_token_with_cr_lf_fails_the_login_and_leaves_the_stored_tokens_alone() {
    let stub = servers(
        r#"{"access_token":"evil\r\nX-Injected: 1","token_type":"Bearer","expires_in":3600}"#,
    )
    .await;
    let dir = TempDir::new("crlf");
    let (authorizer, store, key) = authorizer(&stub, &dir);
    let before = stored("old-token", None, &stub.base, 3600);
    store.save(&key, &before).await.expect("save");
    let file = store.token_path(&key);
    let bytes_before = std::fs::read(&file).expect("read");

    let outcome = authorizer
        .on_challenge(&AuthChallenge {
            status: 401,
            challenge: None,
            rejected_token: Some("old-token".to_owned()),
        })
        .await;

    assert_eq!(token_requests(&stub), 1, "the code was redeemed once");
    let error = outcome.expect_err("an unusable token fails the login");
    let text = format!("{error} {error:?}");
    assert!(!text.contains("evil"), "the token is never quoted: {text}");
    assert_eq!(std::fs::read(&file).expect("read"), bytes_before);
    assert_eq!(store.load(&key).await.expect("load"), Some(before));
}

#[tokio::test]
async fn a_token_type_other_than_bearer_is_never_stored() {
    let stub =
        servers(r#"{"access_token":"mac-token","token_type":"MAC","expires_in":3600}"#).await;
    let dir = TempDir::new("mac");
    let (authorizer, store, key) = authorizer(&stub, &dir);
    let before = stored("old-token", None, &stub.base, 3600);
    store.save(&key, &before).await.expect("save");

    let outcome = authorizer
        .on_challenge(&AuthChallenge {
            status: 401,
            challenge: None,
            rejected_token: Some("old-token".to_owned()),
        })
        .await;

    outcome.expect_err("a MAC token cannot be sent as a bearer");
    assert_eq!(store.load(&key).await.expect("load"), Some(before));
}

#[tokio::test]
async fn a_token_that_expires_at_once_is_not_refreshed_before_every_request() {
    let stub = servers(
        r#"{"access_token":"next","token_type":"bearer","expires_in":0,"refresh_token":"rt-2"}"#,
    )
    .await;
    let dir = TempDir::new("expires-0");
    let (authorizer, store, key) = authorizer(&stub, &dir);
    store
        .save(&key, &stored("first", Some("rt-1"), &stub.base, 0))
        .await
        .expect("save");

    // One tool call is several HTTP requests (initialize, initialized, the call itself...).
    for _ in 0..7 {
        let token = authorizer.bearer_token().await.expect("a token");
        assert!(token.is_some());
    }

    assert!(
        token_requests(&stub) <= 1,
        "{} token requests for seven HTTP requests",
        token_requests(&stub)
    );
}
