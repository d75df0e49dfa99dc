//! The on-disk store: one private JSON file per server, written atomically, locked across processes.
//!
//! In short ([`FileStore`] has the details):
//! - A save writes a temporary file, syncs it and renames it over the old one.
//! - The store is checked as ssh checks `~/.ssh`: the home owned by us (or root) and not writable
//!   by others; `tokens/` and `clients/` real directories of ours with mode 0700; files of ours
//!   with mode 0600. Files and the lock are opened with `O_NONBLOCK` and refused unless regular,
//!   so a FIFO never blocks us.
//! - A corrupt or too-open file is refused and never overwritten; a stored access token that could
//!   not be sent in a header counts as corrupt. `clear` (logout) unlinks the entry without reading
//!   it: a symbolic link itself, never its target.
//! - The cross-process lock is an `flock` on the key's `.lock` file; all file I/O, and the wait for
//!   the lock, runs on tokio's blocking pool.

use std::fs::{self, DirBuilder, File};
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use futures::FutureExt;
use futures::future::BoxFuture;
use rustix::fs::{FlockOperation, Mode, OFlags};
use rustix::io::Errno;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::dirs::default_dir;
use super::key::issuer_id;
use super::{StoreError, StoreKey, StoreLock, StoredClient, StoredTokens, TokenStore};

/// The on-disk format written today; a file with another number is refused, not guessed at.
pub(super) const FORMAT: u32 = 1;
/// Token files are a few hundred bytes; anything far larger is not ours, and is never read whole.
pub(super) const MAX_FILE_BYTES: u64 = 1 << 20;
/// Permission bits a stored file, and the `tokens/` and `clients/` directories, must not have: any
/// access by group or others (the file names alone say which servers a user logs in to).
const FILE_FORBIDDEN_BITS: u32 = 0o077;
/// Permission bits the store's home directory must not have: write access by group or others,
/// which would let another user swap `tokens/` for a directory of their own (as ssh refuses a
/// group-writable home).
const HOME_FORBIDDEN_BITS: u32 = 0o022;

/// Keeps tokens and client registrations in private files under one directory.
///
/// Layout under `dir` (created with mode 0700 when missing):
///
/// ```text
/// dir/tokens/<key id>.json    tokens for one MCP server (StoreKey::id), mode 0600
/// dir/tokens/<key id>.lock    its cross-process lock (flock), empty
/// dir/clients/<issuer id>.json  the client registration at one authorization server, mode 0600
/// ```
///
/// Each JSON file records what it belongs to (`{"format": 1, "server": {"name", "url"}, "tokens": ...}`
/// or `{"format": 1, "client": ...}`), and a load checks that against the key asked for.
///
/// - **Atomic writes**: a save writes a temporary file (mode 0600) in the same directory, syncs it, and
///   renames it over the old one, so a reader sees the old file or the new one, never a mix.
/// - **Refusals**: a file that cannot be understood, or that is not a regular file (a FIFO is
///   opened without blocking and refused), is [`StoreError::Corrupt`]. Checked as ssh checks
///   `~/.ssh`: a file, `tokens/` or `clients/` open to group or others, or a `dir` writable by them,
///   is [`StoreError::InsecurePermissions`]; any of them owned by another user (`dir` may also be
///   root's) is [`StoreError::ForeignOwner`]; `tokens/` or `clients/` as a symbolic link is refused.
///   In every case nothing is changed: `save` will not replace such a file either; `clear`
///   (logout) removes whatever is at the path, without reading it.
/// - **Locking**: [`FileStore::lock`] holds an `flock` on the key's `.lock` file, so a refresh in one
///   process (load, token request, save) excludes the same refresh in another. `load`, `save` and
///   `clear` do not take it themselves.
/// - All file I/O, and waiting for the lock, runs on tokio's blocking pool; the async runtime never
///   blocks.
///
/// # Example
/// ```
/// use mcp_oauth::{FileStore, StoreKey, StoredTokens, TokenStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = std::env::temp_dir().join(format!("mcp-oauth-doc-{}", std::process::id()));
/// // Usually `FileStore::open_default()?`, i.e. under $MCPCORD_HOME or ~/.config/mcpcord.
/// let store = FileStore::new(&dir);
/// let key = StoreKey::new("remote", "https://mcp.example.com/mcp");
///
/// // A refresh holds the lock from load to save; other processes wait.
/// let guard = store.lock(&key).await?;
/// assert!(store.load(&key).await?.is_none());
/// let tokens = StoredTokens {
///     access_token: "at-123".into(),
///     token_type: "Bearer".into(),
///     refresh_token: Some("rt-456".into()),
///     scopes: vec!["read".into()],
///     issued_at: 1_700_000_000,
///     expires_at: Some(1_700_003_600),
///     issuer: Some("https://auth.example.com".into()),
///     resource: Some("https://mcp.example.com/mcp".into()),
///     dpop_key: None,
/// };
/// store.save(&key, &tokens).await?;
/// drop(guard);
///
/// assert_eq!(store.load(&key).await?, Some(tokens));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
    pub(super) tokens_dir: PathBuf,
    pub(super) clients_dir: PathBuf,
}

