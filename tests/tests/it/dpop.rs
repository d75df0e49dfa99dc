//! DPoP (RFC 9449) and workload identity federation end to end: the Manager against a small
//! authorization server and resource server of this test's own, on one loopback port, that accept
//! only DPoP-bound tokens from the JWT bearer grant and demand nonces from both sides.
//!
//! The servers check every proof the way RFC 9449 §4.3 says (type, algorithm, public key,
//! signature, method, URL, time, `ath`, the key the token is bound to, `jti` never seen before)
//! and keep a ledger the tests read. Behind the resource server's check is the fixture MCP server.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use mcp_manager::config::{OAuthGrant, ServerConfig};
use mcp_manager::{Manager, ServerId};
use mcp_oauth::store::{MemoryStore, TokenStore};
use mcp_tests::fixture::FixtureServer;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::task::JoinSet;

use crate::oauth::{echo, key, manager, with_oauth};

/// The workload's identity token the authorization server accepts.
const WORKLOAD_JWT: &str = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ3b3JrbG9hZCJ9.c2lnbmF0dXJl";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const AS_NONCE: &str = "as-nonce-1";
const RS_NONCE: &str = "rs-nonce-1";
/// The nonce the resource server moves to, announced on the response to the first tool call.
const RS_NONCE_NEXT: &str = "rs-nonce-2";

type Body = BoxBody<Bytes, Infallible>;

/// What the servers saw.
#[derive(Debug, Default)]
struct Ledger {
    /// Token requests, refused ones included.
    token_requests: u32,
    as_nonce_challenges: u32,
    rs_nonce_challenges: u32,
    /// Requests to the MCP endpoint let through to the MCP server.
    accepted: u32,
    /// Why proofs were refused, for the failure message; empty when all were good.
    bad_proofs: Vec<String>,
    /// Authorization schemes the MCP endpoint saw.
    schemes: HashSet<String>,
    jtis: HashSet<String>,
    /// Each issued access token and the thumbprint of the key it is bound to.
    bound: HashMap<String, String>,
    /// The thumbprints of the keys of accepted MCP requests.
    accepted_keys: HashSet<String>,
    /// The nonce each accepted `tools/call` proof carried.
    call_nonces: Vec<Option<String>>,
    rs_nonce: String,
}

/// A checked proof.
struct Proof {
    jkt: String,
    nonce: Option<String>,
}

fn sha256(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
}

fn decode(part: &str) -> Result<Value, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| "not base64url".to_owned())?;
    serde_json::from_slice(&bytes).map_err(|_| "not JSON".to_owned())
}

/// Checks a proof for a `method` request to `url` (presenting `token`, if any), as RFC 9449 §4.3
/// says; `seen` holds the `jti`s of every proof so far.
fn check_proof(
    proof: Option<&str>,
    method: &str,
    url: &str,
    token: Option<&str>,
    seen: &mut HashSet<String>,
) -> Result<Proof, String> {
    let proof = proof.ok_or("no DPoP header")?;
    let parts: Vec<&str> = proof.split('.').collect();
    let [header_part, claims_part, signature_part] = parts[..] else {
        return Err("not a JWS".to_owned());
    };
    let (header, claims) = (decode(header_part)?, decode(claims_part)?);
    if header["typ"] != "dpop+jwt" || header["alg"] != "ES256" {
        return Err(format!("wrong typ or alg: {header}"));
    }
    let jwk = &header["jwk"];
    if jwk["kty"] != "EC" || jwk["crv"] != "P-256" || jwk.get("d").is_some() {
        return Err(format!("not a public P-256 JWK: {jwk}"));
    }
    let (x, y) = (
        jwk["x"].as_str().ok_or("no x")?,
        jwk["y"].as_str().ok_or("no y")?,
    );
    let mut point = vec![4u8];
    point.extend(URL_SAFE_NO_PAD.decode(x).map_err(|_| "bad x")?);
    point.extend(URL_SAFE_NO_PAD.decode(y).map_err(|_| "bad y")?);
    let key = VerifyingKey::from_sec1_bytes(&point).map_err(|_| "not a P-256 point")?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature_part)
        .map_err(|_| "the signature is not base64url")?;
    let signature = Signature::from_slice(&signature).map_err(|_| "not an ES256 signature")?;
    key.verify(
        format!("{header_part}.{claims_part}").as_bytes(),
        &signature,
    )
    .map_err(|_| "the signature does not verify")?;
    if claims["htm"] != method || claims["htu"] != url {
        return Err(format!(
            "htm/htu {} {} for {method} {url}",
            claims["htm"], claims["htu"]
        ));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let iat = claims["iat"].as_u64().ok_or("no iat")?;
    if iat.abs_diff(now) > 60 {
        return Err(format!("iat {iat} is not now ({now})"));
    }
    let jti = claims["jti"].as_str().ok_or("no jti")?;
    if !seen.insert(jti.to_owned()) {
        return Err(format!("jti {jti} replayed"));
    }
    if let Some(token) = token
        && claims["ath"] != sha256(token)
    {
        return Err("ath is not the token's hash".to_owned());
    }
    Ok(Proof {
        jkt: sha256(&format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#
        )),
        nonce: claims["nonce"].as_str().map(str::to_owned),
    })
}

