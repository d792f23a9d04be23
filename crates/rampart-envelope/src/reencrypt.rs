//! Re-encryption jobs: move stored ciphertexts to the keyring's primary version, in
//! batches, resumable after a crash, with progress reports (`docs/envelope.md` §7).
//!
//! Run a job after a rotation (the new version is primary) and before raising the minimum
//! decryption version; only when a job has finished with no failures is it safe to
//! `retire_below` the old versions. This is Vault's rotate → rewrap →
//! `min_decryption_version` → trim, packaged.
//!
//! Items are `(id, ciphertext)` pairs, read in ascending id order (`ORDER BY id`). Each item
//! is either a sealed value (opened and sealed again in one call, the plaintext never leaves
//! a zeroizing buffer) or an encrypted file (detected by its header): a file is re-keyed by
//! re-wrapping its data key only, so its body is carried over byte for byte.
//!
//! Crash safety: after the caller's `commit` callback has durably stored a batch, the job
//! saves the batch's last id, its target version and the failures so far in a
//! [`Checkpoint`]; a resumed run reports earlier failures too and refuses to continue
//! towards a different primary version. A job restarted with the same checkpoint
//! skips everything up to that id. If the process dies between the commit and the
//! checkpoint, the batch is read again and its items, already under the primary version,
//! are skipped: the job is idempotent because "needs re-encryption" is recomputed from each
//! header.

use std::fs;
use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, FileError};
use crate::stream::{Detected, FileHeader, HEADER_LEN, detect, rewrap_header};
use crate::{Context, Keyring};

/// Most failed ids a checkpoint records; the count beyond it is still exact.
pub const MAX_RECORDED_FAILURES: usize = 1000;

/// What a job records after every committed batch: where it got to, which primary version
/// it moves data to, and the failures so far, so a resumed run neither hides earlier
/// failures nor mixes two targets.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct CheckpointState<Id> {
    /// The last id handled (re-encrypted and committed, already current, or failed).
    pub last_id: Id,
    /// The primary version the job re-encrypts to; `None` only in checkpoints written
    /// before it was recorded (a job refuses to resume from those).
    pub target_version: Option<u32>,
    /// Items that failed to open, over every run of this checkpoint.
    pub failed: u64,
    /// The ids of the first [`MAX_RECORDED_FAILURES`] of them, in order.
    pub failed_ids: Vec<Id>,
}

impl<Id> CheckpointState<Id> {
    /// A state at `last_id` for a job targeting `target_version`, with no failures (for
    /// [`Checkpoint`] implementations that rebuild it from their own storage).
    pub fn new(last_id: Id, target_version: u32) -> Self {
        Self {
            last_id,
            target_version: Some(target_version),
            failed: 0,
            failed_ids: Vec::new(),
        }
    }

    /// The same state with `failed` failures, `failed_ids` the first of them.
    #[must_use]
    pub fn with_failures(mut self, failed: u64, failed_ids: Vec<Id>) -> Self {
        self.failed = failed;
        self.failed_ids = failed_ids;
        self
    }
}

/// Where a job remembers how far it got. Store the [`CheckpointState`] as a whole (it
/// derives serde when `Id` does).
pub trait Checkpoint<Id> {
    /// The last saved state, or `None` for a fresh job.
    ///
    /// # Errors
    /// Storage errors; a job does not start if its checkpoint cannot be read.
    fn load(&mut self) -> Result<Option<CheckpointState<Id>>, Error>;
    /// Records `state`. Must be durable when it returns.
    ///
    /// # Errors
    /// Storage errors; the job stops (the batch is already committed and is skipped on
    /// resume because its items no longer need re-encryption).
    fn save(&mut self, state: &CheckpointState<Id>) -> Result<(), Error>;
}

/// A checkpoint kept in memory (tests, or jobs that restart from scratch anyway).
#[derive(Debug, Clone, Default)]
pub struct MemoryCheckpoint<Id>(Option<CheckpointState<Id>>);

impl<Id> MemoryCheckpoint<Id> {
    /// A fresh checkpoint.
    pub fn new() -> Self {
        Self(None)
    }

    /// The last id saved.
    pub fn last(&self) -> Option<&Id> {
        self.0.as_ref().map(|s| &s.last_id)
    }

