//! Behaviour of the token stores, one behaviour per test.

use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::*;

/// A private directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "mcp-oauth-store-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&path);
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

pub(in crate::store) fn key() -> StoreKey {
    StoreKey::new("remote", "https://mcp.example.com/mcp")
}

pub(in crate::store) fn tokens(access: &str) -> StoredTokens {
    StoredTokens {
        access_token: access.to_owned(),
        token_type: "Bearer".to_owned(),
        refresh_token: Some("refresh-secret-456".to_owned()),
        scopes: vec!["read".to_owned(), "write".to_owned()],
        issued_at: 1_700_000_000,
        expires_at: Some(1_700_003_600),
        issuer: Some("https://auth.example.com".to_owned()),
        resource: Some("https://mcp.example.com/mcp".to_owned()),
        dpop_key: None,
    }
}

fn client(issuer: &str, id: &str) -> StoredClient {
    StoredClient {
        client_id: id.to_owned(),
        client_secret: Some("client-secret-789".to_owned()),
        registered_at: 1_700_000_000,
        issuer: issuer.to_owned(),
        redirect_uri: Some("http://127.0.0.1:0/callback".to_owned()),
        token_endpoint_auth_method: Some("client_secret_basic".to_owned()),
    }
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A store written with one valid file, and that file's path.
async fn store_with_file(dir: &TempDir) -> (FileStore, PathBuf) {
    let store = FileStore::new(dir.path());
    store
        .save(&key(), &tokens("access-secret-123"))
        .await
        .unwrap();
    let path = store.token_path(&key());
    (store, path)
}

#[tokio::test]
async fn memory_store_round_trips_tokens() {
    let store = MemoryStore::new();
    assert_eq!(store.load(&key()).await.unwrap(), None);
    store.save(&key(), &tokens("a")).await.unwrap();
    assert_eq!(store.load(&key()).await.unwrap(), Some(tokens("a")));
    store.save(&key(), &tokens("b")).await.unwrap();
    assert_eq!(store.load(&key()).await.unwrap(), Some(tokens("b")));
    store.clear(&key()).await.unwrap();
    assert_eq!(store.load(&key()).await.unwrap(), None);
}

#[tokio::test]
async fn file_store_round_trips_tokens() {
    let dir = TempDir::new("round-trip");
    let store = FileStore::new(dir.path());
    assert_eq!(store.load(&key()).await.unwrap(), None);
    store.save(&key(), &tokens("a")).await.unwrap();
    assert_eq!(store.load(&key()).await.unwrap(), Some(tokens("a")));
    // A second store on the same directory (another process, in effect) sees the same tokens.
    let other = FileStore::new(dir.path());
    assert_eq!(other.load(&key()).await.unwrap(), Some(tokens("a")));
}

#[tokio::test]
async fn file_store_is_usable_as_a_trait_object() {
    let dir = TempDir::new("dyn");
    let store: std::sync::Arc<dyn TokenStore> = std::sync::Arc::new(FileStore::new(dir.path()));
    store.save(&key(), &tokens("a")).await.unwrap();
    let _guard = store.lock(&key()).await.unwrap();
    assert_eq!(store.load(&key()).await.unwrap(), Some(tokens("a")));
}

#[tokio::test]
async fn loading_from_a_missing_directory_is_none_and_creates_nothing() {
    let dir = TempDir::new("missing");
    let store = FileStore::new(dir.path());
    assert_eq!(store.load(&key()).await.unwrap(), None);
    assert_eq!(
        store.load_client("https://auth.example.com").await.unwrap(),
        None
    );
    assert!(!dir.path().exists());
}

#[tokio::test]
async fn files_are_0600_and_directories_0700() {
    let dir = TempDir::new("modes");
    let (store, path) = store_with_file(&dir).await;
    store
        .save_client(&client("https://auth.example.com", "c1"))
        .await
        .unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&store.client_path("https://auth.example.com")), 0o600);
    assert_eq!(mode(dir.path()), 0o700);
    assert_eq!(mode(&dir.path().join("tokens")), 0o700);
    assert_eq!(mode(&dir.path().join("clients")), 0o700);
    let _guard = store.lock(&key()).await.unwrap();
    assert_eq!(mode(&path.with_extension("lock")), 0o600);
}

