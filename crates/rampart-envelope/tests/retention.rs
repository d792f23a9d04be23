//! Retention keyrings: buckets on demand, purge, `Expired` with the tombstone time, files in
//! retention keyrings, and purges that survive a save and load.

use std::io::{Read, Write};
use std::time::{Duration, SystemTime};

use rampart_envelope::retention::{BucketSize, RetentionKeyring, RetentionPolicy};
use rampart_envelope::stream::{DecryptingReader, EncryptingWriter};
use rampart_envelope::{Context, Error, Keyring, LocalMasterKey};

const HOUR: u64 = 3600;
const DAY: u64 = 86_400;

/// 2027-01-15T10:20:00Z: 20 minutes into an hour bucket.
fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn at(secs: u64) -> SystemTime {
    t0() + Duration::from_secs(secs)
}

fn hourly(master: &LocalMasterKey, retain: u64) -> RetentionKeyring {
    let policy = RetentionPolicy::new(BucketSize::Hour, Duration::from_secs(retain));
    RetentionKeyring::create("uploads", "eu-central", master, policy).unwrap()
}

fn ctx() -> Context {
    Context::new().with("purpose", "upload")
}

#[test]
fn seal_creates_the_bucket_of_now_on_demand() {
    let master = LocalMasterKey::generate().unwrap();
    let mut ring = hourly(&master, HOUR);
    assert!(ring.buckets().is_empty());
    let ct = ring.seal(b"a", &ctx(), t0()).unwrap();
    let b = ring.bucket_at(t0()).unwrap();
    assert_eq!(b, 1_800_000_000 / 3600);
    assert_eq!(ring.keyring().version_of(&ct).unwrap(), b);
    assert_eq!(ring.buckets().len(), 1);
    // Same hour: same bucket, no new key.
    ring.seal(b"b", &ctx(), at(30 * 60)).unwrap();
    assert_eq!(ring.buckets().len(), 1);
    // Next hour: a new bucket.
    let ct2 = ring.seal(b"c", &ctx(), at(HOUR)).unwrap();
    assert_eq!(ring.keyring().version_of(&ct2).unwrap(), b + 1);
    assert_eq!(ring.buckets().len(), 2);
}

#[test]
fn data_opens_within_the_retention_period() {
    let master = LocalMasterKey::generate().unwrap();
    let mut ring = hourly(&master, HOUR);
    let ct = ring.seal(b"upload", &ctx(), t0()).unwrap();
    assert!(
        ring.purge(at(HOUR)).unwrap().is_empty(),
        "bucket end + 1h not reached"
    );
    assert_eq!(&ring.open(&ct, &ctx()).unwrap()[..], b"upload");
}

#[test]
fn purge_destroys_expired_buckets_and_reports_them() {
    let master = LocalMasterKey::generate().unwrap();
    let mut ring = hourly(&master, HOUR);
    let old = ring.seal(b"old", &ctx(), t0()).unwrap();
    let new = ring.seal(b"new", &ctx(), at(2 * HOUR)).unwrap();
    let b = ring.bucket_at(t0()).unwrap();
    // The bucket of t0 ends at 11:00; with 1 h retention it is purgeable from 12:00.
    let end = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(b + 1) * HOUR);
    assert!(
        ring.purge(end + Duration::from_secs(HOUR - 1))
            .unwrap()
            .is_empty()
    );
    let now = end + Duration::from_secs(HOUR);
    let purged = ring.purge(now).unwrap();
    assert_eq!(purged.len(), 1);
    assert_eq!(purged[0].bucket, b);
    assert_eq!(purged[0].end, end);
    assert_eq!(purged[0].purged_at, now);
    assert!(ring.open(&old, &ctx()).is_err());
    assert_eq!(&ring.open(&new, &ctx()).unwrap()[..], b"new");
}

#[test]
fn opening_purged_data_is_expired_with_the_tombstone_time() {
    let master = LocalMasterKey::generate().unwrap();
    let mut ring = hourly(&master, HOUR);
    let ct = ring.seal(b"gone soon", &ctx(), t0()).unwrap();
    let b = ring.bucket_at(t0()).unwrap();
    let now = at(3 * HOUR);
    ring.purge(now).unwrap();
    match ring.open(&ct, &ctx()) {
        Err(Error::Expired { bucket, purged_at }) => {
            assert_eq!(bucket, b);
            assert_eq!(purged_at, now);
        }
        other => panic!("expected Expired, got {other:?}"),
    }
}

#[test]
fn purge_is_idempotent() {
    let master = LocalMasterKey::generate().unwrap();
    let mut ring = hourly(&master, HOUR);
    ring.seal(b"x", &ctx(), t0()).unwrap();
    assert_eq!(ring.purge(at(5 * HOUR)).unwrap().len(), 1);
    assert!(ring.purge(at(5 * HOUR)).unwrap().is_empty());
    assert!(ring.purge(at(9 * HOUR)).unwrap().is_empty());
}

