//! MCP authorization end to end: the Manager against the demo's OAuth-protected server and its
//! built-in authorization server (every knob a client must cope with), logging in with the `follow`
//! browser. Loopback only; no sleeps: expiry is simulated by the server's handle.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use mcp_demo::{
    DemoAuthHandle, DemoAuthOptions, DemoAuthServer, DemoClient, IssParameter, MetadataLocation,
};
use mcp_manager::config::{HttpConfig, OAuthConfig, ServerConfig, TransportConfig};
use mcp_manager::{ConnectError, Manager, ManagerOptions};
use mcp_oauth::authorizer::{AuthError, Grant, OAuthRuntime, OAuthSettings};
use mcp_oauth::browser::{Browser, BrowserError, FollowBrowser};
use mcp_oauth::flow::TokenAuthMethod;
use mcp_oauth::grant::PrivateKeyJwt;
use mcp_oauth::store::{MemoryStore, StoreKey, TokenStore};
use mcp_transport::auth::Authorizer;
use mcp_transport::http::ProxyConfig;
use serde_json::json;
use url::Url;

use crate::http_client;

pub(crate) fn follow() -> Arc<dyn Browser> {
    Arc::new(FollowBrowser::new(http_client()))
}

pub(crate) async fn demo(options: DemoAuthOptions) -> DemoAuthHandle {
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("address");
    DemoAuthServer::bind(addr, options)
        .await
        .expect("bind the demo")
        .spawn()
}

pub(crate) fn manager(browser: Option<Arc<dyn Browser>>, store: &Arc<MemoryStore>) -> Manager {
    let mut options = ManagerOptions::default();
    options.http.proxy = ProxyConfig::Direct;
    options.token_store = Some(Arc::clone(store) as Arc<dyn TokenStore>);
    options.browser = browser;
    options.login_timeout = Duration::from_secs(30);
    Manager::new(options).expect("manager")
}

pub(crate) fn server(url: &str) -> ServerConfig {
    ServerConfig::http(Url::parse(url).expect("the demo's URL"))
        .with_connect_timeout(Duration::from_secs(20))
}

pub(crate) fn with_oauth(url: &str, edit: impl FnOnce(&mut OAuthConfig)) -> ServerConfig {
    let mut config = server(url);
    if let TransportConfig::Http(HttpConfig { oauth, .. }) = &mut config.transport {
        edit(oauth.get_or_insert_with(OAuthConfig::default));
    }
    config
}

/// The OAuth error under a connect failure.
fn auth_error(error: &ConnectError) -> &AuthError {
    error
        .auth_error()
        .unwrap_or_else(|| panic!("not an authorization error: {error:?}"))
}

pub(crate) async fn echo(manager: &Manager, id: mcp_manager::ServerId) {
    let args = json!({ "text": "hi" });
    let result = manager
        .call_tool(id, "echo", args.as_object().cloned())
        .await
        .expect("echo");
    assert!(format!("{:?}", result.content).contains("hi"));
}

pub(crate) fn key(name: &str, url: &str) -> StoreKey {
    StoreKey::new(
        name,
        mcp_oauth::discovery::canonical_resource(&Url::parse(url).expect("url")),
    )
}

/// Makes the stored tokens look an hour old and 10 seconds from expiry, as after a restart.
async fn expire_soon(store: &MemoryStore, key: &StoreKey) {
    let mut tokens = store.load(key).await.expect("load").expect("tokens");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    tokens.issued_at = now - 3600;
    tokens.expires_at = Some(now + 10);
    store.save(key, &tokens).await.expect("save");
}

/// Logs in to `demo` once with the `follow` browser, then shuts that manager down: the store
/// holds the tokens, as after an earlier run.
async fn logged_in_once(demo: &DemoAuthHandle) -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::new());
    let first = manager(Some(follow()), &store);
    first
        .connect("demo", &server(&demo.url()))
        .await
        .expect("connect");
    first.shutdown(Duration::from_secs(1)).await;
    store
}

/// A demo with `options`, and a manager connected to it as "demo" (logged in with `follow`).
async fn connected(
    options: DemoAuthOptions,
) -> (
    DemoAuthHandle,
    Arc<MemoryStore>,
    Manager,
    mcp_manager::ServerId,
) {
    let demo = demo(options).await;
    let store = Arc::new(MemoryStore::new());
    let manager = manager(Some(follow()), &store);
    let id = manager
        .connect("demo", &server(&demo.url()))
        .await
        .expect("connect");
    (demo, store, manager, id)
}

