//! Checking through the public API: every failure kind, rotation, revocation, hashing key
//! rotation, pair form, async form. One test per failure or tamper shape.

use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rampart_apikey::{
    ApiKeyRecord, ApiKeys, AsyncKeyStore, Error, HashingKey, InMemoryStore, IssuedKey, KeyOptions,
    KeyPrefix, KeyStore, Keyset, MalformedKey, PublicId,
};

const DAY: Duration = Duration::from_secs(86_400);

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn service() -> ApiKeys {
    ApiKeys::new(
        KeyPrefix::new("rk", "live").unwrap(),
        Keyset::new(1, HashingKey::from_bytes(&[0x42; 32]).unwrap()),
    )
}

fn issue(keys: &ApiKeys, store: &InMemoryStore, opts: KeyOptions) -> IssuedKey {
    let issued = keys.issue(opts, t0()).unwrap();
    store.insert(issued.record.clone()).unwrap();
    issued
}

/// Replaces the random part's character at `i` and recomputes nothing: checksum breaks.
fn with_char(text: &str, i: usize, c: char) -> String {
    let mut s: Vec<char> = text.chars().collect();
    s[i] = c;
    s.into_iter().collect()
}

/// Rewrites the checksum of an edited key body so it passes the checksum again (an attacker
/// can always do this: CRC32 is public).
fn recompute_checksum(text: &str) -> String {
    let body = &text[..text.len() - 6];
    let crc = crc32(body.as_bytes());
    let mut digits = [b'0'; 6];
    let mut v = crc;
    let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    for d in digits.iter_mut().rev() {
        *d = alphabet[(v % 62) as usize];
        v /= 62;
    }
    format!("{body}{}", std::str::from_utf8(&digits).unwrap())
}

// Bitwise CRC32 (IEEE), independent of the crate's crc32fast, so the test does not trust
// the code it checks.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn issued_key_authenticates_with_its_scopes() {
    let (keys, store) = (service(), InMemoryStore::new());
    let k = issue(
        &keys,
        &store,
        KeyOptions::new().with_scopes(["orders:read", "orders:write"]),
    );
    let v = keys
        .check(&store, k.secret_key.expose_secret(), &["orders:read"], t0())
        .unwrap();
    assert_eq!(v.public_id(), k.public_key.public_id());
    assert_eq!(
        v.scopes().collect::<Vec<_>>(),
        ["orders:read", "orders:write"]
    );
    // has_scope answers for the key's own scopes only (an authorization decision reads it).
    assert!(v.has_scope("orders:write"));
    assert!(!v.has_scope("admin"));
    assert!(!v.has_scope("orders"));
    assert!(!v.used_previous_secret());
    assert!(!v.needs_rehash());
}

#[test]
fn pair_form_authenticates() {
    let (keys, store) = (service(), InMemoryStore::new());
    let k = issue(&keys, &store, KeyOptions::new());
    let v = keys
        .check_pair(
            &store,
            &k.public_key.to_string(),
            k.secret_key.expose_secret(),
            &[],
            t0(),
        )
        .unwrap();
    assert_eq!(v.public_id(), k.public_key.public_id());
}

#[test]
fn pair_with_public_key_of_another_account_is_rejected() {
    let (keys, store) = (service(), InMemoryStore::new());
    let a = issue(&keys, &store, KeyOptions::new());
    let b = issue(&keys, &store, KeyOptions::new());
    let err = keys
        .check_pair(
            &store,
            &a.public_key.to_string(),
            b.secret_key.expose_secret(),
            &[],
            t0(),
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::PairMismatch { public_id } if public_id == a.public_key.public_id())
    );
}

#[test]
fn truncated_key_is_malformed() {
    let (keys, store) = (service(), InMemoryStore::new());
    let k = issue(&keys, &store, KeyOptions::new());
    let s = k.secret_key.expose_secret();
    let err = keys
        .check(&store, &s[..s.len() - 1], &[], t0())
        .unwrap_err();
    assert!(matches!(err, Error::Malformed(_)), "{err:?}");
    assert_eq!(err.public_id(), None);
}

#[test]
fn empty_and_oversized_inputs_are_malformed() {
    let (keys, store) = (service(), InMemoryStore::new());
    assert!(matches!(
        keys.check(&store, "", &[], t0()),
        Err(Error::Malformed(MalformedKey::Empty))
    ));
    let long = "a".repeat(10_000);
    assert!(matches!(
        keys.check(&store, &long, &[], t0()),
        Err(Error::Malformed(MalformedKey::TooLong { .. }))
    ));
}

