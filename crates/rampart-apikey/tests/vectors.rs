//! Golden records in `tests/vectors/`: records written by version 1 of this crate must keep
//! loading and verifying with their hashing key and secret. They were generated once by the
//! ignored test `generate_vectors` (run it only to add a new vector, never to "fix" one).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_apikey::{ApiKeyRecord, ApiKeys, Error, HashingKey, KeyOptions, KeyPrefix, Keyset};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// 2027-01-15T08:00:00Z: the vectors' issue time.
fn issued_at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

const DAY: Duration = Duration::from_secs(86_400);

fn service() -> ApiKeys {
    let key = HashingKey::from_base64(&read("hashing_key_v1.b64")).unwrap();
    ApiKeys::new(KeyPrefix::new("rk", "live").unwrap(), Keyset::new(1, key))
}

fn record(name: &str) -> ApiKeyRecord {
    serde_json::from_str(&read(name)).unwrap()
}

fn check(
    keys: &ApiKeys,
    rec: &ApiKeyRecord,
    secret_file: &str,
    scopes: &[&str],
    now: SystemTime,
) -> Result<(), Error> {
    let parsed = keys.parse(read(secret_file).trim_ascii())?;
    keys.verify(&parsed, Some(Arc::new(rec.clone())), scopes, now)
        .map(|_| ())
}

#[test]
fn v1_basic_record_loads_and_verifies() {
    let keys = service();
    let rec = record("record_v1_basic.json");
    assert_eq!(
        rec.scopes().collect::<Vec<_>>(),
        ["orders:read", "orders:write"]
    );
    assert_eq!(rec.expires_at(), Some(issued_at() + 365 * DAY));
    check(
        &keys,
        &rec,
        "record_v1_basic.secret",
        &["orders:read"],
        issued_at() + DAY,
    )
    .unwrap();
    assert!(matches!(
        check(
            &keys,
            &rec,
            "record_v1_basic.secret",
            &[],
            issued_at() + 365 * DAY
        ),
        Err(Error::Expired { .. })
    ));
}

#[test]
fn v1_rotated_record_accepts_both_secrets_during_grace() {
    let keys = service();
    let rec = record("record_v1_rotated.json");
    let during = issued_at() + DAY / 2;
    check(&keys, &rec, "record_v1_rotated.secret", &[], during).unwrap();
    check(
        &keys,
        &rec,
        "record_v1_rotated.previous.secret",
        &[],
        during,
    )
    .unwrap();
    assert!(matches!(
        check(
            &keys,
            &rec,
            "record_v1_rotated.previous.secret",
            &[],
            issued_at() + DAY
        ),
        Err(Error::RotatedOut { .. })
    ));
}

#[test]
fn v1_revoked_record_stays_revoked() {
    let keys = service();
    let rec = record("record_v1_revoked.json");
    assert_eq!(rec.revoked_at(), Some(issued_at() + DAY));
    assert!(matches!(
        check(&keys, &rec, "record_v1_revoked.secret", &[], issued_at()),
        Err(Error::Revoked { .. })
    ));
}

#[test]
fn v1_records_reserialize_byte_for_byte() {
    for name in [
        "record_v1_basic.json",
        "record_v1_rotated.json",
        "record_v1_revoked.json",
    ] {
        let text = read(name);
        let again = serde_json::to_string_pretty(&record(name)).unwrap();
        assert_eq!(again.trim_ascii(), text.trim_ascii(), "{name}");
    }
}

#[test]
fn record_with_unknown_version_is_refused() {
    let text = read("record_v1_basic.json").replace("\"v\": 1", "\"v\": 2");
    let err = serde_json::from_str::<ApiKeyRecord>(&text).unwrap_err();
    assert!(
        err.to_string()
            .contains("unsupported api key record version 2"),
        "{err}"
    );
}

#[test]
fn record_with_unknown_field_is_refused() {
    let text = read("record_v1_basic.json").replacen('{', "{\"admin\": true,", 1);
    assert!(serde_json::from_str::<ApiKeyRecord>(&text).is_err());
}

#[test]
fn record_with_other_hash_algorithm_is_refused() {
    let text = read("record_v1_basic.json").replace("hmac-sha256", "sha1");
    assert!(serde_json::from_str::<ApiKeyRecord>(&text).is_err());
}

#[test]
fn record_with_short_mac_is_refused() {
    let rec: serde_json::Value = serde_json::from_str(&read("record_v1_basic.json")).unwrap();
    let mut rec = rec;
    rec["hash"]["mac"] = serde_json::Value::from("AAAA");
    assert!(serde_json::from_value::<ApiKeyRecord>(rec).is_err());
}

#[test]
fn record_with_tampered_mac_no_longer_verifies() {
    let mut rec: serde_json::Value = serde_json::from_str(&read("record_v1_basic.json")).unwrap();
    rec["hash"]["mac"] = serde_json::Value::from(STANDARD.encode([0xff; 32]));
    let rec: ApiKeyRecord = serde_json::from_value(rec).unwrap();
    assert!(matches!(
        check(&service(), &rec, "record_v1_basic.secret", &[], issued_at()),
        Err(Error::Mismatch { .. })
    ));
}

#[test]
#[ignore = "writes tests/vectors; run once to add vectors, never to change existing ones"]
fn generate_vectors() {
    let key = HashingKey::generate().unwrap();
    let b64 = STANDARD.encode(key.expose_secret());
    std::fs::write(dir().join("hashing_key_v1.b64"), format!("{b64}\n")).unwrap();
    let keys = ApiKeys::new(KeyPrefix::new("rk", "live").unwrap(), Keyset::new(1, key));
    let save = |name: &str, rec: &ApiKeyRecord| {
        let json = serde_json::to_string_pretty(rec).unwrap();
        std::fs::write(dir().join(name), format!("{json}\n")).unwrap();
    };
    let secret = |name: &str, s: &str| std::fs::write(dir().join(name), format!("{s}\n")).unwrap();

    let basic = keys
        .issue(
            KeyOptions::new()
                .with_scopes(["orders:read", "orders:write"])
                .with_valid_for(365 * DAY),
            issued_at(),
        )
        .unwrap();
    save("record_v1_basic.json", &basic.record);
    secret("record_v1_basic.secret", basic.secret_key.expose_secret());

    let rotated = keys
        .issue(KeyOptions::new().with_scopes(["read"]), issued_at())
        .unwrap();
    let mut rec = rotated.record;
    let new = keys.rotate(&mut rec, DAY, issued_at()).unwrap();
    save("record_v1_rotated.json", &rec);
    secret("record_v1_rotated.secret", new.expose_secret());
    secret(
        "record_v1_rotated.previous.secret",
        rotated.secret_key.expose_secret(),
    );

    let revoked = keys.issue(KeyOptions::new(), issued_at()).unwrap();
    let mut rec = revoked.record;
    rec.revoke(issued_at() + DAY);
    save("record_v1_revoked.json", &rec);
    secret(
        "record_v1_revoked.secret",
        revoked.secret_key.expose_secret(),
    );
}
