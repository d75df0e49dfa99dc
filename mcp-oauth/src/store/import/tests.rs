//! Importing the old store: ours copied, anything else skipped and left exactly as it was.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::*;
use crate::store::tests::{key, tokens};
use crate::store::{StoredClient, TokenStore};

/// A directory under the system temp dir with `old/` (the legacy store) and `new/` (ours) inside,
/// removed on drop.
struct Dirs(PathBuf);

impl Dirs {
    fn new(name: &str) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "mcp-oauth-import-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o700)).unwrap();
        Self(path)
    }

    fn old(&self) -> PathBuf {
        self.0.join("old")
    }

    fn new_store(&self) -> FileStore {
        FileStore::new(self.0.join("new"))
    }

    /// The legacy directory written by this store's own code, as the CLI wrote it under its old
    /// name.
    fn old_store(&self) -> FileStore {
        FileStore::new(self.old())
    }
}

impl Drop for Dirs {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn client(issuer: &str) -> StoredClient {
    StoredClient {
        client_id: "client-1".to_owned(),
        client_secret: None,
        registered_at: 1_700_000_000,
        issuer: issuer.to_owned(),
        redirect_uri: None,
        token_endpoint_auth_method: Some("none".to_owned()),
    }
}

/// Every entry under `dir` (symbolic links not followed): its kind, mode, owner and content, to
/// prove an import changed nothing.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u32, u32, Option<Vec<u8>>)> {
    let mut entries = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        let metadata = fs::symlink_metadata(&path).unwrap();
        let content = if metadata.is_file() {
            Some(fs::read(&path).unwrap())
        } else {
            None
        };
        if metadata.is_dir() {
            for entry in fs::read_dir(&path).unwrap() {
                pending.push(entry.unwrap().path());
            }
        }
        entries.insert(path, (metadata.mode(), metadata.uid(), content));
    }
    entries
}

/// Writes `content` at `path` with mode 0600.
fn write_private(path: &Path, content: &[u8]) {
    fs::write(path, content).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
}

fn reasons(report: &ImportReport) -> Vec<(PathBuf, SkipReason)> {
    report
        .skipped()
        .iter()
        .map(|skipped| (skipped.path().to_path_buf(), skipped.reason()))
        .collect()
}