#[tokio::test]
async fn a_401_leads_to_one_login_whose_tokens_are_stored_and_reused() {
    let demo = demo(DemoAuthOptions::default()).await;
    let store = Arc::new(MemoryStore::new());
    let first = manager(Some(follow()), &store);
    let id = first
        .connect("demo", &server(&demo.url()))
        .await
        .expect("connect");
    echo(&first, id).await;
    let stats = demo.stats();
    assert_eq!(stats.authorizations, 1);
    assert_eq!(stats.registrations, 1);
    let request = stats
        .last_authorization_request()
        .expect("an authorization request");
    assert_eq!(request.param("code_challenge_method"), Some("S256"));
    assert_eq!(request.param("resource"), Some(demo.url().as_str()));
    assert_eq!(request.param("state").map(str::len), Some(32));
    let redirect = request.param("redirect_uri").expect("redirect_uri");
    assert!(redirect.starts_with("http://127.0.0.1:"), "{redirect}");
    let exchange = stats.last_token_request().expect("a token request");
    assert_eq!(exchange.param("grant_type"), Some("authorization_code"));
    assert_eq!(exchange.param("resource"), Some(demo.url().as_str()));
    assert!(exchange.has("code_verifier"));
    let stored = store
        .load(&key("demo", &demo.url()))
        .await
        .expect("load")
        .expect("tokens stored");
    assert!(stored.refresh_token.is_some());
    first.shutdown(Duration::from_secs(1)).await;

    // A new manager (a new run) uses the stored tokens: no browser is even configured.
    let second = manager(None, &store);
    let id = second
        .connect("demo", &server(&demo.url()))
        .await
        .expect("reconnect");
    echo(&second, id).await;
    assert_eq!(demo.stats().authorizations, 1);
    assert_eq!(demo.stats().registrations, 1);
}

#[tokio::test]
async fn twenty_parallel_connects_to_one_server_make_exactly_one_authorization() {
    let demo = demo(DemoAuthOptions::default()).await;
    let store = Arc::new(MemoryStore::new());
    let manager = manager(Some(follow()), &store);
    let config = server(&demo.url());
    let sessions =
        futures::future::join_all((0..20).map(|_| manager.isolated_named("demo", &config))).await;
    for session in &sessions {
        assert!(session.is_ok(), "{session:?}");
    }
    let stats = demo.stats();
    assert_eq!(stats.authorizations, 1, "{stats:?}");
    assert_eq!(stats.code_exchanges, 1);
    assert_eq!(stats.registrations, 1);
}

#[tokio::test]
async fn twenty_isolated_sessions_by_config_alone_make_exactly_one_authorization() {
    // As `mcpcord bench` opens them: no name given, so each session must not become a server of its
    // own with a login of its own.
    let demo = demo(DemoAuthOptions::default()).await;
    let store = Arc::new(MemoryStore::new());
    let manager = manager(Some(follow()), &store);
    let config = server(&demo.url());
    let sessions = futures::future::join_all((0..20).map(|_| manager.isolated(&config))).await;
    for session in &sessions {
        assert!(session.is_ok(), "{session:?}");
    }
    let stats = demo.stats();
    assert_eq!(stats.authorizations, 1, "{stats:?}");
    assert_eq!(stats.code_exchanges, 1, "{stats:?}");
    assert_eq!(stats.registrations, 1, "{stats:?}");
    // Stored under the name `mcpcord` gives a server named by its URL, so `mcpcord login URL` and
    // later runs find it.
    let stored = store
        .load(&key(&demo.url(), &demo.url()))
        .await
        .expect("load");
    assert!(
        stored.is_some(),
        "the login is stored under the server's URL"
    );
}

#[tokio::test]
async fn connections_and_isolated_sessions_to_one_server_share_one_login() {
    let demo = demo(DemoAuthOptions::default()).await;
    let store = Arc::new(MemoryStore::new());
    let manager = manager(Some(follow()), &store);
    let config = server(&demo.url());
    let (connected, sessions) = tokio::join!(
        manager.connect("demo", &config),
        futures::future::join_all((0..10).map(|_| manager.isolated_named("demo", &config))),
    );
    let id = connected.expect("connect");
    for session in &sessions {
        assert!(session.is_ok(), "{session:?}");
    }
    echo(&manager, id).await;
    let stats = demo.stats();
    assert_eq!(stats.authorizations, 1, "{stats:?}");
    assert_eq!(stats.code_exchanges, 1, "{stats:?}");
}

/// Waits until `parties` flows have presented their URLs before any proceeds: if flows to
/// different servers were serialised, the first would wait forever (and the test time out).
#[derive(Debug)]
struct Gate {
    barrier: tokio::sync::Barrier,
    inner: Arc<dyn Browser>,
}

impl Browser for Gate {
    fn open<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<(), BrowserError>> {
        Box::pin(async move {
            self.barrier.wait().await;
            self.inner.open(url).await
        })
    }
}

