//! The Manager against servers of each protocol era: a legacy-only one (revisions with
//! `initialize`), a modern-only one (2026-07-28: `server/discover`, no handshake) and a dual-era
//! one, over stdio and streamable HTTP, and stock SDK servers of each era (the Python SDK's,
//! modern; server-everything on the TypeScript SDK, legacy). Without configuration each is found
//! out and everything the Manager does works (calls, multi-round-trip elicitation, resources,
//! prompts, ping, subscriptions, caching hints); a forced era that the server does not speak
//! fails with a typed error.

use std::time::Duration;

use mcp_manager::config::{ProtocolEra, ServerConfig};
use mcp_manager::{ConnectError, ElicitationPolicy, Manager, ManagerEvent, ManagerOptions, Url};
use mcp_tests::fixture::{GREETING_TEXT, GREETING_URI, TEMPLATES_TTL_MS};
use mcp_tests::http_fixture::HttpFixture;
use mcp_tests::support::{stdio_fixture_args, text_of};
use serde_json::json;

use crate::FIXTURE;

/// Each fixture era, and the revision a dual-era client ends up speaking with it.
const ERAS: &[(&str, &str)] = &[
    ("legacy", "2025-11-25"),
    ("modern", "2026-07-28"),
    ("both", "2026-07-28"),
];

fn manager() -> Manager {
    let mut options = ManagerOptions::default();
    options.http.proxy = mcp_transport::http::ProxyConfig::Direct;
    // So `confirm` completes in both eras: a request of the server's own, or an input round.
    options.elicitation = ElicitationPolicy::AcceptDefaults;
    Manager::new(options).expect("a manager")
}

fn stdio_of_era(era: &str) -> ServerConfig {
    let mut args = stdio_fixture_args(&[]);
    args.extend(["--era".to_owned(), era.to_owned()]);
    ServerConfig::stdio(FIXTURE, args).with_connect_timeout(Duration::from_secs(20))
}

/// An HTTP fixture process of one era, killed when dropped.
async fn http_of_era(era: &str) -> HttpFixture {
    HttpFixture::start_with(FIXTURE, &["--era", era]).await
}

/// Its URL, parsed.
fn url_of(server: &HttpFixture) -> Url {
    Url::parse(server.url()).expect("a URL")
}

/// Everything the Manager does, against one connected server of the era that gives `expected`.
async fn exercise(manager: &Manager, name: &str, config: &ServerConfig, expected: &str) {
    let id = manager
        .connect(name, config)
        .await
        .unwrap_or_else(|error| panic!("{name}: {error}"));
    let listing = manager.listing(id).expect("listed");
    let version = listing.protocol_version.as_ref().expect("a version");
    assert_eq!(version.as_str(), expected, "{name}");
    assert_eq!(listing.tools.len(), 8, "{name}");
    assert_eq!(listing.resources.len(), 3, "{name}: every page");

    let echoed = manager
        .call_tool(id, "echo", json!({"text": "both eras"}))
        .await
        .unwrap_or_else(|error| panic!("{name}: {error}"));
    assert_eq!(text_of(&echoed), "both eras", "{name}");
    let confirmed = manager
        .call_tool(id, "confirm", ())
        .await
        .unwrap_or_else(|error| panic!("{name}: {error}"));
    assert_eq!(
        text_of(&confirmed),
        r#"accept {"proceed":true}"#,
        "{name}: elicitation answered in this era's way"
    );
    let read = manager
        .read_resource(id, GREETING_URI)
        .await
        .unwrap_or_else(|error| panic!("{name}: {error}"));
    let read = serde_json::to_value(&read).expect("JSON");
    assert_eq!(read["contents"][0]["text"], GREETING_TEXT, "{name}");
    let prompt = manager
        .get_prompt(id, "greet", json!({"name": "Ada"}))
        .await
        .unwrap_or_else(|error| panic!("{name}: {error}"));
    let prompt = serde_json::to_value(&prompt).expect("JSON");
    assert_eq!(
        prompt["messages"][0]["content"]["text"], "Hello, Ada!",
        "{name}"
    );
    // The modern era has no `ping`: the round trip is a `server/discover`.
    manager
        .ping(id)
        .await
        .unwrap_or_else(|error| panic!("{name}: ping: {error}"));
    let again = manager
        .refresh(id)
        .await
        .unwrap_or_else(|error| panic!("{name}: {error}"));
    assert_eq!(again.tools.len(), 8, "{name}");
}