#[test]
fn key_with_surrounding_whitespace_or_bearer_is_malformed() {
    let (keys, store) = (service(), InMemoryStore::new());
    let k = issue(&keys, &store, KeyOptions::new());
    let s = k.secret_key.expose_secret();
    for text in [format!(" {s}"), format!("{s}\n"), format!("Bearer {s}")] {
        assert!(matches!(
            keys.check(&store, &text, &[], t0()),
            Err(Error::Malformed(_))
        ));
    }
}

#[test]
fn non_ascii_input_is_malformed_not_a_panic() {
    let (keys, store) = (service(), InMemoryStore::new());
    let k = issue(&keys, &store, KeyOptions::new());
    let s = k.secret_key.expose_secret();
    let with_e_acute = with_char(s, 30, 'é');
    assert!(matches!(
        keys.check(&store, &with_e_acute, &[], t0()),
        Err(Error::Malformed(_))
    ));
}

#[test]
fn mistyped_character_fails_checksum_before_lookup() {
    struct PanickingStore;
    impl KeyStore for PanickingStore {
        type Error = std::convert::Infallible;
        fn find(&self, _: &PublicId) -> Result<Option<Arc<ApiKeyRecord>>, Self::Error> {
            panic!("a key with a bad checksum must not reach the store");
        }
    }
    let keys = service();
    let k = keys.issue(KeyOptions::new(), t0()).unwrap();
    let s = k.secret_key.expose_secret();
    let c = if s.as_bytes()[40] == b'a' { 'b' } else { 'a' };
    let err = keys
        .check(&PanickingStore, &with_char(s, 40, c), &[], t0())
        .unwrap_err();
    assert!(
        matches!(err, Error::BadChecksum { public_id } if public_id == k.public_key.public_id())
    );
}

#[test]
fn forged_secret_with_valid_checksum_is_a_mismatch() {
    let (keys, store) = (service(), InMemoryStore::new());
    let k = issue(&keys, &store, KeyOptions::new());
    let s = k.secret_key.expose_secret();
    let c = if s.as_bytes()[40] == b'a' { 'b' } else { 'a' };
    let forged = recompute_checksum(&with_char(s, 40, c));
    let err = keys.check(&store, &forged, &[], t0()).unwrap_err();
    assert!(matches!(err, Error::Mismatch { public_id } if public_id == k.public_key.public_id()));
}

#[test]
fn unknown_public_id_is_unknown_key() {
    let (keys, store) = (service(), InMemoryStore::new());
    let k = keys.issue(KeyOptions::new(), t0()).unwrap(); // never stored
    let err = keys
        .check(&store, k.secret_key.expose_secret(), &[], t0())
        .unwrap_err();
    assert!(
        matches!(err, Error::UnknownKey { public_id } if public_id == k.public_key.public_id())
    );
}

#[test]
fn secret_moved_to_another_public_id_is_a_mismatch() {
    // An attacker with their own key rewrites its public id to a victim's and fixes the
    // checksum: the HMAC covers the whole text, so it cannot match the victim's record.
    let (keys, store) = (service(), InMemoryStore::new());
    let victim = issue(&keys, &store, KeyOptions::new());
    let attacker = issue(&keys, &store, KeyOptions::new());
    let s = attacker.secret_key.expose_secret();
    let moved = format!("rk_live_{}{}", victim.public_key.public_id(), &s[24..]);
    let moved = recompute_checksum(&moved);
    let err = keys.check(&store, &moved, &[], t0()).unwrap_err();
    assert!(
        matches!(err, Error::Mismatch { public_id } if public_id == victim.public_key.public_id())
    );
}

#[test]
fn test_environment_key_on_live_service_is_unexpected_prefix() {
    let store = InMemoryStore::new();
    let hashing = || Keyset::new(1, HashingKey::from_bytes(&[0x42; 32]).unwrap());
    let test_keys = ApiKeys::new(KeyPrefix::new("rk", "test").unwrap(), hashing());
    let k = issue(&test_keys, &store, KeyOptions::new());
    let err = service()
        .check(&store, k.secret_key.expose_secret(), &[], t0())
        .unwrap_err();
    assert!(matches!(err, Error::UnexpectedPrefix { .. }));
    // Accepting another prefix does not change the one new keys get.
    let both = service().accept_prefix(KeyPrefix::new("rk", "test").unwrap());
    assert_eq!(both.prefix(), &KeyPrefix::new("rk", "live").unwrap());
    assert_eq!(test_keys.prefix(), &KeyPrefix::new("rk", "test").unwrap());
    assert!(
        both.check(&store, k.secret_key.expose_secret(), &[], t0())
            .is_ok()
    );
}