#[tokio::test]
async fn ten_servers_authorize_in_parallel_each_with_its_own_listener_and_state() {
    let mut demos = Vec::new();
    for _ in 0..10 {
        demos.push(demo(DemoAuthOptions::default()).await);
    }
    let store = Arc::new(MemoryStore::new());
    let gate: Arc<dyn Browser> = Arc::new(Gate {
        barrier: tokio::sync::Barrier::new(10),
        inner: follow(),
    });
    let manager = manager(Some(gate), &store);
    let configs: Vec<(String, ServerConfig)> = demos
        .iter()
        .enumerate()
        .map(|(index, demo)| (format!("demo{index}"), server(&demo.url())))
        .collect();
    let outcomes = tokio::time::timeout(Duration::from_secs(30), manager.connect_all(&configs))
        .await
        .expect("the flows ran in parallel");
    for (name, outcome) in &outcomes {
        assert!(outcome.is_ok(), "{name}: {outcome:?}");
    }
    let mut ports = std::collections::HashSet::new();
    let mut states = std::collections::HashSet::new();
    for demo in &demos {
        let stats = demo.stats();
        assert_eq!(stats.authorizations, 1);
        let request = stats.last_authorization_request().expect("request");
        ports.insert(request.param("redirect_uri").expect("redirect").to_owned());
        states.insert(request.param("state").expect("state").to_owned());
    }
    assert_eq!(ports.len(), 10, "one listener per flow");
    assert_eq!(states.len(), 10, "one state per flow");
}

/// Presents nothing: reports the URL and waits forever, like a person who never finishes.
#[derive(Debug)]
struct Abandoned {
    urls: tokio::sync::mpsc::UnboundedSender<Url>,
}

impl Browser for Abandoned {
    fn open<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<(), BrowserError>> {
        let _ = self.urls.send(url.clone());
        Box::pin(std::future::pending())
    }
}

fn redirect_port(url: &Url) -> u16 {
    let redirect = url
        .query_pairs()
        .find(|(name, _)| name == "redirect_uri")
        .map(|(_, value)| value.into_owned())
        .expect("redirect_uri");
    Url::parse(&redirect).expect("url").port().expect("port")
}

async fn listening(port: u16) -> bool {
    tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_ok()
}

#[tokio::test]
async fn shutting_the_manager_down_mid_flow_closes_the_callback_listener() {
    let demo = demo(DemoAuthOptions::default()).await;
    let store = Arc::new(MemoryStore::new());
    let (urls, mut presented) = tokio::sync::mpsc::unbounded_channel();
    let manager = Arc::new(manager(Some(Arc::new(Abandoned { urls })), &store));
    let connecting = tokio::spawn({
        let manager = Arc::clone(&manager);
        let config = server(&demo.url());
        async move { manager.connect("demo", &config).await }
    });
    let url = presented.recv().await.expect("the flow presented its URL");
    let port = redirect_port(&url);
    assert!(
        listening(port).await,
        "the callback listener is up mid-flow"
    );
    manager.shutdown(Duration::from_secs(1)).await;
    let outcome = connecting.await.expect("join");
    assert!(
        matches!(outcome, Err(ConnectError::ShutDown(_))),
        "{outcome:?}"
    );
    assert!(!listening(port).await, "no port is left listening");
}

#[tokio::test]
async fn dropping_a_connect_mid_flow_closes_the_callback_listener() {
    let demo = demo(DemoAuthOptions::default()).await;
    let store = Arc::new(MemoryStore::new());
    let (urls, mut presented) = tokio::sync::mpsc::unbounded_channel();
    let manager = manager(Some(Arc::new(Abandoned { urls })), &store);
    let config = server(&demo.url());
    let port = {
        let connect = manager.connect("demo", &config);
        tokio::pin!(connect);
        tokio::select! {
            outcome = &mut connect => panic!("the connect finished: {outcome:?}"),
            url = presented.recv() => redirect_port(&url.expect("url")),
        }
        // The connect future is dropped here, mid-flow.
    };
    assert!(
        !listening(port).await,
        "the listener closed with the future"
    );
    assert!(manager.servers().is_empty());
}

