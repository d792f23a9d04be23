//! Re-encryption jobs: batches, files re-keyed by DEK rewrap, crash and resume from a
//! checkpoint, progress reports, failures and pacing.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

use rampart_envelope::reencrypt::{
    Checkpoint, CheckpointState, FileCheckpoint, MemoryCheckpoint, Progress, ReencryptJob,
};
use rampart_envelope::stream::{EncryptingWriter, HEADER_LEN, SEGMENT_LEN};
use rampart_envelope::{Context, Error, Keyring, LocalMasterKey};

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn ctx(id: &u64) -> Context {
    Context::new().with("row", id.to_string())
}

/// A table of `n` values sealed under version 1, then the keyring rotated to version 2.
fn table(n: u64) -> (LocalMasterKey, Keyring, BTreeMap<u64, Vec<u8>>) {
    let master = LocalMasterKey::generate().unwrap();
    let mut ring = Keyring::create("tokens", "eu-central", &master, t0()).unwrap();
    let rows = (0..n)
        .map(|id| {
            (
                id,
                ring.seal(format!("token-{id}").as_bytes(), &ctx(&id))
                    .unwrap(),
            )
        })
        .collect();
    ring.rotate(&master, t0()).unwrap();
    (master, ring, rows)
}

fn items(rows: &BTreeMap<u64, Vec<u8>>) -> Vec<(u64, Vec<u8>)> {
    rows.iter().map(|(k, v)| (*k, v.clone())).collect()
}

#[test]
fn job_moves_every_old_value_to_the_primary_version() {
    let (_, ring, mut rows) = table(25);
    let mut cp = MemoryCheckpoint::new();
    let commits = RefCell::new(0);
    let report = ReencryptJob::new(&ring, ctx)
        .with_batch_size(10)
        .run(items(&rows), &mut cp, |batch| {
            *commits.borrow_mut() += 1;
            for item in batch {
                rows.insert(item.id, item.ciphertext.clone());
            }
            Ok::<_, Error>(())
        })
        .unwrap();
    assert_eq!(report.progress.reencrypted, 25);
    assert_eq!(report.progress.done, 25);
    assert!(report.failed.is_empty());
    assert_eq!(*commits.borrow(), 3, "batches of 10, 10, 5");
    assert_eq!(cp.last(), Some(&24));
    for (id, ct) in &rows {
        assert_eq!(ring.version_of(ct).unwrap(), 2);
        assert_eq!(
            &ring.open(ct, &ctx(id)).unwrap()[..],
            format!("token-{id}").as_bytes()
        );
    }
}

#[test]
fn values_already_current_are_not_committed() {
    let (_, ring, mut rows) = table(4);
    rows.insert(10, ring.seal(b"fresh", &ctx(&10)).unwrap());
    let mut committed = Vec::new();
    let report = ReencryptJob::new(&ring, ctx)
        .run(items(&rows), &mut MemoryCheckpoint::new(), |b| {
            committed.extend(b.iter().map(|i| i.id));
            Ok::<_, Error>(())
        })
        .unwrap();
    assert_eq!(report.progress.already_current, 1);
    assert_eq!(committed, vec![0, 1, 2, 3]);
}

#[test]
fn files_are_rekeyed_by_rewrapping_the_data_key_only() {
    let master = LocalMasterKey::generate().unwrap();
    let mut ring = Keyring::create("files", "eu-central", &master, t0()).unwrap();
    let mut w = EncryptingWriter::new(&ring, &ctx(&1), Vec::new()).unwrap();
    w.write_all(&vec![3u8; 2 * SEGMENT_LEN + 5]).unwrap();
    let file = w.finish().unwrap();
    ring.rotate(&master, t0()).unwrap();

    let mut out = Vec::new();
    let report = ReencryptJob::new(&ring, ctx)
        .run(
            vec![(1u64, file.clone())],
            &mut MemoryCheckpoint::new(),
            |b| {
                out = b[0].ciphertext.clone();
                Ok::<_, Error>(())
            },
        )
        .unwrap();
    assert_eq!(report.progress.reencrypted, 1);
    assert_eq!(out[HEADER_LEN..], file[HEADER_LEN..], "body untouched");
    assert_ne!(out[..HEADER_LEN], file[..HEADER_LEN]);
    ring.retire_below(2, t0()).unwrap();
    let mut plain = Vec::new();
    std::io::Read::read_to_end(
        &mut rampart_envelope::stream::DecryptingReader::new(&ring, &ctx(&1), &out[..]).unwrap(),
        &mut plain,
    )
    .unwrap();
    assert_eq!(plain, vec![3u8; 2 * SEGMENT_LEN + 5]);
}

