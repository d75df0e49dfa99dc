//! An HTTP server's own settings: its URL (http or https, no placeholders), its headers, its auth
//! mode, and the settings that contradict each other (bearer without a token, OAuth with auth
//! "none", an `Authorization` header set twice).

use std::collections::{BTreeMap, BTreeSet};

use url::Url;

use super::super::document::{Node, Value};
use super::super::types::AuthMode;
use super::keys::Fields;
use super::values::shown_url;
use super::{Schema, join};

impl Schema<'_> {
    /// An `http://` or `https://` URL.
    pub(super) fn http_url(&mut self, node: &Node, path: &str) -> Option<Url> {
        let text = self.string(node, path)?;
        let text = &self.paths_expanded(node, path, text)?;
        if text.contains("${") {
            self.report(
                &node.span,
                path,
                "placeholders are not expanded in a URL; pass secrets in \"headers\" \
                 (such as \"Authorization\": \"Bearer ${env:TOKEN}\") or with \"bearer_token_env\"",
            );
            return None;
        }
        let url = self.url(node, path, text)?;
        if matches!(url.scheme(), "http" | "https") {
            Some(url)
        } else {
            self.report(
                &node.span,
                path,
                format!(
                    "{} is not an http:// or https:// URL",
                    shown_url(text, &url)
                ),
            );
            None
        }
    }

    pub(super) fn headers(&mut self, node: &Node, path: &str) -> Option<BTreeMap<String, String>> {
        let entries = self.table(node, path)?;
        let mut headers = BTreeMap::new();
        let mut names = BTreeSet::new();
        let mut ok = true;
        for entry in self.unique(entries, path) {
            let header_path = join(path, &entry.key);
            if http::HeaderName::from_bytes(entry.key.as_bytes()).is_err() {
                self.report(
                    &entry.key_span,
                    &header_path,
                    format!(
                        "{:?} is not a valid HTTP header name (letters, digits and \
                         !#$%&'*+-.^_`|~; no spaces or colons)",
                        entry.key
                    ),
                );
                ok = false;
            } else if !names.insert(entry.key.to_ascii_lowercase()) {
                self.report(
                    &entry.key_span,
                    &header_path,
                    "is written twice (header names ignore case); keep one",
                );
                ok = false;
            }
            let Some(value) = self.expanded(&entry.value, &header_path) else {
                ok = false;
                continue;
            };
            if http::HeaderValue::from_str(&value).is_err() {
                // The value is not quoted back: it may hold a secret read from the environment.
                let expanded =
                    matches!(&entry.value.value, Value::String(raw) if raw.contains("${env:"));
                let when = if expanded {
                    " once its placeholders are expanded"
                } else {
                    ""
                };
                self.report(
                    &entry.value.span,
                    &header_path,
                    format!(
                        "is not a valid HTTP header value{when}: it contains a line break or \
                         another control character"
                    ),
                );
                ok = false;
                continue;
            }
            headers.insert(entry.key.clone(), value);
        }
        ok.then_some(headers)
    }

    pub(super) fn auth(&mut self, node: &Node, path: &str) -> Option<AuthMode> {
        match self.string(node, path)? {
            "auto" => Some(AuthMode::Auto),
            "oauth" => Some(AuthMode::OAuth),
            "bearer" => Some(AuthMode::Bearer),
            "none" => Some(AuthMode::None),
            // Not quoted back: a token pasted here by mistake must not end up in a log.
            _ => {
                self.report(
                    &node.span,
                    path,
                    "must be \"auto\", \"oauth\", \"bearer\" or \"none\"",
                );
                None
            }
        }
    }

    /// Settings of an HTTP server that contradict each other.
    pub(super) fn http_consistency(&mut self, f: &Fields<'_>, auth: Option<AuthMode>, path: &str) {
        if f.auth.is_some() && auth.is_none() {
            return; // The auth value itself was wrong, and said so.
        }
        let mode = auth.unwrap_or_default();
        match (mode, f.auth, f.bearer_token_env) {
            (AuthMode::Bearer, Some(auth), None) => self.report(
                &auth.value.span,
                &join(path, "auth"),
                "is \"bearer\" but \"bearer_token_env\" is not set; name the environment \
                 variable that holds the token",
            ),
            (AuthMode::None, _, Some(token)) => self.report(
                &token.key_span,
                path,
                "\"bearer_token_env\" is set, but auth is \"none\", which sends no credentials",
            ),
            _ => {}
        }
        if let Some(oauth) = f.oauth
            && matches!(mode, AuthMode::Bearer | AuthMode::None)
        {
            self.report(
                &oauth.key_span,
                path,
                format!(
                    "OAuth settings are given, but auth is {:?}, which never uses OAuth",
                    auth_word(mode)
                ),
            );
        }
        let Some(Value::Table(headers)) = f.headers.map(|e| &e.value.value) else {
            return;
        };
        let Some(header) = headers
            .iter()
            .find(|h| h.key.eq_ignore_ascii_case("authorization"))
        else {
            return;
        };
        let also = if f.bearer_token_env.is_some() {
            "\"bearer_token_env\""
        } else if mode == AuthMode::OAuth {
            "auth = \"oauth\""
        } else {
            return;
        };
        self.report(
            &header.key_span,
            &join(&join(path, "headers"), &header.key),
            format!("is also set by {also}; use one"),
        );
    }
}

fn auth_word(mode: AuthMode) -> &'static str {
    match mode {
        AuthMode::Auto => "auto",
        AuthMode::OAuth => "oauth",
        AuthMode::Bearer => "bearer",
        AuthMode::None => "none",
    }
}
