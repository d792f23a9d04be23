//! Sealed values through the public API: round trips, tampering, binding to context, keyring
//! and region, rotation states, threads.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rampart_envelope::{
    Context, ContextError, Error, Keyring, KeyringId, LocalMasterKey, NonceSource, OVERHEAD,
    SealedValue, VersionState,
};

fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000 + secs)
}

fn setup() -> (LocalMasterKey, Keyring, Context) {
    let master = LocalMasterKey::generate().unwrap();
    let ring = Keyring::create("oauth-tokens", "eu-central", &master, t(0)).unwrap();
    let ctx = Context::new()
        .with("tenant", "42")
        .with("table", "accounts")
        .with("column", "oauth_token");
    (master, ring, ctx)
}

#[test]
fn seal_open_round_trip_including_empty() {
    let (_m, ring, ctx) = setup();
    for pt in [&b""[..], b"x", b"ya29.a0AfH6SMB-token", &[0u8; 5000][..]] {
        let ct = ring.seal(pt, &ctx).unwrap();
        assert_eq!(ct.len(), pt.len() + OVERHEAD);
        assert_eq!(&ring.open(&ct, &ctx).unwrap()[..], pt);
    }
}

#[test]
fn header_names_keyring_and_version() {
    let (_m, ring, ctx) = setup();
    let ct = ring.seal(b"v", &ctx).unwrap();
    assert_eq!(ct[0], 1, "format version");
    assert_eq!(ct[1], 1, "suite");
    assert_eq!(
        u32::from_be_bytes(ct[2..6].try_into().unwrap()),
        ring.id().0
    );
    assert_eq!(u32::from_be_bytes(ct[8..12].try_into().unwrap()), 1);
    assert_eq!(&ct[28..32], &[0, 0, 0, 0], "counter nonce prefix");
    assert_eq!(ring.version_of(&ct).unwrap(), 1);
}

#[test]
fn text_form_round_trips_and_serde_uses_it() {
    let (_m, ring, ctx) = setup();
    let text = ring.seal_text(b"secret", &ctx).unwrap();
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(&ring.open_text(&text, &ctx).unwrap()[..], b"secret");
    let v = SealedValue::from_text(&text).unwrap();
    let json = serde_json::to_string(&v).unwrap();
    let back: SealedValue = serde_json::from_str(&json).unwrap();
    assert_eq!(&ring.open(back.as_bytes(), &ctx).unwrap()[..], b"secret");
    assert!(matches!(
        ring.open_text("not base64!", &ctx),
        Err(Error::MalformedText)
    ));
}

#[test]
fn every_single_bit_flip_fails_with_a_typed_error() {
    let (_m, ring, ctx) = setup();
    let ct = ring.seal(b"a token of some length", &ctx).unwrap();
    for bit in 0..ct.len() * 8 {
        let mut bad = ct.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let err = ring
            .open(&bad, &ctx)
            .expect_err("flipped bit must not open");
        let byte = bit / 8;
        let ok = match byte {
            0 => matches!(err, Error::UnsupportedFormat { .. }),
            1 => matches!(err, Error::UnsupportedSuite { .. }),
            2..=5 => matches!(err, Error::KeyringMismatch { .. }),
            6..=7 => matches!(err, Error::RegionMismatch { .. }),
            8..=11 => matches!(err, Error::UnknownKeyVersion { .. }),
            12..=27 | 40..=71 => matches!(err, Error::CommitmentMismatch),
            _ => matches!(err, Error::Authentication),
        };
        assert!(ok, "bit {bit} (byte {byte}): unexpected {err:?}");
    }
}

#[test]
fn flipped_version_naming_another_live_version_fails_commitment() {
    let (m, mut ring, ctx) = setup();
    ring.rotate(&m, t(1)).unwrap();
    ring.rotate(&m, t(2)).unwrap();
    let mut ct = ring.seal(b"under v3", &ctx).unwrap();
    ct[11] ^= 0b10; // version 3 -> 1, which exists
    assert!(matches!(
        ring.open(&ct, &ctx),
        Err(Error::CommitmentMismatch)
    ));
}