#[test]
fn crash_mid_job_resumes_from_the_checkpoint_without_redoing_batches() {
    let (_, ring, rows) = table(30);
    let dir = tempfile::tempdir().unwrap();
    let cp_path = dir.path().join("job.checkpoint");
    let mut stored = rows.clone();
    let mut commits_per_id: BTreeMap<u64, u32> = BTreeMap::new();

    // First run: the process "dies" while committing the third batch.
    let mut batches = 0;
    let res = ReencryptJob::new(&ring, ctx).with_batch_size(10).run(
        items(&rows),
        &mut FileCheckpoint::new(&cp_path),
        |b| {
            batches += 1;
            if batches == 3 {
                return Err(Error::InvalidOperation("simulated crash"));
            }
            for i in b {
                stored.insert(i.id, i.ciphertext.clone());
                *commits_per_id.entry(i.id).or_default() += 1;
            }
            Ok(())
        },
    );
    assert!(res.is_err());
    let saved: CheckpointState<u64> = FileCheckpoint::new(&cp_path).load().unwrap().unwrap();
    assert_eq!(saved.last_id, 19);
    assert_eq!(saved.target_version, Some(2));

    // Second run, a "new process": reads the stored rows again and resumes after id 19.
    let report = ReencryptJob::new(&ring, ctx)
        .with_batch_size(10)
        .run(items(&stored), &mut FileCheckpoint::new(&cp_path), |b| {
            for i in b {
                stored.insert(i.id, i.ciphertext.clone());
                *commits_per_id.entry(i.id).or_default() += 1;
            }
            Ok::<_, Error>(())
        })
        .unwrap();
    assert_eq!(report.progress.resumed_past, 20);
    assert_eq!(report.progress.reencrypted, 10);
    assert_eq!(commits_per_id.len(), 30);
    assert!(
        commits_per_id.values().all(|&n| n == 1),
        "no item committed twice"
    );
    assert!(stored.values().all(|ct| !ring.needs_reencrypt(ct).unwrap()));
}

/// A checkpoint whose save fails once: the crash happens after a batch was committed but
/// before the checkpoint recorded it.
struct FailOnce {
    inner: MemoryCheckpoint<u64>,
    fail_next: bool,
}
impl Checkpoint<u64> for FailOnce {
    fn load(&mut self) -> Result<Option<CheckpointState<u64>>, Error> {
        self.inner.load()
    }
    fn save(&mut self, state: &CheckpointState<u64>) -> Result<(), Error> {
        if std::mem::take(&mut self.fail_next) {
            return Err(Error::InvalidOperation("simulated crash before checkpoint"));
        }
        self.inner.save(state)
    }
}

#[test]
fn crash_between_commit_and_checkpoint_is_idempotent() {
    let (_, ring, rows) = table(10);
    let mut stored = rows.clone();
    let mut cp = FailOnce {
        inner: MemoryCheckpoint::new(),
        fail_next: true,
    };
    let first = ReencryptJob::new(&ring, ctx)
        .with_batch_size(5)
        .run(items(&rows), &mut cp, |b| {
            for i in b {
                stored.insert(i.id, i.ciphertext.clone());
            }
            Ok::<_, Error>(())
        });
    assert!(first.is_err());
    assert_eq!(
        cp.inner.last(),
        None,
        "the checkpoint never recorded the first batch"
    );

    let mut recommitted = Vec::new();
    let report = ReencryptJob::new(&ring, ctx)
        .with_batch_size(5)
        .run(items(&stored), &mut cp, |b| {
            recommitted.extend(b.iter().map(|i| i.id));
            for i in b {
                stored.insert(i.id, i.ciphertext.clone());
            }
            Ok::<_, Error>(())
        })
        .unwrap();
    assert_eq!(
        report.progress.already_current, 5,
        "first batch recognised as done"
    );
    assert_eq!(recommitted, vec![5, 6, 7, 8, 9]);
}