    /// The last state saved.
    pub fn state(&self) -> Option<&CheckpointState<Id>> {
        self.0.as_ref()
    }
}

impl<Id: Clone> Checkpoint<Id> for MemoryCheckpoint<Id> {
    fn load(&mut self) -> Result<Option<CheckpointState<Id>>, Error> {
        Ok(self.0.clone())
    }
    fn save(&mut self, state: &CheckpointState<Id>) -> Result<(), Error> {
        self.0 = Some(state.clone());
        Ok(())
    }
}

/// A checkpoint in a small JSON file, replaced atomically at every save (the same writer as
/// keyring files: unique temporary file, fsync, rename, fsync of the directory).
///
/// Format version 2 (written):
/// `{"format":"rampart-reencrypt-checkpoint","format_version":2,"last_id":<id as JSON>,
/// "target_version":<u32>,"failed":<u64>,"failed_ids":[<id>, ...]}`. Version 1
/// (`format`, `format_version`, `last_id` only) still loads, with `target_version: None`;
/// a job refuses to resume from it ([`Error::CheckpointTargetChanged`]) because it cannot
/// know the target or the earlier failures. Anything else is refused as invalid data.
///
/// ```
/// use rampart_envelope::reencrypt::{Checkpoint, CheckpointState, FileCheckpoint};
/// let dir = tempfile::tempdir()?;
/// let mut cp = FileCheckpoint::new(dir.path().join("rotate-tokens.checkpoint"));
/// assert_eq!(Checkpoint::<u64>::load(&mut cp)?, None); // fresh job
/// cp.save(&CheckpointState::new(41u64, 2).with_failures(1, vec![17]))?;
/// let state: CheckpointState<u64> = cp.load()?.expect("saved");
/// assert_eq!((state.last_id, state.target_version, state.failed), (41, Some(2), 1));
/// cp.clear()?; // the job finished
/// assert_eq!(Checkpoint::<u64>::load(&mut cp)?, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct FileCheckpoint {
    path: PathBuf,
}

impl FileCheckpoint {
    /// A checkpoint stored at `path` (created at the first save).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Removes the checkpoint file, for a job that has finished.
    ///
    /// # Errors
    /// `FileError::Io` if the file exists and cannot be removed.
    pub fn clear(&self) -> Result<(), Error> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(FileError::Io(e).into()),
        }
    }
}

const CHECKPOINT_FORMAT: &str = "rampart-reencrypt-checkpoint";
/// Largest checkpoint file read: [`MAX_RECORDED_FAILURES`] ids of a few hundred bytes.
const MAX_CHECKPOINT_LEN: u64 = 1 << 20;

#[derive(serde::Serialize)]
struct CheckpointDocOut<'a, Id> {
    format: &'static str,
    format_version: u32,
    last_id: &'a Id,
    target_version: Option<u32>,
    failed: u64,
    failed_ids: &'a [Id],
}

/// Both versions: the version-2 fields are optional here and checked by version below.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointDocIn<Id> {
    format: String,
    format_version: u32,
    last_id: Id,
    // Missing Option fields deserialize as None (serde's rule for Option).
    target_version: Option<u32>,
    failed: Option<u64>,
    failed_ids: Option<Vec<Id>>,
}

fn invalid(reason: &str) -> Error {
    FileError::Io(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("re-encryption checkpoint: {reason}"),
    ))
    .into()
}

/// Parses a checkpoint document (the file's bytes, untrusted).
pub(crate) fn parse_checkpoint<Id: DeserializeOwned>(
    bytes: &[u8],
) -> Result<CheckpointState<Id>, Error> {
    let doc: CheckpointDocIn<Id> =
        serde_json::from_slice(bytes).map_err(|_| invalid("malformed json"))?;
    if doc.format != CHECKPOINT_FORMAT {
        return Err(invalid("unknown format"));
    }
    match (
        doc.format_version,
        doc.target_version,
        doc.failed,
        doc.failed_ids,
    ) {
        (1, None, None, None) => Ok(CheckpointState {
            last_id: doc.last_id,
            target_version: None,
            failed: 0,
            failed_ids: Vec::new(),
        }),
        (2, Some(target), Some(failed), Some(ids)) => {
            if ids.len() > MAX_RECORDED_FAILURES || (ids.len() as u64) > failed {
                return Err(invalid("failed_ids disagrees with failed"));
            }
            if target == 0 {
                return Err(invalid("target_version 0 is not valid"));
            }
            Ok(CheckpointState::new(doc.last_id, target).with_failures(failed, ids))
        }
        (1 | 2, ..) => Err(invalid("fields do not match the format version")),
        _ => Err(invalid("unknown format version")),
    }
}

