//! [`SkillError`]: why a skill was not listed, loaded or read; and [`FrontmatterProblem`].
//!
//! Every string a server chose (URIs, field names) is shown through
//! [`terminal_safe`](mcp_transport::error::terminal_safe) and cut short; the fields keep it as
//! sent.

use std::fmt;

use mcp_transport::error::terminal_safe;

use crate::CallError;

/// How much of a server's string an error shows.
const SHOWN: usize = 200;

/// A server's string as an error shows it.
fn shown(text: &str) -> String {
    terminal_safe(text, SHOWN)
}

/// Why a skill could not be listed, loaded or read.
///
/// The verification failures ([`is_verification_failure`](Self::is_verification_failure)) mean
/// the server sent content that is not what the skill's entry describes: the content was not
/// handed out, and the skill should be refreshed (`Manager::get_skill`) and loaded again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SkillError {
    /// The server did not declare the skills extension, so nothing was asked.
    #[error("{server} does not offer skills (its capabilities declare no {extension} extension)", extension = rmcp::model::SKILLS_EXTENSION_ID)]
    NotOffered {
        /// The server's name.
        server: String,
    },
    /// The request failed (unknown server, timeout, JSON-RPC error, lost connection...).
    #[error(transparent)]
    Call(#[from] CallError),
    /// The server answered `skills/list` or `skills/get` with something that is not its result.
    #[error("{server}: the answer to {method} is not a skills result")]
    Malformed {
        /// The server's name.
        server: String,
        /// `skills/list` or `skills/get`.
        method: &'static str,
    },
    /// The server's `skills/list` pages never end (a cursor repeated, or too many pages).
    #[error(
        "{server}: the skills/list pages never end (a cursor repeated, or over {} pages)",
        super::MAX_PAGES
    )]
    EndlessListing {
        /// The server's name.
        server: String,
    },
    /// The entry breaks a rule of the extension (its URI, its name, a file outside the skill, a
    /// malformed digest...), so the skill must not be loaded.
    #[error(
        "{server}: skill {} has an invalid entry: {}",
        shown(uri),
        shown(reason)
    )]
    InvalidEntry {
        /// The server's name.
        server: String,
        /// The skill's `SKILL.md` URI.
        uri: String,
        /// What is wrong, as rmcp's validation says it.
        reason: String,
    },
    /// The entry's resources are `"dynamic"`: there is nothing to verify content against, and
    /// this client does not load unverifiable skills.
    #[error(
        "{server}: skill {} has \"dynamic\" resources, which cannot be verified; not loaded",
        shown(uri)
    )]
    Unverifiable {
        /// The server's name.
        server: String,
        /// The skill's `SKILL.md` URI.
        uri: String,
    },
    /// The entry lists more files, or more bytes, than the extension's per-skill limits.
    #[error(
        "{server}: skill {} lists {files} files of {bytes} bytes, over the limits of {} files and {} bytes; not loaded",
        shown(uri),
        super::MAX_FILES,
        super::MAX_BYTES
    )]
    TooLarge {
        /// The server's name.
        server: String,
        /// The skill's `SKILL.md` URI.
        uri: String,
        /// How many files the entry lists.
        files: usize,
        /// The sum of their sizes.
        bytes: u64,
    },
    /// A file's length is not the size its entry gives. Verification failure.
    #[error(
        "{server}: {} is {actual} bytes but the skill's entry says {expected}; content refused",
        shown(uri)
    )]
    SizeMismatch {
        /// The server's name.
        server: String,
        /// The file's URI.
        uri: String,
        /// The size in the entry.
        expected: u64,
        /// The size read.
        actual: u64,
    },
    /// A file's SHA-256 digest is not the one its entry gives. Verification failure.
    #[error(
        "{server}: {} does not match the digest in the skill's entry; content refused",
        shown(uri)
    )]
    DigestMismatch {
        /// The server's name.
        server: String,
        /// The file's URI.
        uri: String,
        /// The digest in the entry.
        expected: String,
        /// The digest of what was read (`sha256:` and 64 hex digits).
        actual: String,
    },
    /// The `SKILL.md`'s frontmatter cannot be read, or differs from the entry's. Verification
    /// failure.
    #[error(
        "{server}: the frontmatter of {} {problem}; skill not loaded",
        shown(uri)
    )]
    FrontmatterMismatch {
        /// The server's name.
        server: String,
        /// The `SKILL.md` URI.
        uri: String,
        /// What is wrong with it.
        problem: FrontmatterProblem,
    },
    /// A file the skill's entry does not list was asked for. Verification failure: the entry is
    /// complete, so an unlisted file means the skill changed.
    #[error(
        "{server}: {} is not a file of skill {} (its entry does not list it)",
        shown(uri),
        shown(skill)
    )]
    Unlisted {
        /// The server's name.
        server: String,
        /// The skill's `SKILL.md` URI.
        skill: String,
        /// The file asked for.
        uri: String,
    },
    /// An earlier file of this loaded skill failed verification, so no further file is read.
    #[error(
        "{server}: a file of skill {} failed verification; no further file is read until it is loaded again",
        shown(skill)
    )]
    Tainted {
        /// The server's name.
        server: String,
        /// The skill's `SKILL.md` URI.
        skill: String,
    },
    /// `resources/read` did not return the file's content (no content for its URI, or a blob that
    /// is not base64).
    #[error("{server}: reading {} returned {detail}", shown(uri))]
    Content {
        /// The server's name.
        server: String,
        /// The file's URI.
        uri: String,
        /// What was wrong, in this client's words.
        detail: &'static str,
    },
}

