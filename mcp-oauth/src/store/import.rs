//! Importing the store the CLI kept under its old name (`mcpm`): only files that are provably this
//! store's are copied, because an unrelated tool also called mcpm keeps its own files in the same
//! place.
//!
//! A file is provably ours when both hold:
//! - its content parses as this store's format 1 record: `tokens/<id>.json` as a token record
//!   (`{"format": 1, "server": {"name", "url"}, "tokens": ...}`), `clients/<id>.json` as a client
//!   record (`{"format": 1, "client": ...}`);
//! - its file stem is the id this store gives what the record records: [`StoreKey::id`] of the
//!   recorded server name and URL, or the issuer id of the client record's own `issuer` (the
//!   record names its issuer, so the stem is checked against it). Both ids are 128 bits of a hash
//!   under this store's fixed domain labels, which another program does not produce by accident.
//!
//! Everything else under the old directory is never read (only the names in `tokens/` and
//! `clients/` that end in `.json` are candidates), and nothing there is ever changed.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::file::{
    ClientFile, ClientFileRef, FORMAT, FormatProbe, MAX_FILE_BYTES, Refusal, ServerRef, TokenFile,
    TokenFileRef, blocking, check_dir, read_private, to_json, write_new,
};
use super::key::issuer_id;
use super::{FileStore, StoreError, StoreKey};

/// What [`FileStore::import_from`] did: how many entries it imported, and which files it skipped
/// and why.
///
/// ```
/// use mcp_oauth::{FileStore, ImportReport};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = std::env::temp_dir().join(format!("mcp-oauth-import-doc-{}", std::process::id()));
/// let store = FileStore::new(dir.join("mcpcord"));
/// // Usually `legacy_default_dir()`; a directory that does not exist imports nothing.
/// let report: ImportReport = store.import_from(&dir.join("mcpm")).await?;
/// assert_eq!((report.tokens(), report.clients()), (0, 0));
/// assert!(report.skipped().is_empty());
/// assert_eq!(report.to_string(), "imported 0 logins and 0 client registrations");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    tokens: usize,
    clients: usize,
    skipped: Vec<SkippedFile>,
}

impl ImportReport {
    /// How many servers' tokens (logins) were imported.
    pub fn tokens(&self) -> usize {
        self.tokens
    }

    /// How many client registrations were imported.
    pub fn clients(&self) -> usize {
        self.clients
    }

    /// The files (and directories) that were not imported, in the order they were met.
    pub fn skipped(&self) -> &[SkippedFile] {
        &self.skipped
    }

    fn skip(&mut self, path: PathBuf, reason: SkipReason) {
        // A refused home directory is met once for `tokens/` and once for `clients/`.
        if !self.skipped.iter().any(|skipped| skipped.path == path) {
            self.skipped.push(SkippedFile { path, reason });
        }
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |count: usize, one: &'static str, many: &'static str| {
            if count == 1 { one } else { many }
        };
        write!(
            f,
            "imported {} {} and {} {}",
            self.tokens,
            plural(self.tokens, "login", "logins"),
            self.clients,
            plural(self.clients, "client registration", "client registrations"),
        )?;
        if !self.skipped.is_empty() {
            let count = self.skipped.len();
            write!(f, "; skipped {count} {}", plural(count, "file", "files"))?;
        }
        Ok(())
    }
}

/// A file or directory under the old store that was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedFile {
    path: PathBuf,
    reason: SkipReason,
}

impl SkippedFile {
    /// The file or directory, under the old store's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Why it was not imported.
    pub fn reason(&self) -> SkipReason {
        self.reason
    }
}

impl fmt::Display for SkippedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// Why a file (or a directory) of the old store was not imported. The first group is refused as
/// the store refuses its own files; the second is not provably this store's; the last two are
/// neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// A symbolic link, which the store never follows there.
    SymbolicLink,
    /// Not a regular file: a FIFO, a socket, a device or a directory.
    NotRegularFile,
    /// `tokens/` or `clients/` is there but is not a directory.
    NotADirectory,
    /// Larger than the store reads (1 MiB).
    TooLarge,
    /// Open to other users: group or other permission bits on a file or on `tokens/` or
    /// `clients/`, or write permission for them on the old store's directory.
    InsecurePermissions {
        /// Its permission bits.
        mode: u32,
    },
    /// It belongs to another user.
    ForeignOwner {
        /// The uid that owns it.
        owner: u32,
    },
    /// Not a token or client record of this store's format 1 (not JSON, other fields, another
    /// format number): not this store's.
    NotOurs,
    /// A record of this store's format under a name this store would not give it: not provably
    /// this store's.
    NameMismatch,
    /// A token record whose access token could not be sent in an HTTP header; the store would
    /// refuse it on every load.
    UnusableTokens,
    /// This store already has a file of that name, which is kept as it is.
    AlreadyPresent,
    /// It could not be inspected or read.
    Unreadable(io::ErrorKind),
}

