//! `logout` removes whatever is at a server's token path, the way its own error messages promise:
//! a corrupt file, a symbolic link (never its target), a file open to others.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::http;
use mcp_oauth::authorizer::{OAuthAuthorizer, OAuthRuntime, OAuthSettings};
use mcp_oauth::store::{FileStore, StoredTokens, TokenStore};
use url::Url;

/// A directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "mcp-oauth-logout-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir(&path).expect("create the temp dir");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o700)).expect("chmod");
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn tokens() -> StoredTokens {
    StoredTokens {
        access_token: "access-secret".to_owned(),
        token_type: "Bearer".to_owned(),
        refresh_token: None,
        scopes: Vec::new(),
        issued_at: 1_700_000_000,
        expires_at: None,
        issuer: None,
        resource: None,
    }
}

/// A file store under `dir` holding valid tokens for the server, its authorizer, and the path of
/// the token file.
async fn logged_in(dir: &TempDir) -> (OAuthAuthorizer, PathBuf) {
    let settings = OAuthSettings::new(
        "remote",
        Url::parse("https://mcp.example.com/mcp").expect("url"),
    );
    let key = settings.store_key();
    let store = Arc::new(FileStore::new(dir.path().join("home")));
    store.save(&key, &tokens()).await.expect("save");
    let path = store.token_path(&key);
    let runtime = Arc::new(OAuthRuntime::new(http(), store));
    (runtime.authorizer(settings), path)
}

#[tokio::test]
async fn logout_removes_a_corrupt_token_file() {
    let dir = TempDir::new("corrupt");
    let (authorizer, path) = logged_in(&dir).await;
    fs::write(&path, b"{\"format\": 1, \"tokens\": ").expect("corrupt it");

    let existed = authorizer.logout().await.expect("logout");
    assert!(existed);
    assert!(fs::symlink_metadata(&path).is_err(), "the file is gone");
}

#[tokio::test]
async fn logout_removes_a_symbolic_link_and_never_its_target() {
    let dir = TempDir::new("symlink");
    let (authorizer, path) = logged_in(&dir).await;
    let target = dir.path().join("elsewhere.json");
    fs::write(&target, b"someone else's file").expect("target");
    fs::remove_file(&path).expect("remove");
    std::os::unix::fs::symlink(&target, &path).expect("symlink");

    let existed = authorizer.logout().await.expect("logout");
    assert!(existed);
    assert!(fs::symlink_metadata(&path).is_err(), "the link is gone");
    assert_eq!(fs::read(&target).expect("target"), b"someone else's file");
}

#[tokio::test]
async fn logout_removes_a_token_file_readable_by_others() {
    let dir = TempDir::new("0644");
    let (authorizer, path) = logged_in(&dir).await;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");

    let existed = authorizer.logout().await.expect("logout");
    assert!(existed);
    assert!(fs::symlink_metadata(&path).is_err(), "the file is gone");
}

#[tokio::test]
async fn logout_without_tokens_reports_that_there_were_none() {
    let dir = TempDir::new("none");
    let (authorizer, path) = logged_in(&dir).await;
    assert!(authorizer.logout().await.expect("first logout"));
    assert!(!authorizer.logout().await.expect("second logout"));
    assert!(fs::symlink_metadata(&path).is_err());
}
