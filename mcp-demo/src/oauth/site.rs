//! The URLs and paths one OAuth demo answers at, worked out once from its address and options.

use std::net::SocketAddr;

use super::{DemoAuthOptions, MetadataLocation};

/// The root well-known path of protected-resource metadata (RFC 9728 §3.1).
pub(super) const PRM_ROOT: &str = "/.well-known/oauth-protected-resource";
const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
const OPENID_METADATA: &str = "/.well-known/openid-configuration";

/// One of the demo's two protected resources (RFC 9728): the streamable HTTP endpoint, and the
/// legacy HTTP+SSE endpoint. Each has its own identifier, metadata and audience, as two MCP servers
/// on one origin would: a token for one is refused by the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resource {
    /// `/mcp`.
    Mcp,
    /// `/sse`, with `/messages` under the same identifier: a session opens at the one and posts
    /// to the other, so the client knows only the SSE URL.
    Sse,
}

impl Resource {
    const ALL: [Self; 2] = [Self::Mcp, Self::Sse];

    /// The resource an MCP endpoint's `path` belongs to.
    pub(super) fn serving(path: &str) -> Self {
        if path == crate::MCP_PATH {
            Self::Mcp
        } else {
            Self::Sse
        }
    }

    /// The identifier's path, which is also the suffix of its path-based metadata URL.
    pub(super) fn path(self) -> &'static str {
        match self {
            Self::Mcp => crate::MCP_PATH,
            Self::Sse => crate::SSE_PATH,
        }
    }
}

/// Which well-known URL the 401 challenge's `resource_metadata` names.
#[derive(Debug, Clone, Copy)]
enum Pointer {
    /// `/.well-known/oauth-protected-resource{resource path}`.
    PathBased,
    /// `/.well-known/oauth-protected-resource`.
    Root,
}

/// Where everything is. Every path is absolute on the one origin.
#[derive(Debug, Clone)]
pub(super) struct Site {
    /// `http://127.0.0.1:PORT`.
    pub(super) origin: String,
    /// The issuer: the origin plus the issuer path.
    pub(super) issuer: String,
    /// What the metadata calls the issuer: [`issuer`](Self::issuer), unless the options want it
    /// wrong.
    pub(super) advertised_issuer: String,
    /// The path of the authorization server's metadata, if it has any.
    pub(super) as_metadata: Option<String>,
    /// The paths protected-resource metadata is served at (none for the legacy variants), and
    /// the resource each describes. The root URL holds one document, `/mcp`'s (which is what the
    /// root-only variants are about); `/sse`'s is at its path-based URL only.
    pub(super) prm: Vec<(String, Resource)>,
    /// What the 401 challenge's `resource_metadata` names, if anything.
    pointer: Option<Pointer>,
    pub(super) authorize: String,
    pub(super) token: String,
    /// The registration endpoint's path, when dynamic registration is on.
    pub(super) register: Option<String>,
}

impl Site {
    pub(super) fn new(addr: SocketAddr, options: &DemoAuthOptions) -> Self {
        let origin = format!("http://{addr}");
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
        let mut prm = Vec::new();
        if !options.metadata.is_legacy() {
            if options.prm_at_path {
                prm.extend(
                    Resource::ALL
                        .map(|resource| (format!("{PRM_ROOT}{}", resource.path()), resource)),
                );
            }
            if options.prm_at_root {
                prm.push((PRM_ROOT.to_owned(), Resource::Mcp));
            }
        }
        // The path-based URL unless only the root one exists; when neither is served, a client
        // following the header gets a 404, which is a variant worth testing too.
        let pointer = (options.resource_metadata_in_challenge && !options.metadata.is_legacy())
            .then_some(if !options.prm_at_path && options.prm_at_root {
                Pointer::Root
            } else {
                Pointer::PathBased
            });
        Self {
            advertised_issuer,
            as_metadata,
            prm,
            pointer,
            authorize: format!("{base}/authorize"),
            token: format!("{base}/token"),
            register: options.dcr.then(|| format!("{base}/register")),
            issuer,
            origin,
        }
    }

    /// The canonical identifier of `resource`, e.g. `http://127.0.0.1:PORT/sse`: what a client
    /// sends as `resource`, and the audience of the tokens issued for it.
    pub(super) fn identifier(&self, resource: Resource) -> String {
        self.url(resource.path())
    }

    /// The resource whose identifier is exactly `identifier`.
    pub(super) fn resource_named(&self, identifier: &str) -> Option<Resource> {
        Resource::ALL
            .into_iter()
            .find(|&resource| self.identifier(resource) == identifier)
    }

    /// The URL a 401 or 403 from `resource`'s endpoints names in `resource_metadata`, if any.
    pub(super) fn resource_metadata(&self, resource: Resource) -> Option<String> {
        self.pointer.map(|pointer| match pointer {
            Pointer::PathBased => self.url(&format!("{PRM_ROOT}{}", resource.path())),
            Pointer::Root => self.url(PRM_ROOT),
        })
    }

    /// The absolute URL of a path on this origin.
    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }
}
