//! Skills (the `io.modelcontextprotocol/skills` extension, SEP-2640), client side: what a loaded
//! skill is, and the checks its files pass before anyone sees them.
//!
//! A server that declares the extension lists its skills with `skills/list`: each entry carries
//! the skill's frontmatter and a manifest of its files, each with a size and a SHA-256 digest.
//! Listing fetches no file (the extension forbids prefetching). Loading a skill
//! ([`Manager::load_skill`](crate::Manager::load_skill)) reads its `SKILL.md` and hands it out only
//! if its size and digest match the entry and its YAML frontmatter equals the entry's field by
//! field; a supporting file is read later, on demand
//! ([`Manager::read_skill_file`](crate::Manager::read_skill_file)), only if the entry lists it,
//! and is checked the same way. Any mismatch is a [`SkillError`] whose
//! [`is_verification_failure`](SkillError::is_verification_failure) is true, and after one the
//! skill reads no further file: the held entry no longer describes what the server serves.
//!
//! ```no_run
//! # async fn example(manager: &mcp_manager::Manager, id: mcp_manager::ServerId)
//! # -> Result<(), mcp_manager::skills::SkillError> {
//! for entry in manager.list_skills(id).await? {
//!     println!("{}: {}", entry.name(), entry.frontmatter.description);
//! }
//! let entry = manager.list_skills(id).await?.remove(0);
//! let skill = manager.load_skill(id, &entry).await?;
//! println!("{}", skill.body());
//! let forms = manager.read_skill_file(&skill, "references/FORMS.md").await?;
//! println!("{} bytes", forms.bytes().len());
//! # Ok(())
//! # }
//! ```
//!
//! This client declines skills whose resources are `"dynamic"` (nothing to verify against) and
//! skills over the extension's limits ([`MAX_FILES`], [`MAX_BYTES`]), which hosts may do.

mod error;
mod frontmatter;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine;
use rmcp::model::{ReadResourceResult, ResourceContents, Skill, SkillResource, SkillResources};
use serde_json::{Map, Value};

use crate::ServerId;

pub use error::{FrontmatterProblem, SkillError};

/// The most files a skill's entry may list for this client to load it (the extension's limit).
pub const MAX_FILES: usize = 512;

/// The most bytes a skill's files may add up to for this client to load it (16 MiB, the
/// extension's limit).
pub const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// The most `skills/list` pages this client reads before deciding the listing never ends.
pub const MAX_PAGES: usize = 1_000;

/// A skill whose `SKILL.md` passed verification against its entry: the entry held while the
/// skill is in use, and the `SKILL.md` text.
///
/// Clones share one verification state: once a file of the skill fails verification, no clone
/// reads another.
#[derive(Debug, Clone)]
pub struct LoadedSkill {
    server: ServerId,
    entry: Skill,
    text: String,
    body_start: usize,
    frontmatter: Map<String, Value>,
    tainted: Arc<AtomicBool>,
}

impl LoadedSkill {
    /// The server the skill came from; its files are read from it alone.
    pub fn server(&self) -> ServerId {
        self.server
    }

    /// The entry the skill was loaded from, which every file read is checked against.
    pub fn entry(&self) -> &Skill {
        &self.entry
    }

    /// The skill's name (the frontmatter's `name`).
    pub fn name(&self) -> &str {
        self.entry.name()
    }

    /// The URI of the skill's `SKILL.md`.
    pub fn uri(&self) -> &str {
        &self.entry.uri
    }

    /// The whole `SKILL.md`, frontmatter included.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The `SKILL.md` after its frontmatter: the instructions.
    pub fn body(&self) -> &str {
        &self.text[self.body_start..]
    }

    /// The frontmatter as parsed from the `SKILL.md` (equal to the entry's).
    pub fn frontmatter(&self) -> &Map<String, Value> {
        &self.frontmatter
    }

    /// Every file of the skill, `SKILL.md` included, as its entry lists them.
    pub fn files(&self) -> &[SkillResource] {
        match &self.entry.resources {
            SkillResources::Files(files) => files,
            // A loaded skill always has a manifest: `check_entry` refuses the others.
            _ => &[],
        }
    }

    /// Whether a file of this skill has failed verification (no further file is then read).
    pub fn is_tainted(&self) -> bool {
        self.tainted.load(Ordering::Acquire)
    }

    /// The entry's file for `path`: its URI as listed, or a path relative to the skill's root
    /// (the directory of its `SKILL.md`), as the skill's own text refers to its files.
    pub fn file(&self, path: &str) -> Option<&SkillResource> {
        let files = self.files();
        if let Some(file) = files.iter().find(|file| file.uri == path) {
            return Some(file);
        }
        let root = self.uri().strip_suffix(rmcp::model::SKILL_MD)?;
        let relative = path.strip_prefix("./").unwrap_or(path);
        let uri = format!("{root}{relative}");
        files.iter().find(|file| file.uri == uri)
    }

    pub(crate) fn taint(&self) {
        self.tainted.store(true, Ordering::Release);
    }
}

/// A file of a loaded skill, verified against the skill's entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillFile {
    uri: String,
    mime_type: Option<String>,
    bytes: Vec<u8>,
}

impl SkillFile {
    /// The file's URI, as the entry lists it.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The MIME type the server gave, if any.
    pub fn mime_type(&self) -> Option<&str> {
        self.mime_type.as_deref()
    }