#[tokio::test]
async fn without_a_browser_a_needed_login_fails_at_once_saying_so() {
    let demo = demo(DemoAuthOptions::default()).await;
    let store = Arc::new(MemoryStore::new());
    let manager = manager(None, &store);
    let mut events = manager.events();
    let error = manager
        .connect("remote", &server(&demo.url()))
        .await
        .expect_err("a login is needed");
    let mut told = false;
    while let Ok(event) = events.try_recv() {
        told |= matches!(event, mcp_manager::ManagerEvent::AuthRequired { ref server, .. } if server == "remote");
    }
    assert!(told, "an AuthRequired event was published");
    assert!(error.is_login_required(), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("remote needs a login, and none may start here"),
        "{error}"
    );
    assert_eq!(error.attempts(), 1, "a missing login is not retried");
    assert_eq!(demo.stats().authorizations, 0);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_the_rotated_refresh_token_is_stored() {
    let (demo, store, manager, id) = connected(DemoAuthOptions::default()).await;
    let key = key("demo", &demo.url());
    let before = store.load(&key).await.expect("load").expect("tokens");
    demo.expire_access_tokens();
    echo(&manager, id).await;
    let stats = demo.stats();
    assert_eq!(stats.refreshes, 1, "{stats:?}");
    assert_eq!(stats.authorizations, 1, "no new login");
    let refresh = stats.last_token_request().expect("refresh request");
    assert_eq!(refresh.param("grant_type"), Some("refresh_token"));
    assert_eq!(refresh.param("resource"), Some(demo.url().as_str()));
    let after = store.load(&key).await.expect("load").expect("tokens");
    assert_ne!(before.access_token, after.access_token);
    assert_ne!(
        before.refresh_token, after.refresh_token,
        "rotation persisted"
    );
}

#[tokio::test]
async fn a_token_about_to_expire_is_refreshed_before_it_is_sent() {
    let demo = demo(DemoAuthOptions::default()).await;
    let store = logged_in_once(&demo).await;
    expire_soon(&store, &key("demo", &demo.url())).await;
    let unauthorized_before = demo.stats().unauthorized;

    let second = manager(None, &store);
    second
        .connect("demo", &server(&demo.url()))
        .await
        .expect("connect");
    let stats = demo.stats();
    assert_eq!(stats.refreshes, 1);
    assert_eq!(
        stats.unauthorized, unauthorized_before,
        "refreshed before any 401"
    );
}

#[tokio::test]
async fn a_refused_refresh_token_leads_to_a_new_authorization() {
    let (demo, _store, manager, id) = connected(DemoAuthOptions::default()).await;
    demo.revoke_refresh_tokens();
    demo.expire_access_tokens();
    echo(&manager, id).await;
    let stats = demo.stats();
    assert_eq!(stats.refreshes, 1);
    assert_eq!(stats.authorizations, 2, "{stats:?}");
}

#[tokio::test]
async fn a_refused_refresh_token_without_a_browser_is_the_login_error() {
    let demo = demo(DemoAuthOptions::default()).await;
    let store = logged_in_once(&demo).await;
    demo.revoke_refresh_tokens();
    demo.expire_access_tokens();
    let second = manager(None, &store);
    let error = second
        .connect("demo", &server(&demo.url()))
        .await
        .expect_err("the refresh token is dead");
    assert!(error.is_login_required(), "{error}");
    assert!(
        store
            .load(&key("demo", &demo.url()))
            .await
            .expect("load")
            .is_none(),
        "dead tokens are not kept"
    );
}

#[tokio::test]
async fn a_403_insufficient_scope_steps_up_with_the_union_of_scopes() {
    let demo = demo(
        DemoAuthOptions::default()
            .with_challenge_scope("demo:read")
            .with_step_up("add", "demo:write"),
    )
    .await;
    let store = Arc::new(MemoryStore::new());
    let manager = manager(Some(follow()), &store);
    let id = manager
        .connect("demo", &server(&demo.url()))
        .await
        .expect("connect");
    let first_scope = demo
        .stats()
        .last_authorization_request()
        .and_then(|request| request.param("scope").map(str::to_owned))
        .expect("scope");
    assert!(first_scope.contains("demo:read") && !first_scope.contains("demo:write"));
    let args = json!({ "a": 1, "b": 2 });
    manager
        .call_tool(id, "add", args.as_object().cloned())
        .await
        .expect("add after step-up");
    let stats = demo.stats();
    assert_eq!(stats.insufficient_scope, 1);
    assert_eq!(stats.authorizations, 2);
    let scope = stats
        .last_authorization_request()
        .and_then(|request| request.param("scope"))
        .expect("scope");
    let scopes: Vec<&str> = scope.split(' ').collect();
    assert!(
        scopes.contains(&"demo:read") && scopes.contains(&"demo:write"),
        "{scope}"
    );
}

#[tokio::test]
async fn every_metadata_variant_is_discovered() {
    let variants = [
        (
            "rfc8414 with a path",
            DemoAuthOptions::default().with_issuer_path("/tenant1"),
        ),
        (
            "openid inserted",
            DemoAuthOptions::default()
                .with_metadata(MetadataLocation::OpenIdInserted)
                .with_issuer_path("/tenant1"),
        ),
        (
            "openid appended",
            DemoAuthOptions::default()
                .with_metadata(MetadataLocation::OpenIdAppended)
                .with_issuer_path("/tenant1"),
        ),
        (
            "openid at the root",
            DemoAuthOptions::default().with_metadata(MetadataLocation::OpenIdInserted),
        ),
        (
            "resource metadata at the path, no pointer",
            DemoAuthOptions::default().with_resource_metadata_in_challenge(false),
        ),
        (
            "resource metadata at the root only, no pointer",
            DemoAuthOptions::default()
                .with_resource_metadata_in_challenge(false)
                .with_prm_locations(false, true),
        ),
        (
            "2025-03-26: metadata at the origin for another issuer",
            DemoAuthOptions::default()
                .with_metadata(MetadataLocation::Legacy)
                .with_issuer_path("/t"),
        ),
        (
            "2025-03-26: no metadata, default endpoints",
            DemoAuthOptions::default().with_metadata(MetadataLocation::LegacyNoMetadata),
        ),
    ];
    for (what, options) in variants {
        let demo = demo(options).await;
        let store = Arc::new(MemoryStore::new());
        let manager = manager(Some(follow()), &store);
        let outcome = manager.connect("demo", &server(&demo.url())).await;
        assert!(outcome.is_ok(), "{what}: {outcome:?}");
        assert_eq!(demo.stats().authorizations, 1, "{what}");
        manager.shutdown(Duration::from_secs(1)).await;
    }
}

/// Connects expecting an OAuth failure before any authorization request, and returns its text.
async fn refused_before_authorizing(options: DemoAuthOptions) -> String {
    let demo = demo(options).await;
    let store = Arc::new(MemoryStore::new());
    let manager = manager(Some(follow()), &store);
    let error = manager
        .connect("demo", &server(&demo.url()))
        .await
        .expect_err("refused");
    let _ = auth_error(&error);
    assert_eq!(demo.stats().authorizations, 0, "{error}");
    assert_eq!(demo.stats().code_exchanges, 0, "{error}");
    error.to_string()
}

#[tokio::test]
async fn metadata_for_another_resource_is_refused_before_any_authorization() {
    let message =
        refused_before_authorizing(DemoAuthOptions::default().with_wrong_resource(true)).await;
    assert!(message.contains("refusing to authorize"), "{message}");
}

#[tokio::test]
async fn metadata_naming_another_issuer_is_refused() {
    let message =
        refused_before_authorizing(DemoAuthOptions::default().with_wrong_issuer(true)).await;
    assert!(message.contains("names issuer"), "{message}");
}

#[tokio::test]
async fn an_authorization_server_without_s256_is_refused() {
    let message = refused_before_authorizing(DemoAuthOptions::default().with_s256(false)).await;
    assert!(message.contains("S256"), "{message}");
}

#[tokio::test]
async fn a_wrong_iss_in_the_response_means_the_code_is_never_redeemed() {
    let demo = demo(DemoAuthOptions::default().with_iss_parameter(IssParameter::Wrong)).await;
    let store = Arc::new(MemoryStore::new());
    let manager = manager(Some(follow()), &store);
    let error = manager
        .connect("demo", &server(&demo.url()))
        .await
        .expect_err("mix-up");
    assert!(matches!(
        auth_error(&error),
        AuthError::Flow {
            source: mcp_oauth::flow::FlowError::IssuerMismatch { .. },
            ..
        }
    ));
    assert_eq!(demo.stats().authorizations, 1);
    assert_eq!(demo.stats().code_exchanges, 0);
}

#[tokio::test]
async fn a_missing_iss_is_refused_when_the_server_promises_it() {
    let demo = demo(
        DemoAuthOptions::default()
            .with_iss_parameter(IssParameter::Omit)
            .with_advertise_iss_parameter(true),
    )
    .await;
    let store = Arc::new(MemoryStore::new());
    let manager = manager(Some(follow()), &store);
    let error = manager
        .connect("demo", &server(&demo.url()))
        .await
        .expect_err("iss promised, not sent");
    assert!(
        error.to_string().contains("the code was not used"),
        "{error}"
    );
    assert_eq!(demo.stats().code_exchanges, 0);
}

#[tokio::test]
async fn a_denied_authorization_is_reported_as_such() {
    let demo = demo(DemoAuthOptions::default().with_deny(true)).await;
    let store = Arc::new(MemoryStore::new());
    let manager = manager(Some(follow()), &store);
    let error = manager
        .connect("demo", &server(&demo.url()))
        .await
        .expect_err("denied");
    assert!(
        matches!(
            auth_error(&error),
            AuthError::Callback { .. } | AuthError::Browser { .. }
        ),
        "{error}"
    );
    assert_eq!(demo.stats().code_exchanges, 0);
}

#[tokio::test]
async fn without_registration_a_client_id_must_be_configured() {
    let demo = demo(DemoAuthOptions::default().with_dcr(false).with_cimd(false)).await;
    let store = Arc::new(MemoryStore::new());
    let manager = manager(Some(follow()), &store);
    let error = manager
        .connect("demo", &server(&demo.url()))
        .await
        .expect_err("no client identity");
    assert!(error.to_string().contains("client_id"), "{error}");
    assert_eq!(demo.stats().authorizations, 0);
}

#[tokio::test]
async fn a_pre_registered_public_client_is_used_without_registration() {
    let demo = demo(
        DemoAuthOptions::default()
            .with_pre_registered(DemoClient::public("mcpcord-test"))
            .with_dcr(false),
    )
    .await;
    let store = Arc::new(MemoryStore::new());
    let manager = manager(Some(follow()), &store);
    let config = with_oauth(&demo.url(), |oauth| {
        oauth.client_id = Some("mcpcord-test".to_owned())
    });
    manager.connect("demo", &config).await.expect("connect");
    let stats = demo.stats();
    assert_eq!(stats.registrations, 0);
    assert_eq!(
        stats
            .last_authorization_request()
            .and_then(|request| request.param("client_id")),
        Some("mcpcord-test")
    );
}

#[tokio::test]
async fn a_client_metadata_document_is_used_when_the_server_supports_it() {
    let demo = demo(DemoAuthOptions::default().with_cimd(true)).await;
    let store = Arc::new(MemoryStore::new());
    let manager = manager(Some(follow()), &store);
    let document = "https://client.example/mcpcord/client.json";
    let config = with_oauth(&demo.url(), |oauth| {
        oauth.client_metadata_url = Some(Url::parse(document).expect("a URL"));
    });
    manager.connect("demo", &config).await.expect("connect");
    let stats = demo.stats();
    assert_eq!(stats.registrations, 0);
    assert_eq!(stats.cimd_client_ids, [document]);
}

#[tokio::test]
async fn a_registration_is_reused_for_another_server_behind_the_same_authorization_server() {
    let demo = demo(DemoAuthOptions::default()).await;
    let store = Arc::new(MemoryStore::new());
    let manager = manager(Some(follow()), &store);
    manager
        .connect("one", &server(&demo.url()))
        .await
        .expect("one");
    manager
        .connect("two", &server(&demo.url()))
        .await
        .expect("two");
    let stats = demo.stats();
    assert_eq!(stats.registrations, 1);
    assert_eq!(stats.authorizations, 2, "tokens are per server name");
}

/// The fixed test key of the client credentials tests.
fn test_key() -> p256::SecretKey {
    p256::SecretKey::from_slice(&[0x22; 32]).expect("a valid scalar")
}

/// Checks an ES256 client assertion with the test key's public half.
fn verify_assertion(assertion: &str, client_id: &str) -> bool {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use p256::ecdsa::signature::Verifier as _;
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return false;
    };
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
        return false;
    };
    let Ok(signature) = p256::ecdsa::Signature::from_slice(&signature) else {
        return false;
    };
    let public = p256::ecdsa::VerifyingKey::from(&p256::ecdsa::SigningKey::from(&test_key()));
    let signed = format!("{header}.{claims}");
    let Ok(claims) = URL_SAFE_NO_PAD.decode(claims) else {
        return false;
    };
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(&claims) else {
        return false;
    };
    public.verify(signed.as_bytes(), &signature).is_ok()
        && claims["sub"] == client_id
        && claims["iss"] == client_id
}