impl SkipReason {
    /// Whether it was refused for being open to other users (its mode or its owner), as the store
    /// refuses its own files.
    pub fn is_insecure(self) -> bool {
        matches!(
            self,
            Self::InsecurePermissions { .. } | Self::ForeignOwner { .. }
        )
    }

    /// Whether it is not provably this store's (another program's file, or a record under a name
    /// this store would not give it).
    pub fn is_not_ours(self) -> bool {
        matches!(self, Self::NotOurs | Self::NameMismatch)
    }

    /// The reason for a refusal the store itself reports as `error`.
    fn from_store_error(error: &StoreError) -> Self {
        match error {
            StoreError::InsecurePermissions { mode, .. } => {
                Self::InsecurePermissions { mode: *mode }
            }
            StoreError::ForeignOwner { owner, .. } => Self::ForeignOwner { owner: *owner },
            StoreError::Io { source, .. } | StoreError::Lock { source, .. } => {
                Self::Unreadable(source.kind())
            }
            StoreError::Corrupt { .. } | StoreError::NoDefaultDir => {
                Self::Unreadable(io::ErrorKind::InvalidData)
            }
        }
    }

    fn from_refusal(refusal: &Refusal) -> Self {
        match refusal {
            Refusal::SymbolicLink => Self::SymbolicLink,
            Refusal::NotRegular(_) => Self::NotRegularFile,
            Refusal::TooLarge => Self::TooLarge,
            Refusal::Store(error) => Self::from_store_error(error),
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::SymbolicLink => "it is a symbolic link, which the store never follows",
            Self::NotRegularFile => "it is not a regular file",
            Self::NotADirectory => "it is not a directory",
            Self::TooLarge => return write!(f, "it is larger than {MAX_FILE_BYTES} bytes"),
            Self::InsecurePermissions { mode } => {
                return write!(f, "it has mode {mode:04o}, open to other users");
            }
            Self::ForeignOwner { owner } => {
                return write!(f, "it belongs to user {owner}, not to you");
            }
            Self::NotOurs => "it is not a token or client file of this store's format",
            Self::NameMismatch => {
                "its name is not the one this store gives what it records, \
                 so it is not provably this store's"
            }
            Self::UnusableTokens => "its access token could not be sent in an HTTP header",
            Self::AlreadyPresent => "this store already has a file of that name, which was kept",
            Self::Unreadable(kind) => return write!(f, "it could not be read ({kind})"),
        };
        f.write_str(text)
    }
}

impl FileStore {
    /// Copies into this store the logins (`tokens/`) and client registrations (`clients/`) that
    /// the CLI kept under its old name in `legacy` (usually
    /// [`legacy_default_dir`](crate::store::legacy_default_dir)), taking only files that are
    /// provably this store's (see the conditions below).
    ///
    /// - Nothing under `legacy` is ever changed or removed; only the names in its `tokens/` and
    ///   `clients/` that end in `.json` are looked at.
    /// - A file is imported only if its content parses as this store's format 1 record and its
    ///   file stem is the id this store would give what it records ([`StoreKey::id`] of the
    ///   recorded server, or the id of the recorded issuer).
    /// - Files and directories are refused as the store refuses its own: symbolic links, anything
    ///   but regular files, files over 1 MiB, anything open to group or others or owned by
    ///   another user ([`SkipReason`]).
    /// - An existing file of this store is never replaced ([`SkipReason::AlreadyPresent`]), even
    ///   one that appears while the import runs. New files are written as every save is: private
    ///   (0600), in one step.
    ///
    /// Running it again imports nothing new. A `legacy` directory that does not exist gives an
    /// empty report. The work runs on tokio's blocking pool.
    ///
    /// # Errors
    /// Only failures of this store (its directory refused or not writable); what is wrong under
    /// `legacy` is reported in [`ImportReport::skipped`]. Files imported before the failure stay.
    pub async fn import_from(&self, legacy: &Path) -> Result<ImportReport, StoreError> {
        let store = self.clone();
        let legacy = legacy.to_path_buf();
        let task_legacy = legacy.clone();
        blocking(&legacy, move || import(&store, &task_legacy)).await
    }
}

/// The two kinds of entries an import copies.
#[derive(Clone, Copy)]
enum Kind {
    Tokens,
    Clients,
}

/// What became of one candidate file.
enum Outcome {
    Imported,
    Skipped(SkipReason),
    /// It disappeared before it could be opened: nothing to import or report.
    Gone,
}

fn import(store: &FileStore, legacy: &Path) -> Result<ImportReport, StoreError> {
    let mut report = ImportReport::default();
    for kind in [Kind::Tokens, Kind::Clients] {
        let dir = legacy.join(match kind {
            Kind::Tokens => "tokens",
            Kind::Clients => "clients",
        });
        for (path, stem) in candidates(&dir, &mut report) {
            let outcome = match kind {
                Kind::Tokens => import_tokens(store, &path, &stem)?,
                Kind::Clients => import_client(store, &path, &stem)?,
            };
            match outcome {
                Outcome::Imported => match kind {
                    Kind::Tokens => report.tokens += 1,
                    Kind::Clients => report.clients += 1,
                },
                Outcome::Skipped(reason) => report.skip(path, reason),
                Outcome::Gone => {}
            }
        }
    }
    Ok(report)
}

