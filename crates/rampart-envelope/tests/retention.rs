//! Retention keyrings: buckets prepared by one writer (or on demand with the single-process
//! opt-in), purge, `Expired` with the tombstone time, files in retention keyrings, purges
//! that survive a save and load, and no re-encryption that would extend retention.

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

/// A single-process keyring that creates buckets as it seals (the explicit opt-in).
fn hourly(master: &LocalMasterKey, retain: u64) -> RetentionKeyring {
    let policy = RetentionPolicy::new(BucketSize::Hour, Duration::from_secs(retain));
    RetentionKeyring::create_with_buckets_on_demand("uploads", "eu-central", master, policy)
        .unwrap()
}

/// A keyring under the multi-replica model: buckets only through `prepare`.
fn hourly_prepared(master: &LocalMasterKey) -> RetentionKeyring {
    let policy = RetentionPolicy::new(BucketSize::Hour, Duration::from_secs(HOUR));
    RetentionKeyring::create("uploads", "eu-central", master, policy).unwrap()
}

fn ctx() -> Context {
    Context::new().with("purpose", "upload")
}

#[test]
fn seal_creates_the_bucket_of_now_on_demand_with_the_opt_in() {
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
    ring.prepare(t0(), 0).unwrap();
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

#[test]
fn seal_without_prepare_is_bucket_not_prepared() {
    let master = LocalMasterKey::generate().unwrap();
    let mut ring = hourly_prepared(&master);
    let b = ring.bucket_at(t0()).unwrap();
    assert!(matches!(
        ring.seal(b"x", &ctx(), t0()),
        Err(Error::BucketNotPrepared { bucket, newest: None }) if bucket == b
    ));
    assert!(matches!(
        ring.sealing_keyring(t0()),
        Err(Error::BucketNotPrepared { .. })
    ));
    assert!(ring.buckets().is_empty(), "no key was created");
    ring.prepare(t0(), 0).unwrap();
    assert!(ring.seal(b"x", &ctx(), t0()).is_ok());
}

#[test]
fn a_replica_with_an_older_file_never_creates_its_own_bucket_key() {
    // The data-loss shape: a replica that loaded the file before the writer prepared the
    // next hour would invent a key for it that exists nowhere else.
    let master = LocalMasterKey::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("uploads.json");
    let mut writer = hourly_prepared(&master);
    let b = writer.prepare(t0(), 0).unwrap();
    writer.save(&path).unwrap();

    let mut replica = RetentionKeyring::load(&path, &master).unwrap();
    assert!(replica.seal(b"now", &ctx(), t0()).is_ok());
    match replica.seal(b"next hour", &ctx(), at(HOUR)) {
        Err(Error::BucketNotPrepared { bucket, newest }) => {
            assert_eq!(bucket, b + 1);
            assert_eq!(newest, Some(b));
        }
        other => panic!("expected BucketNotPrepared, got {other:?}"),
    }
    assert_eq!(replica.buckets().len(), 1, "the replica created no key");

    // The writer prepares ahead and saves; the replica reloads and seals; both open it.
    writer.prepare(at(HOUR), 2).unwrap();
    writer.save(&path).unwrap();
    let mut replica = RetentionKeyring::load(&path, &master).unwrap();
    let ct = replica.seal(b"next hour", &ctx(), at(HOUR)).unwrap();
    let fresh = RetentionKeyring::load(&path, &master).unwrap();
    assert_eq!(&fresh.open(&ct, &ctx()).unwrap()[..], b"next hour");
    assert_eq!(&writer.open(&ct, &ctx()).unwrap()[..], b"next hour");
}

#[test]
fn the_on_demand_opt_in_does_not_survive_a_save_and_load() {
    let master = LocalMasterKey::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("uploads.json");
    let mut ring = hourly(&master, HOUR);
    ring.seal(b"x", &ctx(), t0()).unwrap();
    ring.save(&path).unwrap();
    let mut loaded = RetentionKeyring::load(&path, &master).unwrap();
    assert!(matches!(
        loaded.seal(b"y", &ctx(), at(HOUR)),
        Err(Error::BucketNotPrepared { .. })
    ));
}

#[test]
fn retention_period_out_of_range_is_refused_at_create() {
    let master = LocalMasterKey::generate().unwrap();
    for retain in [Duration::from_millis(500), Duration::from_secs(u64::MAX)] {
        let policy = RetentionPolicy::new(BucketSize::Hour, retain);
        assert!(matches!(
            RetentionKeyring::create("u", "eu", &master, policy),
            Err(Error::InvalidOperation(_))
        ));
    }
    let max = RetentionPolicy::new(BucketSize::Day, rampart_envelope::retention::MAX_RETENTION);
    let mut ring = RetentionKeyring::create("u", "eu", &master, max).unwrap();
    ring.prepare(t0(), 0).unwrap();
    assert!(ring.buckets()[0].expires > t0());
    assert!(ring.purge(at(DAY)).unwrap().is_empty());
}

/// A retention keyring with data in the bucket of t0 and a newer primary bucket.
fn aged_ring(master: &LocalMasterKey) -> (RetentionKeyring, Vec<u8>, Vec<u8>) {
    let mut ring = hourly_prepared(master);
    ring.prepare(t0(), 0).unwrap();
    let value = ring.seal(b"old", &ctx(), t0()).unwrap();
    let mut w =
        EncryptingWriter::new(ring.sealing_keyring(t0()).unwrap(), &ctx(), Vec::new()).unwrap();
    w.write_all(b"old file").unwrap();
    let file = w.finish().unwrap();
    ring.prepare(at(HOUR), 0).unwrap();
    assert!(ring.keyring().needs_reencrypt(&value).unwrap());
    (ring, value, file)
}

#[test]
fn reencrypt_under_a_retention_keyring_is_refused() {
    // Moving old-bucket data into the current bucket would keep it alive past its purge.
    let master = LocalMasterKey::generate().unwrap();
    let (ring, value, _) = aged_ring(&master);
    assert!(matches!(
        ring.keyring().reencrypt(&value, &ctx()),
        Err(Error::RetentionReencrypt)
    ));
}

#[test]
fn rewrap_header_under_a_retention_keyring_is_refused() {
    use rampart_envelope::stream::{FileHeader, rewrap_header};
    let master = LocalMasterKey::generate().unwrap();
    let (ring, _, file) = aged_ring(&master);
    let header = FileHeader::parse(&file).unwrap();
    assert!(matches!(
        rewrap_header(ring.keyring(), &ctx(), &header),
        Err(Error::RetentionReencrypt)
    ));
}

#[test]
fn rekey_file_under_a_retention_keyring_is_refused_and_leaves_the_file() {
    use rampart_envelope::stream::rekey_file;
    let master = LocalMasterKey::generate().unwrap();
    let (ring, _, file) = aged_ring(&master);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upload.rpf");
    std::fs::write(&path, &file).unwrap();
    assert!(matches!(
        rekey_file(ring.keyring(), &ctx(), &path),
        Err(Error::RetentionReencrypt)
    ));
    assert_eq!(std::fs::read(&path).unwrap(), file);
}

#[test]
fn reencrypt_job_on_a_retention_keyring_is_refused_before_reading_anything() {
    use rampart_envelope::reencrypt::{MemoryCheckpoint, ReencryptJob};
    let master = LocalMasterKey::generate().unwrap();
    let (ring, value, file) = aged_ring(&master);
    let mut checkpoint = MemoryCheckpoint::new();
    let mut committed = 0;
    let res = ReencryptJob::new(ring.keyring(), |_: &u32| ctx()).run(
        vec![(1u32, value), (2, file)],
        &mut checkpoint,
        |b| {
            committed += b.len();
            Ok::<(), Error>(())
        },
    );
    assert!(matches!(res, Err(Error::RetentionReencrypt)), "{res:?}");
    assert_eq!(committed, 0);
    assert!(checkpoint.last().is_none());
}

#[test]
fn prepare_for_a_purged_bucket_is_expired_even_behind_a_newer_primary() {
    // The clock goes back past a purge while a newer bucket is primary (a shape the
    // envelope_keyring_resigned fuzz target reaches): prepare must not report the purged
    // bucket as prepared, or the next seal fails.
    let master = LocalMasterKey::generate().unwrap();
    let mut ring = hourly_prepared(&master);
    ring.prepare(t0(), 2).unwrap();
    ring.purge(at(3 * HOUR)).unwrap();
    ring.prepare(at(3 * HOUR), 1).unwrap();
    let b = ring.bucket_at(t0()).unwrap();
    assert!(matches!(
        ring.prepare(t0(), 1),
        Err(Error::Expired { bucket, .. }) if bucket == b
    ));
    assert!(matches!(
        ring.seal(b"x", &ctx(), t0()),
        Err(Error::Expired { .. })
    ));
}