impl FileStore {
    /// A store under `dir`. Nothing is touched on disk until the first save or lock.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        Self {
            tokens_dir: dir.join("tokens"),
            clients_dir: dir.join("clients"),
            dir,
        }
    }

    /// A store under [`default_dir`].
    pub fn open_default() -> Result<Self, StoreError> {
        default_dir().map(Self::new)
    }

    /// The directory this store lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds the tokens for `key`.
    pub fn token_path(&self, key: &StoreKey) -> PathBuf {
        self.tokens_dir.join(format!("{}.json", key.id()))
    }

    /// The file that holds the client registration for `issuer`.
    pub fn client_path(&self, issuer: &str) -> PathBuf {
        self.clients_dir.join(format!("{}.json", issuer_id(issuer)))
    }

    fn lock_path(&self, key: &StoreKey) -> PathBuf {
        self.tokens_dir.join(format!("{}.lock", key.id()))
    }

    /// Waits for exclusive use of `key`, across processes, and returns the guard that holds it.
    ///
    /// The wait runs on tokio's blocking pool. If this future is dropped while waiting, the lock is
    /// released as soon as the pending `flock` returns.
    pub async fn lock(&self, key: &StoreKey) -> Result<StoreLock, StoreError> {
        let dir = self.tokens_dir.clone();
        let path = self.lock_path(key);
        let task_path = path.clone();
        blocking(&path, move || {
            lock_file(&dir, &task_path, FlockOperation::LockExclusive)
        })
        .await?
        .ok_or_else(|| StoreError::Lock {
            path,
            source: io::Error::from(io::ErrorKind::WouldBlock),
        })
    }

    /// Takes exclusive use of `key` if no one (in any process) holds it, without waiting for it;
    /// `Ok(None)` when it is held.
    pub async fn try_lock(&self, key: &StoreKey) -> Result<Option<StoreLock>, StoreError> {
        let dir = self.tokens_dir.clone();
        let path = self.lock_path(key);
        let task_path = path.clone();
        blocking(&path, move || {
            lock_file(&dir, &task_path, FlockOperation::NonBlockingLockExclusive)
        })
        .await
    }
}

