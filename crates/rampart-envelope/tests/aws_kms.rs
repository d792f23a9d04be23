//! `AwsKmsMasterKey` against a real local KMS implementation: a `moto_server` of each
//! test's own (rampart_testkit::MotoServer).

use std::time::SystemTime;

use rampart_envelope::{
    AsyncMasterKey, AwsKmsMasterKey, Context, Error, KeyMaterial, Keyring, LocalMasterKey,
    MasterKeyError,
};
use rampart_testkit::MotoServer;

const REGION: &str = "eu-west-1";

/// Creates a symmetric key in moto and returns its ARN.
fn create_key(moto: &MotoServer, region: &str) -> String {
    let body = moto.kms(region, "CreateKey", "{}");
    let v: serde_json::Value = serde_json::from_str(&body).expect(&body);
    v["KeyMetadata"]["Arn"].as_str().expect(&body).to_string()
}

async fn kms(moto: &MotoServer, arn: &str) -> AwsKmsMasterKey {
    AwsKmsMasterKey::builder(arn)
        .with_endpoint_url(moto.url())
        .with_static_credentials(MotoServer::ACCESS_KEY_ID, MotoServer::SECRET_ACCESS_KEY)
        .build()
        .await
        .unwrap()
}

fn kms_kind(e: &Error) -> &'static str {
    match e {
        Error::MasterKey(MasterKeyError::AwsKms(k)) => k.kind(),
        other => panic!("expected a KMS error, got {other:?}"),
    }
}

#[tokio::test]
async fn kms_key_wraps_a_keyring_that_loads_and_opens() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let arn = create_key(&moto, REGION);
    let key = kms(&moto, &arn).await;
    assert_eq!(key.region(), REGION);
    let now = SystemTime::now();
    let ring = Keyring::create_async("tokens", "eu", &key, now)
        .await
        .unwrap();
    let ctx = Context::new().with("tenant", "1");
    let sealed = ring.seal(b"under kms", &ctx).unwrap();
    let json = ring.to_json().unwrap();
    assert!(json.contains(&format!("aws-kms:{arn}")));
    let loaded = Keyring::from_json_async(&json, &key).await.unwrap();
    assert_eq!(&loaded.open(&sealed, &ctx).unwrap()[..], b"under kms");
}

#[tokio::test]
async fn wrong_encryption_context_does_not_unwrap() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let key = kms(&moto, &create_key(&moto, REGION)).await;
    let w = key
        .wrap(&KeyMaterial::from_bytes([3; 32]), b"keyring a")
        .await
        .unwrap();
    assert_eq!(
        key.unwrap(&w, b"keyring a").await.unwrap().expose_secret(),
        &[3; 32]
    );
    assert!(matches!(
        key.unwrap(&w, b"keyring b").await,
        Err(Error::MasterKey(MasterKeyError::Unwrap))
    ));
}

// Disabled and pending-deletion keys are not tested here: moto (5.x) encrypts and decrypts
// under them regardless; the mapping of KMS's DisabledException and KMSInvalidStateException
// is unit-tested in src/aws_kms.rs.

#[tokio::test]
async fn keyring_region_refuses_a_kms_key_of_another_region_before_any_call() {
    // No server: a call would fail as unreachable; the region rule answers first.
    let key = AwsKmsMasterKey::builder("arn:aws:kms:us-east-1:111122223333:key/k")
        .with_endpoint_url("http://127.0.0.1:9")
        .with_static_credentials("a", "b")
        .build()
        .await
        .unwrap();
    for region in ["eu", "eu-west-1", "us-west", "tokens"] {
        let e = Keyring::create_async("t", region, &key, SystemTime::now())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "master_key_region", "{region}: {e}");
    }
    let local = LocalMasterKey::generate().unwrap();
    let mut ring = Keyring::create("t", "eu-west-1", &local, SystemTime::now()).unwrap();
    let e = ring.rewrap_async(&local, &key).await.unwrap_err();
    assert_eq!(e.kind(), "master_key_region");
    assert_eq!(
        ring.master_key_id(),
        rampart_envelope::MasterKey::id(&local)
    );

    // The region it admits gets as far as the (unreachable) endpoint.
    let e = Keyring::create_async("t", "us", &key, SystemTime::now())
        .await
        .unwrap_err();
    assert_eq!(kms_kind(&e), "kms_unreachable", "{e}");
}

#[tokio::test]
async fn missing_key_is_named() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let key = kms(
        &moto,
        "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000",
    )
    .await;
    let e = Keyring::create_async("t", "eu", &key, SystemTime::now())
        .await
        .unwrap_err();
    assert_eq!(kms_kind(&e), "kms_key_missing", "{e}");
}

/// Golden: values sealed before each move open after it, from a file saved and reloaded at
/// every step; no version key changes (the versions' wrapped keys are byte-identical).
#[tokio::test]
async fn rewrap_local_to_kms_a_to_kms_b_keeps_every_value_readable() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.keyring.json");
    let local = LocalMasterKey::generate().unwrap();
    let now = SystemTime::now();
    let mut ring = Keyring::create("tokens", "eu", &local, now).unwrap();
    ring.rotate(&local, now).unwrap();
    let ctx = Context::new().with("row", "9");
    let sealed = ring.seal(b"written before the moves", &ctx).unwrap();
    ring.save(&path).unwrap();
    let versions_before = versions_of(&std::fs::read_to_string(&path).unwrap());

    let a = kms(&moto, &create_key(&moto, REGION)).await;
    let b = kms(&moto, &create_key(&moto, "eu-central-1")).await;

    let mut ring = Keyring::load_async(&path, &local).await.unwrap();
    ring.rewrap_async(&local, &a).await.unwrap();
    ring.save(&path).unwrap();
    assert!(Keyring::load(&path, &local).is_err());

    let mut ring = Keyring::load_async(&path, &a).await.unwrap();
    assert_eq!(
        &ring.open(&sealed, &ctx).unwrap()[..],
        b"written before the moves"
    );
    ring.rewrap_async(&a, &b).await.unwrap();
    ring.save(&path).unwrap();

    let e = Keyring::load_async(&path, &a).await.unwrap_err();
    assert!(e.to_string().contains(b.id().as_str()), "{e}");
    let ring = Keyring::load_async(&path, &b).await.unwrap();
    assert_eq!(
        &ring.open(&sealed, &ctx).unwrap()[..],
        b"written before the moves"
    );
    assert_eq!(
        versions_of(&std::fs::read_to_string(&path).unwrap()),
        versions_before
    );
}

fn versions_of(json: &str) -> serde_json::Value {
    serde_json::from_str::<serde_json::Value>(json).unwrap()["versions"].clone()
}