#[test]
fn expired_key_is_rejected_after_its_expiry_only() {
    let (keys, store) = (service(), InMemoryStore::new());
    let k = issue(&keys, &store, KeyOptions::new().with_valid_for(DAY));
    let s = k.secret_key.expose_secret();
    assert!(
        keys.check(&store, s, &[], t0() + DAY - Duration::from_secs(1))
            .is_ok()
    );
    let err = keys.check(&store, s, &[], t0() + DAY).unwrap_err();
    assert!(matches!(err, Error::Expired { expired_at, .. } if expired_at == t0() + DAY));
}

#[test]
fn expired_key_with_wrong_secret_reports_mismatch_not_expiry() {
    let (keys, store) = (service(), InMemoryStore::new());
    let k = issue(&keys, &store, KeyOptions::new().with_valid_for(DAY));
    let s = k.secret_key.expose_secret();
    let c = if s.as_bytes()[40] == b'a' { 'b' } else { 'a' };
    let forged = recompute_checksum(&with_char(s, 40, c));
    let err = keys
        .check(&store, &forged, &[], t0() + 2 * DAY)
        .unwrap_err();
    assert!(matches!(err, Error::Mismatch { .. }), "{err:?}");
}

#[test]
fn revoked_key_is_rejected_even_with_an_earlier_clock() {
    let (keys, store) = (service(), InMemoryStore::new());
    let k = issue(&keys, &store, KeyOptions::new());
    let mut rec = store.get(&k.public_key.public_id()).unwrap();
    rec.revoke(t0() + DAY);
    store.save(rec);
    let err = keys
        .check(&store, k.secret_key.expose_secret(), &[], t0())
        .unwrap_err();
    assert!(matches!(err, Error::Revoked { revoked_at, .. } if revoked_at == t0() + DAY));
}

#[test]
fn missing_scope_names_the_scope() {
    let (keys, store) = (service(), InMemoryStore::new());
    let k = issue(&keys, &store, KeyOptions::new().with_scopes(["read"]));
    let err = keys.check(
        &store,
        k.secret_key.expose_secret(),
        &["read", "admin"],
        t0(),
    );
    assert!(matches!(err, Err(Error::MissingScope { scope, .. }) if scope == "admin"));
}

#[test]
fn rotation_keeps_old_secret_until_grace_end_then_rejects_it() {
    let (keys, store) = (service(), InMemoryStore::new());
    let k = issue(&keys, &store, KeyOptions::new());
    let old = k.secret_key;
    let mut rec = store.get(&k.public_key.public_id()).unwrap();
    let new = keys.rotate(&mut rec, DAY, t0()).unwrap();
    store.save(rec);
    assert_eq!(new.public_id(), old.public_id());

    let v = keys
        .check(&store, old.expose_secret(), &[], t0() + DAY / 2)
        .unwrap();
    assert!(v.used_previous_secret());
    let v = keys
        .check(&store, new.expose_secret(), &[], t0() + DAY / 2)
        .unwrap();
    assert!(!v.used_previous_secret());

    let err = keys
        .check(&store, old.expose_secret(), &[], t0() + DAY)
        .unwrap_err();
    assert!(
        matches!(err, Error::RotatedOut { grace_ended_at, .. } if grace_ended_at == t0() + DAY)
    );
    assert!(
        keys.check(&store, new.expose_secret(), &[], t0() + DAY)
            .is_ok()
    );
}

#[test]
fn second_rotation_drops_the_first_secret() {
    let (keys, store) = (service(), InMemoryStore::new());
    let k = issue(&keys, &store, KeyOptions::new());
    let mut rec = store.get(&k.public_key.public_id()).unwrap();
    let second = keys.rotate(&mut rec, DAY, t0()).unwrap();
    let third = keys.rotate(&mut rec, DAY, t0()).unwrap();
    store.save(rec);
    assert!(matches!(
        keys.check(&store, k.secret_key.expose_secret(), &[], t0()),
        Err(Error::Mismatch { .. })
    ));
    assert!(
        keys.check(&store, second.expose_secret(), &[], t0())
            .is_ok()
    );
    assert!(keys.check(&store, third.expose_secret(), &[], t0()).is_ok());
}