impl TokenStore for FileStore {
    fn load<'a>(
        &'a self,
        key: &'a StoreKey,
    ) -> BoxFuture<'a, Result<Option<StoredTokens>, StoreError>> {
        let dir = self.tokens_dir.clone();
        let path = self.token_path(key);
        let key = key.clone();
        async move {
            let task_path = path.clone();
            blocking(&path, move || load_tokens(&dir, &task_path, &key)).await
        }
        .boxed()
    }

    fn save<'a>(
        &'a self,
        key: &'a StoreKey,
        tokens: &'a StoredTokens,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let dir = self.tokens_dir.clone();
        let path = self.token_path(key);
        let file = TokenFileRef {
            format: FORMAT,
            server: ServerRef {
                name: key.server_name(),
                url: key.url(),
            },
            tokens,
        };
        let bytes = to_json(&path, &file);
        let key = key.clone();
        async move {
            let bytes = bytes?;
            let task_path = path.clone();
            blocking(&path, move || {
                // Only a readable file of our own format is replaced; anything else is the user's to
                // look at (or to clear), not ours to overwrite.
                load_tokens(&dir, &task_path, &key)?;
                write_atomically(&dir, &task_path, &bytes)
            })
            .await
        }
        .boxed()
    }

    fn clear<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<bool, StoreError>> {
        let path = self.token_path(key);
        async move {
            let task_path = path.clone();
            blocking(&path, move || remove(&task_path)).await
        }
        .boxed()
    }

    fn load_client<'a>(
        &'a self,
        issuer: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredClient>, StoreError>> {
        let dir = self.clients_dir.clone();
        let path = self.client_path(issuer);
        let issuer = issuer.to_owned();
        async move {
            let task_path = path.clone();
            blocking(&path, move || load_client(&dir, &task_path, &issuer)).await
        }
        .boxed()
    }

    fn save_client<'a>(
        &'a self,
        client: &'a StoredClient,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let dir = self.clients_dir.clone();
        let path = self.client_path(&client.issuer);
        let bytes = to_json(
            &path,
            &ClientFileRef {
                format: FORMAT,
                client,
            },
        );
        let issuer = client.issuer.clone();
        async move {
            let bytes = bytes?;
            let task_path = path.clone();
            blocking(&path, move || {
                load_client(&dir, &task_path, &issuer)?;
                write_atomically(&dir, &task_path, &bytes)
            })
            .await
        }
        .boxed()
    }

    fn clear_client<'a>(&'a self, issuer: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        let path = self.client_path(issuer);
        async move {
            let task_path = path.clone();
            blocking(&path, move || remove(&task_path).map(drop)).await
        }
        .boxed()
    }

    fn lock<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<StoreLock, StoreError>> {
        FileStore::lock(self, key).boxed()
    }
}

#[derive(Serialize)]
pub(super) struct TokenFileRef<'a> {
    pub(super) format: u32,
    pub(super) server: ServerRef<'a>,
    pub(super) tokens: &'a StoredTokens,
}

#[derive(Serialize)]
pub(super) struct ServerRef<'a> {
    pub(super) name: &'a str,
    pub(super) url: &'a str,
}

#[derive(Deserialize)]
pub(super) struct TokenFile {
    pub(super) server: Server,
    pub(super) tokens: StoredTokens,
}

#[derive(Deserialize)]
pub(super) struct Server {
    pub(super) name: String,
    pub(super) url: String,
}

#[derive(Serialize)]
pub(super) struct ClientFileRef<'a> {
    pub(super) format: u32,
    pub(super) client: &'a StoredClient,
}

#[derive(Deserialize)]
pub(super) struct ClientFile {
    pub(super) client: StoredClient,
}

/// Read first, so that a file from a newer format is reported as such rather than as bad data.
#[derive(Deserialize)]
pub(super) struct FormatProbe {
    pub(super) format: u32,
}

fn load_tokens(
    dir: &Path,
    path: &Path,
    key: &StoreKey,
) -> Result<Option<StoredTokens>, StoreError> {
    let Some(file) = read_record::<TokenFile>(dir, path)? else {
        return Ok(None);
    };
    if file.server.name != key.server_name() || file.server.url != key.url() {
        return Err(StoreError::corrupt(
            path,
            format!(
                "it holds tokens for server `{}` at {}, not for `{}` at {}",
                file.server.name,
                file.server.url,
                key.server_name(),
                key.url()
            ),
        ));
    }
    // Written by an older version, or by hand: refused here (logout removes it) rather than
    // failing every request with a header error that names no file.
    file.tokens
        .check_access_token()
        .map_err(|reason| StoreError::corrupt(path, reason))?;
    Ok(Some(file.tokens))
}

fn load_client(dir: &Path, path: &Path, issuer: &str) -> Result<Option<StoredClient>, StoreError> {
    let Some(file) = read_record::<ClientFile>(dir, path)? else {
        return Ok(None);
    };
    if file.client.issuer != issuer {
        return Err(StoreError::corrupt(
            path,
            format!(
                "it holds the registration for issuer {}, not for {issuer}",
                file.client.issuer
            ),
        ));
    }
    Ok(Some(file.client))
}

