//! Store keys: which entry belongs to which server, as names safe to use as file names.

use std::fmt;

use sha2::{Digest, Sha256};

/// Longest sanitised label kept in front of the hash.
const MAX_LABEL: usize = 32;
/// Hex digits of SHA-256 kept in an id: 128 bits, so no two servers share an entry by chance or by
/// construction.
const HASH_HEX: usize = 32;

/// Identifies one MCP server's tokens: its configured name and its canonical URL.
///
/// [`StoreKey::id`] is `<label>-<hash>`: the name lowercased, every character outside `[a-z0-9_-]`
/// replaced by `_` (and a leading `-` too), cut to 32 characters (`server` if nothing is left), then 32 hex digits of
/// SHA-256 over the exact name and URL. The id is safe as a file name on every platform (no dot, no
/// separator, never hidden) and differs whenever the name or the URL differs, even when the labels
/// agree. The file store also records name and URL inside each file and checks them on load.
///
/// Pass the URL in its canonical form (as discovery produces it): the key compares it byte for byte.
///
/// ```
/// use mcp_oauth::StoreKey;
///
/// let key = StoreKey::new("GitHub Copilot", "https://api.example.com/mcp");
/// assert!(key.id().starts_with("github_copilot-"));
/// assert_ne!(key.id(), StoreKey::new("GitHub Copilot", "https://api.example.com/mcp/").id());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct StoreKey {
    server_name: String,
    url: String,
    id: String,
}

impl StoreKey {
    /// The key for the server configured as `server_name` at `url`.
    pub fn new(server_name: impl Into<String>, url: impl Into<String>) -> Self {
        let server_name = server_name.into();
        let url = url.into();
        // A fixed domain label that decides every token file's name. It keeps the CLI's old name
        // on purpose: changing it would orphan every stored login, imported ones included.
        let id = file_id(
            &server_name,
            &[b"mcpm token key v1", server_name.as_bytes(), url.as_bytes()],
        );
        Self {
            server_name,
            url,
            id,
        }
    }

    /// The server's configured name.
    pub fn server_name(&self) -> &str {
        &self.server_name
    }

    /// The server's canonical URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The filesystem-safe id (`<label>-<hash>`), used as the file stem by
    /// [`FileStore`](crate::FileStore).
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreKey")
            .field("server_name", &self.server_name)
            .field("url", &self.url)
            .field("id", &self.id)
            .finish()
    }
}

impl fmt::Display for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.server_name, self.url)
    }
}

/// The filesystem-safe id of an authorization server's client registration, same scheme as
/// [`StoreKey::id`] with the issuer (without its scheme) as label.
pub(super) fn issuer_id(issuer: &str) -> String {
    let label = issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://"))
        .unwrap_or(issuer);
    // A fixed domain label that decides every client file's name; like the token label, it keeps
    // the CLI's old name, and changing it would orphan every stored registration.
    file_id(label, &[b"mcpm client key v1", issuer.as_bytes()])
}

/// `<sanitised label>-<hash of parts>`. Each part is length-prefixed so that no two different part
/// lists hash the same input.
fn file_id(label: &str, parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let mut id = sanitise(label);
    id.push('-');
    for byte in digest.iter().take(HASH_HEX / 2) {
        id.push(hex_digit(byte >> 4));
        id.push(hex_digit(byte & 0x0f));
    }
    id
}

fn sanitise(label: &str) -> String {
    let mut out: String = label
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(MAX_LABEL)
        .collect();
    // A label of only punctuation says nothing; the hash alone still keeps the id unique.
    if out.chars().all(|c| c == '_' || c == '-') {
        out = String::from("server");
    }
    // A leading `-` would read as an option to every shell tool pointed at the file.
    if out.starts_with('-') {
        out.replace_range(..1, "_");
    }
    out
}

fn hex_digit(nibble: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(nibble & 0x0f)])
}
