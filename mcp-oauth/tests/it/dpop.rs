//! DPoP-bound token requests (RFC 9449) and the JWT bearer grant of workload identity federation,
//! against scripted token endpoints on 127.0.0.1.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_oauth::dpop::{DpopKey, DpopProver};
use mcp_oauth::flow::{ClientCredentials, TokenAuthMethod, authorization_request, refresh};
use mcp_oauth::store::StoredTokens;
use mcp_oauth::workload::{JWT_BEARER_GRANT, jwt_bearer};
use mcp_oauth::{ServerMetadata, WorkloadIdentity};
use serde_json::Value;

use crate::support::{Request, Response, Stub, TempDir, http, metadata};

const BOUND: &str =
    r#"{"access_token":"bound-at","token_type":"DPoP","expires_in":3600,"refresh_token":"rt-2"}"#;
const NONCE_PLEASE: &str = r#"{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}"#;

/// A token endpoint that asks for a nonce (400 `use_dpop_nonce` with `DPoP-Nonce: nonce-1`) until a
/// proof carries it, then answers `reply`.
async fn nonce_demanding(reply: &'static str) -> Stub {
    Stub::start(move |request: &Request, _| {
        let carries = request
            .headers
            .get("dpop")
            .is_some_and(|proof| claims(proof)["nonce"] == "nonce-1");
        if carries {
            Response::json(200, reply)
        } else {
            Response::json(400, NONCE_PLEASE).header("DPoP-Nonce", "nonce-1")
        }
    })
    .await
}