/// The client credentials grant through the `Authorizer` directly: tokens come up front.
async fn client_credentials_token(
    demo: &DemoAuthHandle,
    identity: impl FnOnce(&mut mcp_oauth::registration::ClientIdentity),
) -> Result<Option<String>, mcp_transport::TransportError> {
    let runtime = Arc::new(OAuthRuntime::new(
        http_client(),
        Arc::new(MemoryStore::new()),
    ));
    let mut settings = OAuthSettings::new("machine", Url::parse(&demo.url()).expect("url"));
    settings.grant = Grant::ClientCredentials;
    identity(&mut settings.identity);
    let authorizer = runtime.authorizer(settings);
    authorizer.bearer_token().await
}

#[tokio::test]
async fn the_client_credentials_grant_authenticates_by_each_method() {
    // One enum on both sides: the method the client is told to use is the one the demo expects.
    for method in [
        TokenAuthMethod::ClientSecretBasic,
        TokenAuthMethod::ClientSecretPost,
    ] {
        let demo = demo(
            DemoAuthOptions::default()
                .with_client_credentials(true)
                .with_pre_registered(DemoClient::with_secret("machine", "s3cret", method)),
        )
        .await;
        let token = client_credentials_token(&demo, |identity| {
            identity.client_id = Some("machine".to_owned());
            identity.client_secret = Some("s3cret".to_owned());
            identity.auth_method = Some(method);
        })
        .await
        .expect("token");
        assert!(token.is_some());
        let stats = demo.stats();
        assert_eq!(stats.client_credentials_grants, 1);
        assert_eq!(stats.authorizations, 0, "no browser involved");
        let request = stats.last_token_request().expect("token request");
        assert_eq!(request.client_auth, Some(method));
        assert_eq!(request.param("resource"), Some(demo.url().as_str()));
    }
}