impl<Id: Serialize + DeserializeOwned> Checkpoint<Id> for FileCheckpoint {
    fn load(&mut self) -> Result<Option<CheckpointState<Id>>, Error> {
        let file = match fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(FileError::Io(e).into()),
        };
        let mut bytes = Vec::new();
        file.take(MAX_CHECKPOINT_LEN + 1)
            .read_to_end(&mut bytes)
            .map_err(FileError::Io)?;
        if bytes.len() as u64 > MAX_CHECKPOINT_LEN {
            return Err(invalid("file too large"));
        }
        parse_checkpoint(&bytes).map(Some)
    }

    fn save(&mut self, state: &CheckpointState<Id>) -> Result<(), Error> {
        let doc = CheckpointDocOut {
            format: CHECKPOINT_FORMAT,
            format_version: 2,
            last_id: &state.last_id,
            target_version: state.target_version,
            failed: state.failed,
            failed_ids: &state.failed_ids,
        };
        let json = serde_json::to_vec(&doc).map_err(|_| invalid("id does not serialize"))?;
        crate::atomic_file::write_atomically(&self.path, |f| f.write_all(&json))
            .map_err(|e| FileError::Io(e).into())
    }
}

/// A progress report, passed to the callback after every batch.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// Items handled so far in this run (re-encrypted, already current, or failed), not
    /// counting items skipped because a checkpoint said they were done.
    pub done: u64,
    /// Total items, when known (given with [`ReencryptJob::with_total`] or from an exact
    /// iterator size hint).
    pub total: Option<u64>,
    /// Items re-encrypted (values) or re-keyed (files) so far.
    pub reencrypted: u64,
    /// Items already under the primary version.
    pub already_current: u64,
    /// Items that could not be opened, counting the earlier runs of a resumed checkpoint
    /// (see [`JobReport::failed`] and [`JobReport::failed_earlier`]). Retire old versions
    /// only after a run that ends with this at zero.
    pub failed: u64,
    /// Items skipped because the checkpoint recorded them as committed.
    pub resumed_past: u64,
    /// Wall-clock time since the run started.
    pub elapsed: Duration,
    /// Items handled per second in this run.
    pub rate_per_sec: f64,
}

/// The result of a finished run.
#[derive(Debug)]
#[non_exhaustive]
pub struct JobReport<Id> {
    /// The final progress figures.
    pub progress: Progress,
    /// Items that failed to open in this run (tampered, wrong context, retired or expired
    /// version), with the reason. They still carry their old version: resolve them before
    /// retiring it.
    pub failed: Vec<(Id, Error)>,
    /// Ids that failed in earlier runs of a resumed checkpoint (the first
    /// [`MAX_RECORDED_FAILURES`]; `progress.failed` has the exact total). Their reasons are
    /// not stored: run the job again from a cleared checkpoint to see them.
    pub failed_earlier: Vec<Id>,
}

/// One re-encrypted item, handed to the commit callback.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reencrypted<Id> {
    /// The item's id.
    pub id: Id,
    /// The new ciphertext (for a file: new header, same body).
    pub ciphertext: Vec<u8>,
}

/// The progress callback.
type ProgressFn<'a> = Box<dyn FnMut(&Progress) + 'a>;

