//! Every connected server's tools, resources and prompts under one namespace.
//!
//! A qualified name is `server__name` in `[A-Za-z0-9_-]`, at most 64 characters; a name that had
//! to be changed to fit gets a short hash of the original pair, so two pairs never collide.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use rmcp::model::{Prompt, Resource, Tool};

use crate::ServerId;

/// The longest qualified name (the limit many model APIs put on tool names).
pub const MAX_QUALIFIED_NAME: usize = 64;

/// A name qualified by its server: `server__name`, using only `[A-Za-z0-9_-]`, at most 64 characters.
///
/// Names that had to be changed (characters replaced, or cut to fit) get a short hash of the original
/// pair appended, so two different pairs never map to the same qualified name.
///
/// ```
/// # use mcp_manager::catalog::qualified_name;
/// assert_eq!(qualified_name("files", "read_file"), "files__read_file");
/// let long = qualified_name("server", &"x".repeat(100));
/// assert!(long.len() <= 64);
/// assert_ne!(qualified_name("a", "b.c"), qualified_name("a", "b_c"));
/// ```
pub fn qualified_name(server: &str, name: &str) -> String {
    let plain = format!("{server}__{name}");
    let sanitised: String = plain
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if sanitised == plain && plain.len() <= MAX_QUALIFIED_NAME {
        return plain;
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (server, name).hash(&mut hasher);
    let suffix = format!("_{:08x}", hasher.finish() as u32);
    let keep = MAX_QUALIFIED_NAME - suffix.len();
    let mut qualified: String = sanitised.chars().take(keep).collect();
    qualified.push_str(&suffix);
    qualified
}

/// One entry of the catalog: which server, and the item as the server described it.
#[derive(Debug, Clone)]
pub struct CatalogEntry<T> {
    /// The server's id.
    pub server_id: ServerId,
    /// The server's name.
    pub server: String,
    /// The item.
    pub item: T,
}

/// Every connected server's tools, resources and prompts, by qualified name.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Tools by qualified name.
    pub tools: BTreeMap<String, CatalogEntry<Tool>>,
    /// Resources by qualified name.
    pub resources: BTreeMap<String, CatalogEntry<Resource>>,
    /// Prompts by qualified name.
    pub prompts: BTreeMap<String, CatalogEntry<Prompt>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_joined_with_two_underscores() {
        assert_eq!(qualified_name("everything", "echo"), "everything__echo");
    }

    #[test]
    fn other_characters_are_replaced_and_disambiguated() {
        let dotted = qualified_name("srv", "a.b");
        assert!(dotted.starts_with("srv__a_b_"));
        assert!(
            dotted
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        );
        assert_ne!(dotted, qualified_name("srv", "a_b"));
    }

    #[test]
    fn long_names_are_cut_to_64_with_a_hash() {
        let a = qualified_name("server", &format!("{}a", "x".repeat(80)));
        let b = qualified_name("server", &format!("{}b", "x".repeat(80)));
        assert_eq!(a.len(), MAX_QUALIFIED_NAME);
        assert_ne!(a, b);
    }
}