#[test]
fn truncation_at_every_length_fails() {
    let (_m, ring, ctx) = setup();
    let ct = ring.seal(b"0123456789abcdef0123", &ctx).unwrap();
    for len in 0..ct.len() {
        let err = ring
            .open(&ct[..len], &ctx)
            .expect_err("truncated must not open");
        if len < OVERHEAD {
            assert!(matches!(err, Error::Truncated), "len {len}: {err:?}");
        } else {
            assert!(matches!(err, Error::Authentication), "len {len}: {err:?}");
        }
    }
}

#[test]
fn appended_bytes_fail_authentication() {
    let (_m, ring, ctx) = setup();
    let mut ct = ring.seal(b"v", &ctx).unwrap();
    ct.push(0);
    assert!(matches!(ring.open(&ct, &ctx), Err(Error::Authentication)));
}

#[test]
fn context_change_fails_authentication() {
    let (_m, ring, ctx) = setup();
    let ct = ring.seal(b"v", &ctx).unwrap();
    let other_row = Context::new()
        .with("tenant", "43")
        .with("table", "accounts")
        .with("column", "oauth_token");
    let missing_pair = Context::new()
        .with("tenant", "42")
        .with("table", "accounts");
    let extra_pair = ctx.clone().with("row", "7");
    for c in [other_row, missing_pair, extra_pair, Context::new()] {
        assert!(matches!(ring.open(&ct, &c), Err(Error::Authentication)));
    }
    // Order of construction is irrelevant: the canonical form is sorted.
    let reordered = Context::new()
        .with("column", "oauth_token")
        .with("tenant", "42")
        .with("table", "accounts");
    assert_eq!(&ring.open(&ct, &reordered).unwrap()[..], b"v");
}

#[test]
fn context_key_value_boundary_shift_fails() {
    // ("ab","c") vs ("a","bc"): the length prefixes keep these apart.
    let (_m, ring, _) = setup();
    let ct = ring.seal(b"v", &Context::new().with("ab", "c")).unwrap();
    assert!(matches!(
        ring.open(&ct, &Context::new().with("a", "bc")),
        Err(Error::Authentication)
    ));
}

#[test]
fn invalid_context_is_refused_on_seal() {
    let (_m, ring, _) = setup();
    let dup = Context::new().with("a", "1").with("a", "2");
    assert!(matches!(
        ring.seal(b"v", &dup),
        Err(Error::Context(ContextError::DuplicateKey { .. }))
    ));
    let reserved = Context::new().with("rampart:region", "us");
    assert!(matches!(
        ring.seal(b"v", &reserved),
        Err(Error::Context(ContextError::ReservedKey { .. }))
    ));
}

#[test]
fn value_from_other_keyring_fails_with_keyring_mismatch() {
    let (m, ring, ctx) = setup();
    let other = Keyring::create("oauth-tokens", "eu-central", &m, t(0)).unwrap();
    let ct = other.seal(b"v", &ctx).unwrap();
    match ring.open(&ct, &ctx) {
        Err(Error::KeyringMismatch { expected, found }) => {
            assert_eq!(expected, ring.id());
            assert_eq!(found, other.id());
        }
        other => panic!("expected KeyringMismatch, got {other:?}"),
    }
    assert!(matches!(
        ring.needs_reencrypt(&ct),
        Err(Error::KeyringMismatch { .. })
    ));
}

#[test]
fn value_from_other_region_fails_with_region_mismatch() {
    // A keyring in another region that happens to have the same id (ids are random u32s):
    // the region code in the header tells them apart before any cryptography.
    let (m, ring, ctx) = setup();
    let us = Keyring::create("oauth-tokens", "us-east", &m, t(0)).unwrap();
    let mut ct = us.seal(b"v", &ctx).unwrap();
    ct[2..6].copy_from_slice(&ring.id().0.to_be_bytes());
    match ring.open(&ct, &ctx) {
        Err(Error::RegionMismatch {
            expected,
            found_code,
        }) => {
            assert_eq!(expected, "eu-central");
            assert_eq!(found_code, u16::from_be_bytes([ct[6], ct[7]]));
        }
        other => panic!("expected RegionMismatch, got {other:?}"),
    }
}

#[test]
fn keyring_id_displays_as_hex() {
    assert_eq!(KeyringId(0x5f3a9c21).to_string(), "5f3a9c21");
    assert_eq!(KeyringId(1).to_string(), "00000001");
}

