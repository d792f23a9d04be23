//! Where lines go: the [`Sink`] trait, the rotating [`FileSink`], [`WriterSink`] (stdout or
//! any writer) and, with feature `tracing`, `TracingSink`.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{ConfigError, Error};
use crate::record::{self, ChainedBody, CheckpointBody, Position, Split};

/// Where the chain stands when a sink continues an existing trail (see [`Sink::resume`]).
/// Only this crate's sinks make one.
///
/// ```
/// # use rampart_audit::Sink;
/// let mut sink = rampart_audit::WriterSink::new(Vec::new());
/// assert!(sink.resume().is_none()); // a writer sink always starts a new trail
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ResumePoint {
    pub(crate) pos: Position,
}

/// A destination for audit lines. The log's worker thread is its only caller.
///
/// Implement it to send the trail elsewhere (a socket, a message queue); the default methods
/// describe a sink without files.
///
/// ```
/// use std::io;
/// struct Collect(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
/// impl rampart_audit::Sink for Collect {
///     fn write(&mut self, lines: &[u8]) -> io::Result<()> {
///         self.0.lock().unwrap().extend_from_slice(lines);
///         Ok(())
///     }
///     fn flush(&mut self) -> io::Result<()> { Ok(()) }
/// }
/// ```
pub trait Sink: Send + 'static {
    /// Writes one or more complete lines, each ending with `\n`.
    fn write(&mut self, lines: &[u8]) -> io::Result<()>;

    /// Makes everything written so far durable (fsync for files). Called on
    /// [`AuditLog::flush`](crate::AuditLog::flush) and at shutdown.
    fn flush(&mut self) -> io::Result<()>;

    /// Called when the queue has been idle for a few milliseconds (time-based fsync).
    fn idle(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Opens the first file to write to and returns its position in the trail. Called once,
    /// when the log starts.
    fn begin(&mut self) -> io::Result<u64> {
        Ok(0)
    }

    /// Whether the sink wants the next record in a new file, given `pending` bytes the
    /// worker holds for its next [`write`](Sink::write).
    fn rotation_due(&self, pending: u64) -> bool {
        let _ = pending;
        false
    }

    /// Closes the current file and opens the next; returns its position in the trail.
    fn rotate(&mut self) -> io::Result<u64> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this sink does not rotate",
        ))
    }

    /// Where an existing trail this sink continues ends (read once, before
    /// [`begin`](Sink::begin)); `None` starts a new trail.
    fn resume(&mut self) -> Option<ResumePoint> {
        None
    }

    /// The files written, in trail order (empty for sinks without files).
    fn paths(&self) -> Vec<PathBuf> {
        Vec::new()
    }
}

/// When the file sink calls fsync.
///
/// ```
/// let every_100ms = rampart_audit::Fsync::Every(std::time::Duration::from_millis(100));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fsync {
    /// After every write: the worker writes what is queued in one batch, so this is group
    /// commit (a burst of records shares one fsync).
    EveryRecord,
    /// At most this long after a write (the worker checks when idle and before each write).
    Every(Duration),
    /// Never explicitly (the OS writes back on its own; shutdown and
    /// [`AuditLog::flush`](crate::AuditLog::flush) still fsync).
    Never,
}

/// Append-only files in one directory, named `PREFIX-NNNNNNNNNN.jsonl` (ten digits: the
/// names sort in trail order), rotated by size and/or age; the chain continues across
/// files and across restarts (a new run opens the next file and chains from the last line).
///
/// ```
/// use std::time::Duration;
/// use rampart_audit::{FileSink, Fsync};
/// let dir = tempfile::tempdir()?;
/// let sink = FileSink::open(dir.path(), "audit")?
///     .with_fsync(Fsync::Every(Duration::from_millis(100)))
///     .with_max_bytes(64 << 20)?
///     .with_max_age(Duration::from_secs(86_400))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FileSink {
    dir: PathBuf,
    prefix: String,
    fsync: Fsync,
    max_bytes: Option<u64>,
    max_age: Option<Duration>,
    next_index: u64,
    resume: Option<ResumePoint>,
    current: Option<Current>,
    paths: Vec<PathBuf>,
}

#[derive(Debug)]
struct Current {
    file: File,
    bytes: u64,
    opened: Instant,
    dirty: bool,
    last_sync: Instant,
}

