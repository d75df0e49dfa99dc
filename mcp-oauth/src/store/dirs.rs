//! Where the store lives: the directory of today's name (`mcpcord`), and the one the CLI used under
//! its old name (`mcpm`), which [`FileStore::import_from`](crate::FileStore::import_from) reads.

use std::ffi::OsString;
use std::path::PathBuf;

use super::StoreError;

/// The directory the `mcpcord` tools keep their state in: `$MCPCORD_HOME` if set, else the platform
/// configuration directory + `/mcpcord` (`$XDG_CONFIG_HOME/mcpcord` or `$HOME/.config/mcpcord`; on macOS
/// `$HOME/Library/Application Support/mcpcord`).
///
/// Empty variables count as unset, and a relative `XDG_CONFIG_HOME` is ignored as the XDG
/// specification says. [`FileStore::new`](crate::FileStore::new) keeps tokens in its `tokens/` and
/// registrations in its `clients/` subdirectory.
///
/// # Errors
/// [`StoreError::NoDefaultDir`] when none of those variables is set.
pub fn default_dir() -> Result<PathBuf, StoreError> {
    default_dir_from(|name| std::env::var_os(name)).ok_or(StoreError::NoDefaultDir)
}

/// Where the CLI kept its state while it was called `mcpm`: `$MCPM_HOME` if set, else the
/// platform configuration directory + `/mcpm` (`$XDG_CONFIG_HOME/mcpm` or `$HOME/.config/mcpm`; on
/// macOS `$HOME/Library/Application Support/mcpm`), with the same rules as [`default_dir`].
/// `None` when none of those variables is set.
///
/// An unrelated tool also called mcpm keeps its own files there: read it only through
/// [`FileStore::import_from`](crate::FileStore::import_from), which takes nothing but files that
/// are provably this store's.
pub fn legacy_default_dir() -> Option<PathBuf> {
    legacy_default_dir_from(|name| std::env::var_os(name))
}

fn default_dir_from(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    config_dir_from(var, "MCPCORD_HOME", "mcpcord")
}

fn legacy_default_dir_from(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    config_dir_from(var, "MCPM_HOME", "mcpm")
}

/// `$<home_var>` if set, else `<platform configuration directory>/<name>`.
fn config_dir_from(
    var: impl Fn(&str) -> Option<OsString>,
    home_var: &str,
    name: &str,
) -> Option<PathBuf> {
    let var = |name: &str| {
        var(name)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    };
    if let Some(home) = var(home_var) {
        return Some(home);
    }
    let config = if cfg!(target_os = "macos") {
        var("HOME").map(|home| home.join("Library").join("Application Support"))
    } else {
        var("XDG_CONFIG_HOME")
            .filter(|dir| dir.is_absolute())
            .or_else(|| var("HOME").map(|home| home.join(".config")))
    };
    config.map(|dir| dir.join(name))
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;
    use std::path::PathBuf;

    use super::{default_dir_from, legacy_default_dir_from};

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| OsString::from(value))
        }
    }

    #[test]
    fn default_dir_prefers_mcpcord_home() {
        let vars = [("MCPCORD_HOME", "/srv/mcpcord"), ("HOME", "/home/u")];
        assert_eq!(
            default_dir_from(env(&vars)),
            Some(PathBuf::from("/srv/mcpcord"))
        );
    }

    #[cfg(not(target_os = "macos"))]
    #[test]
    fn default_dir_uses_absolute_xdg_config_home_then_home() {
        let vars = [("XDG_CONFIG_HOME", "/cfg"), ("HOME", "/home/u")];
        assert_eq!(
            default_dir_from(env(&vars)),
            Some(PathBuf::from("/cfg/mcpcord"))
        );
        let vars = [("XDG_CONFIG_HOME", "relative"), ("HOME", "/home/u")];
        assert_eq!(
            default_dir_from(env(&vars)),
            Some(PathBuf::from("/home/u/.config/mcpcord"))
        );
        let vars = [("MCPCORD_HOME", ""), ("HOME", "/home/u")];
        assert_eq!(
            default_dir_from(env(&vars)),
            Some(PathBuf::from("/home/u/.config/mcpcord"))
        );
    }

    #[cfg(target_os = "macos")]
    #[test]
    fn default_dir_on_macos_is_under_application_support() {
        let vars = [("XDG_CONFIG_HOME", "/cfg"), ("HOME", "/Users/u")];
        assert_eq!(
            default_dir_from(env(&vars)),
            Some(PathBuf::from(
                "/Users/u/Library/Application Support/mcpcord"
            ))
        );
    }

    #[test]
    fn default_dir_is_none_without_any_home() {
        assert_eq!(default_dir_from(env(&[])), None);
    }

    #[test]
    fn legacy_dir_prefers_mcpm_home_and_ignores_mcpcord_home() {
        let vars = [
            ("MCPM_HOME", "/srv/mcpm"),
            ("MCPCORD_HOME", "/srv/mcpcord"),
            ("HOME", "/home/u"),
        ];
        assert_eq!(
            legacy_default_dir_from(env(&vars)),
            Some(PathBuf::from("/srv/mcpm"))
        );
    }

    #[cfg(not(target_os = "macos"))]
    #[test]
    fn legacy_dir_uses_absolute_xdg_config_home_then_home() {
        let vars = [("XDG_CONFIG_HOME", "/cfg"), ("HOME", "/home/u")];
        assert_eq!(
            legacy_default_dir_from(env(&vars)),
            Some(PathBuf::from("/cfg/mcpm"))
        );
        let vars = [("XDG_CONFIG_HOME", "relative"), ("HOME", "/home/u")];
        assert_eq!(
            legacy_default_dir_from(env(&vars)),
            Some(PathBuf::from("/home/u/.config/mcpm"))
        );
        let vars = [("MCPM_HOME", ""), ("HOME", "/home/u")];
        assert_eq!(
            legacy_default_dir_from(env(&vars)),
            Some(PathBuf::from("/home/u/.config/mcpm"))
        );
    }

    #[cfg(target_os = "macos")]
    #[test]
    fn legacy_dir_on_macos_is_under_application_support() {
        let vars = [("XDG_CONFIG_HOME", "/cfg"), ("HOME", "/Users/u")];
        assert_eq!(
            legacy_default_dir_from(env(&vars)),
            Some(PathBuf::from("/Users/u/Library/Application Support/mcpm"))
        );
    }

    #[test]
    fn legacy_dir_is_none_without_any_home() {
        assert_eq!(legacy_default_dir_from(env(&[])), None);
        // MCPCORD_HOME says where the new store is, not where the old one was.
        assert_eq!(
            legacy_default_dir_from(env(&[("MCPCORD_HOME", "/srv/mcpcord")])),
            None
        );
    }
}
