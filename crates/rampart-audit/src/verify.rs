//! Reading a trail back and deciding whether it is intact, or where it first breaks.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::{ConfigError, Error};
use crate::key::{CheckpointPublicKey, KeySet};
use crate::record::{
    self, ChainedBody, CheckpointBody, Hash, Mark, Position, Split, chain_value, hash_eq,
};

/// Longest line the verifier reads; longer is [`BreakReason::LineTooLong`] (an event is a few hundred bytes; this bounds memory on
/// garbage input such as a file without newlines).
///
/// ```
/// assert_eq!(rampart_audit::MAX_LINE_BYTES, 1 << 20);
/// ```
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// The outcome of verifying a trail.
///
/// ```
/// use rampart_audit::{ChainKey, KeySet, Verdict, Verifier};
/// let v = Verifier::new().with_keys(KeySet::new().with_key(ChainKey::new("k1", &[1; 32])?)?);
/// match v.verify_bytes(&[("audit-0000000000.jsonl", b"")])? {
///     Verdict::Intact(summary) => println!("{} records", summary.records),
///     Verdict::Broken(b) => println!("{}:{}: {} ({})", b.file.display(), b.line, b.reason, b.reason.kind()),
/// }
/// # Ok::<(), rampart_audit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Verdict {
    /// Every line checked out.
    Intact(Summary),
    /// The first line that does not; nothing after it was judged.
    Broken(Break),
}

/// What an intact trail holds.
///
/// ```
/// # use rampart_audit::{AuditLog, ChainKey, KeySet, Verdict, Verifier, WriterSink};
/// # let key = [1u8; 32];
/// let keys = KeySet::new().with_key(ChainKey::new("k1", &key)?)?;
/// // A trail of one file holding only its start mark and shutdown mark:
/// # let mut text = Vec::new();
/// # { struct S(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
/// #   impl rampart_audit::Sink for S { fn write(&mut self, l: &[u8]) -> std::io::Result<()> { self.0.lock().unwrap().extend_from_slice(l); Ok(()) } fn flush(&mut self) -> std::io::Result<()> { Ok(()) } }
/// #   let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
/// #   AuditLog::builder(ChainKey::new("k1", &key)?, S(out.clone())).start()?.shutdown()?;
/// #   text = out.lock().unwrap().clone(); }
/// let Verdict::Intact(s) = Verifier::new().with_keys(keys).verify_bytes(&[("a", &text)])? else { panic!() };
/// assert_eq!((s.records, s.lines, s.closed), (0, 2, true));
/// # Ok::<(), rampart_audit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Event records.
    pub records: u64,
    /// Chained lines (events and marks): the next sequence number.
    pub lines: u64,
    /// Checkpoints seen (and, with a public key, whose signatures verified).
    pub checkpoints: u64,
    /// Files read.
    pub files: usize,
    /// True when the trail ends with a clean-shutdown mark; false when it is still being
    /// written, or its writer stopped without shutting down, or its end was cut at a line
    /// boundary after the last checkpoint (which no chain can tell apart).
    pub closed: bool,
    /// Chained lines after the last checkpoint that no key vouches for: 0 with chain keys;
    /// with only the checkpoint public key, the lines after the last checkpoint.
    pub unverified_tail: u64,
}

/// Where a trail first breaks.
///
/// ```
/// use rampart_audit::{ChainKey, KeySet, Verdict, Verifier};
/// let v = Verifier::new().with_keys(KeySet::new().with_key(ChainKey::new("k1", &[1; 32])?)?);
/// let Verdict::Broken(b) = v.verify_bytes(&[("a.jsonl", b"{}\n")])? else { panic!() };
/// assert_eq!((b.line, b.seq, b.reason.kind()), (1, 0, "malformed"));
/// # Ok::<(), rampart_audit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Break {
    /// The file (as named to the verifier).
    pub file: PathBuf,
    /// 1-based line number in that file (one past the last line for a missing end).
    pub line: u64,
    /// The sequence number the verifier expected at that line.
    pub seq: u64,
    /// What is wrong.
    pub reason: BreakReason,
}