#[test]
fn rotation_keeps_old_values_readable_and_reencrypt_upgrades() {
    let (m, mut ring, ctx) = setup();
    let v1 = ring.seal(b"old", &ctx).unwrap();
    assert!(!ring.needs_reencrypt(&v1).unwrap());
    assert_eq!(ring.rotate(&m, t(10)).unwrap(), 2);
    assert_eq!(ring.primary_version(), Some(2));
    let v2 = ring.seal(b"new", &ctx).unwrap();
    assert_eq!(ring.version_of(&v2).unwrap(), 2);
    assert_eq!(&ring.open(&v1, &ctx).unwrap()[..], b"old");
    assert!(ring.needs_reencrypt(&v1).unwrap());
    assert!(!ring.needs_reencrypt(&v2).unwrap());
    let up = ring.reencrypt(&v1, &ctx).unwrap();
    assert_eq!(ring.version_of(&up).unwrap(), 2);
    assert_eq!(&ring.open(&up, &ctx).unwrap()[..], b"old");
    // Re-encryption checks the context like open does.
    assert!(matches!(
        ring.reencrypt(&v1, &Context::new()),
        Err(Error::Authentication)
    ));
    let states: Vec<_> = ring.versions().iter().map(|v| v.state).collect();
    assert_eq!(states, [VersionState::Active, VersionState::Primary]);
}

#[test]
fn retire_below_destroys_old_versions_with_tombstones() {
    let (m, mut ring, ctx) = setup();
    let v1 = ring.seal(b"old", &ctx).unwrap();
    ring.rotate(&m, t(10)).unwrap();
    let v2 = ring.seal(b"mid", &ctx).unwrap();
    ring.rotate(&m, t(20)).unwrap();
    assert_eq!(ring.retire_below(2, t(30)).unwrap(), vec![1]);
    assert_eq!(ring.retire_below(2, t(31)).unwrap(), Vec::<u32>::new());
    match ring.open(&v1, &ctx) {
        Err(Error::KeyRetired {
            version,
            retired_at,
        }) => {
            assert_eq!(version, 1);
            assert_eq!(retired_at, t(30));
        }
        other => panic!("expected KeyRetired, got {other:?}"),
    }
    assert_eq!(&ring.open(&v2, &ctx).unwrap()[..], b"mid");
    assert_eq!(ring.min_decrypt(), 2);
    let info = &ring.versions()[0];
    assert_eq!(info.state, VersionState::Retired);
    assert_eq!(info.retired, Some(t(30)));
    // Cannot retire the primary.
    assert!(matches!(
        ring.retire_below(4, t(40)),
        Err(Error::InvalidOperation(_))
    ));
}

#[test]
fn retired_key_material_is_gone_from_the_file() {
    let (m, mut ring, _) = setup();
    ring.rotate(&m, t(10)).unwrap();
    ring.retire_below(2, t(20)).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&ring.to_json().unwrap()).unwrap();
    let v1 = &doc["versions"][0];
    assert_eq!(v1["state"], "retired");
    assert!(v1.get("wrapped").is_none());
    assert!(doc["versions"][1].get("wrapped").is_some());
}

#[test]
fn min_decrypt_gate_is_reversible() {
    let (m, mut ring, ctx) = setup();
    let v1 = ring.seal(b"old", &ctx).unwrap();
    ring.rotate(&m, t(10)).unwrap();
    ring.set_min_decrypt(2).unwrap();
    assert!(matches!(
        ring.open(&v1, &ctx),
        Err(Error::BelowMinDecrypt { version: 1, min: 2 })
    ));
    ring.set_min_decrypt(1).unwrap();
    assert_eq!(&ring.open(&v1, &ctx).unwrap()[..], b"old");
    assert!(ring.set_min_decrypt(3).is_err());
}

#[test]
fn staged_version_decrypts_but_does_not_seal_until_promoted() {
    let (m, mut ring, ctx) = setup();
    let staged = ring.add_version(&m, t(5)).unwrap();
    assert_eq!(staged, 2);
    assert_eq!(ring.primary_version(), Some(1));
    let ct = ring.seal(b"v", &ctx).unwrap();
    assert_eq!(ring.version_of(&ct).unwrap(), 1);
    ring.promote(2).unwrap();
    let ct2 = ring.seal(b"v", &ctx).unwrap();
    assert_eq!(ring.version_of(&ct2).unwrap(), 2);
    assert_eq!(ring.versions()[0].state, VersionState::Active);
    assert!(matches!(
        ring.promote(9),
        Err(Error::UnknownKeyVersion { version: 9 })
    ));
}