/// Reads and parses one stored file; `None` when it (or its directory) does not exist.
fn read_record<T: DeserializeOwned>(dir: &Path, path: &Path) -> Result<Option<T>, StoreError> {
    if !check_dir(dir)? {
        return Ok(None);
    }
    let Some(bytes) = read_private(path).map_err(|refusal| refusal.into_error(path))? else {
        return Ok(None);
    };
    let probe: FormatProbe =
        serde_json::from_slice(&bytes).map_err(|error| json_error(path, &error))?;
    if probe.format != FORMAT {
        return Err(StoreError::corrupt(
            path,
            format!(
                "format {} is not supported (this version reads format {FORMAT}; was it written by a newer mcpcord?)",
                probe.format
            ),
        ));
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|error| json_error(path, &error))
}

/// Why [`read_private`] did not read a file.
pub(super) enum Refusal {
    /// It is a symbolic link, which is never followed.
    SymbolicLink,
    /// It is not a regular file: `what` it is instead ("a FIFO", ...).
    NotRegular(&'static str),
    /// It is larger than [`MAX_FILE_BYTES`].
    TooLarge,
    /// Its owner or its mode is refused, or it could not be read: the store's own error.
    Store(StoreError),
}

impl Refusal {
    /// The error the store reports for this refusal of `path`.
    pub(super) fn into_error(self, path: &Path) -> StoreError {
        match self {
            Self::SymbolicLink => StoreError::corrupt(
                path,
                "it is a symbolic link; the store only reads regular files",
            ),
            Self::NotRegular(what) => not_regular(path, what),
            Self::TooLarge => {
                StoreError::corrupt(path, format!("it is larger than {MAX_FILE_BYTES} bytes"))
            }
            Self::Store(error) => error,
        }
    }
}

/// Reads a private file whole: a regular file (never through a symbolic link), this user's, closed
/// to group and others, at most [`MAX_FILE_BYTES`]. `None` when it does not exist. The directory
/// is not checked here.
pub(super) fn read_private(path: &Path) -> Result<Option<Vec<u8>>, Refusal> {
    // NONBLOCK: opening a FIFO for reading waits for a writer, so one placed at a token path would
    // hang every connect; the type is checked below, on the open file, before anything is read.
    let fd = match rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW | OFlags::NOCTTY | OFlags::NONBLOCK,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(None),
        Err(Errno::LOOP) => return Err(Refusal::SymbolicLink),
        Err(errno) => {
            return Err(Refusal::Store(StoreError::io("open", path, errno.into())));
        }
    };
    let mut file = File::from(fd);
    // Checked on the open file, so what is checked is what is read.
    let metadata = file
        .metadata()
        .map_err(|error| Refusal::Store(StoreError::io("inspect", path, error)))?;
    if !metadata.is_file() {
        return Err(Refusal::NotRegular(file_kind(&metadata)));
    }
    check_owner(path, &metadata, false).map_err(Refusal::Store)?;
    check_mode(path, &metadata, FILE_FORBIDDEN_BITS).map_err(Refusal::Store)?;
    let mut bytes = Vec::new();
    (&mut file)
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| Refusal::Store(StoreError::io("read", path, error)))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Refusal::TooLarge);
    }
    Ok(Some(bytes))
}

/// What a file that is not a regular file is, for messages: "a FIFO", "a socket", ...
fn file_kind(metadata: &fs::Metadata) -> &'static str {
    let file_type = metadata.file_type();
    if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_char_device() || file_type.is_block_device() {
        "a device"
    } else if file_type.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// The refusal of a FIFO, socket, device or directory (`what`) where the store expects a regular
/// file.
fn not_regular(path: &Path, what: &str) -> StoreError {
    StoreError::corrupt(
        path,
        format!("it is {what}, not a regular file; the store only reads regular files"),
    )
}

/// Describes a JSON error by kind and position only: serde's own message may quote a value from the
/// file, and the file holds secrets.
fn json_error(path: &Path, error: &serde_json::Error) -> StoreError {
    let what = match error.classify() {
        serde_json::error::Category::Syntax => "it is not valid JSON",
        serde_json::error::Category::Eof => "its JSON is truncated",
        serde_json::error::Category::Data => "its JSON does not have the token store's fields",
        serde_json::error::Category::Io => "it could not be read as JSON",
    };
    StoreError::corrupt(
        path,
        format!("{what} (line {}, column {})", error.line(), error.column()),
    )
}