#[tokio::test]
async fn the_client_credentials_grant_signs_a_private_key_jwt() {
    use p256::pkcs8::{EncodePrivateKey as _, LineEnding};
    let demo = demo(
        DemoAuthOptions::default()
            .with_client_credentials(true)
            .with_pre_registered(DemoClient::private_key_jwt("signer"))
            .with_jwt_verifier(verify_assertion),
    )
    .await;
    let pem = test_key().to_pkcs8_pem(LineEnding::LF).expect("pem");
    let key = PrivateKeyJwt::from_pem(&pem, Some("k1".to_owned())).expect("key");
    let token = client_credentials_token(&demo, |identity| {
        identity.client_id = Some("signer".to_owned());
        identity.private_key = Some(key);
    })
    .await
    .expect("token");
    assert!(token.is_some());
    let stats = demo.stats();
    assert_eq!(stats.client_credentials_grants, 1);
    assert_eq!(
        stats
            .last_token_request()
            .and_then(|request| request.client_auth),
        Some(TokenAuthMethod::PrivateKeyJwt)
    );
    assert_eq!(stats.rejected_token_requests, 0);
}

#[tokio::test]
async fn a_wrong_client_secret_is_a_typed_refusal() {
    let demo = demo(
        DemoAuthOptions::default()
            .with_client_credentials(true)
            .with_pre_registered(DemoClient::with_secret(
                "machine",
                "right",
                TokenAuthMethod::ClientSecretBasic,
            )),
    )
    .await;
    let error = client_credentials_token(&demo, |identity| {
        identity.client_id = Some("machine".to_owned());
        identity.client_secret = Some("wrong".to_owned());
    })
    .await
    .expect_err("refused");
    let auth = AuthError::from_transport_error(&error).expect("an AuthError");
    assert!(
        matches!(auth, AuthError::Flow { source, .. } if source.is_invalid_client()),
        "{auth}"
    );
    assert!(
        !error.to_string().contains("wrong"),
        "the secret is not echoed: {error}"
    );
}

