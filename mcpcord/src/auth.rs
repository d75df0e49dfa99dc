//! `login` and `logout`.

use std::time::{SystemTime, UNIX_EPOCH};

use mcp_manager::config::{OAuthConfig, TransportConfig};
use mcp_manager::{LoginReport, Manager};
use serde_json::json;

use crate::render;
use crate::target::resolve;
use crate::{Cli, LoginArgs, LogoutArgs, Outcome};

/// `mcpcord login SERVER [--scopes a,b]`: signs in anew and stores the tokens.
pub(crate) async fn login(cli: &Cli, manager: &Manager, args: &LoginArgs) -> Outcome {
    let (name, mut config) = match resolve(cli, std::slice::from_ref(&args.server), &[], false) {
        Ok(mut servers) if servers.len() == 1 => servers.remove(0),
        Ok(_) => return Outcome::Usage("name one server".to_owned()),
        Err(message) => return Outcome::Usage(message),
    };
    if let (false, TransportConfig::Http(http)) = (args.scopes.is_empty(), &mut config.transport) {
        http.oauth.get_or_insert_with(OAuthConfig::default).scopes = args.scopes.clone();
    }
    match crate::live::logging_in(&name, manager.login(&name, &config)).await {
        Ok(Some(report)) => {
            if cli.json {
                render::print_json(&json!({
                    "server": name,
                    "logged_in": true,
                    "issuer": report.issuer,
                    "scopes": report.scopes,
                    "expires_at": report.expires_at,
                    "refreshable": report.refreshable,
                }));
            } else {
                out!("logged in to {name}{}", describe(&report));
            }
            Outcome::Ok
        }
        Ok(None) => {
            if cli.json {
                render::print_json(&json!({ "server": name, "logged_in": false }));
            } else {
                out!("{name} did not ask for authorization; nothing was stored");
            }
            Outcome::Ok
        }
        Err(error) => fail(cli, &name, error.code(), &error.to_string()),
    }
}

/// `mcpcord logout SERVER`: forgets the stored tokens.
pub(crate) async fn logout(cli: &Cli, manager: &Manager, args: &LogoutArgs) -> Outcome {
    let (name, config) = match resolve(cli, std::slice::from_ref(&args.server), &[], false) {
        Ok(mut servers) if servers.len() == 1 => servers.remove(0),
        Ok(_) => return Outcome::Usage("name one server".to_owned()),
        Err(message) => return Outcome::Usage(message),
    };
    match manager.logout(&name, &config).await {
        Ok(existed) => {
            if cli.json {
                render::print_json(&json!({ "server": name, "logged_out": existed }));
            } else if existed {
                out!("logged out of {name}: its tokens are deleted");
            } else {
                out!("no stored tokens for {name}");
            }
            Outcome::Ok
        }
        Err(error) => fail(cli, &name, error.code(), &error.to_string()),
    }
}

fn describe(report: &LoginReport) -> String {
    let mut parts = Vec::new();
    if let Some(issuer) = &report.issuer {
        parts.push(format!("issuer {issuer}"));
    }
    if !report.scopes.is_empty() {
        parts.push(format!("scopes {}", report.scopes.join(" ")));
    }
    if let Some(expires_at) = report.expires_at {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        let left = std::time::Duration::from_secs(expires_at.saturating_sub(now));
        parts.push(format!(
            "token expires in {}",
            humantime::format_duration(left)
        ));
    }
    parts.push(if report.refreshable {
        "refreshable".to_owned()
    } else {
        "no refresh token".to_owned()
    });
    format!(" ({})", parts.join("; "))
}

fn fail(cli: &Cli, server: &str, kind: &str, message: &str) -> Outcome {
    if cli.json {
        render::print_json(&json!({
            "server": server,
            "error": { "kind": kind, "message": message },
        }));
    }
    // The message may quote an authorization server's error text.
    eprintln!("mcpcord: {}", render::shown(message));
    Outcome::Failed
}
