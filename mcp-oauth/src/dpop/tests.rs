use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::Value;

use super::*;

/// A proof's three parts: header and claims decoded, and whether the signature verifies with the
/// public key the header carries.
fn open(proof: &str) -> (Value, Value, bool) {
    let parts: Vec<&str> = proof.split('.').collect();
    assert_eq!(parts.len(), 3, "{proof}");
    let decode = |part: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
    };
    let (header, claims) = (decode(parts[0]), decode(parts[1]));
    let coordinate = |name: &str| {
        URL_SAFE_NO_PAD
            .decode(header["jwk"][name].as_str().expect("a coordinate"))
            .expect("base64url")
    };
    let mut sec1 = vec![4u8];
    sec1.extend(coordinate("x"));
    sec1.extend(coordinate("y"));
    let key = VerifyingKey::from_sec1_bytes(&sec1).expect("a P-256 point");
    let signature =
        Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).expect("base64url")).expect("r||s");
    let signed = format!("{}.{}", parts[0], parts[1]);
    let verifies = key.verify(signed.as_bytes(), &signature).is_ok();
    (header, claims, verifies)
}

fn prover() -> DpopProver {
    DpopProver::new(DpopKey::generate().expect("a key"))
}

#[test]
fn the_header_is_typed_dpop_jwt_es256_with_the_public_key_only() {
    let prover = prover();
    let (header, _, _) = open(
        &prover
            .proof("POST", "https://as.example/token", None)
            .expect("proof"),
    );
    assert_eq!(header["typ"], "dpop+jwt");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["jwk"], prover.key().public_jwk());
    assert_eq!(header["jwk"]["kty"], "EC");
    assert_eq!(header["jwk"]["crv"], "P-256");
    assert!(header["jwk"].get("d").is_none(), "{header}");
}

#[test]
fn the_signature_verifies_with_the_public_key_in_the_header() {
    let prover = prover();
    let proof = prover
        .proof("GET", "https://mcp.example/mcp", Some("tok"))
        .expect("proof");
    let (_, _, verifies) = open(&proof);
    assert!(verifies);
    // And with the key's own verifying key: the header names this key, not another.
    let parts: Vec<&str> = proof.rsplitn(2, '.').collect();
    let signature =
        Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("b64")).expect("r||s");
    assert!(
        prover
            .key()
            .verifying_key()
            .verify(parts[1].as_bytes(), &signature)
            .is_ok()
    );
}

#[test]
fn a_tampered_proof_does_not_verify() {
    let proof = prover()
        .proof("POST", "https://mcp.example/mcp", Some("tok"))
        .expect("proof");
    let parts: Vec<&str> = proof.split('.').collect();
    let forged_claims = URL_SAFE_NO_PAD.encode(r#"{"htm":"DELETE"}"#);
    let forged = format!("{}.{forged_claims}.{}", parts[0], parts[2]);
    assert!(!open(&forged).2);
}

#[test]
fn the_claims_name_the_request_without_query_or_fragment() {
    let before = crate::flow::now();
    let (_, claims, _) = open(
        &prover()
            .proof("POST", "https://as.example/token?a=1#frag", None)
            .expect("proof"),
    );
    assert_eq!(claims["htm"], "POST");
    assert_eq!(claims["htu"], "https://as.example/token");
    let iat = claims["iat"].as_u64().expect("iat");
    assert!(iat >= before && iat <= crate::flow::now(), "{iat}");
    assert_eq!(claims["jti"].as_str().expect("jti").len(), 32);
    // A token request presents no access token, and no nonce was supplied.
    assert!(claims.get("ath").is_none(), "{claims}");
    assert!(claims.get("nonce").is_none(), "{claims}");
}

#[test]
fn ath_is_the_base64url_sha256_of_the_access_token() {
    // RFC 9449 §7.1's example token and its hash.
    let token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
    assert_eq!(
        token_hash(token),
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    );
    let (_, claims, _) = open(
        &prover()
            .proof(
                "GET",
                "https://resource.example.org/protectedresource",
                Some(token),
            )
            .expect("proof"),
    );
    assert_eq!(claims["ath"], "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
}

#[test]
fn every_proof_is_fresh() {
    let prover = prover();
    let jti = |proof: String| open(&proof).1["jti"].as_str().expect("jti").to_owned();
    let first = jti(prover
        .proof("POST", "https://x.example/mcp", Some("t"))
        .expect("proof"));
    let second = jti(prover
        .proof("POST", "https://x.example/mcp", Some("t"))
        .expect("proof"));
    assert_ne!(first, second);
}

#[test]
fn a_remembered_nonce_goes_into_later_proofs_and_is_shared_by_clones() {
    let prover = prover();
    let clone = prover.clone();
    prover.remember_nonce("n-1");
    let (_, claims, _) = open(
        &clone
            .proof("POST", "https://x.example/t", None)
            .expect("proof"),
    );
    assert_eq!(claims["nonce"], "n-1");
    prover.remember_nonce("n-2");
    assert_eq!(clone.nonce().as_deref(), Some("n-2"));
}

#[test]
fn a_nonce_that_is_not_one_is_ignored() {
    let prover = prover();
    prover.remember_nonce("good");
    for bad in [
        "",
        "has space",
        "quote\"d",
        "back\\slash",
        &"x".repeat(MAX_NONCE + 1),
    ] {
        prover.remember_nonce(bad);
        assert_eq!(prover.nonce().as_deref(), Some("good"), "{bad:?}");
    }
}

#[test]
fn the_thumbprint_is_the_rfc_7638_hash_of_the_public_jwk() {
    let key = DpopKey::generate().expect("a key");
    let jwk = key.public_jwk();
    let canonical = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        jwk["x"].as_str().expect("x"),
        jwk["y"].as_str().expect("y")
    );
    assert_eq!(
        key.thumbprint(),
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    );
    assert_eq!(key.thumbprint().len(), 43);
}

#[test]
fn the_key_survives_storage_and_a_mismatched_one_is_refused() {
    let key = DpopKey::generate().expect("a key");
    let stored = serde_json::to_value(&key).expect("serialise");
    assert_eq!(stored["kty"], "EC");
    let back: DpopKey = serde_json::from_value(stored.clone()).expect("deserialise");
    assert_eq!(back, key);
    assert_eq!(back.thumbprint(), key.thumbprint());

    let mut mismatched = stored;
    mismatched["x"] = DpopKey::generate().expect("another").public_jwk()["x"].clone();
    let error = serde_json::from_value::<DpopKey>(mismatched).expect_err("refused");
    assert!(error.to_string().contains("does not match"), "{error}");
}

#[test]
fn debug_never_shows_the_private_key() {
    let key = DpopKey::generate().expect("a key");
    let d = serde_json::to_value(&key).expect("serialise")["d"]
        .as_str()
        .expect("d")
        .to_owned();
    for shown in [
        format!("{key:?}"),
        format!("{:?}", DpopProver::new(key.clone())),
    ] {
        assert!(!shown.contains(&d), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}

#[test]
fn only_a_use_dpop_nonce_error_body_asks_for_a_retry() {
    assert!(is_use_dpop_nonce(
        br#"{"error":"use_dpop_nonce","error_description":"x"}"#
    ));
    assert!(!is_use_dpop_nonce(br#"{"error":"invalid_dpop_proof"}"#));
    assert!(!is_use_dpop_nonce(b"use_dpop_nonce"));
}