#[tokio::test]
async fn logout_forgets_the_tokens_and_login_replaces_them() {
    let demo = demo(DemoAuthOptions::default()).await;
    let store = Arc::new(MemoryStore::new());
    let manager = manager(Some(follow()), &store);
    let config = server(&demo.url());
    let report = manager
        .login("demo", &config)
        .await
        .expect("login")
        .expect("a login happened");
    assert!(report.refreshable);
    assert!(
        report.scopes.iter().any(|scope| scope == "demo:read"),
        "{report:?}"
    );
    let key = key("demo", &demo.url());
    let first = store.load(&key).await.expect("load").expect("stored");
    // Logging in again makes a new authorization even though tokens are stored.
    manager
        .login("demo", &config)
        .await
        .expect("login")
        .expect("again");
    assert_eq!(demo.stats().authorizations, 2);
    let second = store.load(&key).await.expect("load").expect("stored");
    assert_ne!(first.access_token, second.access_token);
    assert!(manager.logout("demo", &config).await.expect("logout"));
    assert!(store.load(&key).await.expect("load").is_none());
    assert!(
        !manager.logout("demo", &config).await.expect("logout"),
        "nothing left"
    );
}

#[tokio::test]
async fn tokens_are_kept_per_server_url_and_never_sent_to_another() {
    let one = demo(DemoAuthOptions::default()).await;
    let two = demo(DemoAuthOptions::default()).await;
    let store = Arc::new(MemoryStore::new());
    let manager = manager(Some(follow()), &store);
    let id = manager
        .connect("demo", &server(&one.url()))
        .await
        .expect("one");
    manager.disconnect(id).await.expect("disconnect");
    // The same name pointed at another URL is another key: a login of its own.
    manager
        .connect("demo", &server(&two.url()))
        .await
        .expect("two");
    assert_eq!(two.stats().authorizations, 1);
    let first = store
        .load(&key("demo", &one.url()))
        .await
        .expect("load")
        .expect("one's");
    let second = store
        .load(&key("demo", &two.url()))
        .await
        .expect("load")
        .expect("two's");
    assert_ne!(first.access_token, second.access_token);
}

/// An authorizer for `demo` driven directly through the transport's trait, as the HTTP client
/// drives it, so a test can play a server that keeps refusing.
fn direct_authorizer(demo: &DemoAuthHandle) -> mcp_oauth::authorizer::OAuthAuthorizer {
    let runtime = Arc::new(
        OAuthRuntime::new(http_client(), Arc::new(MemoryStore::new())).with_browser(follow()),
    );
    runtime.authorizer(OAuthSettings::new(
        "direct",
        Url::parse(&demo.url()).expect("url"),
    ))
}