/// Why a trail is broken. Each variant names what an attacker (or a crash) did.
///
/// ```
/// let r = rampart_audit::BreakReason::SequenceGap { expected: 4, found: 5 };
/// assert_eq!(r.kind(), "sequence_gap");
/// assert!(r.to_string().contains("expected record 4"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BreakReason {
    /// Not an audit line (bad JSON, missing or malformed chain value or signature).
    #[error("not an audit record")]
    Malformed,
    /// A line longer than [`MAX_LINE_BYTES`].
    #[error("line longer than the limit")]
    LineTooLong,
    /// The file ends in the middle of a line (truncated, or the writer crashed mid-write).
    #[error("the file ends inside a line (truncated)")]
    TornLine,
    /// A sequence number other than the next one: a record was deleted, inserted or moved.
    #[error(
        "expected record {expected}, found record {found} (deleted, inserted or reordered records)"
    )]
    SequenceGap {
        /// The sequence number that should be here.
        expected: u64,
        /// The one that is.
        found: u64,
    },
    /// The record names a chain key id the verifier does not hold.
    #[error("record chained under unknown key id {kid:?}")]
    UnknownKey {
        /// The key id written in the record.
        kid: String,
    },
    /// The chain value does not match: the record (or one before it in the same place) was
    /// edited, or re-chained with another key.
    #[error("chain value does not match (record edited or re-chained with another key)")]
    ChainMismatch,
    /// A file does not start with its file-start mark.
    #[error("file does not start with its file-start mark")]
    MissingFileStart,
    /// A file's position in the trail is not the expected one: a file was dropped, moved or
    /// given twice.
    #[error(
        "expected file {expected} of the trail, found file {found} (missing or reordered files)"
    )]
    FileOutOfOrder {
        /// The file position that should be here.
        expected: u64,
        /// The one that is.
        found: u64,
    },
    /// A mark where it does not belong (a file-start in mid-file, an end mark naming another
    /// file).
    #[error("structural mark out of place")]
    MisplacedMark,
    /// A line after the file's end mark.
    #[error("line after the file's end mark")]
    AfterEnd,
    /// A file that the trail continues after does not end with its end mark: its last
    /// lines were cut off.
    #[error("the file does not end with its end mark (truncated)")]
    FileEndMissing,
    /// The last file ends with a rotation mark: the files after it are missing.
    #[error("the trail continues after this file, but the next file is missing")]
    NextFileMissing,
    /// The trail does not end with a clean-shutdown mark and the verifier requires one.
    #[error("the trail does not end with a clean-shutdown mark")]
    NotClosed,
    /// A mark announced a checkpoint right after it, and there is none: it was deleted.
    #[error("the checkpoint announced by the line before is missing")]
    CheckpointMissing,
    /// A checkpoint's signature does not verify under the checkpoint public key.
    #[error("checkpoint signature does not verify")]
    CheckpointSignature,
    /// A checkpoint was signed by another key than the verifier's.
    #[error("checkpoint signed by key {key}, not by the verifier's key")]
    CheckpointKey {
        /// The key id in the checkpoint.
        key: String,
    },
    /// The lines before a (validly signed) checkpoint are not the ones it signed: some line
    /// with a sequence number from `from_seq` up to (excluding) `to_seq` was changed.
    #[error("records {from_seq}..{to_seq} do not match the checkpoint that signed them")]
    CheckpointMismatch {
        /// First sequence number the checkpoint covers since the previous one.
        from_seq: u64,
        /// The checkpoint's `next_seq`.
        to_seq: u64,
    },
}

impl BreakReason {
    /// A stable, machine-readable name for the reason.
    ///
    /// ```
    /// assert_eq!(rampart_audit::BreakReason::ChainMismatch.kind(), "chain_mismatch");
    /// ```
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::LineTooLong => "line_too_long",
            Self::TornLine => "torn_line",
            Self::SequenceGap { .. } => "sequence_gap",
            Self::UnknownKey { .. } => "unknown_key",
            Self::ChainMismatch => "chain_mismatch",
            Self::MissingFileStart => "missing_file_start",
            Self::FileOutOfOrder { .. } => "file_out_of_order",
            Self::MisplacedMark => "misplaced_mark",
            Self::AfterEnd => "after_end",
            Self::FileEndMissing => "file_end_missing",
            Self::NextFileMissing => "next_file_missing",
            Self::NotClosed => "not_closed",
            Self::CheckpointMissing => "checkpoint_missing",
            Self::CheckpointSignature => "checkpoint_signature",
            Self::CheckpointKey { .. } => "checkpoint_key",
            Self::CheckpointMismatch { .. } => "checkpoint_mismatch",
        }
    }
}