#[tokio::test]
async fn our_tokens_and_clients_are_imported_and_the_old_directory_is_left_as_it_was() {
    let dirs = Dirs::new("ours");
    let old = dirs.old_store();
    old.save(&key(), &tokens("access-1")).await.unwrap();
    old.save_client(&client("https://auth.example.com"))
        .await
        .unwrap();
    // The lock file a refresh left behind is ours too, but nothing to import.
    drop(old.lock(&key()).await.unwrap());
    let before = snapshot(&dirs.old());

    let store = dirs.new_store();
    let report = store.import_from(&dirs.old()).await.unwrap();
    assert_eq!((report.tokens(), report.clients()), (1, 1), "{report:?}");
    assert!(report.skipped().is_empty(), "{report:?}");
    assert_eq!(
        report.to_string(),
        "imported 1 login and 1 client registration"
    );

    assert_eq!(store.load(&key()).await.unwrap(), Some(tokens("access-1")));
    assert_eq!(
        store.load_client("https://auth.example.com").await.unwrap(),
        Some(client("https://auth.example.com"))
    );
    let imported = fs::metadata(store.token_path(&key())).unwrap();
    assert_eq!(imported.permissions().mode() & 0o7777, 0o600);
    // No temporary file is left next to what was imported.
    let names: Vec<_> = fs::read_dir(dirs.0.join("new/tokens"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert_eq!(snapshot(&dirs.old()), before);
}

#[tokio::test]
async fn importing_again_imports_nothing_new() {
    let dirs = Dirs::new("twice");
    dirs.old_store()
        .save(&key(), &tokens("access-1"))
        .await
        .unwrap();
    let store = dirs.new_store();
    assert_eq!(store.import_from(&dirs.old()).await.unwrap().tokens(), 1);
    let again = store.import_from(&dirs.old()).await.unwrap();
    assert_eq!(again.tokens(), 0);
    assert_eq!(
        reasons(&again),
        [(old_token_path(&dirs), SkipReason::AlreadyPresent)]
    );
}

fn old_token_path(dirs: &Dirs) -> PathBuf {
    dirs.old_store().token_path(&key())
}

#[tokio::test]
async fn files_of_the_other_tool_are_skipped_and_left_untouched() {
    let dirs = Dirs::new("foreign");
    let old = dirs.old_store();
    old.save(&key(), &tokens("access-1")).await.unwrap();
    let tokens_dir = dirs.old().join("tokens");
    let clients_dir = dirs.old().join("clients");
    fs::create_dir(&clients_dir).unwrap();
    fs::set_permissions(&clients_dir, fs::Permissions::from_mode(0o700)).unwrap();

    // The other tool's own files, at the top and among ours.
    write_private(&dirs.old().join("servers.json"), br#"{"servers": []}"#);
    write_private(&tokens_dir.join("servers.json"), br#"{"servers": []}"#);
    write_private(&tokens_dir.join("garbage.json"), b"{not json");
    write_private(&tokens_dir.join("notes.txt"), b"not a candidate");
    // Our format, but not under the name this store would give it: not provably ours.
    let ours = fs::read(old.token_path(&key())).unwrap();
    write_private(
        &tokens_dir.join("remote-00000000000000000000000000000000.json"),
        &ours,
    );
    // Our layout with another format number.
    let newer = String::from_utf8(ours.clone())
        .unwrap()
        .replace("\"format\": 1", "\"format\": 2");
    let other = StoreKey::new("other", "https://other.example/mcp");
    write_private(
        &tokens_dir.join(format!("{}.json", other.id())),
        newer.as_bytes(),
    );
    // A client record filed under another issuer's name.
    let issuer = "https://auth.example.com";
    let misfiled = dirs.new_store().client_path("https://elsewhere.example");
    let misfiled = clients_dir.join(misfiled.file_name().unwrap());
    write_private(
        &misfiled,
        format!(
            r#"{{"format": 1, "client": {}}}"#,
            serde_json::to_string(&client(issuer)).unwrap()
        )
        .as_bytes(),
    );
    let before = snapshot(&dirs.old());

    let store = dirs.new_store();
    let report = store.import_from(&dirs.old()).await.unwrap();
    assert_eq!((report.tokens(), report.clients()), (1, 0), "{report:?}");
    let mut expected = vec![
        (tokens_dir.join("garbage.json"), SkipReason::NotOurs),
        (
            tokens_dir.join(format!("{}.json", other.id())),
            SkipReason::NotOurs,
        ),
        (
            tokens_dir.join("remote-00000000000000000000000000000000.json"),
            SkipReason::NameMismatch,
        ),
        (tokens_dir.join("servers.json"), SkipReason::NotOurs),
        (misfiled, SkipReason::NameMismatch),
    ];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    let mut skipped = reasons(&report);
    skipped.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(skipped, expected);
    assert!(
        report
            .skipped()
            .iter()
            .all(|file| file.reason().is_not_ours())
    );

    assert_eq!(snapshot(&dirs.old()), before);
    assert_eq!(store.load(&key()).await.unwrap(), Some(tokens("access-1")));
    assert_eq!(store.load(&other).await.unwrap(), None);
    assert_eq!(store.load_client(issuer).await.unwrap(), None);
    assert!(!dirs.0.join("new/servers.json").exists());
    assert!(!dirs.0.join("new/clients").exists());
}

#[tokio::test]
async fn an_existing_destination_file_is_kept() {
    let dirs = Dirs::new("existing");
    dirs.old_store()
        .save(&key(), &tokens("old-login"))
        .await
        .unwrap();
    let store = dirs.new_store();
    store.save(&key(), &tokens("current-login")).await.unwrap();

    let report = store.import_from(&dirs.old()).await.unwrap();
    assert_eq!(report.tokens(), 0);
    assert_eq!(
        reasons(&report),
        [(old_token_path(&dirs), SkipReason::AlreadyPresent)]
    );
    assert_eq!(
        store.load(&key()).await.unwrap(),
        Some(tokens("current-login"))
    );
}

#[tokio::test]
async fn insecure_files_are_skipped_as_the_store_refuses_them() {
    let dirs = Dirs::new("insecure");
    let old = dirs.old_store();

    // Readable by others.
    let open = StoreKey::new("open", "https://open.example/mcp");
    old.save(&open, &tokens("a")).await.unwrap();
    fs::set_permissions(old.token_path(&open), fs::Permissions::from_mode(0o644)).unwrap();
    // A symbolic link to a file of ours elsewhere: never followed.
    let linked = StoreKey::new("linked", "https://linked.example/mcp");
    let elsewhere = dirs.0.join("elsewhere");
    let elsewhere_store = FileStore::new(&elsewhere);
    elsewhere_store.save(&linked, &tokens("b")).await.unwrap();
    std::os::unix::fs::symlink(elsewhere_store.token_path(&linked), old.token_path(&linked))
        .unwrap();
    // A FIFO, which must not even block the import.
    let fifo = StoreKey::new("fifo", "https://fifo.example/mcp");
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        old.token_path(&fifo),
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .unwrap();
    // Over the size limit.
    let large = StoreKey::new("large", "https://large.example/mcp");
    write_private(
        &old.token_path(&large),
        &vec![b' '; usize::try_from(MAX_FILE_BYTES).unwrap() + 1],
    );
    let before = snapshot(&dirs.old());

    let store = dirs.new_store();
    let report = store.import_from(&dirs.old()).await.unwrap();
    assert_eq!(report.tokens(), 0, "{report:?}");
    let mut skipped = reasons(&report);
    skipped.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected = vec![
        (
            old.token_path(&open),
            SkipReason::InsecurePermissions { mode: 0o644 },
        ),
        (old.token_path(&linked), SkipReason::SymbolicLink),
        (old.token_path(&fifo), SkipReason::NotRegularFile),
        (old.token_path(&large), SkipReason::TooLarge),
    ];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(skipped, expected);
    let insecure = report
        .skipped()
        .iter()
        .filter(|file| file.reason().is_insecure());
    assert_eq!(insecure.count(), 1);
    assert_eq!(snapshot(&dirs.old()), before);
    assert!(!dirs.0.join("new/tokens").exists());
}

#[tokio::test]
async fn an_insecure_or_linked_tokens_directory_is_skipped_whole() {
    let dirs = Dirs::new("insecure-dir");
    let old = dirs.old_store();
    old.save(&key(), &tokens("a")).await.unwrap();
    let tokens_dir = dirs.old().join("tokens");
    fs::set_permissions(&tokens_dir, fs::Permissions::from_mode(0o755)).unwrap();
    let store = dirs.new_store();
    let report = store.import_from(&dirs.old()).await.unwrap();
    assert_eq!(report.tokens(), 0);
    assert_eq!(
        reasons(&report),
        [(
            tokens_dir.clone(),
            SkipReason::InsecurePermissions { mode: 0o755 }
        )]
    );

    fs::set_permissions(&tokens_dir, fs::Permissions::from_mode(0o700)).unwrap();
    let moved = dirs.0.join("moved-tokens");
    fs::rename(&tokens_dir, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &tokens_dir).unwrap();
    let report = store.import_from(&dirs.old()).await.unwrap();
    assert_eq!(report.tokens(), 0);
    assert_eq!(reasons(&report), [(tokens_dir, SkipReason::SymbolicLink)]);
    assert_eq!(store.load(&key()).await.unwrap(), None);
}

#[tokio::test]
async fn an_old_directory_writable_by_others_is_refused_once() {
    let dirs = Dirs::new("home-0777");
    let old = dirs.old_store();
    old.save(&key(), &tokens("a")).await.unwrap();
    old.save_client(&client("https://auth.example.com"))
        .await
        .unwrap();
    fs::set_permissions(dirs.old(), fs::Permissions::from_mode(0o777)).unwrap();
    let report = dirs.new_store().import_from(&dirs.old()).await.unwrap();
    assert_eq!((report.tokens(), report.clients()), (0, 0));
    assert_eq!(
        reasons(&report),
        [(dirs.old(), SkipReason::InsecurePermissions { mode: 0o777 })]
    );
}

#[tokio::test]
async fn a_file_owned_by_another_user_is_skipped() {
    // Only root can give a file away; elsewhere there is nothing to set up.
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: only root can give a file to another user");
        return;
    }
    let dirs = Dirs::new("owner");
    let old = dirs.old_store();
    old.save(&key(), &tokens("a")).await.unwrap();
    std::os::unix::fs::chown(old.token_path(&key()), Some(65_534), None).unwrap();
    let report = dirs.new_store().import_from(&dirs.old()).await.unwrap();
    assert_eq!(
        reasons(&report),
        [(
            old.token_path(&key()),
            SkipReason::ForeignOwner { owner: 65_534 }
        )]
    );
    let insecure = report
        .skipped()
        .iter()
        .filter(|file| file.reason().is_insecure());
    assert_eq!(insecure.count(), 1);
}

#[tokio::test]
async fn a_missing_old_directory_is_an_empty_report_and_creates_nothing() {
    let dirs = Dirs::new("missing");
    let report = dirs.new_store().import_from(&dirs.old()).await.unwrap();
    assert_eq!(report, ImportReport::default());
    assert!(!dirs.0.join("new").exists());
    assert!(!dirs.old().exists());
}

#[test]
fn reasons_and_reports_read_as_sentences() {
    assert_eq!(
        SkipReason::InsecurePermissions { mode: 0o644 }.to_string(),
        "it has mode 0644, open to other users"
    );
    let skipped = SkippedFile {
        path: PathBuf::from("/old/tokens/x.json"),
        reason: SkipReason::NameMismatch,
    };
    assert!(
        skipped
            .to_string()
            .starts_with("/old/tokens/x.json: its name is not")
    );
    let report = ImportReport {
        tokens: 2,
        clients: 0,
        skipped: vec![skipped],
    };
    assert_eq!(
        report.to_string(),
        "imported 2 logins and 0 client registrations; skipped 1 file"
    );
}