#[tokio::test]
async fn saving_twice_replaces_the_file_and_leaves_no_temporary_files() {
    let dir = TempDir::new("replace");
    let (store, path) = store_with_file(&dir).await;
    let first_inode = std::os::unix::fs::MetadataExt::ino(&fs::metadata(&path).unwrap());
    store.save(&key(), &tokens("second")).await.unwrap();
    // A rename puts a new file in place rather than rewriting the old one.
    let second_inode = std::os::unix::fs::MetadataExt::ino(&fs::metadata(&path).unwrap());
    assert_ne!(first_inode, second_inode);
    assert_eq!(store.load(&key()).await.unwrap(), Some(tokens("second")));
    let file_name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(entries(&dir.path().join("tokens")), vec![file_name]);
}

#[tokio::test]
async fn corrupt_json_is_an_error_naming_the_file_and_the_file_is_left_untouched() {
    let dir = TempDir::new("corrupt");
    let (store, path) = store_with_file(&dir).await;
    let garbage = b"{\"format\": 1, \"tokens\": {\"access_token\": \"access-secret-123\"";
    fs::write(&path, garbage).unwrap();

    let error = store.load(&key()).await.unwrap_err();
    assert!(error.is_corrupt(), "{error:?}");
    assert_eq!(error.path(), Some(path.as_path()));
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(!message.contains("access-secret-123"), "{message}");

    // Neither a load nor a save replaces what is there.
    let save = store.save(&key(), &tokens("new")).await.unwrap_err();
    assert!(save.is_corrupt(), "{save:?}");
    assert_eq!(fs::read(&path).unwrap(), garbage);
}

#[tokio::test]
async fn wrong_field_types_are_corrupt_without_quoting_the_file() {
    let dir = TempDir::new("wrong-type");
    let (store, path) = store_with_file(&dir).await;
    let text = fs::read_to_string(&path).unwrap().replace(
        "\"issued_at\": 1700000000",
        "\"issued_at\": \"access-secret-123\"",
    );
    fs::write(&path, &text).unwrap();
    let error = store.load(&key()).await.unwrap_err();
    assert!(error.is_corrupt(), "{error:?}");
    assert!(!error.to_string().contains("access-secret-123"), "{error}");
}

#[tokio::test]
async fn a_file_from_a_newer_format_is_refused() {
    let dir = TempDir::new("format");
    let (store, path) = store_with_file(&dir).await;
    fs::write(&path, b"{\"format\": 2, \"whatever\": true}").unwrap();
    let error = store.load(&key()).await.unwrap_err();
    assert!(error.is_corrupt(), "{error:?}");
    assert!(error.to_string().contains("format 2"), "{error}");
}

#[tokio::test]
async fn a_stored_access_token_with_cr_lf_is_corrupt_not_sent() {
    let dir = TempDir::new("crlf");
    let (store, path) = store_with_file(&dir).await;
    let text = fs::read_to_string(&path)
        .unwrap()
        .replace("access-secret-123", "access-secret-123\\r\\nX-Evil: 1");
    fs::write(&path, &text).unwrap();
    let error = store.load(&key()).await.unwrap_err();
    assert!(error.is_corrupt(), "{error:?}");
    assert!(!error.to_string().contains("access-secret-123"), "{error}");
}

#[tokio::test]
async fn a_file_for_another_server_is_refused() {
    let dir = TempDir::new("mismatch");
    let (store, path) = store_with_file(&dir).await;
    let other = StoreKey::new("other", "https://other.example.com/mcp");
    fs::copy(&path, store.token_path(&other)).unwrap();
    let error = store.load(&other).await.unwrap_err();
    assert!(error.is_corrupt(), "{error:?}");
}