/// The `*.json` files in `dir` with their stems, sorted; none when `dir` does not exist or is
/// refused (which is reported).
fn candidates(dir: &Path, report: &mut ImportReport) -> Vec<(PathBuf, String)> {
    // Checked here first only to name the reason; `check_dir` refuses a link or a file too.
    match fs::symlink_metadata(dir) {
        Ok(metadata) if metadata.file_type().is_symlink() => {
            report.skip(dir.to_path_buf(), SkipReason::SymbolicLink);
            return Vec::new();
        }
        Ok(metadata) if !metadata.is_dir() => {
            report.skip(dir.to_path_buf(), SkipReason::NotADirectory);
            return Vec::new();
        }
        _ => {}
    }
    match check_dir(dir) {
        Ok(true) => {}
        Ok(false) => return Vec::new(),
        Err(error) => {
            let path = error
                .path()
                .map_or_else(|| dir.to_path_buf(), Path::to_path_buf);
            report.skip(path, SkipReason::from_store_error(&error));
            return Vec::new();
        }
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            report.skip(dir.to_path_buf(), SkipReason::Unreadable(error.kind()));
            return Vec::new();
        }
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                report.skip(dir.to_path_buf(), SkipReason::Unreadable(error.kind()));
                continue;
            }
        };
        // Ids are ASCII and never start with a dot (temporary files do); lock files and anything
        // else are not candidates.
        let name = entry.file_name();
        let Some(stem) = name
            .to_str()
            .and_then(|name| name.strip_suffix(".json"))
            .filter(|stem| !stem.is_empty() && !stem.starts_with('.'))
        else {
            continue;
        };
        found.push((entry.path(), stem.to_owned()));
    }
    found.sort();
    found
}

/// The record in the private file at `path`: `Err` with the reason when it is refused or not a
/// record of this store's format.
fn read_legacy<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, SkipReason> {
    let bytes = match read_private(path) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(None),
        Err(refusal) => return Err(SkipReason::from_refusal(&refusal)),
    };
    match serde_json::from_slice::<FormatProbe>(&bytes) {
        Ok(probe) if probe.format == FORMAT => {}
        _ => return Err(SkipReason::NotOurs),
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|_| SkipReason::NotOurs)
}

fn import_tokens(store: &FileStore, path: &Path, stem: &str) -> Result<Outcome, StoreError> {
    let file: TokenFile = match read_legacy(path) {
        Ok(Some(file)) => file,
        Ok(None) => return Ok(Outcome::Gone),
        Err(reason) => return Ok(Outcome::Skipped(reason)),
    };
    let key = StoreKey::new(file.server.name, file.server.url);
    if key.id() != stem {
        return Ok(Outcome::Skipped(SkipReason::NameMismatch));
    }
    // Checked as a load checks it: an import must not create a file every load refuses.
    if file.tokens.check_access_token().is_err() {
        return Ok(Outcome::Skipped(SkipReason::UnusableTokens));
    }
    let destination = store.token_path(&key);
    let bytes = to_json(
        &destination,
        &TokenFileRef {
            format: FORMAT,
            server: ServerRef {
                name: key.server_name(),
                url: key.url(),
            },
            tokens: &file.tokens,
        },
    )?;
    place(&store.tokens_dir, &destination, &bytes)
}

fn import_client(store: &FileStore, path: &Path, stem: &str) -> Result<Outcome, StoreError> {
    let file: ClientFile = match read_legacy(path) {
        Ok(Some(file)) => file,
        Ok(None) => return Ok(Outcome::Gone),
        Err(reason) => return Ok(Outcome::Skipped(reason)),
    };
    // The record names its issuer, and the store files it under that issuer's id.
    if issuer_id(&file.client.issuer) != stem {
        return Ok(Outcome::Skipped(SkipReason::NameMismatch));
    }
    let destination = store.client_path(&file.client.issuer);
    let bytes = to_json(
        &destination,
        &ClientFileRef {
            format: FORMAT,
            client: &file.client,
        },
    )?;
    place(&store.clients_dir, &destination, &bytes)
}

/// Writes a new file of this store, never replacing one.
fn place(dir: &Path, destination: &Path, bytes: &[u8]) -> Result<Outcome, StoreError> {
    // Checked first to spare a write when the file is there; `write_new` refuses to replace one
    // that appears meanwhile.
    if fs::symlink_metadata(destination).is_ok() {
        return Ok(Outcome::Skipped(SkipReason::AlreadyPresent));
    }
    Ok(if write_new(dir, destination, bytes)? {
        Outcome::Imported
    } else {
        Outcome::Skipped(SkipReason::AlreadyPresent)
    })
}

#[cfg(test)]
mod tests;
