//! The audit log: a bounded queue in front of a worker thread that chains, checkpoints and
//! writes, so a request never waits on the disk.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::{ConfigError, Error};
use crate::event::Event;
use crate::key::{ChainKey, CheckpointSigner};
use crate::record::{Mark, Position, Writer};
use crate::sink::Sink;

/// What [`AuditLog::append`] does when the queue is full (the sink is slower than the
/// events come).
///
/// ```
/// # use rampart_audit::{AuditLog, ChainKey, WhenFull, WriterSink};
/// let log = AuditLog::builder(ChainKey::generate("k1")?, WriterSink::new(Vec::new()))
///     .with_when_full(WhenFull::Fail)
///     .start()?;
/// # Ok::<(), rampart_audit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WhenFull {
    /// Wait for room (the default): no event is lost, and a stalled disk slows requests.
    Block,
    /// Drop the event and count it ([`AuditLog::dropped`]); the call returns `Ok`. For
    /// services that prefer availability; alert on the counter.
    DropAndCount,
    /// Return [`Error::QueueFull`], so the caller decides (for example, refuse the request).
    Fail,
}

/// Most events the worker writes in one sink call.
const BATCH: usize = 256;
/// How often an idle worker lets the sink do time-based work (fsync every N ms).
const IDLE_TICK: Duration = Duration::from_millis(10);
/// Sleep between polls of the queue while events are coming (an event waits at most this
/// long before the worker takes it).
const POLL: Duration = Duration::from_millis(1);
/// Empty polls before the worker blocks on the queue (20 ms without events).
const POLLS: u32 = 20;

// Events travel unboxed: the queue's slots are allocated once, an event needs no extra
// allocation on the request path.
#[allow(clippy::large_enum_variant)]
enum Msg {
    Event(Event),
    Flush(mpsc::Sender<Result<(), Error>>),
    RotateKey(Box<ChainKey>),
    Shutdown,
}

#[derive(Debug, Default)]
struct Shared {
    dropped: AtomicU64,
    failed: AtomicBool,
}

/// Configures an [`AuditLog`]; made by [`AuditLog::builder`].
///
/// ```
/// use rampart_audit::{AuditLog, ChainKey, WhenFull, WriterSink};
/// let log = AuditLog::builder(ChainKey::generate("k1")?, WriterSink::new(Vec::new()))
///     .with_queue_capacity(10_000)
///     .with_when_full(WhenFull::DropAndCount)
///     .start()?;
/// # Ok::<(), rampart_audit::Error>(())
/// ```
#[must_use]
pub struct Builder {
    key: ChainKey,
    sink: Box<dyn Sink>,
    capacity: usize,
    when_full: WhenFull,
    signer: Option<CheckpointSigner>,
    checkpoint_every: u64,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("key", &self.key)
            .field("capacity", &self.capacity)
            .field("when_full", &self.when_full)
            .field("signer", &self.signer)
            .field("checkpoint_every", &self.checkpoint_every)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// Queue capacity in events (default 4096).
    ///
    /// ```
    /// # use rampart_audit::{AuditLog, ChainKey, WriterSink};
    /// let b = AuditLog::builder(ChainKey::generate("k1")?, WriterSink::new(Vec::new())).with_queue_capacity(64);
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    pub fn with_queue_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// The policy when the queue is full (default [`WhenFull::Block`]).
    ///
    /// ```
    /// # use rampart_audit::{AuditLog, ChainKey, WhenFull, WriterSink};
    /// let b = AuditLog::builder(ChainKey::generate("k1")?, WriterSink::new(Vec::new())).with_when_full(WhenFull::Fail);
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    pub fn with_when_full(mut self, policy: WhenFull) -> Self {
        self.when_full = policy;
        self
    }

    /// Signs a checkpoint every `every` events, and at the start and end of every file and
    /// at shutdown.
    ///
    /// ```
    /// # use rampart_audit::{AuditLog, ChainKey, CheckpointSigner, WriterSink};
    /// let signer = CheckpointSigner::from_pkcs8(&CheckpointSigner::generate_pkcs8()?)?;
    /// let b = AuditLog::builder(ChainKey::generate("k1")?, WriterSink::new(Vec::new()))
    ///     .with_checkpoints(signer, 1000);
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    pub fn with_checkpoints(mut self, signer: CheckpointSigner, every: u64) -> Self {
        self.signer = Some(signer);
        self.checkpoint_every = every;
        self
    }