#[tokio::test]
async fn a_symbolic_link_is_refused() {
    let dir = TempDir::new("symlink");
    let (store, path) = store_with_file(&dir).await;
    let target = dir.path().join("elsewhere.json");
    fs::rename(&path, &target).unwrap();
    std::os::unix::fs::symlink(&target, &path).unwrap();
    let error = store.load(&key()).await.unwrap_err();
    assert!(error.is_corrupt(), "{error:?}");
}

/// Runs `work` on a thread of its own and returns its result, or `None` if it has not finished
/// once `fifo` has been opened for writing from here: a store that blocks opening a FIFO is then
/// released (and the test fails) instead of hanging the test run.
fn without_blocking_on<T: Send + 'static>(
    fifo: &Path,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (done, result) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = done.send(work());
    });
    // A watchdog, not a wait for success: a store that never blocks answers at once.
    let outcome = result.recv_timeout(Duration::from_secs(10)).ok();
    // O_RDWR on a FIFO never blocks (Linux), and lets every blocked reader's open return while it
    // stays open.
    let _release = outcome
        .is_none()
        .then(|| fs::OpenOptions::new().read(true).write(true).open(fifo));
    let _ = worker.join();
    outcome
}

#[test]
fn a_fifo_at_the_token_path_is_refused_at_once_naming_the_path() {
    let dir = TempDir::new("fifo");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (store, path) = runtime.block_on(store_with_file(&dir));
    fs::remove_file(&path).unwrap();
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        &path,
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .unwrap();

    let outcome = without_blocking_on(&path, move || {
        let load = runtime.block_on(store.load(&key()));
        let save = runtime.block_on(store.save(&key(), &tokens("new")));
        (load, save)
    });
    let Some((load, save)) = outcome else {
        panic!("the store blocked opening the FIFO at {}", path.display());
    };
    let error = load.unwrap_err();
    assert_eq!(error.path(), Some(path.as_path()), "{error:?}");
    assert!(error.to_string().contains("not a regular file"), "{error}");
    save.expect_err("a FIFO is never replaced by a save");
    assert!(fs::symlink_metadata(&path).unwrap().file_type().is_fifo());
}

#[tokio::test]
async fn a_fifo_at_the_lock_path_is_refused_naming_the_path() {
    let dir = TempDir::new("fifo-lock");
    let (store, path) = store_with_file(&dir).await;
    let lock_path = path.with_extension("lock");
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        &lock_path,
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .unwrap();
    let error = store.lock(&key()).await.unwrap_err();
    assert_eq!(error.path(), Some(lock_path.as_path()), "{error:?}");
    assert!(error.to_string().contains("FIFO"), "{error}");
}

#[tokio::test]
async fn a_file_readable_by_others_is_refused() {
    let dir = TempDir::new("insecure");
    let (store, path) = store_with_file(&dir).await;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let error = store.load(&key()).await.unwrap_err();
    match &error {
        StoreError::InsecurePermissions { path: at, mode } => {
            assert_eq!(at, &path);
            assert_eq!(*mode, 0o644);
        }
        other => panic!("expected InsecurePermissions, got {other:?}"),
    }
    assert!(error.to_string().contains("0644"), "{error}");
    assert!(
        store
            .save(&key(), &tokens("new"))
            .await
            .unwrap_err()
            .is_insecure()
    );
    assert_eq!(mode(&path), 0o644);
}

#[tokio::test]
async fn a_directory_writable_by_others_is_refused() {
    let dir = TempDir::new("insecure-dir");
    let (store, _path) = store_with_file(&dir).await;
    let tokens_dir = dir.path().join("tokens");
    fs::set_permissions(&tokens_dir, fs::Permissions::from_mode(0o777)).unwrap();
    let error = store.load(&key()).await.unwrap_err();
    assert!(error.is_insecure(), "{error:?}");
    assert_eq!(error.path(), Some(tokens_dir.as_path()));
}