fn challenge(
    status: u16,
    header: &str,
    rejected: Option<String>,
) -> mcp_transport::auth::AuthChallenge {
    mcp_transport::auth::AuthChallenge {
        status,
        challenge: mcp_transport::www_authenticate::parse_challenges(header)
            .expect("challenge")
            .into_iter()
            .next(),
        rejected_token: rejected,
    }
}

fn auth_error_of(error: &mcp_transport::TransportError) -> &AuthError {
    AuthError::from_transport_error(error).unwrap_or_else(|| panic!("not an AuthError: {error:?}"))
}

#[tokio::test]
async fn step_up_stops_after_three_authorizations_for_the_same_scopes() {
    use mcp_transport::auth::ChallengeOutcome;
    let demo = demo(DemoAuthOptions::default()).await;
    let authorizer = direct_authorizer(&demo);
    assert_eq!(authorizer.bearer_token().await.expect("token"), None);
    let outcome = authorizer
        .on_challenge(&challenge(401, "Bearer scope=\"demo:read\"", None))
        .await
        .expect("login");
    assert_eq!(outcome, ChallengeOutcome::RetryWithNewToken);
    let insufficient = "Bearer error=\"insufficient_scope\", scope=\"demo:write\"";
    for round in 2..=3 {
        let token = authorizer.bearer_token().await.expect("token");
        authorizer.accepted(token.as_deref().expect("a token"));
        let outcome = authorizer
            .on_challenge(&challenge(403, insufficient, token))
            .await
            .expect("step-up");
        assert_eq!(outcome, ChallengeOutcome::RetryWithNewToken);
        assert_eq!(demo.stats().authorizations, round);
    }
    let token = authorizer.bearer_token().await.expect("token");
    let error = authorizer
        .on_challenge(&challenge(403, insufficient, token))
        .await
        .expect_err("exhausted");
    assert!(
        matches!(
            auth_error_of(&error),
            AuthError::StepUpExhausted { attempts: 3, .. }
        ),
        "{error}"
    );
    assert_eq!(demo.stats().authorizations, 3, "no fourth authorization");
}

#[tokio::test]
async fn a_401_on_a_token_never_accepted_after_login_is_final_not_a_loop() {
    use mcp_transport::auth::ChallengeOutcome;
    let demo = demo(DemoAuthOptions::default()).await;
    let authorizer = direct_authorizer(&demo);
    authorizer
        .on_challenge(&challenge(401, "Bearer", None))
        .await
        .expect("login");
    let fresh = authorizer.bearer_token().await.expect("token");
    let error = authorizer
        .on_challenge(&challenge(
            401,
            "Bearer error=\"invalid_token\"",
            fresh.clone(),
        ))
        .await
        .expect_err("the server refuses what was just issued");
    assert!(
        matches!(auth_error_of(&error), AuthError::RejectedAfterLogin { .. }),
        "{error}"
    );
    assert_eq!(demo.stats().authorizations, 1);
    assert_eq!(demo.stats().refreshes, 0);

    // Once the token has worked, a 401 on it is an expiry: one refresh.
    authorizer.accepted(fresh.as_deref().expect("a token"));
    let outcome = authorizer
        .on_challenge(&challenge(
            401,
            "Bearer error=\"invalid_token\"",
            fresh.clone(),
        ))
        .await
        .expect("refresh");
    assert_eq!(outcome, ChallengeOutcome::RetryWithNewToken);
    assert_eq!(demo.stats().refreshes, 1);
    // A stale challenge for the old token finds the new one already there: nothing more is done.
    let outcome = authorizer
        .on_challenge(&challenge(401, "Bearer", fresh))
        .await
        .expect("shared");
    assert_eq!(outcome, ChallengeOutcome::RetryWithNewToken);
    assert_eq!(demo.stats().refreshes, 1);
    assert_eq!(demo.stats().authorizations, 1);
}

#[tokio::test]
async fn tokens_from_the_2025_03_26_fallback_are_refreshed_after_a_restart() {
    // No metadata anywhere: the tokens' issuer is the MCP origin, which has no RFC 8414 document
    // of its own, so the refresh finds its endpoints through the same fallback again.
    let demo =
        demo(DemoAuthOptions::default().with_metadata(MetadataLocation::LegacyNoMetadata)).await;
    let store = logged_in_once(&demo).await;
    expire_soon(&store, &key("demo", &demo.url())).await;

    let second = manager(None, &store);
    second
        .connect("demo", &server(&demo.url()))
        .await
        .expect("refreshed, no login");
    let stats = demo.stats();
    assert_eq!(stats.refreshes, 1);
    assert_eq!(stats.authorizations, 1);
    assert_eq!(stats.rejected_token_requests, 0);
}
