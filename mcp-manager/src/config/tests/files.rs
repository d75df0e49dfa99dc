//! Files: finding the configuration, reading it by extension and encoding, its size limit, and
//! paths relative to it.

use super::*;

#[test]
fn relative_cwd_resolves_against_the_config_files_directory() {
    let text = "[servers.a]\ncommand = \"x\"\ncwd = \"sub/dir\"\n[servers.b]\ncommand = \"x\"\ncwd = \"/abs\"\n[servers.c]\ncommand = \"x\"\ncwd = \"..\"\n";
    let config = parse(
        text,
        Path::new("/etc/mcpcord/mcpcord.toml"),
        Format::Toml,
        &env,
    )
    .unwrap();
    let cwd = |name| stdio(config.server(name).unwrap()).cwd.clone().unwrap();
    assert_eq!(cwd("a"), Path::new("/etc/mcpcord/sub/dir"));
    assert_eq!(cwd("b"), Path::new("/abs"));
    assert_eq!(cwd("c"), Path::new("/etc/mcpcord/.."));
}

#[test]
fn relative_config_path_still_gives_an_absolute_cwd() {
    let config = parse(
        "[servers.a]\ncommand = \"x\"\ncwd = \".\"\n",
        Path::new("mcpcord.toml"),
        Format::Toml,
        &env,
    )
    .unwrap();
    let cwd = stdio(config.server("a").unwrap()).cwd.clone().unwrap();
    assert_eq!(cwd, std::env::current_dir().unwrap());
}

/// A fresh directory under the system temp dir, removed on drop.
pub(super) struct TempDir(pub(super) PathBuf);

impl TempDir {
    pub(super) fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mcpcord-config-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub(super) fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn lookup_prefers_the_explicit_path_then_the_env_var_then_mcpcord_toml_then_mcp_json() {
    let dir = TempDir::new("order");
    let explicit = dir.file("explicit.toml", "");
    let from_env = dir.file("env.json", "{}");
    let env_value = Some(OsString::from(&from_env));

    assert_eq!(find_in(None, None, &dir.0).unwrap(), None);
    let mcp_json = dir.file(".mcp.json", "{}");
    assert_eq!(find_in(None, None, &dir.0).unwrap(), Some(mcp_json));
    let mcpcord_toml = dir.file("mcpcord.toml", "");
    assert_eq!(find_in(None, None, &dir.0).unwrap(), Some(mcpcord_toml));
    assert_eq!(
        find_in(None, env_value.clone(), &dir.0).unwrap(),
        Some(from_env)
    );
    assert_eq!(
        find_in(Some(&explicit), env_value, &dir.0).unwrap(),
        Some(explicit)
    );
}

#[test]
fn an_empty_env_var_counts_as_unset() {
    let dir = TempDir::new("empty-env");
    let mcpcord_toml = dir.file("mcpcord.toml", "");
    assert_eq!(
        find_in(None, Some(OsString::new()), &dir.0).unwrap(),
        Some(mcpcord_toml)
    );
}

#[test]
fn a_named_file_that_does_not_exist_is_an_error_naming_it() {
    let dir = TempDir::new("missing");
    dir.file("mcpcord.toml", "");
    let missing = dir.0.join("nope.toml");

    let error = find_in(Some(&missing), None, &dir.0).unwrap_err();
    assert!(error.is_not_found());
    assert_eq!(error.path(), missing);
    assert_eq!(
        error.to_string(),
        format!("config file {} does not exist", missing.display())
    );

    let error = find_in(None, Some(missing.clone().into()), &dir.0).unwrap_err();
    assert!(matches!(
        error,
        ConfigError::NotFound {
            named_by: NamedBy::Environment,
            ..
        }
    ));
    assert_eq!(
        error.to_string(),
        format!(
            "config file {} (named by $MCPCORD_CONFIG) does not exist",
            missing.display()
        )
    );
}

#[test]
fn from_path_chooses_the_format_by_extension() {
    let dir = TempDir::new("formats");
    let toml_path = dir.file("a.toml", "[servers.t]\ncommand = \"x\"\n");
    let json_path = dir.file("b.JSON", r#"{"mcpServers": {"j": {"command": "x"}}}"#);
    let config = Config::from_path(&toml_path).unwrap();
    assert!(config.server("t").is_some());
    assert_eq!(config.source.as_deref(), Some(toml_path.as_path()));
    assert!(Config::from_path(&json_path).unwrap().server("j").is_some());

    let yaml = dir.file("c.yaml", "servers: {}");
    let error = Config::from_path(&yaml).unwrap_err();
    assert!(
        matches!(error, ConfigError::UnknownFormat { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("name it *.toml"), "{error}");

    let error = Config::from_path(dir.0.join("absent.toml")).unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[test]
fn from_path_reports_bad_encoding_and_accepts_a_byte_order_mark() {
    let dir = TempDir::new("encoding");
    let path = dir.0.join("latin1.toml");
    std::fs::write(&path, b"[servers.s]\ncommand = \"caf\xe9\"\n").unwrap();
    let error = Config::from_path(&path).unwrap_err();
    assert_eq!(
        error.problems()[0].to_string(),
        "2:15: the file is not UTF-8 text"
    );

    let bom = dir.file("bom.json", "\u{feff}{\"mcpServers\": {}}");
    assert!(Config::from_path(&bom).unwrap().servers.is_empty());
}

#[test]
fn a_file_that_never_ends_is_refused_once_past_the_limit() {
    let error = Config::from_path("/dev/zero").expect_err("/dev/zero is no configuration");
    assert!(error.is_too_large(), "{error:?}");
    assert_eq!(error.path(), Path::new("/dev/zero"));
    let message = error.to_string();
    assert!(
        message.contains("/dev/zero") && message.contains("1 MiB"),
        "{message}"
    );
}