pub(super) fn to_json(path: &Path, value: &impl Serialize) -> Result<Vec<u8>, StoreError> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .map_err(|error| StoreError::io("encode", path, io::Error::other(error)))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Checks a store directory (`tokens/` or `clients/`) and the store's home above it, as ssh checks
/// `~/.ssh`: the home belongs to the user (or root) and nobody else may write to it; the directory
/// itself is a real directory (not a symbolic link), belongs to the user, and is private (0700).
/// `false` when either does not exist.
pub(super) fn check_dir(dir: &Path) -> Result<bool, StoreError> {
    let home = match dir.parent() {
        Some(home) if !home.as_os_str().is_empty() => home,
        _ => Path::new("."),
    };
    // Followed if it is a symbolic link: pointing MCPCORD_HOME somewhere is the user's choice; what
    // it points to is checked.
    let Some(metadata) = dir_metadata(home, fs::metadata(home))? else {
        return Ok(false);
    };
    check_owner(home, &metadata, true)?;
    check_mode(home, &metadata, HOME_FORBIDDEN_BITS)?;
    // Not followed: the store creates these itself, so a link here was put by someone else.
    let Some(metadata) = dir_metadata(dir, fs::symlink_metadata(dir))? else {
        return Ok(false);
    };
    check_owner(dir, &metadata, false)?;
    check_mode(dir, &metadata, FILE_FORBIDDEN_BITS)?;
    Ok(true)
}

/// The metadata of a directory, `None` when it does not exist, an error when it is anything else.
fn dir_metadata(
    dir: &Path,
    metadata: io::Result<fs::Metadata>,
) -> Result<Option<fs::Metadata>, StoreError> {
    let metadata = match metadata {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(StoreError::io("inspect directory", dir, error)),
    };
    if metadata.file_type().is_symlink() {
        return Err(StoreError::io(
            "use as a directory",
            dir,
            io::Error::other("it is a symbolic link, which the store never follows here"),
        ));
    }
    if !metadata.is_dir() {
        return Err(StoreError::io(
            "use as a directory",
            dir,
            io::Error::from(io::ErrorKind::NotADirectory),
        ));
    }
    Ok(Some(metadata))
}

/// Refuses `path` unless this process's user owns it (or root does, where `root_ok`: a home
/// directory set up by an administrator and not writable by others is still private).
fn check_owner(path: &Path, metadata: &fs::Metadata, root_ok: bool) -> Result<(), StoreError> {
    let user = rustix::process::geteuid().as_raw();
    let owner = metadata.uid();
    if owner == user || (root_ok && owner == 0) {
        return Ok(());
    }
    Err(StoreError::ForeignOwner {
        path: path.to_path_buf(),
        owner,
        user,
    })
}

/// Refuses `path` if its mode has any of the `forbidden` bits.
fn check_mode(path: &Path, metadata: &fs::Metadata, forbidden: u32) -> Result<(), StoreError> {
    let mode = metadata.mode() & 0o7777;
    if mode & forbidden != 0 {
        return Err(StoreError::InsecurePermissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// Creates a store directory (and its parents) with mode 0700 if missing, then checks it.
fn ensure_dir(dir: &Path) -> Result<(), StoreError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|error| StoreError::io("create directory", dir, error))?;
    check_dir(dir).map(|_| ())
}

/// Replaces `path` with `bytes` in one step: a private temporary file in the same directory, synced,
/// then renamed over it.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let temp = write_temporary(dir, path, bytes)?;
    if let Err(error) = fs::rename(&temp, path) {
        // Best effort: the error that matters is the one returned.
        let _ = fs::remove_file(&temp);
        return Err(StoreError::io("rename into place", path, error));
    }
    sync_dir(dir);
    Ok(())
}