#[tokio::test]
async fn a_stdio_server_of_either_era_is_found_out_and_fully_usable() {
    let manager = manager();
    for (era, expected) in ERAS {
        exercise(
            &manager,
            &format!("stdio-{era}"),
            &stdio_of_era(era),
            expected,
        )
        .await;
    }
}

#[tokio::test]
async fn an_http_server_of_either_era_is_found_out_and_fully_usable() {
    let manager = manager();
    for (era, expected) in ERAS {
        let server = http_of_era(era).await;
        let config = ServerConfig::http(url_of(&server));
        exercise(&manager, &format!("http-{era}"), &config, expected).await;
    }
}

#[tokio::test]
async fn a_dual_era_server_can_be_held_to_either_era() {
    let manager = manager();
    let legacy = stdio_of_era("both").with_protocol(ProtocolEra::Legacy);
    exercise(&manager, "held-legacy", &legacy, "2025-11-25").await;
    let modern = stdio_of_era("both").with_protocol(ProtocolEra::Modern);
    exercise(&manager, "held-modern", &modern, "2026-07-28").await;
    let server = http_of_era("both").await;
    let legacy = ServerConfig::http(url_of(&server)).with_protocol(ProtocolEra::Legacy);
    exercise(&manager, "held-legacy-http", &legacy, "2025-11-25").await;
}

/// A forced era the server does not speak is a handshake failure that names the versions,
/// reported at once (no retries: asking again changes nothing).
#[tokio::test]
async fn a_forced_era_the_server_lacks_fails_at_once_with_the_reason() {
    let manager = manager();
    // Each with the version the server does speak, which the error must name.
    for (era, forced, spoken) in [
        ("modern", ProtocolEra::Legacy, "2026-07-28"),
        ("legacy", ProtocolEra::Modern, "2025-11-25"),
    ] {
        let config = stdio_of_era(era).with_protocol(forced);
        let error = manager
            .connect(&format!("forced-{era}"), &config)
            .await
            .expect_err("the era is not spoken");
        let ConnectError::Failed {
            error: attempts, ..
        } = &error
        else {
            panic!("{era}: not a connect failure: {error:?}");
        };
        assert_eq!(attempts.attempts(), 1, "{era}: not retried: {error}");
        let message = error.to_string();
        assert!(
            message.contains(spoken),
            "{era}: the version it speaks is named: {message}"
        );
    }
}

/// The modern era's caching hints: a list the server says is fresh for a minute is kept by
/// `refresh` (the same freshness, not a later one), while lists without a hint are asked for
/// again.
#[tokio::test]
async fn refresh_keeps_what_the_server_says_is_still_fresh() {
    let manager = manager();
    let modern = manager
        .connect("fresh", &stdio_of_era("modern"))
        .await
        .expect("connected");
    let before = manager.listing(modern).expect("listed");
    let until = before
        .freshness
        .resource_templates
        .expect("the templates carry a caching hint");
    let left = until.saturating_duration_since(std::time::Instant::now());
    assert!(
        left <= Duration::from_millis(TEMPLATES_TTL_MS) && left > Duration::from_secs(30),
        "fresh for about a minute: {left:?}"
    );
    assert_eq!(before.freshness.tools, None, "no hint (0): stale at once");
    let after = manager.refresh(modern).await.expect("refreshed");
    assert_eq!(
        after.freshness.resource_templates,
        Some(until),
        "kept, not asked again"
    );
    assert_eq!(after.resource_templates.len(), 1);
    assert_eq!(after.tools.len(), 8);
}