#[test]
fn sealing_resumes_after_the_primary_bucket_was_purged() {
    let master = LocalMasterKey::generate().unwrap();
    let mut ring = hourly(&master, HOUR);
    ring.seal(b"x", &ctx(), t0()).unwrap();
    ring.purge(at(10 * HOUR)).unwrap();
    assert_eq!(ring.keyring().primary_version(), None);
    let ct = ring.seal(b"y", &ctx(), at(10 * HOUR)).unwrap();
    assert_eq!(&ring.open(&ct, &ctx()).unwrap()[..], b"y");
}

#[test]
fn purge_survives_save_and_load() {
    let master = LocalMasterKey::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("retention.json");
    let mut ring = hourly(&master, HOUR);
    let ct = ring.seal(b"x", &ctx(), t0()).unwrap();
    ring.save(&path).unwrap();
    let text_before = std::fs::read_to_string(&path).unwrap();
    ring.purge(at(3 * HOUR)).unwrap();
    ring.save(&path).unwrap();

    let loaded = RetentionKeyring::load(&path, &master).unwrap();
    assert_eq!(loaded.policy().bucket, BucketSize::Hour);
    assert_eq!(loaded.policy().retention, Duration::from_secs(HOUR));
    assert!(matches!(
        loaded.open(&ct, &ctx()),
        Err(Error::Expired { .. })
    ));
    // The point of the module docs: an old copy of the keyring file still opens the data.
    let backup = Keyring::from_json(&text_before, &master).unwrap();
    let backup = RetentionKeyring::from_keyring(backup).unwrap();
    assert_eq!(&backup.open(&ct, &ctx()).unwrap()[..], b"x");
}

#[test]
fn day_buckets_keep_data_for_fourteen_days() {
    let master = LocalMasterKey::generate().unwrap();
    let policy = RetentionPolicy::new(BucketSize::Day, Duration::from_secs(14 * DAY));
    let mut ring = RetentionKeyring::create("results", "eu-central", &master, policy).unwrap();
    let ct = ring.seal(b"result", &ctx(), t0()).unwrap();
    assert_eq!(ring.bucket_at(t0()).unwrap(), 1_800_000_000 / 86_400);
    assert!(ring.purge(at(14 * DAY)).unwrap().is_empty());
    assert!(ring.open(&ct, &ctx()).is_ok());
    assert_eq!(ring.purge(at(15 * DAY)).unwrap().len(), 1);
    assert!(matches!(ring.open(&ct, &ctx()), Err(Error::Expired { .. })));
}

#[test]
fn files_in_a_retention_keyring_expire_with_their_bucket() {
    let master = LocalMasterKey::generate().unwrap();
    let mut ring = hourly(&master, HOUR);
    let mut w =
        EncryptingWriter::new(ring.sealing_keyring(t0()).unwrap(), &ctx(), Vec::new()).unwrap();
    w.write_all(&vec![7u8; 100_000]).unwrap();
    let file = w.finish().unwrap();

    let mut out = Vec::new();
    DecryptingReader::new(ring.keyring(), &ctx(), &file[..])
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out, vec![7u8; 100_000]);

    ring.purge(at(3 * HOUR)).unwrap();
    let res = DecryptingReader::new(ring.keyring(), &ctx(), &file[..]).map(|_| ());
    assert!(matches!(res, Err(Error::Expired { .. })), "{res:?}");
}

#[test]
fn prepare_creates_upcoming_buckets_so_replicas_share_keys() {
    let master = LocalMasterKey::generate().unwrap();
    let mut ring = hourly(&master, HOUR);
    let current = ring.prepare(t0(), 3).unwrap();
    let buckets: Vec<u32> = ring.buckets().iter().map(|b| b.bucket).collect();
    assert_eq!(
        buckets,
        vec![current, current + 1, current + 2, current + 3]
    );
    assert_eq!(ring.keyring().primary_version(), Some(current));
    // A replica loading this file an hour later seals with the key created here.
    let json = ring.keyring().to_json().unwrap();
    let mut replica =
        RetentionKeyring::from_keyring(Keyring::from_json(&json, &master).unwrap()).unwrap();
    let ct = replica.seal(b"r", &ctx(), at(HOUR)).unwrap();
    assert_eq!(&ring.open(&ct, &ctx()).unwrap()[..], b"r");
}

#[test]
fn a_clock_behind_does_not_demote_a_newer_primary() {
    let master = LocalMasterKey::generate().unwrap();
    let mut ring = hourly(&master, HOUR);
    ring.seal(b"x", &ctx(), at(2 * HOUR)).unwrap();
    let newer = ring.keyring().primary_version();
    ring.seal(b"y", &ctx(), t0()).unwrap();
    assert_eq!(ring.keyring().primary_version(), newer);
}

#[test]
fn a_values_keyring_is_not_a_retention_keyring() {
    let master = LocalMasterKey::generate().unwrap();
    let ring = Keyring::create("tokens", "eu-central", &master, t0()).unwrap();
    assert!(matches!(
        RetentionKeyring::from_keyring(ring),
        Err(Error::InvalidOperation(_))
    ));
}

#[test]
fn zero_retention_is_refused() {
    let master = LocalMasterKey::generate().unwrap();
    let policy = RetentionPolicy::new(BucketSize::Hour, Duration::ZERO);
    assert!(RetentionKeyring::create("u", "eu", &master, policy).is_err());
}