#[test]
fn progress_reports_done_total_and_rate_after_each_batch() {
    let (_, ring, rows) = table(12);
    let seen = RefCell::new(Vec::<Progress>::new());
    let report = ReencryptJob::new(&ring, ctx)
        .with_batch_size(5)
        .with_total(12)
        .with_on_progress(|p| seen.borrow_mut().push(p.clone()))
        .run(items(&rows), &mut MemoryCheckpoint::new(), |_| {
            Ok::<_, Error>(())
        })
        .unwrap();
    let seen = seen.into_inner();
    let done: Vec<u64> = seen.iter().map(|p| p.done).collect();
    assert_eq!(done, vec![5, 10, 12]);
    assert!(seen.iter().all(|p| p.total == Some(12)));
    assert!(
        seen.iter()
            .all(|p| p.rate_per_sec > 0.0 && p.rate_per_sec.is_finite())
    );
    assert_eq!(report.progress.done, 12);
}

#[test]
fn total_comes_from_an_exact_iterator() {
    let (_, ring, rows) = table(3);
    let report = ReencryptJob::new(&ring, ctx)
        .run(items(&rows), &mut MemoryCheckpoint::new(), |_| {
            Ok::<_, Error>(())
        })
        .unwrap();
    assert_eq!(report.progress.total, Some(3));
}

#[test]
fn unopenable_items_are_reported_and_the_job_continues() {
    let (_, ring, mut rows) = table(6);
    let bad = rows.get_mut(&2).unwrap();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let report = ReencryptJob::new(&ring, ctx)
        .run(items(&rows), &mut MemoryCheckpoint::new(), |_| {
            Ok::<_, Error>(())
        })
        .unwrap();
    assert_eq!(report.progress.reencrypted, 5);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].0, 2);
    assert!(report.failed[0].1.is_tampered());
}

#[test]
fn ids_out_of_order_are_refused() {
    let (_, ring, rows) = table(3);
    let mut v = items(&rows);
    v.swap(0, 2);
    let res =
        ReencryptJob::new(&ring, ctx).run(v, &mut MemoryCheckpoint::new(), |_| Ok::<_, Error>(()));
    assert!(matches!(res, Err(Error::InvalidOperation(_))));
}

#[test]
fn max_items_per_sec_paces_the_job() {
    let (_, ring, rows) = table(20);
    let started = Instant::now();
    ReencryptJob::new(&ring, ctx)
        .with_batch_size(5)
        .with_max_items_per_sec(200)
        .run(items(&rows), &mut MemoryCheckpoint::new(), |_| {
            Ok::<_, Error>(())
        })
        .unwrap();
    // 20 items at 200/s cannot finish before 100 ms (a lower bound, not a speed check).
    assert!(started.elapsed() >= Duration::from_millis(95));
}

#[test]
fn file_checkpoint_refuses_a_foreign_document() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cp");
    std::fs::write(
        &path,
        br#"{"format":"other","format_version":1,"last_id":3}"#,
    )
    .unwrap();
    let res: Result<Option<CheckpointState<u64>>, Error> = FileCheckpoint::new(&path).load();
    assert!(res.is_err());
    let mut cp = FileCheckpoint::new(&path);
    let state = CheckpointState::new(7u64, 2);
    cp.save(&state).unwrap();
    assert_eq!(cp.load().unwrap(), Some(state));
    cp.clear().unwrap();
    assert_eq!(Checkpoint::<u64>::load(&mut cp).unwrap(), None);
}