impl FileSink {
    /// A sink writing into `dir` (which must exist). When it already holds files of this
    /// prefix, the last one is read to continue the chain from its last complete line.
    ///
    /// The prefix is 1-64 characters of `[A-Za-z0-9._-]`.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// assert!(rampart_audit::FileSink::open(dir.path(), "bad/prefix").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(dir: impl AsRef<Path>, prefix: &str) -> Result<Self, Error> {
        let dir = dir.as_ref().to_path_buf();
        if prefix.is_empty()
            || prefix.len() > 64
            || !prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(ConfigError::Option(
                "file prefix must be 1-64 characters of [A-Za-z0-9._-]",
            )
            .into());
        }
        let existing = trail_files(&dir, prefix)?;
        let (next_index, resume) = match existing.last() {
            None => (0, None),
            Some((index, _)) => (index + 1, Some(resume_from(&existing)?)),
        };
        Ok(Self {
            dir,
            prefix: prefix.to_owned(),
            fsync: Fsync::Every(Duration::from_millis(100)),
            max_bytes: None,
            max_age: None,
            next_index,
            resume,
            current: None,
            paths: Vec::new(),
        })
    }

    /// Sets the fsync policy (default: every 100 ms).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let sink = rampart_audit::FileSink::open(dir.path(), "audit")?.with_fsync(rampart_audit::Fsync::EveryRecord);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_fsync(mut self, fsync: Fsync) -> Self {
        self.fsync = fsync;
        self
    }

    /// Starts a new file once the current one holds this many bytes (checked before each
    /// record, so a file may exceed it by one batch).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// assert!(rampart_audit::FileSink::open(dir.path(), "audit")?.with_max_bytes(0).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_max_bytes(mut self, bytes: u64) -> Result<Self, Error> {
        if bytes == 0 {
            return Err(ConfigError::Option("max_bytes must be positive").into());
        }
        self.max_bytes = Some(bytes);
        Ok(self)
    }

    /// Starts a new file once the current one is this old.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// assert!(rampart_audit::FileSink::open(dir.path(), "audit")?.with_max_age(std::time::Duration::ZERO).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_max_age(mut self, age: Duration) -> Result<Self, Error> {
        if age.is_zero() {
            return Err(ConfigError::Option("max_age must be positive").into());
        }
        self.max_age = Some(age);
        Ok(self)
    }

    fn open_next(&mut self) -> io::Result<u64> {
        if let Some(cur) = &mut self.current {
            cur.file.sync_data()?;
        }
        let index = self.next_index;
        let path = self.dir.join(file_name(&self.prefix, index));
        let mut options = OpenOptions::new();
        // Append-only, and never over an existing file.
        options.append(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o640);
        }
        let file = options.open(&path)?;
        // The new name must survive a crash as well as the lines in it.
        #[cfg(unix)]
        File::open(&self.dir)?.sync_all()?;
        let now = Instant::now();
        self.current = Some(Current {
            file,
            bytes: 0,
            opened: now,
            dirty: false,
            last_sync: now,
        });
        self.paths.push(path);
        self.next_index += 1;
        Ok(index)
    }
}

fn file_name(prefix: &str, index: u64) -> String {
    format!("{prefix}-{index:010}.jsonl")
}

fn not_open() -> io::Error {
    io::Error::other("audit file sink used before begin")
}

impl Sink for FileSink {
    fn write(&mut self, lines: &[u8]) -> io::Result<()> {
        let fsync = self.fsync;
        let cur = self.current.as_mut().ok_or_else(not_open)?;
        cur.file.write_all(lines)?;
        cur.bytes += lines.len() as u64;
        cur.dirty = true;
        match fsync {
            Fsync::EveryRecord => sync(cur)?,
            Fsync::Every(period) if cur.last_sync.elapsed() >= period => sync(cur)?,
            Fsync::Every(_) | Fsync::Never => {}
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.current {
            Some(cur) => sync(cur),
            None => Ok(()),
        }
    }

    fn idle(&mut self) -> io::Result<()> {
        if let (Fsync::Every(period), Some(cur)) = (self.fsync, &mut self.current)
            && cur.dirty
            && cur.last_sync.elapsed() >= period
        {
            sync(cur)?;
        }
        Ok(())
    }

    fn begin(&mut self) -> io::Result<u64> {
        self.open_next()
    }

    fn rotation_due(&self, pending: u64) -> bool {
        self.current.as_ref().is_some_and(|cur| {
            self.max_bytes.is_some_and(|max| cur.bytes + pending >= max)
                || self.max_age.is_some_and(|age| cur.opened.elapsed() >= age)
        })
    }

    fn rotate(&mut self) -> io::Result<u64> {
        self.open_next()
    }

    fn resume(&mut self) -> Option<ResumePoint> {
        self.resume
    }

    fn paths(&self) -> Vec<PathBuf> {
        self.paths.clone()
    }
}

fn sync(cur: &mut Current) -> io::Result<()> {
    cur.file.sync_data()?;
    cur.dirty = false;
    cur.last_sync = Instant::now();
    Ok(())
}

/// The trail's files in `dir`, sorted by position.
fn trail_files(dir: &Path, prefix: &str) -> Result<Vec<(u64, PathBuf)>, Error> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('-'))
            .and_then(|r| r.strip_suffix(".jsonl"))
        else {
            continue;
        };
        if rest.len() == 10
            && rest.bytes().all(|b| b.is_ascii_digit())
            && let Ok(index) = rest.parse::<u64>()
        {
            files.push((index, entry.path()));
        }
    }
    files.sort();
    Ok(files)
}