#[tokio::test]
async fn a_tokens_directory_readable_by_others_is_refused() {
    let dir = TempDir::new("tokens-0755");
    let (store, _path) = store_with_file(&dir).await;
    let tokens_dir = dir.path().join("tokens");
    // File names carry server names and URL hashes: listing them is already a leak.
    fs::set_permissions(&tokens_dir, fs::Permissions::from_mode(0o755)).unwrap();
    let error = store.load(&key()).await.unwrap_err();
    assert!(error.is_insecure(), "{error:?}");
    assert_eq!(error.path(), Some(tokens_dir.as_path()));
    assert!(error.to_string().contains("0755"), "{error}");
    let save = store.save(&key(), &tokens("new")).await.unwrap_err();
    assert!(save.is_insecure(), "{save:?}");
}

#[tokio::test]
async fn a_clients_directory_readable_by_others_is_refused() {
    let dir = TempDir::new("clients-0750");
    let store = FileStore::new(dir.path());
    store
        .save_client(&client("https://auth.example.com", "c1"))
        .await
        .unwrap();
    let clients_dir = dir.path().join("clients");
    fs::set_permissions(&clients_dir, fs::Permissions::from_mode(0o750)).unwrap();
    let error = store
        .load_client("https://auth.example.com")
        .await
        .unwrap_err();
    assert!(error.is_insecure(), "{error:?}");
    assert_eq!(error.path(), Some(clients_dir.as_path()));
}

#[tokio::test]
async fn a_store_home_writable_by_others_is_refused() {
    let dir = TempDir::new("home-0777");
    let (store, _path) = store_with_file(&dir).await;
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let error = store.load(&key()).await.unwrap_err();
    assert!(error.is_insecure(), "{error:?}");
    assert_eq!(error.path(), Some(dir.path()));
    assert!(error.to_string().contains("0777"), "{error}");
    let save = store.save(&key(), &tokens("new")).await.unwrap_err();
    assert_eq!(save.path(), Some(dir.path()), "{save:?}");
    let lock = store.lock(&key()).await.unwrap_err();
    assert_eq!(lock.path(), Some(dir.path()), "{lock:?}");
}

#[tokio::test]
async fn a_store_home_readable_by_others_is_accepted() {
    // As ssh accepts a 0755 home: only writing to it lets another user swap what is inside.
    let dir = TempDir::new("home-0755");
    let (store, _path) = store_with_file(&dir).await;
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(
        store.load(&key()).await.unwrap(),
        Some(tokens("access-secret-123"))
    );
}

/// A uid that is not ours, when this process may give files away (it runs as root); `None`
/// otherwise, and the ownership tests have nothing to set up.
fn foreign_uid() -> Option<u32> {
    (rustix::process::geteuid().is_root()).then_some(65_534)
}

#[tokio::test]
async fn a_token_file_owned_by_another_user_is_refused() {
    let Some(other) = foreign_uid() else {
        eprintln!("skipped: only root can give a file to another user");
        return;
    };
    let dir = TempDir::new("file-owner");
    let (store, path) = store_with_file(&dir).await;
    std::os::unix::fs::chown(&path, Some(other), None).unwrap();
    let error = store.load(&key()).await.unwrap_err();
    assert!(error.is_foreign_owner(), "{error:?}");
    assert!(error.is_insecure(), "{error:?}");
    assert_eq!(error.path(), Some(path.as_path()));
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("65534"), "{message}");
}

#[tokio::test]
async fn a_tokens_directory_owned_by_another_user_is_refused() {
    let Some(other) = foreign_uid() else {
        eprintln!("skipped: only root can give a directory to another user");
        return;
    };
    let dir = TempDir::new("dir-owner");
    let (store, _path) = store_with_file(&dir).await;
    let tokens_dir = dir.path().join("tokens");
    std::os::unix::fs::chown(&tokens_dir, Some(other), None).unwrap();
    let error = store.load(&key()).await.unwrap_err();
    assert!(error.is_foreign_owner(), "{error:?}");
    assert_eq!(error.path(), Some(tokens_dir.as_path()));
}