fn part(proof: &str, index: usize) -> Value {
    let encoded = proof.split('.').nth(index).expect("a JWT part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded).expect("base64url")).expect("JSON")
}

fn claims(proof: &str) -> Value {
    part(proof, 1)
}

fn prover() -> DpopProver {
    DpopProver::new(DpopKey::generate().expect("a key"))
}

fn proof_of(request: &Request) -> String {
    request.headers.get("dpop").expect("a DPoP proof").clone()
}

/// The JWT bearer grant at `server` with `identity`, for the public client `c`: no resource, no
/// scopes, no proof.
async fn public_jwt_bearer(
    server: &ServerMetadata,
    identity: &WorkloadIdentity,
) -> Result<StoredTokens, mcp_oauth::FlowError> {
    let client = ClientCredentials::public("c");
    jwt_bearer(&http(), server, &client, identity, "", &[], None).await
}

/// Redeems a code at `server` with a proof from `prover`.
async fn exchange(
    server: &ServerMetadata,
    prover: Option<DpopProver>,
) -> Result<StoredTokens, mcp_oauth::FlowError> {
    let client = ClientCredentials::public("client-1");
    let mut pending = authorization_request(
        server,
        &client,
        "http://127.0.0.1:7777/callback",
        "https://mcp.example/mcp",
        &[],
    )
    .expect("a request");
    if let Some(prover) = prover {
        pending = pending.with_dpop(prover);
    }
    pending
        .exchange(&http(), server, &client, "code", None)
        .await
}

#[tokio::test]
async fn a_token_request_refused_for_its_nonce_is_sent_once_more_with_it() {
    let stub = nonce_demanding(BOUND).await;
    let prover = prover();
    let tokens = exchange(&metadata(&stub.base), Some(prover.clone()))
        .await
        .expect("tokens");
    let requests = stub.requests();
    assert_eq!(requests.len(), 2);
    let (first, second) = (proof_of(&requests[0]), proof_of(&requests[1]));
    assert!(claims(&first).get("nonce").is_none(), "{first}");
    assert_eq!(claims(&second)["nonce"], "nonce-1");
    assert_ne!(claims(&first)["jti"], claims(&second)["jti"]);
    for proof in [&first, &second] {
        let token_url = format!("{}/token", stub.base);
        assert_eq!(claims(proof)["htm"], "POST");
        assert_eq!(claims(proof)["htu"], token_url.as_str());
        assert!(claims(proof).get("ath").is_none(), "{proof}");
        assert_eq!(part(proof, 0)["jwk"], prover.key().public_jwk());
    }
    // The same body both times: only the proof changed.
    assert_eq!(requests[0].form(), requests[1].form());
    assert_eq!(tokens.token_type, "DPoP");
    assert_eq!(tokens.dpop_key.as_ref(), Some(prover.key()));
    // The nonce is kept for the next token request.
    assert_eq!(prover.nonce().as_deref(), Some("nonce-1"));
}

#[tokio::test]
async fn a_nonce_demanded_again_after_the_retry_is_the_answer() {
    let stub = Stub::start(|_: &Request, _| {
        Response::json(400, NONCE_PLEASE).header("DPoP-Nonce", "always-another")
    })
    .await;
    let prover = prover();
    let error = exchange(&metadata(&stub.base), Some(prover))
        .await
        .expect_err("refused");
    assert!(error.is_use_dpop_nonce(), "{error:?}");
    assert_eq!(stub.requests().len(), 2);
}

#[tokio::test]
async fn a_bearer_answer_to_a_proved_request_is_an_unbound_token() {
    let stub = Stub::json(200, r#"{"access_token":"plain","token_type":"Bearer"}"#).await;
    let prover = prover();
    let tokens = exchange(&metadata(&stub.base), Some(prover))
        .await
        .expect("tokens");
    assert!(stub.first().headers.contains_key("dpop"));
    assert_eq!(tokens.token_type, "Bearer");
    assert!(tokens.dpop_key.is_none());
}

#[tokio::test]
async fn a_dpop_token_asked_for_without_a_key_is_never_stored() {
    let stub = Stub::json(200, BOUND).await;
    let error = exchange(&metadata(&stub.base), None)
        .await
        .expect_err("refused");
    assert!(error.is_unusable_token_response(), "{error:?}");
    assert!(!stub.first().headers.contains_key("dpop"));
}

#[tokio::test]
async fn a_bound_token_is_refreshed_with_a_proof_from_its_own_key() {
    let stub = Stub::json(200, BOUND).await;
    let key = DpopKey::generate().expect("a key");
    let old = StoredTokens {
        access_token: "old".to_owned(),
        token_type: "DPoP".to_owned(),
        refresh_token: Some("rt-1".to_owned()),
        scopes: Vec::new(),
        issued_at: 0,
        expires_at: None,
        issuer: Some(stub.base.clone()),
        resource: None,
        dpop_key: Some(key.clone()),
    };
    let client = ClientCredentials::public("client-1");
    let renewed = refresh(&http(), &metadata(&stub.base), &client, &old, "unused")
        .await
        .expect("renewed");
    let proof = proof_of(&stub.first());
    assert_eq!(part(&proof, 0)["jwk"], key.public_jwk());
    assert_eq!(stub.first().form()["grant_type"], "refresh_token");
    assert_eq!(renewed.dpop_key, Some(key));
}

#[tokio::test]
async fn the_jwt_bearer_grant_sends_the_workload_token_as_its_assertion() {
    let stub = Stub::json(
        200,
        r#"{"access_token":"at","token_type":"Bearer","expires_in":60}"#,
    )
    .await;
    let identity = WorkloadIdentity::from_token("header.claims.signature");
    let client = ClientCredentials::public("workload-client");
    let tokens = jwt_bearer(
        &http(),
        &metadata(&stub.base),
        &client,
        &identity,
        "https://mcp.example/mcp",
        &["read".to_owned(), "write".to_owned()],
        None,
    )
    .await
    .expect("tokens");
    let request = stub.first();
    let sent = request.form();
    assert_eq!(sent["grant_type"], JWT_BEARER_GRANT);
    assert_eq!(sent["assertion"], "header.claims.signature");
    assert_eq!(sent["client_id"], "workload-client");
    assert_eq!(sent["resource"], "https://mcp.example/mcp");
    assert_eq!(sent["scope"], "read write");
    assert_eq!(sent.len(), 5, "{sent:?}");
    assert!(!request.headers.contains_key("authorization"));
    assert!(!request.headers.contains_key("dpop"));
    assert_eq!(tokens.scopes, ["read", "write"]);
    assert_eq!(tokens.resource.as_deref(), Some("https://mcp.example/mcp"));
}

#[tokio::test]
async fn the_jwt_bearer_grant_authenticates_a_confidential_client_and_can_bind_the_token() {
    let stub = Stub::json(200, BOUND).await;
    let identity = WorkloadIdentity::from_token("a.b.c");
    let client = ClientCredentials::with_secret("ci", "s3cret", TokenAuthMethod::ClientSecretBasic);
    let prover = prover();
    let tokens = jwt_bearer(
        &http(),
        &metadata(&stub.base),
        &client,
        &identity,
        "",
        &[],
        Some(&prover),
    )
    .await
    .expect("tokens");
    let request = stub.first();
    assert!(
        request.headers["authorization"].starts_with("Basic "),
        "{:?}",
        request.headers
    );
    assert!(!request.form().contains_key("client_secret"));
    assert!(!request.form().contains_key("resource"));
    assert_eq!(
        part(&proof_of(&request), 0)["jwk"],
        prover.key().public_jwk()
    );
    assert_eq!(tokens.dpop_key.as_ref(), Some(prover.key()));
}

#[tokio::test]
async fn the_workload_token_file_is_read_anew_for_every_request() {
    let stub = Stub::json(200, r#"{"access_token":"at","token_type":"Bearer"}"#).await;
    let dir = TempDir::new("wif");
    let file = dir.path().join("token");
    let identity = WorkloadIdentity::from_file(&file);
    let server = metadata(&stub.base);
    for token in ["first.jwt.x", "second.jwt.y"] {
        // Written with a trailing newline, as platforms and editors do.
        std::fs::write(&file, format!("{token}\n")).expect("write the token");
        public_jwt_bearer(&server, &identity).await.expect("tokens");
    }
    let sent: Vec<String> = stub
        .requests()
        .iter()
        .map(|request| request.form()["assertion"].clone())
        .collect();
    assert_eq!(sent, ["first.jwt.x", "second.jwt.y"]);
}

#[tokio::test]
async fn a_missing_workload_token_is_reported_before_anything_is_sent() {
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&requests);
    let stub = Stub::start(move |_: &Request, _| {
        counted.fetch_add(1, Ordering::SeqCst);
        Response::json(200, "{}")
    })
    .await;
    let dir = TempDir::new("wif-missing");
    let identity = WorkloadIdentity::from_file(dir.path().join("absent"));
    let error = public_jwt_bearer(&metadata(&stub.base), &identity)
        .await
        .expect_err("no token");
    assert!(error.is_assertion_unavailable(), "{error:?}");
    assert!(error.to_string().contains("absent"), "{error}");
    assert_eq!(requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_refused_workload_token_is_typed_and_never_quoted() {
    let stub = Stub::json(
        400,
        r#"{"error":"invalid_grant","error_description":"bad assertion very.secret.jwt"}"#,
    )
    .await;
    let identity = WorkloadIdentity::from_token("very.secret.jwt");
    let error = public_jwt_bearer(&metadata(&stub.base), &identity)
        .await
        .expect_err("refused");
    assert!(error.is_invalid_grant(), "{error:?}");
    assert!(!error.to_string().contains("very.secret.jwt"), "{error}");
    assert_eq!(stub.requests().len(), 1, "a refusal is not retried");
    assert!(!format!("{identity:?}").contains("very.secret.jwt"));
}