#[cfg(unix)]
#[test]
fn checkpoint_save_does_not_write_through_a_planted_tmp_symlink() {
    // The checkpoint used a fixed "<path>.tmp" opened with truncate: a symlink planted
    // there redirected the write. It now shares the keyring's atomic writer.
    use rampart_envelope::reencrypt::{Checkpoint as _, FileCheckpoint};
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, b"precious").unwrap();
    let path = dir.path().join("job.checkpoint");
    std::os::unix::fs::symlink(&victim, dir.path().join("job.checkpoint.tmp")).unwrap();
    let mut cp = FileCheckpoint::new(&path);
    cp.save(&CheckpointState::new(7u64, 2)).unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert_eq!(cp.load().unwrap(), Some(CheckpointState::new(7u64, 2)));
}

/// `table(n)` with the last byte of each listed row flipped (fails authentication).
fn table_with_tampered(n: u64, bad: &[u64]) -> (LocalMasterKey, Keyring, BTreeMap<u64, Vec<u8>>) {
    let (m, ring, mut rows) = table(n);
    for id in bad {
        let ct = rows.get_mut(id).unwrap();
        let last = ct.len() - 1;
        ct[last] ^= 1;
    }
    (m, ring, rows)
}

#[test]
fn resumed_job_reports_the_failures_of_the_first_run() {
    // Before: failed items advanced the checkpoint and were forgotten, so the resumed run
    // reported zero failures and retire_below looked safe while ids 2 and 4 still needed v1.
    let (_, ring, rows) = table_with_tampered(30, &[2, 4, 25]);
    let dir = tempfile::tempdir().unwrap();
    let cp_path = dir.path().join("job.checkpoint");
    let mut batches = 0;
    let first = ReencryptJob::new(&ring, ctx).with_batch_size(10).run(
        items(&rows),
        &mut FileCheckpoint::new(&cp_path),
        |_| {
            batches += 1;
            if batches == 2 {
                return Err(Error::InvalidOperation("simulated crash"));
            }
            Ok(())
        },
    );
    assert!(first.is_err());
    let saved: CheckpointState<u64> = FileCheckpoint::new(&cp_path).load().unwrap().unwrap();
    assert_eq!((saved.last_id, saved.failed), (9, 2));
    assert_eq!(saved.failed_ids, vec![2, 4]);

    let report = ReencryptJob::new(&ring, ctx)
        .with_batch_size(10)
        .run(items(&rows), &mut FileCheckpoint::new(&cp_path), |_| {
            Ok::<_, Error>(())
        })
        .unwrap();
    assert_eq!(report.progress.failed, 3, "cumulative over both runs");
    assert_eq!(report.failed_earlier, vec![2, 4]);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].0, 25);
    let saved: CheckpointState<u64> = FileCheckpoint::new(&cp_path).load().unwrap().unwrap();
    assert_eq!(saved.failed, 3);
    assert_eq!(saved.failed_ids, vec![2, 4, 25]);
}

#[test]
fn resume_after_a_rotation_mid_job_is_refused() {
    let (master, mut ring, rows) = table(20);
    let mut cp = MemoryCheckpoint::new();
    let mut batches = 0;
    let _ = ReencryptJob::new(&ring, ctx)
        .with_batch_size(5)
        .run(items(&rows), &mut cp, |_| {
            batches += 1;
            if batches == 2 {
                return Err(Error::InvalidOperation("simulated crash"));
            }
            Ok(())
        });
    assert_eq!(cp.state().unwrap().target_version, Some(2));
    ring.rotate(&master, t0()).unwrap();
    let res = ReencryptJob::new(&ring, ctx).run(items(&rows), &mut cp, |_| Ok::<_, Error>(()));
    assert!(
        matches!(
            res,
            Err(Error::CheckpointTargetChanged {
                recorded: Some(2),
                primary: 3
            })
        ),
        "{res:?}"
    );
}