    /// Opens the sink's first file, writes its start, and starts the worker thread.
    ///
    /// ```
    /// # use rampart_audit::{AuditLog, ChainKey, WriterSink};
    /// let bad = AuditLog::builder(ChainKey::generate("k1")?, WriterSink::new(Vec::new())).with_queue_capacity(0);
    /// assert!(bad.start().is_err());
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    pub fn start(self) -> Result<AuditLog, Error> {
        if self.capacity == 0 {
            return Err(ConfigError::Option("queue capacity must be positive").into());
        }
        if self.signer.is_some() && self.checkpoint_every == 0 {
            return Err(ConfigError::Option("checkpoint interval must be positive").into());
        }
        let mut sink = self.sink;
        let pos = sink.resume().map_or(Position::GENESIS, |r| r.pos);
        let mut writer = Writer::new(self.key, pos, self.signer);
        let file = sink.begin().map_err(Error::Sink)?;
        let mut buf = Vec::new();
        writer.mark(Mark::file_start(file), &mut buf);
        writer.checkpoint(file, &mut buf);
        sink.write(&buf).map_err(Error::Sink)?;

        let (tx, rx) = mpsc::sync_channel(self.capacity);
        let shared = Arc::new(Shared::default());
        let worker = Worker {
            writer,
            sink,
            file,
            every: self.checkpoint_every,
            since_checkpoint: 0,
            buf,
            shared: Arc::clone(&shared),
        };
        let handle = std::thread::Builder::new()
            .name("rampart-audit".to_owned())
            .spawn(move || worker.run(&rx))
            .map_err(Error::Sink)?;
        Ok(AuditLog {
            tx,
            shared,
            when_full: self.when_full,
            worker: Some(handle),
        })
    }
}

/// A tamper-evident audit log: [`append`](AuditLog::append) queues an event and returns;
/// a worker thread chains it (HMAC-SHA256 under the current [`ChainKey`]), adds signed
/// checkpoints, and writes it to the [`Sink`].
///
/// Share it between threads behind an `Arc`. [`shutdown`](AuditLog::shutdown) (or drop)
/// writes everything queued, a clean-shutdown mark and a final checkpoint, and fsyncs.
///
/// ```
/// use rampart_audit::{AuditLog, AuthActivity, ChainKey, Event, FileSink, Outcome, User};
///
/// let dir = tempfile::tempdir()?;
/// let log = AuditLog::builder(ChainKey::generate("k1")?, FileSink::open(dir.path(), "audit")?).start()?;
/// log.append(
///     Event::authentication(AuthActivity::Logon, Outcome::Failure)
///         .with_actor(User::named("alice"))
///         .with_src_ip("203.0.113.5".parse()?),
/// )?;
/// let files = log.shutdown()?;
/// assert_eq!(files.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct AuditLog {
    tx: SyncSender<Msg>,
    shared: Arc<Shared>,
    when_full: WhenFull,
    worker: Option<JoinHandle<Result<Vec<PathBuf>, Error>>>,
}

impl AuditLog {
    /// Starts configuring a log that chains under `key` and writes to `sink`.
    ///
    /// ```
    /// # use rampart_audit::{AuditLog, ChainKey, WriterSink};
    /// let log = AuditLog::builder(ChainKey::generate("k1")?, WriterSink::new(Vec::new())).start()?;
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    pub fn builder(key: ChainKey, sink: impl Sink) -> Builder {
        Builder {
            key,
            sink: Box::new(sink),
            capacity: 4096,
            when_full: WhenFull::Block,
            signer: None,
            checkpoint_every: 0,
        }
    }