/// Checks a trail: with the chain keys (every record), with the checkpoint public key
/// (every line up to the last checkpoint), or both.
///
/// ```
/// use rampart_audit::{AuditLog, AuthActivity, ChainKey, Event, KeySet, Outcome, Verdict, Verifier, FileSink};
///
/// let dir = tempfile::tempdir()?;
/// let log = AuditLog::builder(ChainKey::new("k1", &[7; 32])?, FileSink::open(dir.path(), "audit")?).start()?;
/// log.append(Event::authentication(AuthActivity::Logon, Outcome::Success))?;
/// let files = log.shutdown()?;
///
/// let keys = KeySet::new().with_key(ChainKey::new("k1", &[7; 32])?)?;
/// match Verifier::new().with_keys(keys).verify_files(&files)? {
///     Verdict::Intact(s) => assert_eq!(s.records, 1),
///     Verdict::Broken(b) => panic!("{}:{}: {}", b.file.display(), b.line, b.reason),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct Verifier {
    keys: Option<KeySet>,
    public: Option<CheckpointPublicKey>,
    require_closed: bool,
}

impl Verifier {
    /// A verifier with no key yet (give it keys, a public key, or both).
    ///
    /// ```
    /// let v = rampart_audit::Verifier::new();
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks every record's chain value with these keys (by the record's key id).
    ///
    /// ```
    /// use rampart_audit::{ChainKey, KeySet, Verifier};
    /// let v = Verifier::new().with_keys(KeySet::new().with_key(ChainKey::new("k1", &[1; 32])?)?);
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    #[must_use]
    pub fn with_keys(mut self, keys: KeySet) -> Self {
        self.keys = Some(keys);
        self
    }

    /// Checks every checkpoint's signature with this public key, and every line before the
    /// last checkpoint against the digest it signed.
    ///
    /// ```
    /// use rampart_audit::{CheckpointPublicKey, Verifier};
    /// let v = Verifier::new().with_checkpoint_key(CheckpointPublicKey::from_base64(&"A".repeat(43))?);
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    #[must_use]
    pub fn with_checkpoint_key(mut self, key: CheckpointPublicKey) -> Self {
        self.public = Some(key);
        self
    }

    /// Requires the trail to end with a clean-shutdown mark, so that cutting records off the
    /// end of a closed trail is detected (an archived trail is always closed).
    ///
    /// ```
    /// let v = rampart_audit::Verifier::new().with_require_closed(true);
    /// ```
    #[must_use]
    pub fn with_require_closed(mut self, require: bool) -> Self {
        self.require_closed = require;
        self
    }

    /// Verifies the files of a trail, in trail order (the file sink's names sort in that
    /// order). Errors are for what stopped the reading (no key given, no file, I/O); a
    /// tampered trail is `Ok(Verdict::Broken(..))`.
    ///
    /// ```
    /// let err = rampart_audit::Verifier::new().verify_files::<&str>(&[]).unwrap_err();
    /// assert_eq!(err.kind(), "invalid_option");
    /// ```
    pub fn verify_files<P: AsRef<Path>>(&self, files: &[P]) -> Result<Verdict, Error> {
        self.check_config(files.len())?;
        let mut state = State::new(self);
        for (i, path) in files.iter().enumerate() {
            let path = path.as_ref();
            let file = File::open(path).map_err(|e| Error::io(path, e))?;
            let last = i + 1 == files.len();
            if let Err(reason) = state.file(path, BufReader::new(file), last) {
                return match reason {
                    Stop::Broken(b) => Ok(Verdict::Broken(b)),
                    Stop::Io(e) => Err(Error::io(path, e)),
                };
            }
        }
        Ok(state.finish(files.len()))
    }

    /// Verifies a trail held in memory: `(name, contents)` per file, in trail order. Never
    /// panics, whatever the bytes.
    ///
    /// ```
    /// use rampart_audit::{ChainKey, KeySet, Verdict, Verifier};
    /// let v = Verifier::new().with_keys(KeySet::new().with_key(ChainKey::new("k1", &[1; 32])?)?);
    /// let Verdict::Broken(b) = v.verify_bytes(&[("a.jsonl", b"garbage\n")])? else { panic!() };
    /// assert_eq!((b.line, b.reason.kind()), (1, "malformed"));
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    pub fn verify_bytes(&self, files: &[(&str, &[u8])]) -> Result<Verdict, Error> {
        self.check_config(files.len())?;
        let mut state = State::new(self);
        for (i, (name, bytes)) in files.iter().enumerate() {
            let last = i + 1 == files.len();
            if let Err(reason) = state.file(Path::new(name), *bytes, last) {
                return match reason {
                    Stop::Broken(b) => Ok(Verdict::Broken(b)),
                    Stop::Io(e) => Err(Error::io(*name, e)),
                };
            }
        }
        Ok(state.finish(files.len()))
    }

    fn check_config(&self, files: usize) -> Result<(), Error> {
        if self.keys.is_none() && self.public.is_none() {
            return Err(ConfigError::Option(
                "a verifier needs chain keys or a checkpoint public key",
            )
            .into());
        }
        if files == 0 {
            return Err(ConfigError::Option("no audit file to verify").into());
        }
        Ok(())
    }
}