/// A re-encryption job. Build it, then [`run`](Self::run) it.
///
/// ```
/// # use rampart_envelope::{Context, Keyring, LocalMasterKey};
/// # use rampart_envelope::reencrypt::{MemoryCheckpoint, ReencryptJob};
/// # let master = LocalMasterKey::generate()?;
/// # let now = std::time::SystemTime::now();
/// let mut keyring = Keyring::create("tokens", "eu-central", &master, now)?;
/// let ctx = Context::new().with("table", "tokens");
/// let mut rows: Vec<(u64, Vec<u8>)> = (0..10)
///     .map(|id| Ok((id, keyring.seal(b"secret", &ctx)?)))
///     .collect::<Result<_, rampart_envelope::Error>>()?;
/// keyring.rotate(&master, now)?;
///
/// let mut checkpoint = MemoryCheckpoint::new();
/// let report = ReencryptJob::new(&keyring, |_id: &u64| ctx.clone())
///     .with_batch_size(4)
///     .run(rows.clone(), &mut checkpoint, |batch| {
///         for item in batch {
///             rows[item.id as usize].1 = item.ciphertext.clone(); // UPDATE ... WHERE id = ?
///         }
///         Ok::<(), rampart_envelope::Error>(())
///     })?;
/// assert_eq!(report.progress.reencrypted, 10);
/// assert!(report.failed.is_empty());
/// assert!(!keyring.needs_reencrypt(&rows[0].1)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ReencryptJob<'a, Id> {
    keyring: &'a Keyring,
    context: Box<dyn FnMut(&Id) -> Context + 'a>,
    batch_size: usize,
    total: Option<u64>,
    max_per_sec: Option<u64>,
    on_progress: Option<ProgressFn<'a>>,
    verify: bool,
}

impl<Id> core::fmt::Debug for ReencryptJob<'_, Id> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReencryptJob")
            .field("batch_size", &self.batch_size)
            .field("total", &self.total)
            .field("max_per_sec", &self.max_per_sec)
            .finish_non_exhaustive()
    }
}

/// Default batch size: large enough to amortize a database transaction, small enough that a
/// crash repeats little work.
pub const DEFAULT_BATCH_SIZE: usize = 500;

impl<'a, Id: Ord + Clone> ReencryptJob<'a, Id> {
    /// A job that re-encrypts under `keyring`'s primary version; `context` gives the context
    /// each item was sealed with (for example from its tenant and table).
    pub fn new(keyring: &'a Keyring, context: impl FnMut(&Id) -> Context + 'a) -> Self {
        Self {
            keyring,
            context: Box::new(context),
            batch_size: DEFAULT_BATCH_SIZE,
            total: None,
            max_per_sec: None,
            on_progress: None,
            verify: false,
        }
    }