fn json_response(status: StatusCode, body: Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())).boxed())
        .expect("a response")
}

/// The authorization server and the resource server, at `base`.
struct Servers {
    base: String,
    ledger: Mutex<Ledger>,
    mcp: StreamableHttpService<FixtureServer, LocalSessionManager>,
}

impl Servers {
    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().expect("the ledger")
    }

    async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        let base = &self.base;
        match request.uri().path() {
            "/.well-known/oauth-protected-resource/mcp" => json_response(
                StatusCode::OK,
                json!({"resource": format!("{base}/mcp"), "authorization_servers": [base]}),
            ),
            "/.well-known/oauth-authorization-server" => json_response(
                StatusCode::OK,
                json!({
                    "issuer": base,
                    "authorization_endpoint": format!("{base}/authorize"),
                    "token_endpoint": format!("{base}/token"),
                    "grant_types_supported": [JWT_BEARER],
                    "token_endpoint_auth_methods_supported": ["none"],
                    "code_challenge_methods_supported": ["S256"],
                    "dpop_signing_alg_values_supported": ["ES256"],
                }),
            ),
            "/token" => self.token(request).await,
            "/mcp" => self.resource(request).await,
            _ => json_response(StatusCode::NOT_FOUND, json!({})),
        }
    }

    /// The token endpoint: the JWT bearer grant with the workload's token, a proof carrying this
    /// server's nonce, and a DPoP-bound token back.
    async fn token(&self, request: Request<Incoming>) -> Response<Body> {
        let proof = header(&request, "dpop");
        let body = request
            .into_body()
            .collect()
            .await
            .map(|body| body.to_bytes())
            .unwrap_or_default();
        let form: HashMap<String, String> =
            url::form_urlencoded::parse(&body).into_owned().collect();
        let mut ledger = self.ledger();
        ledger.token_requests += 1;
        if form.get("grant_type").map(String::as_str) != Some(JWT_BEARER)
            || form.get("assertion").map(String::as_str) != Some(WORKLOAD_JWT)
        {
            return json_response(StatusCode::BAD_REQUEST, json!({"error": "invalid_grant"}));
        }
        let url = format!("{}/token", self.base);
        let checked = check_proof(proof.as_deref(), "POST", &url, None, &mut ledger.jtis);
        let proof = match checked {
            Ok(proof) => proof,
            Err(reason) => {
                ledger.bad_proofs.push(format!("token request: {reason}"));
                return json_response(
                    StatusCode::BAD_REQUEST,
                    json!({"error": "invalid_dpop_proof"}),
                );
            }
        };
        if proof.nonce.as_deref() != Some(AS_NONCE) {
            ledger.as_nonce_challenges += 1;
            let mut response =
                json_response(StatusCode::BAD_REQUEST, json!({"error": "use_dpop_nonce"}));
            response
                .headers_mut()
                .insert("dpop-nonce", AS_NONCE.parse().expect("a header value"));
            return response;
        }
        let token = format!("at-{}", ledger.bound.len() + 1);
        ledger.bound.insert(token.clone(), proof.jkt);
        json_response(
            StatusCode::OK,
            json!({"access_token": token, "token_type": "DPoP", "expires_in": 3600}),
        )
    }

    /// The resource server: a DPoP-bound token with a good proof carrying the current nonce, or
    /// a 401; then the fixture MCP server.
    async fn resource(&self, request: Request<Incoming>) -> Response<Body> {
        let (parts, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map(|body| body.to_bytes())
            .unwrap_or_default();
        let calls_tool = serde_json::from_slice::<Value>(&body)
            .is_ok_and(|message| message["method"] == "tools/call");
        let challenge = |value: &str, nonce: Option<&str>| {
            let mut response = json_response(StatusCode::UNAUTHORIZED, json!({}));
            let headers = response.headers_mut();
            headers.insert("www-authenticate", value.parse().expect("a header value"));
            if let Some(nonce) = nonce {
                headers.insert("dpop-nonce", nonce.parse().expect("a header value"));
            }
            response
        };
        let mut rotate = false;
        {
            let mut ledger = self.ledger();
            let authorization = parts
                .headers
                .get("authorization")
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let Some((scheme, token)) = authorization.split_once(' ') else {
                return challenge(r#"DPoP algs="ES256""#, None);
            };
            ledger.schemes.insert(scheme.to_owned());
            let Some(bound) = ledger.bound.get(token).cloned() else {
                return challenge(r#"DPoP error="invalid_token""#, None);
            };
            let proof = parts
                .headers
                .get("dpop")
                .and_then(|value| value.to_str().ok());
            let url = format!("{}/mcp", self.base);
            let checked = check_proof(
                proof,
                parts.method.as_str(),
                &url,
                Some(token),
                &mut ledger.jtis,
            );
            let proof = match checked {
                Ok(proof) if proof.jkt == bound => proof,
                Ok(_) => {
                    ledger
                        .bad_proofs
                        .push("the proof's key is not the token's".to_owned());
                    return challenge(r#"DPoP error="invalid_token""#, None);
                }
                Err(reason) => {
                    ledger
                        .bad_proofs
                        .push(format!("{} /mcp: {reason}", parts.method));
                    return challenge(r#"DPoP error="invalid_dpop_proof""#, None);
                }
            };
            if proof.nonce.as_deref() != Some(ledger.rs_nonce.as_str()) {
                ledger.rs_nonce_challenges += 1;
                let nonce = ledger.rs_nonce.clone();
                return challenge(r#"DPoP error="use_dpop_nonce""#, Some(&nonce));
            }
            ledger.accepted += 1;
            ledger.accepted_keys.insert(proof.jkt);
            if calls_tool {
                ledger.call_nonces.push(proof.nonce);
                // The first call's answer announces the next nonce (RFC 9449 §8.2): the client
                // must use it from then on without being challenged.
                rotate = ledger.call_nonces.len() == 1;
                if rotate {
                    ledger.rs_nonce = RS_NONCE_NEXT.to_owned();
                }
            }
        }
        let request = Request::from_parts(parts, Full::new(body));
        let mut response = self.mcp.handle(request).await;
        if rotate {
            response
                .headers_mut()
                .insert("dpop-nonce", RS_NONCE_NEXT.parse().expect("a header value"));
        }
        response
    }
}

fn header(request: &Request<Incoming>, name: &str) -> Option<String> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// The servers on a loopback port; they stop when the returned set is dropped.
async fn start() -> (Arc<Servers>, JoinSet<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr: SocketAddr = listener.local_addr().expect("an address");
    let mcp = StreamableHttpService::new(
        || Ok(FixtureServer::new()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let servers = Arc::new(Servers {
        base: format!("http://{addr}"),
        ledger: Mutex::new(Ledger {
            rs_nonce: RS_NONCE.to_owned(),
            ..Ledger::default()
        }),
        mcp,
    });
    let mut tasks = JoinSet::new();
    let serving = Arc::clone(&servers);
    tasks.spawn(async move {
        let mut connections = JoinSet::new();
        while let Ok((stream, _)) = listener.accept().await {
            let servers = Arc::clone(&serving);
            connections.spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let servers = Arc::clone(&servers);
                    async move { Ok::<_, Infallible>(servers.handle(request).await) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (servers, tasks)
}

/// The server as a workload configures it: the JWT bearer grant with its identity token.
fn workload(url: &str) -> ServerConfig {
    with_oauth(url, |oauth| {
        oauth.grant = OAuthGrant::JwtBearer;
        oauth.client_id = Some("workload".to_owned());
        oauth.assertion = Some(WORKLOAD_JWT.to_owned());
    })
}

/// A manager (no browser) keeping tokens in `store`, connected to `url` as the workload "bound".
async fn connected(store: &Arc<MemoryStore>, url: &str) -> (Manager, ServerId) {
    let manager = manager(None, store);
    let id = manager
        .connect("bound", &workload(url))
        .await
        .unwrap_or_else(|error| panic!("connect: {error} ({error:?})"));
    (manager, id)
}

#[tokio::test]
async fn a_dpop_bound_token_goes_with_a_fresh_proof_on_every_request_and_nonces_are_followed() {
    let (servers, _tasks) = start().await;
    let url = format!("{}/mcp", servers.base);
    let store = Arc::new(MemoryStore::new());
    let (manager, id) = connected(&store, &url).await;
    echo(&manager, id).await;
    echo(&manager, id).await;
    manager.shutdown(Duration::from_secs(1)).await;

    let ledger = servers.ledger();
    assert!(ledger.bad_proofs.is_empty(), "{:?}", ledger.bad_proofs);
    // One token request refused for the nonce, and the same one again with it.
    assert_eq!(
        (ledger.token_requests, ledger.as_nonce_challenges),
        (2, 1),
        "{ledger:?}"
    );
    assert_eq!(ledger.bound.len(), 1);
    assert_eq!(ledger.schemes, HashSet::from(["DPoP".to_owned()]));
    // The resource server's nonce was learnt from its challenge, and its next one from the answer
    // that announced it, without another challenge.
    assert!(ledger.rs_nonce_challenges >= 1, "{ledger:?}");
    assert_eq!(
        ledger.call_nonces,
        [Some(RS_NONCE.to_owned()), Some(RS_NONCE_NEXT.to_owned())]
    );
    assert!(ledger.accepted >= 2, "{ledger:?}");
    // Every proof was signed by the key the token is bound to.
    let bound: HashSet<String> = ledger.bound.values().cloned().collect();
    assert_eq!(ledger.accepted_keys, bound);
}

#[tokio::test]
async fn a_restored_token_still_proves_possession_with_the_key_stored_beside_it() {
    let (servers, _tasks) = start().await;
    let url = format!("{}/mcp", servers.base);
    let store = Arc::new(MemoryStore::new());
    let (first, id) = connected(&store, &url).await;
    echo(&first, id).await;
    first.shutdown(Duration::from_secs(1)).await;

    let stored = store
        .load(&key("bound", &url))
        .await
        .expect("load")
        .expect("tokens");
    assert_eq!(stored.token_type, "DPoP");
    let stored_key = stored.dpop_key.as_ref().expect("the key is stored");
    assert_eq!(
        Some(&stored_key.thumbprint()),
        servers.ledger().bound.get(&stored.access_token)
    );
    let private = serde_json::to_value(stored_key).expect("a JWK")["d"].to_string();
    assert!(!format!("{stored:?}").contains(private.trim_matches('"')));

    // A second run: the stored token and key, no new token request.
    let (second, id) = connected(&store, &url).await;
    echo(&second, id).await;
    second.shutdown(Duration::from_secs(1)).await;
    let ledger = servers.ledger();
    assert!(ledger.bad_proofs.is_empty(), "{:?}", ledger.bad_proofs);
    assert_eq!(ledger.bound.len(), 1, "{ledger:?}");
    assert_eq!(ledger.accepted_keys.len(), 1, "{ledger:?}");
}