    /// Queues an event. Returns at once unless the queue is full and the policy is
    /// [`WhenFull::Block`]. Errors: [`Error::QueueFull`] (policy `Fail`),
    /// [`Error::SinkFailed`] once the sink has failed, [`Error::Closed`] after shutdown.
    ///
    /// ```
    /// # use rampart_audit::{AuditLog, ApiActivity, ChainKey, Event, Outcome, WriterSink};
    /// let log = AuditLog::builder(ChainKey::generate("k1")?, WriterSink::new(Vec::new())).start()?;
    /// log.append(Event::api_activity(ApiActivity::Read, Outcome::Success).with_api("GET /orders"))?;
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    pub fn append(&self, event: Event) -> Result<(), Error> {
        if self.shared.failed.load(Ordering::Relaxed) {
            return Err(Error::SinkFailed);
        }
        match self.when_full {
            WhenFull::Block => self.tx.send(Msg::Event(event)).map_err(|_| self.gone()),
            WhenFull::DropAndCount | WhenFull::Fail => match self.tx.try_send(Msg::Event(event)) {
                Ok(()) => Ok(()),
                Err(TrySendError::Full(_)) if self.when_full == WhenFull::Fail => {
                    Err(Error::QueueFull)
                }
                Err(TrySendError::Full(_)) => {
                    self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
                Err(TrySendError::Disconnected(_)) => Err(self.gone()),
            },
        }
    }

    /// Events dropped so far under [`WhenFull::DropAndCount`].
    ///
    /// ```
    /// # use rampart_audit::{AuditLog, ChainKey, WriterSink};
    /// let log = AuditLog::builder(ChainKey::generate("k1")?, WriterSink::new(Vec::new())).start()?;
    /// assert_eq!(log.dropped(), 0);
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Waits until every event queued before this call is written and made durable.
    ///
    /// ```
    /// # use rampart_audit::{AuditLog, ChainKey, WriterSink};
    /// let log = AuditLog::builder(ChainKey::generate("k1")?, WriterSink::new(Vec::new())).start()?;
    /// log.flush()?;
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    pub fn flush(&self) -> Result<(), Error> {
        let (reply, answer) = mpsc::channel();
        self.tx.send(Msg::Flush(reply)).map_err(|_| self.gone())?;
        answer.recv().map_err(|_| self.gone())?
    }

    /// Chains the events queued after this call under `key` (its id is recorded in each
    /// record; verifiers need every key id the trail used).
    ///
    /// ```
    /// # use rampart_audit::{AuditLog, ChainKey, WriterSink};
    /// let log = AuditLog::builder(ChainKey::generate("2026-11")?, WriterSink::new(Vec::new())).start()?;
    /// log.rotate_key(ChainKey::generate("2026-12")?)?;
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    pub fn rotate_key(&self, key: ChainKey) -> Result<(), Error> {
        self.tx
            .send(Msg::RotateKey(Box::new(key)))
            .map_err(|_| self.gone())
    }

    /// Writes everything queued, a clean-shutdown mark and a last checkpoint, fsyncs, stops
    /// the worker, and returns the files written (for a file sink).
    ///
    /// ```
    /// # use rampart_audit::{AuditLog, ChainKey, WriterSink};
    /// let log = AuditLog::builder(ChainKey::generate("k1")?, WriterSink::new(Vec::new())).start()?;
    /// assert!(log.shutdown()?.is_empty());
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    pub fn shutdown(mut self) -> Result<Vec<PathBuf>, Error> {
        self.stop()
    }

    fn stop(&mut self) -> Result<Vec<PathBuf>, Error> {
        let Some(handle) = self.worker.take() else {
            return Err(Error::Closed);
        };
        // A worker that already stopped (sink failure) has dropped its receiver.
        let _ = self.tx.send(Msg::Shutdown);
        match handle.join() {
            Ok(result) => result,
            Err(_) => Err(Error::SinkFailed),
        }
    }

    fn gone(&self) -> Error {
        if self.shared.failed.load(Ordering::Relaxed) {
            Error::SinkFailed
        } else {
            Error::Closed
        }
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        if self.worker.is_some() {
            let _ = self.stop();
        }
    }
}

struct Worker {
    writer: Writer,
    sink: Box<dyn Sink>,
    file: u64,
    every: u64,
    since_checkpoint: u64,
    buf: Vec<u8>,
    shared: Arc<Shared>,
}

impl Worker {
    fn run(mut self, rx: &mpsc::Receiver<Msg>) -> Result<Vec<PathBuf>, Error> {
        let result = self.serve(rx);
        if result.is_err() {
            self.shared.failed.store(true, Ordering::Relaxed);
        }
        result.map(|()| self.sink.paths())
    }