#[test]
fn rotation_with_zero_grace_stops_old_secret_at_once() {
    let (keys, store) = (service(), InMemoryStore::new());
    let k = issue(&keys, &store, KeyOptions::new());
    let mut rec = store.get(&k.public_key.public_id()).unwrap();
    keys.rotate(&mut rec, Duration::ZERO, t0()).unwrap();
    assert!(rec.previous().is_none());
    store.save(rec);
    assert!(matches!(
        keys.check(&store, k.secret_key.expose_secret(), &[], t0()),
        Err(Error::Mismatch { .. })
    ));
}

#[test]
fn revoked_key_cannot_be_rotated() {
    let keys = service();
    let mut rec = keys.issue(KeyOptions::new(), t0()).unwrap().record;
    rec.revoke(t0());
    assert!(matches!(
        keys.rotate(&mut rec, DAY, t0()),
        Err(Error::Config(_))
    ));
}

#[test]
fn revocation_during_grace_stops_both_secrets() {
    let (keys, store) = (service(), InMemoryStore::new());
    let k = issue(&keys, &store, KeyOptions::new());
    let mut rec = store.get(&k.public_key.public_id()).unwrap();
    let new = keys.rotate(&mut rec, DAY, t0()).unwrap();
    rec.revoke(t0());
    store.save(rec);
    for s in [k.secret_key.expose_secret(), new.expose_secret()] {
        assert!(matches!(
            keys.check(&store, s, &[], t0()),
            Err(Error::Revoked { .. })
        ));
    }
}

#[test]
fn hashing_key_rotation_keeps_old_records_working_and_rehashes_them() {
    let (mut keys, store) = (service(), InMemoryStore::new());
    let k = issue(&keys, &store, KeyOptions::new());
    keys.keyset_mut()
        .add(2, HashingKey::from_bytes(&[0x43; 32]).unwrap())
        .unwrap();
    keys.keyset_mut().set_current(2).unwrap();

    let s = k.secret_key.expose_secret();
    let v = keys.check(&store, s, &[], t0()).unwrap();
    assert!(v.needs_rehash());
    let parsed = keys.parse(s).unwrap();
    let rec = store.get(&k.public_key.public_id()).unwrap();
    let upgraded = keys.rehash(&parsed, &rec, t0()).unwrap().unwrap();
    assert_eq!(upgraded.hash().key_version(), 2);
    store.save(upgraded);
    keys.keyset_mut().remove(1).unwrap();
    assert!(!keys.check(&store, s, &[], t0()).unwrap().needs_rehash());
}

#[test]
fn rehash_with_a_wrong_key_is_refused() {
    let (mut keys, store) = (service(), InMemoryStore::new());
    let victim = issue(&keys, &store, KeyOptions::new());
    keys.keyset_mut()
        .add(2, HashingKey::from_bytes(&[0x43; 32]).unwrap())
        .unwrap();
    keys.keyset_mut().set_current(2).unwrap();
    let s = victim.secret_key.expose_secret();
    let c = if s.as_bytes()[40] == b'a' { 'b' } else { 'a' };
    let forged = keys
        .parse(&recompute_checksum(&with_char(s, 40, c)))
        .unwrap();
    let rec = store.get(&victim.public_key.public_id()).unwrap();
    assert!(matches!(
        keys.rehash(&forged, &rec, t0()),
        Err(Error::Mismatch { .. })
    ));
}

#[test]
fn record_under_a_dropped_hashing_key_version_is_a_server_error() {
    let (keys, store) = (service(), InMemoryStore::new());
    let k = issue(&keys, &store, KeyOptions::new());
    let other = ApiKeys::new(
        KeyPrefix::new("rk", "live").unwrap(),
        Keyset::new(9, HashingKey::from_bytes(&[0x42; 32]).unwrap()),
    );
    let err = other
        .check(&store, k.secret_key.expose_secret(), &[], t0())
        .unwrap_err();
    assert!(matches!(
        err,
        Error::UnknownHashingKeyVersion { version: 1, .. }
    ));
    assert!(!err.is_credential_failure());
}

#[test]
fn wrong_hashing_key_makes_every_key_a_mismatch() {
    let (keys, store) = (service(), InMemoryStore::new());
    let k = issue(&keys, &store, KeyOptions::new());
    let other = ApiKeys::new(
        KeyPrefix::new("rk", "live").unwrap(),
        Keyset::new(1, HashingKey::from_bytes(&[0x99; 32]).unwrap()),
    );
    assert!(matches!(
        other.check(&store, k.secret_key.expose_secret(), &[], t0()),
        Err(Error::Mismatch { .. })
    ));
}

