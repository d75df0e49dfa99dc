//! The name-independent handle of one connection.

use std::fmt;

/// A connection's identity in one [`Manager`](crate::Manager): unique for the manager's lifetime
/// (a recovered connection keeps its id; a name may be reused after `disconnect`, an id is not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerId(pub(crate) u64);

impl fmt::Display for ServerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}