/// Resource subscriptions in each era, over stdio and HTTP: `resources/subscribe` for a legacy server, a
/// `subscriptions/listen` stream (acknowledged before `subscribe_resource` returns) for a modern
/// one; either way an update arrives as `ManagerEvent::ResourceUpdated`, and after
/// `unsubscribe_resource` the server has no one left to tell.
#[tokio::test]
async fn resource_updates_arrive_in_either_era() {
    let manager = manager();
    let mut servers = Vec::new();
    // Held (and killed when dropped) until the end of the test.
    let mut https = Vec::new();
    for (era, _) in ERAS {
        let http = http_of_era(era).await;
        servers.push((format!("stdio-{era}"), stdio_of_era(era)));
        servers.push((format!("http-{era}"), ServerConfig::http(url_of(&http))));
        https.push(http);
    }
    for (name, config) in servers {
        let era = &name;
        let id = manager
            .connect(&name, &config)
            .await
            .unwrap_or_else(|error| panic!("{era}: {error}"));
        let mut events = manager.events();
        manager
            .subscribe_resource(id, GREETING_URI)
            .await
            .unwrap_or_else(|error| panic!("{era}: subscribe: {error}"));
        let told = manager
            .call_tool(id, "touch", json!({"uri": GREETING_URI}))
            .await
            .unwrap_or_else(|error| panic!("{era}: {error}"));
        assert_eq!(text_of(&told), "told 1", "{era}");
        let updated = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match events.recv().await {
                    Ok(ManagerEvent::ResourceUpdated { server, uri }) if server == name => {
                        return uri;
                    }
                    Ok(_) => {}
                    Err(error) => panic!("{era}: events: {error}"),
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{era}: no update"));
        assert_eq!(updated, GREETING_URI, "{era}");
        manager
            .unsubscribe_resource(id, GREETING_URI)
            .await
            .unwrap_or_else(|error| panic!("{era}: unsubscribe: {error}"));
        // A modern stream ends by a cancellation notification, which the server handles on its
        // own time: a bounded poll, not one look.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let told = manager
                .call_tool(id, "touch", json!({"uri": GREETING_URI}))
                .await
                .unwrap_or_else(|error| panic!("{era}: {error}"));
            if text_of(&told) == "told 0" {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{era}: still subscribed: {}",
                text_of(&told)
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// The repository's root: stock servers and their installs live under it.
fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests package is inside the workspace")
        .to_path_buf()
}

/// Servers the team did not write, unconfigured: the official Python SDK's stdio server (PyPI
/// `mcp`, which speaks 2026-07-28) ends up modern; server-everything (npm, on the TypeScript SDK,
/// which refuses `server/discover`) ends up legacy after the fallback. Both work in full.
#[tokio::test]
async fn stock_sdk_servers_of_each_era_are_found_out() {
    let root = workspace_root();
    let python = root.join("target/python/venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run `cargo xtask py-deps`",
        python.display()
    );
    let everything = crate::interop_everything::server_entry();
    let manager = manager();
    let servers = [
        (
            "python",
            ServerConfig::stdio(
                python.to_string_lossy(),
                [root.join("tests/python/stdio_server.py").to_string_lossy()],
            ),
            "2026-07-28",
            json!({"text": "from rust"}),
        ),
        (
            "everything",
            ServerConfig::stdio("node", [everything.to_string_lossy(), "stdio".into()]),
            "2025-11-25",
            json!({"message": "from rust"}),
        ),
    ];
    for (name, config, expected, arguments) in servers {
        let id = manager
            .connect(name, &config)
            .await
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        let listing = manager.listing(id).expect("listed");
        let version = listing.protocol_version.as_ref().expect("a version");
        assert_eq!(version.as_str(), expected, "{name}");
        let echoed = manager
            .call_tool(id, "echo", arguments)
            .await
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert!(text_of(&echoed).contains("from rust"), "{name}: {echoed:?}");
        manager
            .ping(id)
            .await
            .unwrap_or_else(|error| panic!("{name}: ping: {error}"));
        let prompts = manager.listing(id).expect("listed").prompts.len();
        assert!(prompts >= 1, "{name}: prompts listed");
    }
    let python = manager.id_of("python").expect("connected");
    let read = manager
        .read_resource(python, "test://greeting")
        .await
        .expect("read");
    let read = serde_json::to_value(&read).expect("JSON");
    assert_eq!(read["contents"][0]["text"], "Hello from the Python SDK");
    let prompt = manager
        .get_prompt(python, "greet", json!({"name": "Ada"}))
        .await
        .expect("prompt");
    let prompt = serde_json::to_value(&prompt).expect("JSON");
    assert_eq!(
        prompt["messages"][0]["content"]["text"],
        "Say hello to Ada."
    );
}