#[test]
fn store_failure_is_a_store_error() {
    #[derive(Debug)]
    struct Down;
    impl std::fmt::Display for Down {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("database down")
        }
    }
    impl std::error::Error for Down {}
    struct DownStore;
    impl KeyStore for DownStore {
        type Error = Down;
        fn find(&self, _: &PublicId) -> Result<Option<Arc<ApiKeyRecord>>, Down> {
            Err(Down)
        }
    }
    let keys = service();
    let k = keys.issue(KeyOptions::new(), t0()).unwrap();
    let err = keys
        .check(&DownStore, k.secret_key.expose_secret(), &[], t0())
        .unwrap_err();
    assert!(matches!(err, Error::Store(_)));
    assert!(!err.is_credential_failure());
}

#[test]
fn error_messages_never_contain_the_secret() {
    let (keys, store) = (service(), InMemoryStore::new());
    let k = issue(
        &keys,
        &store,
        KeyOptions::new().with_scopes(["a"]).with_valid_for(DAY),
    );
    let s = k.secret_key.expose_secret();
    let random = &s[25..57];
    let c = if s.as_bytes()[40] == b'a' { 'b' } else { 'a' };
    let errors = [
        keys.check(&store, &with_char(s, 40, c), &[], t0())
            .unwrap_err(),
        keys.check(&store, &recompute_checksum(&with_char(s, 40, c)), &[], t0())
            .unwrap_err(),
        keys.check(&store, s, &["b"], t0()).unwrap_err(),
        keys.check(&store, s, &[], t0() + DAY).unwrap_err(),
        keys.check(&store, &s[..60], &[], t0()).unwrap_err(),
    ];
    for e in errors {
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(random), "{shown}");
        assert!(!shown.contains(&s[50..]), "{shown}");
    }
}

#[test]
fn issue_rejects_bad_options() {
    let keys = service();
    assert!(
        keys.issue(KeyOptions::new().with_scopes(["has space"]), t0())
            .is_err()
    );
    assert!(
        keys.issue(KeyOptions::new().with_expires_at(t0()), t0())
            .is_err()
    );
    assert!(
        keys.issue(
            KeyOptions::new().with_valid_for(Duration::from_secs(400_000_000_000)),
            t0()
        )
        .is_err()
    );
}

#[test]
fn generated_public_ids_and_secrets_are_unique() {
    let keys = service();
    let mut ids = std::collections::HashSet::new();
    let mut secrets = std::collections::HashSet::new();
    for _ in 0..2000 {
        let k = keys.issue(KeyOptions::new(), t0()).unwrap();
        assert!(ids.insert(k.public_key.public_id()));
        assert!(secrets.insert(k.secret_key.expose_secret()[25..57].to_owned()));
    }
}

fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[test]
fn async_store_check_matches_sync_check() {
    struct Slow(InMemoryStore);
    impl AsyncKeyStore for Slow {
        type Error = std::convert::Infallible;
        async fn find(&self, id: &PublicId) -> Result<Option<Arc<ApiKeyRecord>>, Self::Error> {
            KeyStore::find(&self.0, id)
        }
    }
    let (keys, store) = (service(), InMemoryStore::new());
    let k = issue(&keys, &store, KeyOptions::new().with_scopes(["r"]));
    let store = Slow(store);
    let s = k.secret_key.expose_secret();
    let v = block_on(keys.check_async(&store, s, &["r"], t0())).unwrap();
    assert_eq!(v.public_id(), k.public_key.public_id());
    let err = block_on(keys.check_async(&store, s, &["w"], t0())).unwrap_err();
    assert!(matches!(err, Error::MissingScope { .. }));
}

#[test]
fn verify_with_a_record_loaded_by_the_caller() {
    let keys = service();
    let k = keys.issue(KeyOptions::new(), t0()).unwrap();
    let parsed = keys.parse(k.secret_key.expose_secret()).unwrap();
    let rec = Arc::new(k.record);
    assert!(keys.verify(&parsed, Some(rec), &[], t0()).is_ok());
    assert!(matches!(
        keys.verify(&parsed, None, &[], t0()),
        Err(Error::UnknownKey { .. })
    ));
}

#[test]
fn store_returning_a_record_for_another_id_is_treated_as_unknown() {
    let keys = service();
    let a = keys.issue(KeyOptions::new(), t0()).unwrap();
    let b = keys.issue(KeyOptions::new(), t0()).unwrap();
    let parsed = keys.parse(a.secret_key.expose_secret()).unwrap();
    let err = keys
        .verify(&parsed, Some(Arc::new(b.record)), &[], t0())
        .unwrap_err();
    assert!(matches!(err, Error::UnknownKey { .. }));
}