/// Where the existing trail ends: the last complete chained line's sequence number and
/// chain value, and the public digest recomputed from the last checkpoint (which holds the
/// digest up to it) or, without one, from the start of the trail.
fn resume_from(files: &[(u64, PathBuf)]) -> Result<ResumePoint, Error> {
    // Find the last file holding a checkpoint: hashing restarts from there.
    let mut start = 0;
    for (i, (_, path)) in files.iter().enumerate().rev() {
        if scan(path, &mut None)?.has_checkpoint {
            start = i;
            break;
        }
    }
    let mut pos = None;
    let mut found_any = false;
    for (_, path) in &files[start..] {
        let s = scan(path, &mut pos)?;
        found_any |= s.chained;
    }
    match pos {
        Some(pos) if found_any => Ok(ResumePoint { pos }),
        _ => Err(ConfigError::Resume(files[files.len() - 1].1.clone()).into()),
    }
}

struct Scan {
    has_checkpoint: bool,
    chained: bool,
}

/// Reads a file's complete lines, advancing `pos` (when set) through them; a checkpoint
/// resets `pos` to what it signed. A torn last line is ignored: the verifier reports it.
fn scan(path: &Path, pos: &mut Option<Position>) -> Result<Scan, Error> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut out = Scan {
        has_checkpoint: false,
        chained: false,
    };
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io(path, e))?;
        if n == 0 || line.last() != Some(&b'\n') {
            break;
        }
        line.pop();
        match record::split(&line) {
            Some(Split::Chained { canonical, chain }) => {
                let Ok(body) = serde_json::from_slice::<ChainedBody>(&canonical) else {
                    continue;
                };
                out.chained = true;
                if let Some(p) = pos.as_mut() {
                    p.advance_digest(&line);
                    p.chain = chain;
                    p.next_seq = body.seq + 1;
                } else {
                    // Before any checkpoint: hashing from the start of the trail.
                    let mut p = Position::GENESIS;
                    p.advance_digest(&line);
                    p.chain = chain;
                    p.next_seq = body.seq + 1;
                    *pos = Some(p);
                }
            }
            Some(Split::Checkpoint { canonical, .. }) => {
                let Ok(body) = serde_json::from_slice::<CheckpointBody>(&canonical) else {
                    continue;
                };
                let cp = body.checkpoint;
                if let (Some(chain), Some(digest)) = (
                    record::decode_hash(&cp.chain),
                    record::decode_hash(&cp.digest),
                ) {
                    out.has_checkpoint = true;
                    *pos = Some(Position {
                        next_seq: cp.next_seq,
                        chain,
                        digest,
                    });
                }
            }
            None => {}
        }
    }
    Ok(out)
}

/// Lines to any writer: stdout for a collector that reads the process's output, or a
/// socket. Nothing rotates; `flush` flushes the writer.
///
/// ```
/// let sink = rampart_audit::WriterSink::stdout();
/// let to_vec = rampart_audit::WriterSink::new(Vec::new());
/// ```
#[derive(Debug)]
pub struct WriterSink<W> {
    writer: W,
}

impl<W: Write + Send + 'static> WriterSink<W> {
    /// A sink writing to `writer`.
    ///
    /// ```
    /// let sink = rampart_audit::WriterSink::new(std::io::stderr());
    /// ```
    pub fn new(writer: W) -> Self {
        Self { writer }
    }
}

impl WriterSink<io::Stdout> {
    /// A sink writing to the process's stdout.
    ///
    /// ```
    /// let sink = rampart_audit::WriterSink::stdout();
    /// ```
    #[must_use]
    pub fn stdout() -> Self {
        Self::new(io::stdout())
    }
}

impl<W: Write + Send + 'static> Sink for WriterSink<W> {
    fn write(&mut self, lines: &[u8]) -> io::Result<()> {
        self.writer.write_all(lines)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

/// Emits every line as a `tracing` event at INFO, target `rampart_audit`, field `record`
/// (the whole line, chain value included, so a collector can still verify it).
///
/// ```
/// let sink = rampart_audit::TracingSink::new();
/// ```
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
#[derive(Debug, Default)]
pub struct TracingSink {
    _private: (),
}

#[cfg(feature = "tracing")]
impl TracingSink {
    /// A sink emitting `tracing` events.
    ///
    /// ```
    /// let sink = rampart_audit::TracingSink::new();
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[cfg(feature = "tracing")]
impl Sink for TracingSink {
    fn write(&mut self, lines: &[u8]) -> io::Result<()> {
        for line in lines.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let text = String::from_utf8_lossy(line);
            tracing::info!(target: "rampart_audit", record = %text);
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