#[tokio::test]
async fn a_tokens_directory_that_is_a_symbolic_link_is_refused() {
    let dir = TempDir::new("dir-link");
    let (store, _path) = store_with_file(&dir).await;
    let tokens_dir = dir.path().join("tokens");
    let elsewhere = dir.path().join("elsewhere");
    fs::rename(&tokens_dir, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &tokens_dir).unwrap();
    let error = store.load(&key()).await.unwrap_err();
    assert_eq!(error.path(), Some(tokens_dir.as_path()), "{error:?}");
}

#[tokio::test]
async fn clear_removes_the_file_and_clearing_again_succeeds() {
    let dir = TempDir::new("clear");
    let (store, path) = store_with_file(&dir).await;
    store.clear(&key()).await.unwrap();
    assert!(!path.exists());
    assert_eq!(store.load(&key()).await.unwrap(), None);
    store.clear(&key()).await.unwrap();
}

#[tokio::test]
async fn clear_removes_a_corrupt_file() {
    let dir = TempDir::new("clear-corrupt");
    let (store, path) = store_with_file(&dir).await;
    fs::write(&path, b"not json").unwrap();
    store.clear(&key()).await.unwrap();
    store.save(&key(), &tokens("fresh")).await.unwrap();
    assert_eq!(store.load(&key()).await.unwrap(), Some(tokens("fresh")));
}

#[test]
fn store_key_is_filesystem_safe() {
    for (name, url) in [
        ("remote", "https://mcp.example.com/mcp"),
        ("../../etc/passwd", "https://x"),
        ("-rf", "https://x"),
        (".hidden", "https://x"),
        ("Ünïcødé 名前 with spaces/and\\slashes", "https://x"),
        ("", "https://x"),
        (&"long".repeat(50), "https://x"),
    ] {
        let id = StoreKey::new(name, url).id().to_owned();
        assert!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'),
            "{id}"
        );
        assert!(!id.starts_with('-') && !id.starts_with('.'), "{id}");
        assert!(id.len() <= 32 + 1 + 32, "{id}");
    }
    assert!(
        StoreKey::new("remote", "https://x")
            .id()
            .starts_with("remote-")
    );
}

#[test]
fn store_keys_differ_for_distinct_urls_and_names() {
    let ids = [
        StoreKey::new("remote", "https://mcp.example.com/mcp"),
        StoreKey::new("remote", "https://mcp.example.com/mcp/"),
        StoreKey::new("remote", "https://mcp.example.com/other"),
        StoreKey::new("Remote", "https://mcp.example.com/mcp"),
        StoreKey::new("remote!", "https://mcp.example.com/mcp"),
        StoreKey::new("remote?", "https://mcp.example.com/mcp"),
    ]
    .map(|key| key.id().to_owned());
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            assert_ne!(a, b);
        }
    }
    // Stable: the same server always maps to the same file.
    assert_eq!(
        StoreKey::new("remote", "https://mcp.example.com/mcp").id(),
        ids[0]
    );
}

#[tokio::test]
async fn debug_output_hides_token_values_and_secrets() {
    let shown = format!(
        "{:?} {:#?}",
        tokens("access-secret-123"),
        tokens("access-secret-123")
    );
    assert!(!shown.contains("access-secret-123"), "{shown}");
    assert!(!shown.contains("refresh-secret-456"), "{shown}");
    assert!(
        shown.contains("Bearer") && shown.contains("1700003600"),
        "{shown}"
    );
    let shown = format!("{:?}", client("https://auth.example.com", "c1"));
    assert!(!shown.contains("client-secret-789"), "{shown}");
    assert!(shown.contains("c1"), "{shown}");

    let store = MemoryStore::new();
    store
        .save(&key(), &tokens("access-secret-123"))
        .await
        .unwrap();
    let shown = format!("{store:?}");
    assert!(!shown.contains("access-secret-123"), "{shown}");
}

