//! `logout` removes whatever is at a server's token path, the way its own error messages promise:
//! a corrupt file, a symbolic link (never its target), a file open to others.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;

use mcp_oauth::authorizer::{OAuthAuthorizer, OAuthRuntime, OAuthSettings};
use mcp_oauth::store::{FileStore, StoredTokens, TokenStore};
use url::Url;

use crate::support::{TempDir, http};

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
        dpop_key: None,
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
    fs::symlink_metadata(&path).expect_err("the file is gone");
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
    fs::symlink_metadata(&path).expect_err("the link is gone");
    assert_eq!(fs::read(&target).expect("target"), b"someone else's file");
}

#[tokio::test]
async fn logout_removes_a_token_file_readable_by_others() {
    let dir = TempDir::new("0644");
    let (authorizer, path) = logged_in(&dir).await;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");

    let existed = authorizer.logout().await.expect("logout");
    assert!(existed);
    fs::symlink_metadata(&path).expect_err("the file is gone");
}

#[tokio::test]
async fn logout_without_tokens_reports_that_there_were_none() {
    let dir = TempDir::new("none");
    let (authorizer, path) = logged_in(&dir).await;
    assert!(authorizer.logout().await.expect("first logout"));
    assert!(!authorizer.logout().await.expect("second logout"));
    fs::symlink_metadata(&path).expect_err("still gone");
}