#[test]
fn rotation_policy_reports_due_and_maintain_rotates() {
    let (m, mut ring, _) = setup();
    assert!(!ring.rotation_due(t(1_000_000)));
    ring.set_rotate_after(Some(Duration::from_secs(90 * 86400)));
    assert!(!ring.rotation_due(t(89 * 86400)));
    assert!(ring.rotation_due(t(90 * 86400)));
    assert_eq!(ring.maintain(&m, t(89 * 86400)).unwrap(), None);
    assert_eq!(ring.maintain(&m, t(90 * 86400)).unwrap(), Some(2));
    assert!(!ring.rotation_due(t(91 * 86400)));
}

#[test]
fn rotate_with_wrong_master_key_is_refused() {
    let (_m, mut ring, _) = setup();
    let other = LocalMasterKey::generate().unwrap();
    assert!(matches!(
        ring.rotate(&other, t(1)),
        Err(Error::MasterKey(
            rampart_envelope::MasterKeyError::WrongMasterKey { .. }
        ))
    ));
}

#[test]
fn os_random_nonce_source_round_trips_with_random_nonces() {
    let (_m, mut ring, ctx) = setup();
    ring.set_nonce_source(NonceSource::OsRandom);
    let a = ring.seal(b"v", &ctx).unwrap();
    let b = ring.seal(b"v", &ctx).unwrap();
    assert_ne!(&a[28..40], &b[28..40]);
    assert_ne!(
        &a[28..32],
        &[0, 0, 0, 0],
        "not a counter nonce (2^-32 flake)"
    );
    assert_eq!(&ring.open(&a, &ctx).unwrap()[..], b"v");
}

#[test]
fn counter_nonces_are_unique_within_a_sealer() {
    let (_m, ring, ctx) = setup();
    let mut seen = HashSet::new();
    for _ in 0..1000 {
        let ct = ring.seal(b"v", &ctx).unwrap();
        assert!(seen.insert(ct[12..40].to_vec()), "salt+nonce repeated");
    }
}

#[test]
fn threads_seal_with_distinct_salts_and_never_repeat_a_nonce() {
    let (_m, ring, ctx) = setup();
    let ring = Arc::new(ring);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let ring = Arc::clone(&ring);
            let ctx = ctx.clone();
            std::thread::spawn(move || {
                (0..500)
                    .map(|_| ring.seal(b"v", &ctx).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut pairs = HashSet::new();
    let mut salts = HashSet::new();
    for h in handles {
        for ct in h.join().unwrap() {
            salts.insert(ct[12..28].to_vec());
            assert!(pairs.insert(ct[12..40].to_vec()), "salt+nonce repeated");
            assert_eq!(&ring.open(&ct, &ctx).unwrap()[..], b"v");
        }
    }
    assert!(salts.len() >= 4, "each thread has its own subkey");
}

#[test]
fn too_large_plaintext_is_refused() {
    let (_m, ring, ctx) = setup();
    let big = vec![0u8; rampart_envelope::MAX_PLAINTEXT_LEN + 1];
    assert!(matches!(ring.seal(&big, &ctx), Err(Error::TooLarge { .. })));
}

// The limit is inclusive (cargo-mutants: `>` mutated to `>=` in seal_with_version).
#[test]
fn plaintext_of_exactly_the_limit_seals_and_opens() {
    let (_m, ring, ctx) = setup();
    let max = vec![7u8; rampart_envelope::MAX_PLAINTEXT_LEN];
    let ct = ring.seal(&max, &ctx).unwrap();
    assert_eq!(ct.len(), rampart_envelope::MAX_PLAINTEXT_LEN + OVERHEAD);
    assert!(ring.open(&ct, &ctx).unwrap()[..] == max[..]);
}

#[test]
fn errors_are_lower_case_and_name_no_secrets() {
    let (_m, ring, ctx) = setup();
    let ct = ring.seal(b"SECRET-PLAINTEXT", &ctx).unwrap();
    let mut bad = ct.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let msg = ring.open(&bad, &ctx).unwrap_err().to_string();
    assert!(!msg.contains("SECRET"));
    assert!(msg.chars().next().unwrap().is_lowercase());
    assert!(ring.open(&bad, &ctx).unwrap_err().is_tampered());
}