/// Verifies `files` with chain keys: shorthand for [`Verifier`].
///
/// ```
/// use rampart_audit::{ChainKey, KeySet};
/// let keys = KeySet::new().with_key(ChainKey::new("k1", &[1; 32])?)?;
/// assert!(rampart_audit::verify(&["/nonexistent/audit.jsonl"], keys).is_err());
/// # Ok::<(), rampart_audit::Error>(())
/// ```
pub fn verify<P: AsRef<Path>>(files: &[P], keys: KeySet) -> Result<Verdict, Error> {
    Verifier::new().with_keys(keys).verify_files(files)
}

enum Stop {
    Broken(Break),
    Io(std::io::Error),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Open,
    Rotated,
    Shutdown,
}

struct State<'v> {
    v: &'v Verifier,
    pos: Position,
    /// Position of the next file in the trail.
    next_file: u64,
    /// `next_seq` of the last checkpoint.
    checkpointed: u64,
    records: u64,
    checkpoints: u64,
    end: End,
    /// The last line was a mark that announced a checkpoint.
    checkpoint_due: bool,
}

impl<'v> State<'v> {
    fn new(v: &'v Verifier) -> Self {
        Self {
            v,
            pos: Position::GENESIS,
            next_file: 0,
            checkpointed: 0,
            records: 0,
            checkpoints: 0,
            end: End::Open,
            checkpoint_due: false,
        }
    }

    fn file(&mut self, path: &Path, mut reader: impl BufRead, last: bool) -> Result<(), Stop> {
        let broken = |line: u64, seq: u64, reason| {
            Stop::Broken(Break {
                file: path.to_path_buf(),
                line,
                seq,
                reason,
            })
        };
        let this_file = self.next_file;
        let mut buf = Vec::new();
        let mut line_no = 0u64;
        loop {
            buf.clear();
            let n = (&mut reader)
                .take(MAX_LINE_BYTES as u64 + 1)
                .read_until(b'\n', &mut buf)
                .map_err(Stop::Io)?;
            if n == 0 {
                break;
            }
            line_no += 1;
            let seq = self.pos.next_seq;
            if buf.last() != Some(&b'\n') {
                let reason = if buf.len() > MAX_LINE_BYTES {
                    BreakReason::LineTooLong
                } else {
                    BreakReason::TornLine
                };
                return Err(broken(line_no, seq, reason));
            }
            buf.pop();
            self.line(&buf, line_no, this_file)
                .map_err(|reason| broken(line_no, seq, reason))?;
        }
        let seq = self.pos.next_seq;
        if self.checkpoint_due {
            return Err(broken(line_no + 1, seq, BreakReason::CheckpointMissing));
        }
        if line_no == 0 {
            return Err(broken(1, seq, BreakReason::MissingFileStart));
        }
        match (self.end, last) {
            (End::Open, false) => {
                return Err(broken(line_no + 1, seq, BreakReason::FileEndMissing));
            }
            (End::Rotated, true) => {
                return Err(broken(line_no + 1, seq, BreakReason::NextFileMissing));
            }
            (End::Open | End::Shutdown, true)
                if self.v.require_closed && self.end != End::Shutdown =>
            {
                return Err(broken(line_no + 1, seq, BreakReason::NotClosed));
            }
            _ => {}
        }
        self.next_file = this_file + 1;
        if !last {
            self.end = End::Open;
        }
        Ok(())
    }