#[test]
fn expires_within_compares_expiry_with_now_plus_skew() {
    let t = tokens("a"); // expires at 1_700_003_600
    let skew = Duration::from_secs(60);
    assert!(!t.expires_within(1_700_003_539, skew));
    assert!(t.expires_within(1_700_003_540, skew));
    assert!(t.expires_within(1_700_009_999, Duration::ZERO));
    let unknown = StoredTokens {
        expires_at: None,
        ..tokens("a")
    };
    assert!(!unknown.expires_within(u64::MAX, Duration::from_secs(u64::MAX)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_lock_excludes_a_second_locker_until_dropped() {
    let dir = TempDir::new("lock");
    let store = FileStore::new(dir.path());
    // Another FileStore is another open file description: exactly what a second process has.
    let other = FileStore::new(dir.path());

    let guard = store.lock(&key()).await.unwrap();
    assert!(other.try_lock(&key()).await.unwrap().is_none());
    // Other keys are independent.
    let unrelated = StoreKey::new("elsewhere", "https://elsewhere.example.com/mcp");
    assert!(other.try_lock(&unrelated).await.unwrap().is_some());

    drop(guard);
    let second = other.try_lock(&key()).await.unwrap();
    assert!(second.is_some());
    assert!(store.try_lock(&key()).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_locker_gets_the_lock_when_the_holder_drops_it() {
    let dir = TempDir::new("lock-wait");
    let store = FileStore::new(dir.path());
    let other = FileStore::new(dir.path());

    let guard = store.lock(&key()).await.unwrap();
    let waiter = tokio::spawn(async move { other.lock(&key()).await });
    drop(guard);
    // Bounded: the waiter needs the lock only once the holder has let go.
    let second = tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .expect("the waiting locker never got the lock")
        .unwrap()
        .unwrap();
    assert!(store.try_lock(&key()).await.unwrap().is_none());
    drop(second);
    assert!(store.try_lock(&key()).await.unwrap().is_some());
}

#[tokio::test(start_paused = true)]
async fn memory_lock_excludes_a_second_locker_until_dropped() {
    let store = MemoryStore::new();
    let guard = store.lock(&key()).await.unwrap();
    assert!(store.try_lock(&key()).is_none());
    let waited = tokio::time::timeout(Duration::from_secs(30), store.lock(&key())).await;
    waited.expect_err("a second locker got a held lock");
    drop(guard);
    assert!(store.try_lock(&key()).is_some());
}

#[tokio::test]
async fn clients_are_stored_per_issuer() {
    let dir = TempDir::new("clients");
    let file = FileStore::new(dir.path());
    let memory = MemoryStore::new();
    let stores: [&dyn TokenStore; 2] = [&file, &memory];
    for store in stores {
        let a = client("https://auth-a.example.com", "client-a");
        let b = client("https://auth-b.example.com/tenant", "client-b");
        store.save_client(&a).await.unwrap();
        store.save_client(&b).await.unwrap();
        assert_eq!(
            store
                .load_client("https://auth-a.example.com")
                .await
                .unwrap(),
            Some(a.clone())
        );
        assert_eq!(
            store
                .load_client("https://auth-b.example.com/tenant")
                .await
                .unwrap(),
            Some(b.clone())
        );
        assert_eq!(
            store
                .load_client("https://auth-c.example.com")
                .await
                .unwrap(),
            None
        );
        store
            .clear_client("https://auth-a.example.com")
            .await
            .unwrap();
        assert_eq!(
            store
                .load_client("https://auth-a.example.com")
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .load_client("https://auth-b.example.com/tenant")
                .await
                .unwrap(),
            Some(b)
        );
    }
}

#[test]
fn store_ids_are_pinned_because_they_name_every_stored_file() {
    // Computed once and fixed: a change to the id scheme or its domain labels would orphan every
    // stored login and registration, and make `import_from` refuse every old file.
    assert_eq!(key().id(), "remote-1f6f0c25c62936962a563cceb2732cf0");
    assert_eq!(
        super::key::issuer_id("https://auth.example.com"),
        "auth_example_com-987340a5a41adeb38750d77d76448fb4"
    );
}
