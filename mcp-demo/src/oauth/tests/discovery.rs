//! Where metadata is served, what it says, and what the 401 challenge points to.

use http::StatusCode;
use serde_json::json;

use super::*;
use crate::{DemoAuthOptions, MetadataLocation};

/// Every location a client may look for authorization server metadata of the issuer path
/// `/tenant1`, in the specification's order, then the root ones.
const AS_METADATA_CANDIDATES: [&str; 5] = [
    "/.well-known/oauth-authorization-server/tenant1",
    "/.well-known/openid-configuration/tenant1",
    "/tenant1/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
];

const PRM_PATH: &str = "/.well-known/oauth-protected-resource/mcp";
const PRM_ROOT: &str = "/.well-known/oauth-protected-resource";

#[tokio::test]
async fn each_metadata_variant_is_served_at_its_path_and_not_elsewhere() {
    for (variant, served) in [
        (MetadataLocation::Rfc8414, Some(0)),
        (MetadataLocation::OpenIdInserted, Some(1)),
        (MetadataLocation::OpenIdAppended, Some(2)),
        (MetadataLocation::Legacy, Some(3)),
        (MetadataLocation::LegacyNoMetadata, None),
    ] {
        let options = DemoAuthOptions::default()
            .with_metadata(variant)
            .with_issuer_path("/tenant1")
            .with_prm_locations(true, true);
        let handle = start(options).await;
        for (index, path) in AS_METADATA_CANDIDATES.iter().enumerate() {
            let reply = get(&handle, path).await;
            if served == Some(index) {
                assert_eq!(reply.status, StatusCode::OK, "{variant:?} at {path}");
                let metadata = reply.json();
                // The legacy variant's issuer differs from the root it is served at.
                assert_eq!(metadata["issuer"], json!(handle.issuer()), "{variant:?}");
                assert_eq!(
                    metadata["authorization_endpoint"],
                    json!(format!("{}/authorize", handle.issuer()))
                );
            } else {
                assert_eq!(reply.status, StatusCode::NOT_FOUND, "{variant:?} at {path}");
            }
        }
        let prm_served = !variant.is_legacy();
        for path in [PRM_PATH, PRM_ROOT] {
            let reply = get(&handle, path).await;
            let expected = if prm_served {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(reply.status, expected, "{variant:?} at {path}");
        }
        let origin = format!("http://{}", handle.local_addr());
        let expected_issuer = if variant == MetadataLocation::LegacyNoMetadata {
            origin
        } else {
            format!("{origin}/tenant1")
        };
        assert_eq!(handle.issuer(), expected_issuer, "{variant:?}");
    }
}

#[tokio::test]
async fn without_metadata_the_endpoints_are_at_the_origin_root() {
    let options = DemoAuthOptions::default()
        .with_metadata(MetadataLocation::LegacyNoMetadata)
        .with_issuer_path("/ignored");
    let handle = start(options).await;
    let client_id = register_public(&handle).await;
    // A 2025-03-26 client sends no resource.
    let reply = redeem_without_resource(&handle, &client_id).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let challenge = mcp_post(&handle, None, None, &initialize_message()).await;
    assert_eq!(challenge.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn the_401_challenge_carries_resource_metadata_and_scope_per_knob() {
    let challenge = |handle: DemoAuthHandle| async move {
        let reply = mcp_post(&handle, None, None, &initialize_message()).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        let origin = format!("http://{}", handle.local_addr());
        let header = reply.header("www-authenticate").expect("a challenge");
        assert!(!header.contains("error="), "no token, no error: {header}");
        header.replace(&origin, "ORIGIN")
    };
    let default = start(DemoAuthOptions::default()).await;
    assert_eq!(
        challenge(default).await,
        format!("Bearer resource_metadata=\"ORIGIN{PRM_PATH}\"")
    );
    let root_only = DemoAuthOptions::default()
        .with_prm_locations(false, true)
        .with_challenge_scope("demo:read");
    assert_eq!(
        challenge(start(root_only).await).await,
        format!("Bearer scope=\"demo:read\", resource_metadata=\"ORIGIN{PRM_ROOT}\"")
    );
    let no_header = DemoAuthOptions::default().with_resource_metadata_in_challenge(false);
    assert_eq!(challenge(start(no_header).await).await, "Bearer");
    let legacy = DemoAuthOptions::default().with_metadata(MetadataLocation::Legacy);
    assert_eq!(challenge(start(legacy).await).await, "Bearer");
}

#[tokio::test]
async fn an_unknown_token_is_401_invalid_token() {
    let handle = start(DemoAuthOptions::default()).await;
    let reply = mcp_post(&handle, Some("not-a-token"), None, &initialize_message()).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let header = reply.header("www-authenticate").expect("a challenge");
    assert!(header.contains("error=\"invalid_token\""), "{header}");
    assert_eq!(reply.error(), "invalid_token");
    assert_eq!(handle.stats().unauthorized, 1);
}

#[tokio::test]
async fn protected_resource_metadata_names_the_resource_issuer_and_scopes() {
    let handle = start(DemoAuthOptions::default()).await;
    let prm = get(&handle, PRM_PATH).await.json();
    assert_eq!(prm["resource"], json!(handle.url()));
    assert_eq!(prm["authorization_servers"], json!([handle.issuer()]));
    assert_eq!(prm["scopes_supported"], json!(["demo:read", "demo:write"]));

    let options = DemoAuthOptions::default()
        .with_wrong_resource(true)
        .with_scopes_in_prm(false);
    let handle = start(options).await;
    let prm = get(&handle, PRM_PATH).await.json();
    assert_ne!(prm["resource"], json!(handle.url()));
    assert!(prm.get("scopes_supported").is_none(), "{prm}");
    assert_eq!(handle.stats().prm_fetches, 1);
}

#[tokio::test]
async fn a_wrong_issuer_is_named_in_the_metadata_only() {
    let handle = start(DemoAuthOptions::default().with_wrong_issuer(true)).await;
    let metadata = get(&handle, "/.well-known/oauth-authorization-server")
        .await
        .json();
    assert_ne!(metadata["issuer"], json!(handle.issuer()));
    let prm = get(&handle, PRM_PATH).await.json();
    assert_eq!(prm["authorization_servers"], json!([handle.issuer()]));
}

#[tokio::test]
async fn authorization_server_metadata_advertises_what_is_on() {
    let handle = start(DemoAuthOptions::default()).await;
    let metadata = get(&handle, "/.well-known/oauth-authorization-server")
        .await
        .json();
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );
    assert_eq!(metadata["client_id_metadata_document_supported"], true);
    assert_eq!(
        metadata["scopes_supported"],
        json!(["demo:read", "demo:write", "offline_access"])
    );
    assert_eq!(
        metadata["grant_types_supported"],
        json!(["authorization_code", "refresh_token"])
    );

    let options = DemoAuthOptions::default()
        .with_dcr(false)
        .with_cimd(false)
        .with_advertise_iss_parameter(false)
        .with_offline_access(false)
        .with_client_credentials(true)
        .with_step_up("add", "demo:admin")
        .with_jwt_verifier(|_, _| true);
    let handle = start(options).await;
    let metadata = get(&handle, "/.well-known/oauth-authorization-server")
        .await
        .json();
    for absent in [
        "registration_endpoint",
        "client_id_metadata_document_supported",
        "authorization_response_iss_parameter_supported",
    ] {
        assert!(metadata.get(absent).is_none(), "{absent}: {metadata}");
    }
    assert_eq!(
        metadata["scopes_supported"],
        json!(["demo:read", "demo:write", "demo:admin"])
    );
    assert_eq!(
        metadata["grant_types_supported"],
        json!(["authorization_code", "refresh_token", "client_credentials"])
    );
    assert_eq!(
        metadata["token_endpoint_auth_methods_supported"],
        json!([
            "none",
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt"
        ])
    );
    let reply = post_json(
        &handle,
        "/register",
        &json!({ "redirect_uris": [REDIRECT_URI] }),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::NOT_FOUND,
        "no registration endpoint"
    );
}