    fn line(&mut self, line: &[u8], line_no: u64, this_file: u64) -> Result<(), BreakReason> {
        let split = record::split(line).ok_or(BreakReason::Malformed)?;
        if self.checkpoint_due && !matches!(split, Split::Checkpoint { .. }) {
            return Err(BreakReason::CheckpointMissing);
        }
        self.checkpoint_due = false;
        match split {
            Split::Chained { canonical, chain } => {
                self.chained(line, &canonical, &chain, line_no, this_file)
            }
            Split::Checkpoint { canonical, sig } => {
                if line_no == 1 {
                    return Err(BreakReason::MissingFileStart);
                }
                self.checkpoint(&canonical, &sig, this_file)
            }
        }
    }

    fn chained(
        &mut self,
        line: &[u8],
        canonical: &[u8],
        chain: &Hash,
        line_no: u64,
        this_file: u64,
    ) -> Result<(), BreakReason> {
        let body: ChainedBody =
            serde_json::from_slice(canonical).map_err(|_| BreakReason::Malformed)?;
        if body.seq != self.pos.next_seq {
            return Err(BreakReason::SequenceGap {
                expected: self.pos.next_seq,
                found: body.seq,
            });
        }
        if let Some(keys) = &self.v.keys {
            let key = keys.get(&body.kid).ok_or_else(|| BreakReason::UnknownKey {
                kid: body.kid.clone(),
            })?;
            if !hash_eq(&chain_value(key, &self.pos.chain, canonical), chain) {
                return Err(BreakReason::ChainMismatch);
            }
        }
        // Only a verified record's content decides anything below.
        let is_event = match (&body.event, body.mark) {
            (Some(_), None) => true,
            (None, Some(_)) => false,
            _ => return Err(BreakReason::Malformed),
        };
        if line_no == 1 {
            match body.mark {
                Some(Mark::FileStart { file, .. }) if file == this_file => {}
                Some(Mark::FileStart { file, .. }) => {
                    return Err(BreakReason::FileOutOfOrder {
                        expected: this_file,
                        found: file,
                    });
                }
                _ => return Err(BreakReason::MissingFileStart),
            }
        } else {
            if self.end != End::Open {
                return Err(BreakReason::AfterEnd);
            }
            match body.mark {
                None => {}
                Some(Mark::FileEnd { file, .. }) if file == this_file => self.end = End::Rotated,
                Some(Mark::Shutdown { file, .. }) if file == this_file => self.end = End::Shutdown,
                Some(_) => return Err(BreakReason::MisplacedMark),
            }
        }
        if is_event {
            self.records += 1;
        }
        self.checkpoint_due = body.mark.is_some_and(Mark::announces_checkpoint);
        self.pos.chain = *chain;
        self.pos.advance_digest(line);
        self.pos.next_seq += 1;
        Ok(())
    }

    fn checkpoint(
        &mut self,
        canonical: &[u8],
        sig: &[u8],
        this_file: u64,
    ) -> Result<(), BreakReason> {
        let body: CheckpointBody =
            serde_json::from_slice(canonical).map_err(|_| BreakReason::Malformed)?;
        let cp = body.checkpoint;
        if let Some(public) = &self.v.public {
            if cp.key != public.id() {
                return Err(BreakReason::CheckpointKey { key: cp.key });
            }
            if !public.verify(canonical, sig) {
                return Err(BreakReason::CheckpointSignature);
            }
        }
        let chain = record::decode_hash(&cp.chain).ok_or(BreakReason::Malformed)?;
        let digest = record::decode_hash(&cp.digest).ok_or(BreakReason::Malformed)?;
        if cp.next_seq != self.pos.next_seq
            || cp.file != this_file
            || !hash_eq(&chain, &self.pos.chain)
            || !hash_eq(&digest, &self.pos.digest)
        {
            return Err(BreakReason::CheckpointMismatch {
                from_seq: self.checkpointed,
                to_seq: cp.next_seq,
            });
        }
        self.checkpointed = cp.next_seq;
        self.checkpoints += 1;
        Ok(())
    }

    fn finish(self, files: usize) -> Verdict {
        let unverified_tail = if self.v.keys.is_some() {
            0
        } else {
            self.pos.next_seq - self.checkpointed
        };
        Verdict::Intact(Summary {
            records: self.records,
            lines: self.pos.next_seq,
            checkpoints: self.checkpoints,
            files,
            closed: self.end == End::Shutdown,
            unverified_tail,
        })
    }
}
