//! The store an earlier version of this tool left behind, read once.
//!
//! The CLI was called `mcpm` and kept its OAuth tokens under `~/.config/mcpm` (or `$MCPM_HOME`).
//! Another MCP tool, an unrelated server package manager, is also called mcpm and keeps its own
//! files in the same directory; so nothing there is used unless it is provably ours (the store's
//! own format, under the file name our store would give it: see `FileStore::import_from`), and
//! nothing there is changed. The import runs when the new store's directory does not exist yet,
//! and creates it, so it happens once.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;

use mcp_manager::oauth::FileStore;
use mcp_manager::oauth::store::{default_dir, legacy_default_dir};

/// Imports the old store into the new one if the new one does not exist yet, saying so on stderr
/// when there was anything to import or skip. Failures are reported and never stop the command:
/// at worst the person logs in again.
pub(crate) async fn import_once() {
    let Ok(dir) = default_dir() else { return };
    if std::fs::symlink_metadata(&dir).is_ok() {
        return;
    }
    let Some(legacy) = legacy_default_dir() else {
        return;
    };
    if !legacy.join("tokens").is_dir() && !legacy.join("clients").is_dir() {
        return;
    }
    let store = FileStore::new(&dir);
    match store.import_from(&legacy).await {
        Ok(report) => {
            if report.tokens() > 0 || report.clients() > 0 || !report.skipped().is_empty() {
                eprintln!(
                    "mcpcord: this tool used to be called mcpm; from its store in {}: {report}, into {} (the old files are left as they were)",
                    legacy.display(),
                    dir.display()
                );
                for skipped in report.skipped() {
                    eprintln!(
                        "mcpcord:   skipped {}: {}",
                        skipped.path().display(),
                        skipped.reason()
                    );
                }
            }
        }
        Err(error) => {
            eprintln!(
                "mcpcord: could not import the old store in {}: {error}",
                legacy.display()
            );
        }
    }
    // The directory marks the import as done, even when nothing could be imported: the notice
    // is said once. Private, as the store makes it.
    if let Err(error) = DirBuilder::new().recursive(true).mode(0o700).create(&dir) {
        tracing::debug!(%error, dir = %dir.display(), "could not create the token store directory");
    }
}