    /// The file's bytes (those the digest covers).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The file as text, if it is UTF-8.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.bytes).ok()
    }

    /// The file's bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// The entry's files, when the entry may be loaded: valid, with a manifest, within the limits.
pub(crate) fn check_entry<'a>(
    server: &str,
    skill: &'a Skill,
) -> Result<&'a [SkillResource], SkillError> {
    skill.validate().map_err(|error| SkillError::InvalidEntry {
        server: server.to_owned(),
        uri: skill.uri.clone(),
        reason: error.to_string(),
    })?;
    let SkillResources::Files(files) = &skill.resources else {
        return Err(SkillError::Unverifiable {
            server: server.to_owned(),
            uri: skill.uri.clone(),
        });
    };
    let bytes = files
        .iter()
        .fold(0u64, |sum, file| sum.saturating_add(file.size));
    if files.len() > MAX_FILES || bytes > MAX_BYTES {
        return Err(SkillError::TooLarge {
            server: server.to_owned(),
            uri: skill.uri.clone(),
            files: files.len(),
            bytes,
        });
    }
    Ok(files)
}

/// Checks `bytes` against the entry's size, then (only if the size matches) its digest.
pub(crate) fn verify_file(
    server: &str,
    entry: &SkillResource,
    bytes: &[u8],
) -> Result<(), SkillError> {
    let actual = bytes.len() as u64;
    if actual != entry.size {
        return Err(SkillError::SizeMismatch {
            server: server.to_owned(),
            uri: entry.uri.clone(),
            expected: entry.size,
            actual,
        });
    }
    let digest = rmcp::model::sha256_digest(bytes);
    if digest != entry.digest {
        return Err(SkillError::DigestMismatch {
            server: server.to_owned(),
            uri: entry.uri.clone(),
            expected: entry.digest.clone(),
            actual: digest,
        });
    }
    Ok(())
}

/// The skill, loaded from the bytes of its `SKILL.md`: they must match the entry's size and
/// digest, be UTF-8, and carry frontmatter equal to the entry's.
pub(crate) fn load(
    server_name: &str,
    server: ServerId,
    skill: &Skill,
    bytes: Vec<u8>,
) -> Result<LoadedSkill, SkillError> {
    let files = check_entry(server_name, skill)?;
    let mismatch = |problem| SkillError::FrontmatterMismatch {
        server: server_name.to_owned(),
        uri: skill.uri.clone(),
        problem,
    };
    // `validate` has checked that the manifest lists the `SKILL.md` itself.
    let Some(own) = files.iter().find(|file| file.uri == skill.uri) else {
        return Err(SkillError::InvalidEntry {
            server: server_name.to_owned(),
            uri: skill.uri.clone(),
            reason: "the manifest does not list its own SKILL.md".to_owned(),
        });
    };
    verify_file(server_name, own, &bytes)?;
    let text = String::from_utf8(bytes).map_err(|_| mismatch(FrontmatterProblem::NotText))?;
    let parsed = frontmatter::parse(&text).map_err(mismatch)?;
    let entry = match serde_json::to_value(&skill.frontmatter) {
        Ok(Value::Object(entry)) => entry,
        // A struct of two strings and a map always serialises to an object.
        _ => Map::new(),
    };
    frontmatter::compare(&parsed, &entry).map_err(mismatch)?;
    Ok(LoadedSkill {
        server,
        entry: skill.clone(),
        body_start: body_start(&text),
        text,
        frontmatter: parsed,
        tainted: Arc::new(AtomicBool::new(false)),
    })
}

/// Where the text after the frontmatter's closing `---` line starts (the parse has found it).
fn body_start(text: &str) -> usize {
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        offset += line.len();
        if index > 0 && line.trim_end_matches(['\n', '\r']) == "---" {
            return offset;
        }
    }
    text.len()
}

/// The bytes (and MIME type) of `uri` in a `resources/read` result: its text as UTF-8, or its
/// blob decoded from base64.
pub(crate) fn file_bytes(
    server: &str,
    uri: &str,
    result: ReadResourceResult,
) -> Result<(Vec<u8>, Option<String>), SkillError> {
    let content_error = |detail| SkillError::Content {
        server: server.to_owned(),
        uri: uri.to_owned(),
        detail,
    };
    let content = result
        .contents
        .into_iter()
        .find(|content| content_uri(content) == uri)
        .ok_or_else(|| content_error("no content for that URI"))?;
    match content {
        ResourceContents::TextResourceContents {
            text, mime_type, ..
        } => Ok((text.into_bytes(), mime_type)),
        ResourceContents::BlobResourceContents {
            blob, mime_type, ..
        } => base64::engine::general_purpose::STANDARD
            .decode(blob.as_bytes())
            .map(|bytes| (bytes, mime_type))
            .map_err(|_| content_error("a blob that is not base64")),
        // `ResourceContents` is non-exhaustive: a kind added later carries no bytes we know.
        _ => Err(content_error("content of a kind this client does not know")),
    }
}

fn content_uri(content: &ResourceContents) -> &str {
    match content {
        ResourceContents::TextResourceContents { uri, .. }
        | ResourceContents::BlobResourceContents { uri, .. } => uri,
        _ => "",
    }
}

/// A verified file of a loaded skill.
pub(crate) fn skill_file(uri: String, mime_type: Option<String>, bytes: Vec<u8>) -> SkillFile {
    SkillFile {
        uri,
        mime_type,
        bytes,
    }
}

#[cfg(test)]
mod tests;