impl SkillError {
    /// A stable name for the kind of error, for programs and `--json` output.
    pub fn code(&self) -> &'static str {
        match self {
            SkillError::NotOffered { .. } => "skills_not_offered",
            SkillError::Call(error) => error.code(),
            SkillError::Malformed { .. } => "malformed_result",
            SkillError::EndlessListing { .. } => "endless_listing",
            SkillError::InvalidEntry { .. } => "invalid_skill_entry",
            SkillError::Unverifiable { .. } => "unverifiable_skill",
            SkillError::TooLarge { .. } => "skill_too_large",
            SkillError::SizeMismatch { .. } => "skill_size_mismatch",
            SkillError::DigestMismatch { .. } => "skill_digest_mismatch",
            SkillError::FrontmatterMismatch { .. } => "skill_frontmatter_mismatch",
            SkillError::Unlisted { .. } => "skill_file_unlisted",
            SkillError::Tainted { .. } => "skill_tainted",
            SkillError::Content { .. } => "skill_content",
        }
    }

    /// The server sent content that does not match the skill's entry (size, digest,
    /// frontmatter), or a file outside it was asked for: the content was refused.
    pub fn is_verification_failure(&self) -> bool {
        matches!(
            self,
            SkillError::SizeMismatch { .. }
                | SkillError::DigestMismatch { .. }
                | SkillError::FrontmatterMismatch { .. }
                | SkillError::Unlisted { .. }
                | SkillError::Tainted { .. }
        )
    }

    /// A file's length differed from its entry's size.
    pub fn is_size_mismatch(&self) -> bool {
        matches!(self, SkillError::SizeMismatch { .. })
    }

    /// A file's digest differed from its entry's.
    pub fn is_digest_mismatch(&self) -> bool {
        matches!(self, SkillError::DigestMismatch { .. })
    }

    /// The `SKILL.md`'s frontmatter could not be read or differed from the entry's.
    pub fn is_frontmatter_mismatch(&self) -> bool {
        matches!(self, SkillError::FrontmatterMismatch { .. })
    }

    /// A file the entry does not list was asked for.
    pub fn is_unlisted(&self) -> bool {
        matches!(self, SkillError::Unlisted { .. })
    }

    /// The server does not declare the skills extension.
    pub fn is_not_offered(&self) -> bool {
        matches!(self, SkillError::NotOffered { .. })
    }

    /// The entry itself rules out loading: invalid, `"dynamic"`, or over the limits.
    pub fn is_refused_entry(&self) -> bool {
        matches!(
            self,
            SkillError::InvalidEntry { .. }
                | SkillError::Unverifiable { .. }
                | SkillError::TooLarge { .. }
        )
    }

    /// The failed request's error, when the request itself failed.
    pub fn call_error(&self) -> Option<&CallError> {
        match self {
            SkillError::Call(error) => Some(error),
            _ => None,
        }
    }

    /// What is wrong with the frontmatter, for a frontmatter mismatch.
    pub fn frontmatter_problem(&self) -> Option<&FrontmatterProblem> {
        match self {
            SkillError::FrontmatterMismatch { problem, .. } => Some(problem),
            _ => None,
        }
    }

    /// The URI of the file (or skill) the error is about, as the server sent it.
    pub fn uri(&self) -> Option<&str> {
        match self {
            SkillError::InvalidEntry { uri, .. }
            | SkillError::Unverifiable { uri, .. }
            | SkillError::TooLarge { uri, .. }
            | SkillError::SizeMismatch { uri, .. }
            | SkillError::DigestMismatch { uri, .. }
            | SkillError::FrontmatterMismatch { uri, .. }
            | SkillError::Unlisted { uri, .. }
            | SkillError::Content { uri, .. } => Some(uri),
            SkillError::Tainted { skill, .. } => Some(skill),
            _ => None,
        }
    }
}