    fn serve(&mut self, rx: &mpsc::Receiver<Msg>) -> Result<(), Error> {
        let mut empty_polls = 0;
        loop {
            // While events keep coming, poll with short sleeps instead of blocking: a
            // blocked receiver makes every `append` pay a futex wake-up (measured: 3x the
            // cost of serialising the event), a polling one costs the request nothing.
            // After POLLS empty polls the worker blocks, so an idle log does not spin.
            let msg = match rx.try_recv() {
                Ok(msg) => msg,
                Err(TryRecvError::Disconnected) => return self.close(),
                Err(TryRecvError::Empty) if empty_polls < POLLS => {
                    empty_polls += 1;
                    std::thread::sleep(POLL);
                    self.sink.idle().map_err(Error::Sink)?;
                    continue;
                }
                Err(TryRecvError::Empty) => match rx.recv_timeout(IDLE_TICK) {
                    Ok(msg) => msg,
                    Err(RecvTimeoutError::Timeout) => {
                        self.sink.idle().map_err(Error::Sink)?;
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => return self.close(),
                },
            };
            empty_polls = 0;
            match msg {
                Msg::Event(event) => {
                    self.buf.clear();
                    self.event(&event)?;
                    // Group commit: take what else is queued into the same write.
                    let mut pending = None;
                    for _ in 1..BATCH {
                        match rx.try_recv() {
                            Ok(Msg::Event(event)) => self.event(&event)?,
                            Ok(other) => {
                                pending = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    self.sink.write(&self.buf).map_err(Error::Sink)?;
                    if let Some(msg) = pending
                        && self.control(msg)?
                    {
                        return Ok(());
                    }
                }
                other => {
                    if self.control(other)? {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Handles a message other than an event; true when the worker should stop.
    fn control(&mut self, msg: Msg) -> Result<bool, Error> {
        match msg {
            Msg::Event(_) => unreachable_event(),
            Msg::Flush(reply) => {
                let result = self.sink.flush().map_err(Error::Sink);
                let failed = result.is_err();
                let _ = reply.send(result.map_err(|_| Error::SinkFailed));
                if failed {
                    return Err(Error::SinkFailed);
                }
                Ok(false)
            }
            Msg::RotateKey(key) => {
                self.writer.key = *key;
                Ok(false)
            }
            Msg::Shutdown => self.close().map(|()| true),
        }
    }

    /// Appends one event's line (and any rotation or checkpoint it triggers) to the buffer.
    fn event(&mut self, event: &Event) -> Result<(), Error> {
        if self.sink.rotation_due(self.buf.len() as u64) {
            self.writer.mark(Mark::file_end(self.file), &mut self.buf);
            self.writer.checkpoint(self.file, &mut self.buf);
            self.sink.write(&self.buf).map_err(Error::Sink)?;
            self.buf.clear();
            self.file = self.sink.rotate().map_err(Error::Sink)?;
            self.writer.mark(Mark::file_start(self.file), &mut self.buf);
            self.writer.checkpoint(self.file, &mut self.buf);
            self.since_checkpoint = 0;
        }
        self.writer.event(event, &mut self.buf);
        self.since_checkpoint += 1;
        if self.every > 0 && self.since_checkpoint >= self.every {
            self.writer.checkpoint(self.file, &mut self.buf);
            self.since_checkpoint = 0;
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), Error> {
        self.buf.clear();
        self.writer.mark(Mark::shutdown(self.file), &mut self.buf);
        self.writer.checkpoint(self.file, &mut self.buf);
        self.sink.write(&self.buf).map_err(Error::Sink)?;
        self.sink.flush().map_err(Error::Sink)
    }
}

fn unreachable_event() -> Result<bool, Error> {
    // `serve` passes events to `event`, never here; treated as a no-op rather than a panic.
    Ok(false)
}