/// Creates `path` with `bytes` in one step, as [`write_atomically`] does, but only if nothing is
/// there: `false`, and nothing changed, when something is. The temporary file is hard-linked into
/// place, which fails rather than replace an entry that appeared meanwhile (a rename would not).
pub(super) fn write_new(dir: &Path, path: &Path, bytes: &[u8]) -> Result<bool, StoreError> {
    let temp = write_temporary(dir, path, bytes)?;
    let linked = fs::hard_link(&temp, path);
    // Only the name at `path` is wanted; if removing the temporary name fails, it is left as any
    // failed write leaves one (hidden, private, and never read).
    let _ = fs::remove_file(&temp);
    match linked {
        Ok(()) => {
            sync_dir(dir);
            Ok(true)
        }
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(error) => Err(StoreError::io("link into place", path, error)),
    }
}

/// Writes `bytes` to a new private temporary file next to `path` (creating and checking the
/// directory first), synced; returns its path. Removed again if the write fails.
fn write_temporary(dir: &Path, path: &Path, bytes: &[u8]) -> Result<PathBuf, StoreError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);

    ensure_dir(dir)?;
    let stem = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    // The leading dot keeps temporary files apart from ids, which never start with one.
    let temp = dir.join(format!(
        ".{stem}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let fd = rustix::fs::open(
        &temp,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::from_raw_mode(0o600),
    )
    .map_err(|errno| StoreError::io("create temporary file", &temp, errno.into()))?;
    if let Err(error) = write_and_sync(File::from(fd), bytes) {
        // Best effort: the error that matters is the one returned.
        let _ = fs::remove_file(&temp);
        return Err(StoreError::io("write temporary file", &temp, error));
    }
    Ok(temp)
}

/// Makes a rename or link in `dir` durable. Some file systems cannot sync a directory; the file is
/// in place either way, so that is only worth a note.
fn sync_dir(dir: &Path) {
    if let Err(error) = File::open(dir).and_then(|dir| dir.sync_all()) {
        tracing::debug!(dir = %dir.display(), %error, "token store: could not sync directory");
    }
}

fn write_and_sync(mut file: File, bytes: &[u8]) -> io::Result<()> {
    file.write_all(bytes)?;
    file.sync_all()
}

/// Removes the directory entry at `path`, whatever it is (a symbolic link itself, never its
/// target), without reading it; `false` when there was none.
fn remove(path: &Path) -> Result<bool, StoreError> {
    // unlink(2) never follows a final symbolic link and never opens the file, so neither a corrupt
    // file nor a FIFO nor a link to someone else's file stops a logout or is harmed by it.
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(StoreError::io("remove", path, error)),
    }
}

/// Opens (creating if needed) the lock file and `flock`s it; `None` when a non-blocking attempt
/// finds it held.
fn lock_file(
    dir: &Path,
    path: &Path,
    operation: FlockOperation,
) -> Result<Option<StoreLock>, StoreError> {
    ensure_dir(dir)?;
    // NONBLOCK for the same reason as in `read_record`: a FIFO here must not stall the open.
    let fd: OwnedFd = rustix::fs::open(
        path,
        OFlags::RDWR | OFlags::CREATE | OFlags::CLOEXEC | OFlags::NOFOLLOW | OFlags::NONBLOCK,
        Mode::from_raw_mode(0o600),
    )
    .map_err(|errno| StoreError::io("open lock file", path, errno.into()))?;
    let fd = File::from(fd);
    let metadata = fd
        .metadata()
        .map_err(|error| StoreError::io("inspect lock file", path, error))?;
    if !metadata.is_file() {
        return Err(not_regular(path, file_kind(&metadata)));
    }
    let fd = OwnedFd::from(fd);
    loop {
        match rustix::fs::flock(&fd, operation) {
            Ok(()) => return Ok(Some(StoreLock::file(fd, path.to_path_buf()))),
            Err(Errno::INTR) => continue,
            Err(Errno::WOULDBLOCK) => return Ok(None),
            Err(errno) => {
                return Err(StoreError::Lock {
                    path: path.to_path_buf(),
                    source: errno.into(),
                });
            }
        }
    }
}

/// Runs blocking file work on tokio's blocking pool.
pub(super) async fn blocking<T: Send + 'static>(
    path: &Path,
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| StoreError::io("finish file work on", path, io::Error::other(error)))?
}