/// What is wrong with a `SKILL.md`'s frontmatter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrontmatterProblem {
    /// The file is not UTF-8 text.
    NotText,
    /// The file does not start with a `---` line.
    Missing,
    /// No `---` line closes the frontmatter.
    Unclosed,
    /// A line this client cannot read as the YAML that frontmatter uses (see the module doc of
    /// `skills::frontmatter`): refused rather than guessed.
    Syntax {
        /// The line in the file, the opening `---` being line 1.
        line: usize,
        /// What was found there, in this client's words.
        reason: &'static str,
    },
    /// A field has a different value in the file than in the entry.
    FieldDiffers {
        /// The field, as the server wrote it.
        field: String,
    },
    /// A field of the entry is not in the file.
    FieldNotInFile {
        /// The field, as the server wrote it.
        field: String,
    },
    /// A field of the file is not in the entry.
    FieldNotInEntry {
        /// The field, as the server wrote it.
        field: String,
    },
}

impl FrontmatterProblem {
    /// The field the file and the entry disagree on, if that is the problem.
    pub fn field(&self) -> Option<&str> {
        match self {
            FrontmatterProblem::FieldDiffers { field }
            | FrontmatterProblem::FieldNotInFile { field }
            | FrontmatterProblem::FieldNotInEntry { field } => Some(field),
            _ => None,
        }
    }
}

impl fmt::Display for FrontmatterProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrontmatterProblem::NotText => f.write_str("is not UTF-8 text"),
            FrontmatterProblem::Missing => f.write_str("is missing (no leading --- line)"),
            FrontmatterProblem::Unclosed => f.write_str("has no closing --- line"),
            FrontmatterProblem::Syntax { line, reason } => {
                write!(f, "cannot be read at line {line}: {reason}")
            }
            FrontmatterProblem::FieldDiffers { field } => {
                write!(f, "differs from the entry's in field {}", shown(field))
            }
            FrontmatterProblem::FieldNotInFile { field } => {
                write!(f, "lacks field {}, which the entry has", shown(field))
            }
            FrontmatterProblem::FieldNotInEntry { field } => {
                write!(f, "has field {}, which the entry lacks", shown(field))
            }
        }
    }
}