    /// Authenticates every item completely, also those already under the primary version:
    /// a file's whole body (in memory here, since items are byte vectors), not only its
    /// header. Without it, values are still opened (that is the whole value) and files'
    /// headers are opened (data key, commitment, context) but their bodies are copied
    /// unread. Items that do not open are reported in [`JobReport::failed`] (unreadable:
    /// they will not open after a retire either), apart from failures to write, which stop
    /// the run with the commit's error. Gate `retire_below` on a verified run with
    /// `progress.failed == 0`.
    ///
    /// ```
    /// # use rampart_envelope::{Context, Keyring, LocalMasterKey};
    /// # use rampart_envelope::reencrypt::{MemoryCheckpoint, ReencryptJob};
    /// # let master = LocalMasterKey::generate()?;
    /// let ring = Keyring::create("t", "eu", &master, std::time::SystemTime::now())?;
    /// let ctx = Context::new();
    /// let mut bad = ring.seal(b"x", &ctx)?;
    /// let last = bad.len() - 1;
    /// bad[last] ^= 1; // at the primary version already, but it will never open
    /// let report = ReencryptJob::new(&ring, |_: &u32| ctx.clone())
    ///     .with_verify(true)
    ///     .run(vec![(1u32, bad)], &mut MemoryCheckpoint::new(), |_| Ok::<(), rampart_envelope::Error>(()))?;
    /// assert_eq!(report.progress.failed, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_verify(mut self, verify: bool) -> Self {
        self.verify = verify;
        self
    }

    /// Items per batch (at least 1; default [`DEFAULT_BATCH_SIZE`]).
    #[must_use]
    pub fn with_batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// The total number of items, for progress reports (e.g. from `SELECT count(*)`).
    #[must_use]
    pub fn with_total(mut self, n: u64) -> Self {
        self.total = Some(n);
        self
    }

    /// Caps the pace at `n` items per second (the job sleeps between batches), to spare the
    /// database a live service also uses.
    #[must_use]
    pub fn with_max_items_per_sec(mut self, n: u64) -> Self {
        self.max_per_sec = Some(n.max(1));
        self
    }

    /// Calls `f` with the progress after every batch.
    #[must_use]
    pub fn with_on_progress(mut self, f: impl FnMut(&Progress) + 'a) -> Self {
        self.on_progress = Some(Box::new(f));
        self
    }

    /// Runs the job over `items` (ascending ids), calling `commit` with each batch of
    /// changed items and then saving the batch's last id, the target (primary) version and
    /// the failures so far in `checkpoint`. Items that are already current, or that fail,
    /// are not passed to `commit` (but still advance the checkpoint; failures are counted in
    /// it, so a resumed run reports them too).
    ///
    /// # Errors
    /// The error of `commit` (the run stops; the checkpoint stays at the previous batch);
    /// `checkpoint` errors converted into `E`; [`Error::RetentionReencrypt`] for a
    /// retention keyring (nothing is read); [`Error::CheckpointTargetChanged`] if the
    /// checkpoint was written for another primary version (a rotation mid-job) or does not
    /// record one; `InvalidOperation` if the ids are not
    /// strictly ascending (a resumed job would otherwise skip unprocessed items). Items that
    /// fail to open are not errors: they are listed in [`JobReport::failed`].
    pub fn run<I, C, E, F>(
        mut self,
        items: I,
        checkpoint: &mut C,
        mut commit: F,
    ) -> Result<JobReport<Id>, E>
    where
        I: IntoIterator<Item = (Id, Vec<u8>)>,
        C: Checkpoint<Id> + ?Sized,
        E: From<Error>,
        F: FnMut(&[Reencrypted<Id>]) -> Result<(), E>,
    {
        // Refused before the checkpoint is touched: a retention keyring's primary is the
        // current bucket, and moving data there would extend its retention.
        self.keyring.refuse_retention_reencrypt()?;
        let target = self.keyring.primary_version().ok_or(Error::NoPrimary)?;
        let started = Instant::now();
        let (resume_after, earlier_failed, mut failed_ids) = match checkpoint.load()? {
            None => (None, 0, Vec::new()),
            // Resuming towards another version would skip items committed to the old
            // target as if they were done, and a retire_below based on this run would
            // destroy keys they still need.
            Some(state) if state.target_version != Some(target) => {
                return Err(Error::CheckpointTargetChanged {
                    recorded: state.target_version,
                    primary: target,
                }
                .into());
            }
            Some(state) => (Some(state.last_id), state.failed, state.failed_ids),
        };
        let failed_earlier = failed_ids.clone();
        let items = items.into_iter();
        let total = self.total.or_else(|| match items.size_hint() {
            (lo, Some(hi)) if lo == hi => u64::try_from(lo).ok(),
            _ => None,
        });
        let mut progress = Progress {
            done: 0,
            total,
            reencrypted: 0,
            already_current: 0,
            failed: earlier_failed,
            resumed_past: 0,
            elapsed: Duration::ZERO,
            rate_per_sec: 0.0,
        };
        let mut failed = Vec::new();
        let mut batch: Vec<Reencrypted<Id>> = Vec::with_capacity(self.batch_size);
        let mut in_batch = 0usize;
        let mut last_id: Option<Id> = None;
        let mut prev: Option<Id> = None;

        for (id, ct) in items {
            if prev.as_ref().is_some_and(|p| *p >= id) {
                return Err(Error::InvalidOperation(
                    "re-encryption items must come in strictly ascending id order",
                )
                .into());
            }
            prev = Some(id.clone());
            if resume_after.as_ref().is_some_and(|c| id <= *c) {
                progress.resumed_past += 1;
                continue;
            }
            let context = (self.context)(&id);
            match self.upgrade(&ct, &context) {
                Ok(Some(ciphertext)) => {
                    progress.reencrypted += 1;
                    batch.push(Reencrypted {
                        id: id.clone(),
                        ciphertext,
                    });
                }
                Ok(None) => progress.already_current += 1,
                Err(e) => {
                    progress.failed += 1;
                    if failed_ids.len() < MAX_RECORDED_FAILURES {
                        failed_ids.push(id.clone());
                    }
                    failed.push((id.clone(), e));
                }
            }
            progress.done += 1;
            in_batch += 1;
            last_id = Some(id);
            if in_batch == self.batch_size {
                let state = last_id.take().map(|id| {
                    CheckpointState::new(id, target)
                        .with_failures(progress.failed, failed_ids.clone())
                });
                flush(&mut batch, state, checkpoint, &mut commit)?;
                in_batch = 0;
                self.report(&mut progress, started);
                self.pace(progress.done, started);
            }
        }
        if in_batch > 0 {
            let state = last_id.take().map(|id| {
                CheckpointState::new(id, target).with_failures(progress.failed, failed_ids)
            });
            flush(&mut batch, state, checkpoint, &mut commit)?;
            self.report(&mut progress, started);
        }
        progress.elapsed = started.elapsed();
        Ok(JobReport {
            progress,
            failed,
            failed_earlier,
        })
    }

    /// Returns the upgraded ciphertext, or `None` if it is already under the primary. The
    /// input is opened in every case (see [`with_verify`](ReencryptJob::with_verify)).
    fn upgrade(&self, ct: &[u8], context: &Context) -> Result<Option<Vec<u8>>, Error> {
        if let Detected::EncryptedFile { .. } = detect(ct) {
            let header = FileHeader::parse(ct)?;
            if self.verify {
                let mut reader = crate::stream::DecryptingReader::new(self.keyring, context, ct)?;
                std::io::copy(&mut reader, &mut std::io::sink()).map_err(|e| {
                    crate::stream::file_error(&e)
                        .map(copy_error)
                        .unwrap_or_else(|| FileError::Io(e).into())
                })?;
            }
            return Ok(rewrap_header(self.keyring, context, &header)?.map(|h| {
                let mut out = Vec::with_capacity(ct.len());
                out.extend_from_slice(h.as_bytes());
                out.extend_from_slice(&ct[HEADER_LEN..]);
                out
            }));
        }
        if !self.keyring.needs_reencrypt(ct)? {
            // Already current, but a value that does not open must be reported, not skipped.
            self.keyring.open(ct, context)?;
            return Ok(None);
        }
        Ok(Some(self.keyring.reencrypt(ct, context)?))
    }

    fn report(&mut self, progress: &mut Progress, started: Instant) {
        progress.elapsed = started.elapsed();
        let secs = progress.elapsed.as_secs_f64();
        // u64 -> f64 loses precision only above 2^53 items.
        #[allow(clippy::cast_precision_loss)]
        let done = progress.done as f64;
        progress.rate_per_sec = if secs > 0.0 { done / secs } else { 0.0 };
        if let Some(cb) = self.on_progress.as_mut() {
            cb(progress);
        }
    }

    fn pace(&self, done: u64, started: Instant) {
        if let Some(max) = self.max_per_sec {
            // done / max seconds is the earliest time this many items may be finished.
            let due = Duration::from_secs_f64(done as f64 / max as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    }
}

/// The reader's errors travel inside `io::Error`; keep the kinds a report needs.
fn copy_error(e: &Error) -> Error {
    match e {
        Error::Truncated => Error::Truncated,
        Error::File(FileError::SegmentAuthentication { segment }) => {
            FileError::SegmentAuthentication { segment: *segment }.into()
        }
        Error::File(FileError::HeaderCommitment) => FileError::HeaderCommitment.into(),
        Error::Authentication => Error::Authentication,
        Error::CommitmentMismatch => Error::CommitmentMismatch,
        other => FileError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            other.to_string(),
        ))
        .into(),
    }
}

/// Commits a batch, then records the checkpoint state: in this order, so a crash in between
/// only repeats work.
fn flush<Id, C, E, F>(
    batch: &mut Vec<Reencrypted<Id>>,
    state: Option<CheckpointState<Id>>,
    checkpoint: &mut C,
    commit: &mut F,
) -> Result<(), E>
where
    C: Checkpoint<Id> + ?Sized,
    E: From<Error>,
    F: FnMut(&[Reencrypted<Id>]) -> Result<(), E>,
{
    if !batch.is_empty() {
        commit(batch)?;
        batch.clear();
    }
    if let Some(state) = state {
        checkpoint.save(&state)?;
    }
    Ok(())
}
