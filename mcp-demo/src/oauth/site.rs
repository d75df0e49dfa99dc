//! The URLs and paths one OAuth demo answers at, worked out once from its address and options.

use std::net::SocketAddr;

use super::{DemoAuthOptions, MetadataLocation};
use crate::http::url;

/// The root well-known path of protected-resource metadata (RFC 9728 §3.1).
pub(super) const PRM_ROOT: &str = "/.well-known/oauth-protected-resource";
const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
const OPENID_METADATA: &str = "/.well-known/openid-configuration";

/// Where everything is. Every path is absolute on the one origin.
#[derive(Debug, Clone)]
pub(super) struct Site {
    /// `http://127.0.0.1:PORT`.
    pub(super) origin: String,
    /// The MCP endpoint and canonical resource identifier, `http://127.0.0.1:PORT/mcp`.
    pub(super) resource: String,
    /// The issuer: the origin plus the issuer path.
    pub(super) issuer: String,
    /// What the metadata calls the issuer: [`issuer`](Self::issuer), unless the options want it
    /// wrong.
    pub(super) advertised_issuer: String,
    /// The path of the authorization server's metadata, if it has any.
    pub(super) as_metadata: Option<String>,
    /// The paths protected-resource metadata is served at (none for the legacy variants).
    pub(super) prm: Vec<String>,
    /// The URL the 401 challenge names in `resource_metadata`, if it names one.
    pub(super) resource_metadata: Option<String>,
    pub(super) authorize: String,
    pub(super) token: String,
    /// The registration endpoint's path, when dynamic registration is on.
    pub(super) register: Option<String>,
}

impl Site {
    pub(super) fn new(addr: SocketAddr, options: &DemoAuthOptions) -> Self {
        let origin = format!("http://{addr}");
        let resource = url(addr);
        // The 2025-03-26 fallback has fixed endpoints at the origin's root.
        let base = match options.metadata {
            MetadataLocation::LegacyNoMetadata => "",
            _ => options.issuer_path.as_str(),
        };
        let issuer = format!("{origin}{base}");
        let advertised_issuer = if options.wrong_issuer {
            format!("{origin}/not-this-issuer{base}")
        } else {
            issuer.clone()
        };
        let path = &options.issuer_path;
        let as_metadata = match options.metadata {
            MetadataLocation::Rfc8414 => Some(format!("{OAUTH_METADATA}{path}")),
            MetadataLocation::OpenIdInserted => Some(format!("{OPENID_METADATA}{path}")),
            MetadataLocation::OpenIdAppended => Some(format!("{path}{OPENID_METADATA}")),
            MetadataLocation::Legacy => Some(OAUTH_METADATA.to_owned()),
            MetadataLocation::LegacyNoMetadata => None,
        };
        let path_based = format!("{PRM_ROOT}{}", crate::MCP_PATH);
        let mut prm = Vec::new();
        if !options.metadata.is_legacy() {
            if options.prm_at_path {
                prm.push(path_based.clone());
            }
            if options.prm_at_root {
                prm.push(PRM_ROOT.to_owned());
            }
        }
        // The path-based URL unless only the root one exists; when neither is served, a client
        // following the header gets a 404, which is a variant worth testing too.
        let resource_metadata =
            (options.resource_metadata_in_challenge && !options.metadata.is_legacy()).then(|| {
                let path = if !options.prm_at_path && options.prm_at_root {
                    PRM_ROOT
                } else {
                    &path_based
                };
                format!("{origin}{path}")
            });
        Self {
            resource,
            advertised_issuer,
            as_metadata,
            prm,
            resource_metadata,
            authorize: format!("{base}/authorize"),
            token: format!("{base}/token"),
            register: options.dcr.then(|| format!("{base}/register")),
            issuer,
            origin,
        }
    }

    /// The absolute URL of a path on this origin.
    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }
}