#[test]
fn version_1_checkpoint_loads_but_is_not_resumed() {
    // Old files still load; the job cannot know their target or failures, so it asks for
    // a fresh run (safe: items already current are skipped).
    let (_, ring, rows) = table(3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cp");
    std::fs::write(
        &path,
        br#"{"format":"rampart-reencrypt-checkpoint","format_version":1,"last_id":1}"#,
    )
    .unwrap();
    let mut cp = FileCheckpoint::new(&path);
    let state: CheckpointState<u64> = cp.load().unwrap().unwrap();
    assert_eq!(
        (state.last_id, state.target_version, state.failed),
        (1, None, 0)
    );
    let res = ReencryptJob::new(&ring, ctx).run(items(&rows), &mut cp, |_| Ok::<_, Error>(()));
    assert!(matches!(
        res,
        Err(Error::CheckpointTargetChanged {
            recorded: None,
            primary: 2
        })
    ));
    cp.clear().unwrap();
    let report = ReencryptJob::new(&ring, ctx)
        .run(items(&rows), &mut cp, |_| Ok::<_, Error>(()))
        .unwrap();
    assert_eq!(report.progress.reencrypted, 3);
}

#[test]
fn inconsistent_checkpoint_documents_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cp");
    for doc in [
        // version 2 fields in a version 1 document, and a version 2 without them
        r#"{"format":"rampart-reencrypt-checkpoint","format_version":1,"last_id":1,"failed":0}"#,
        r#"{"format":"rampart-reencrypt-checkpoint","format_version":2,"last_id":1}"#,
        // more ids than failures
        r#"{"format":"rampart-reencrypt-checkpoint","format_version":2,"last_id":1,"target_version":2,"failed":0,"failed_ids":[1]}"#,
        r#"{"format":"rampart-reencrypt-checkpoint","format_version":2,"last_id":1,"target_version":0,"failed":0,"failed_ids":[]}"#,
        r#"{"format":"rampart-reencrypt-checkpoint","format_version":3,"last_id":1}"#,
        r#"{"format":"rampart-reencrypt-checkpoint","format_version":2,"last_id":1,"target_version":2,"failed":0,"failed_ids":[],"extra":1}"#,
    ] {
        std::fs::write(&path, doc).unwrap();
        let res: Result<Option<CheckpointState<u64>>, Error> = FileCheckpoint::new(&path).load();
        assert!(matches!(res, Err(Error::File(_))), "{doc}: {res:?}");
    }
}

#[test]
fn verify_reports_files_with_damaged_bodies_as_unreadable_at_the_primary_and_after_rotation() {
    use std::io::Write as _;
    let master = rampart_envelope::LocalMasterKey::generate().unwrap();
    let now = std::time::SystemTime::now();
    let mut ring = rampart_envelope::Keyring::create("f", "eu", &master, now).unwrap();
    let ctx = rampart_envelope::Context::new().with("k", "v");
    let file = |ring: &rampart_envelope::Keyring| {
        let mut w =
            rampart_envelope::stream::EncryptingWriter::new(ring, &ctx, Vec::new()).unwrap();
        w.write_all(&[1u8; 100_000]).unwrap();
        w.finish().unwrap()
    };
    for rotated in [false, true] {
        let good = file(&ring);
        let mut truncated = file(&ring);
        truncated.truncate(200 + 65_552); // the final segment is gone
        let mut garbage = file(&ring);
        let n = garbage.len();
        garbage[n - 40] ^= 1;
        if rotated {
            ring.rotate(&master, now).unwrap();
        }
        let items = vec![(1u32, good), (2, truncated), (3, garbage)];
        let run = |verify: bool| {
            rampart_envelope::reencrypt::ReencryptJob::new(&ring, |_: &u32| ctx.clone())
                .with_verify(verify)
                .run(
                    items.clone(),
                    &mut rampart_envelope::reencrypt::MemoryCheckpoint::new(),
                    |_| Ok::<(), rampart_envelope::Error>(()),
                )
                .unwrap()
        };
        let verified = run(true);
        let ids: Vec<u32> = verified.failed.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [2, 3], "rotated: {rotated}");
        assert!(matches!(
            verified.failed[0].1,
            rampart_envelope::Error::Truncated
        ));
        // Without verify only headers are opened: the bodies are not read.
        assert_eq!(run(false).progress.failed, 0, "rotated: {rotated}");
    }
}
