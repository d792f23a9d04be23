//! `rampart encrypt|decrypt|reencrypt`: files are streamed in constant memory; sealed values
//! are read whole. Which one an input is, is detected from its header
//! (`rampart_envelope::stream::detect`).
//!
//! Data goes to `-o OUT` or stdout; the JSON report goes to stdout, or to stderr when stdout
//! carries the data. An OUT file is written to a file with no name in OUT's directory
//! (rampart-envelope's `AtomicFile`: `O_TMPFILE`, or a locked temporary that the next run
//! sweeps), which replaces OUT only when the whole operation succeeded, keeping OUT's mode:
//! a decryption that fails or is killed half way leaves no partial plaintext behind.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::Path;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rampart::envelope::atomic_file::{AtomicFile, sweep_stale};
use rampart::envelope::retention::RetentionKeyring;
use rampart::envelope::stream::{
    DecryptingReader, Detected, EncryptingWriter, FileHeader, HEADER_LEN, detect, file_error,
    rewrap_header,
};
use rampart::envelope::{Context, Keyring, KeyringKind, MAX_PLAINTEXT_LEN};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::envelope::{failure, load};
use super::master_key;
use crate::cli::CryptArgs;
use crate::input;
use crate::output::{Channel, Failure, Report, io_failure};
use crate::progress::Progress;

/// `rampart encrypt`.
pub(crate) fn encrypt(args: &CryptArgs) -> Result<Report, Failure> {
    on_channel(args, encrypt_inner(args))
}

/// `rampart decrypt`.
pub(crate) fn decrypt(args: &CryptArgs) -> Result<Report, Failure> {
    on_channel(args, decrypt_inner(args))
}

/// `rampart reencrypt`.
pub(crate) fn reencrypt(args: &CryptArgs) -> Result<Report, Failure> {
    on_channel(args, reencrypt_inner(args))
}

/// When stdout carries the data, failures are reported on stderr too, so that
/// `rampart decrypt ... > out` never appends JSON to the data.
fn on_channel(args: &CryptArgs, result: Result<Report, Failure>) -> Result<Report, Failure> {
    let to_stdout = args.output.as_deref().is_none_or(|p| p == Path::new("-"));
    if to_stdout {
        result.map_err(|f| f.on(Channel::Stderr))
    } else {
        result
    }
}

fn encrypt_inner(args: &CryptArgs) -> Result<Report, Failure> {
    refuse_verify_flag(args)?;
    let (loaded, context) = prepare(args)?;
    let mut retention;
    let ring: &Keyring = if loaded.kind() == KeyringKind::Retention {
        // The current bucket, which `keyring prepare` (or init) must have saved: this
        // process never invents a bucket key that exists nowhere else.
        retention = RetentionKeyring::from_keyring(loaded).map_err(|e| failure(&e))?;
        retention.sealing_keyring(SystemTime::now()).map_err(|e| {
            let f = failure(&e);
            let message = format!("{}; run `rampart keyring prepare`", f.message);
            Failure { message, ..f }
        })?
    } else {
        &loaded
    };
    let version = ring.primary_version();
    let mut source = Source::open(args.input.as_deref())?;
    let mut sink = Sink::open(args.output.as_deref())?;
    if args.value {
        let plaintext = source.read_all(MAX_PLAINTEXT_LEN as u64)?;
        let text = ring
            .seal_text(&plaintext, &context)
            .map_err(|e| failure(&e))?;
        sink.write_data(text.as_bytes())?;
        sink.write_data(b"\n")?;
        let channel = sink.commit()?;
        return Ok(report(
            channel,
            json!({
                "kind": "value",
                "keyring": ring.name(),
                "version": version,
                "plaintext_bytes": plaintext.len(),
                "output": sink_name(args.output.as_deref()),
            }),
        ));
    }
    if sink.is_terminal() {
        return Err(binary_to_terminal());
    }
    let progress = Progress::start(source.len, "encrypting");
    let mut reader = progress.reader(&mut source.reader);
    let mut writer = EncryptingWriter::new(ring, &context, &mut sink).map_err(|e| failure(&e))?;
    let copied = copy(&mut reader, &mut writer).map_err(|e| stream_failure(&e, "encrypt"))?;
    writer.finish().map_err(|e| stream_failure(&e, "encrypt"))?;
    progress.finish();
    let channel = sink.commit()?;
    Ok(report(
        channel,
        json!({
            "kind": "file",
            "keyring": ring.name(),
            "version": version,
            "plaintext_bytes": copied,
            "output": sink_name(args.output.as_deref()),
        }),
    ))
}

fn decrypt_inner(args: &CryptArgs) -> Result<Report, Failure> {
    refuse_value_flag(args)?;
    refuse_verify_flag(args)?;
    let (ring, context) = prepare(args)?;
    let mut source = Source::open(args.input.as_deref())?;
    let head = source.peek(HEADER_LEN)?;
    let mut sink = Sink::open(args.output.as_deref())?;
    let (kind, bytes) = match detect(&head) {
        Detected::EncryptedFile { .. } => {
            let progress = Progress::start(source.len, "decrypting");
            let reader = progress.reader(source.chained(head));
            let mut plain =
                DecryptingReader::new(&ring, &context, reader).map_err(|e| failure(&e))?;
            let n = copy(&mut plain, &mut sink).map_err(|e| stream_failure(&e, "decrypt"))?;
            progress.finish();
            ("file", n)
        }
        Detected::SealedValue | Detected::SealedValueText => {
            let sealed = source.rest_after(head, sealed_limit())?;
            let plaintext = open_value(&ring, &context, &sealed)?;
            sink.write_data(&plaintext)?;
            ("value", plaintext.len() as u64)
        }
        _ => return Err(unrecognized()),
    };
    let channel = sink.commit()?;
    Ok(report(
        channel,
        json!({
            "kind": kind,
            "keyring": ring.name(),
            "plaintext_bytes": bytes,
            "output": sink_name(args.output.as_deref()),
        }),
    ))
}

fn reencrypt_inner(args: &CryptArgs) -> Result<Report, Failure> {
    refuse_value_flag(args)?;
    let (ring, context) = prepare(args)?;
    let mut source = Source::open(args.input.as_deref())?;
    let head = source.peek(HEADER_LEN)?;
    let mut sink = Sink::open(args.output.as_deref())?;
    let detected = detect(&head);
    // Files and binary sealed values come out as binary, as from `encrypt`; text values stay
    // text and may go to a terminal.
    if matches!(
        detected,
        Detected::EncryptedFile { .. } | Detected::SealedValue
    ) && sink.is_terminal()
    {
        return Err(binary_to_terminal());
    }
    let primary = ring.primary_version();
    let body = match detected {
        Detected::EncryptedFile { .. } => {
            let header = FileHeader::parse(&head).map_err(|e| failure(&e))?;
            let from = version_of(&ring, header.wrapped_key())?;
            // Only the 120-byte data-key slot changes; the body is copied byte for byte.
            // rewrap_header opens the header (data key, commitment, context) even when it is
            // already current, so a file that will not open is never reported unchanged.
            let new_header = rewrap_header(&ring, &context, &header).map_err(|e| failure(&e))?;
            let changed = new_header.is_some();
            let out_header = new_header.as_ref().unwrap_or(&header);
            sink.write_data(out_header.as_bytes())?;
            let progress = Progress::start(
                source.len.map(|l| l.saturating_sub(HEADER_LEN as u64)),
                "re-keying",
            );
            let body = progress.reader(&mut source.reader);
            if args.verify {
                // Authenticate every segment of the body as it streams to the output; the
                // plaintext is dropped segment by segment (constant memory).
                let teed = Tee {
                    inner: body,
                    copy: &mut sink,
                };
                let mut plain = DecryptingReader::new(
                    &ring,
                    &context,
                    io::Cursor::new(header.as_bytes().to_vec()).chain(teed),
                )
                .map_err(|e| failure(&e))?;
                io::copy(&mut plain, &mut io::sink())
                    .map_err(|e| stream_failure(&e, "reencrypt"))?;
            } else {
                io::copy(&mut { body }, &mut sink).map_err(|e| io_failure("copy", &e))?;
            }
            progress.finish();
            json!({
                "kind": "file", "from_version": from, "to_version": primary, "changed": changed,
                "verified": if args.verify { "full" } else { "header" },
            })
        }
        Detected::SealedValue => {
            let sealed = source.rest_after(head, sealed_limit())?;
            let (out, from, changed) = reencrypt_value(&ring, &context, &sealed)?;
            sink.write_data(&out)?;
            json!({ "kind": "value", "from_version": from, "to_version": primary, "changed": changed, "verified": "full" })
        }
        Detected::SealedValueText => {
            let text = source.rest_after(head, sealed_limit())?;
            let sealed = decode_text(&text)?;
            let (out, from, changed) = reencrypt_value(&ring, &context, &sealed)?;
            sink.write_data(URL_SAFE_NO_PAD.encode(out).as_bytes())?;
            sink.write_data(b"\n")?;
            json!({ "kind": "value", "from_version": from, "to_version": primary, "changed": changed, "verified": "full" })
        }
        _ => return Err(unrecognized()),
    };
    let channel = sink.commit()?;
    let mut body = body;
    body["keyring"] = Value::String(ring.name().to_owned());
    body["output"] = sink_name(args.output.as_deref());
    Ok(report(channel, body))
}

/// Opens a sealed value (always: a value that does not open is an error, at the primary
/// version too) and seals it again under the primary if it is older. Returns the output,
/// the version it was under and whether it changed.
fn reencrypt_value(
    ring: &Keyring,
    context: &Context,
    sealed: &[u8],
) -> Result<(Vec<u8>, u32, bool), Failure> {
    let from = version_of(ring, sealed)?;
    if ring.needs_reencrypt(sealed).map_err(|e| failure(&e))? {
        let resealed = ring.reencrypt(sealed, context).map_err(|e| failure(&e))?;
        Ok((resealed, from, true))
    } else {
        ring.open(sealed, context).map_err(|e| failure(&e))?;
        Ok((sealed.to_vec(), from, false))
    }
}

/// `io::copy` with a 1 MiB buffer, wiped on drop (it holds plaintext). `io::copy`'s 8 KiB
/// stack buffer cut every 64 KiB segment into eight reads and writes, and a buffer of at least
/// one segment lets `DecryptingReader` decrypt in place, without copying out of its own.
fn copy(reader: &mut impl Read, writer: &mut impl Write) -> io::Result<u64> {
    let mut buf = Zeroizing::new(vec![0u8; 1 << 20]);
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        writer.write_all(&buf[..n])?;
        total += n as u64;
    }
}

/// Copies what is read through it to `copy` (the body of a re-keyed file, verified on the
/// way by the `DecryptingReader` that reads through it).
struct Tee<'a, R, W> {
    inner: R,
    copy: &'a mut W,
}

impl<R: Read, W: Write> Read for Tee<'_, R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        Ok(n)
    }
}

fn refuse_verify_flag(args: &CryptArgs) -> Result<(), Failure> {
    if args.verify {
        return Err(Failure::input(
            "usage",
            "--verify applies to reencrypt only: decrypt always authenticates everything",
        ));
    }
    Ok(())
}

fn refuse_value_flag(args: &CryptArgs) -> Result<(), Failure> {
    if args.value {
        return Err(Failure::input(
            "usage",
            "--value applies to encrypt only: decrypt and reencrypt detect values themselves",
        ));
    }
    Ok(())
}

/// Loads the master key and keyring, and builds the context from `--context` pairs.
fn prepare(args: &CryptArgs) -> Result<(Keyring, Context), Failure> {
    let pairs = input::context_pairs(&args.context)?;
    let master = master_key::from_args(&args.file.master_key)?;
    let ring = load(&args.file.keyring, &master)?;
    let mut context = Context::new();
    for (k, v) in pairs {
        context.insert(k, v);
    }
    Ok((ring, context))
}

/// A sealed value is at most the plaintext limit plus its overhead, in base64 text.
fn sealed_limit() -> u64 {
    (MAX_PLAINTEXT_LEN as u64 + 1024) * 4 / 3
}

fn open_value(
    ring: &Keyring,
    context: &Context,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Failure> {
    match detect(sealed) {
        Detected::SealedValueText => {
            let text = std::str::from_utf8(sealed.trim_ascii()).map_err(|_| unrecognized())?;
            ring.open_text(text, context)
        }
        _ => ring.open(sealed, context),
    }
    .map_err(|e| failure(&e))
}

fn decode_text(text: &[u8]) -> Result<Vec<u8>, Failure> {
    URL_SAFE_NO_PAD.decode(text.trim_ascii()).map_err(|_| {
        Failure::input(
            "malformed_input",
            "sealed text is not valid unpadded base64url",
        )
    })
}

fn version_of(ring: &Keyring, sealed: &[u8]) -> Result<u32, Failure> {
    ring.version_of(sealed).map_err(|e| failure(&e))
}

/// Binary output is not written to a terminal (it would garble it, and a terminal is no place
/// to keep ciphertext).
fn binary_to_terminal() -> Failure {
    Failure::input(
        "refused",
        "the output is binary (an encrypted file or sealed value): give -o OUT or redirect stdout",
    )
}

fn unrecognized() -> Failure {
    Failure::input(
        "unrecognized_input",
        "the input is neither a rampart encrypted file nor a sealed value",
    )
}

/// An error from the streaming adapters: rampart-envelope's error when there is one inside,
/// otherwise an I/O error.
fn stream_failure(err: &io::Error, what: &str) -> Failure {
    match file_error(err) {
        Some(inner) => failure(inner),
        None => io_failure(what, err),
    }
}

fn sink_name(path: Option<&Path>) -> Value {
    match path {
        Some(p) if p != Path::new("-") => Value::String(p.display().to_string()),
        _ => Value::String("-".to_owned()),
    }
}

fn report(channel: Channel, body: Value) -> Report {
    Report::success(body).on(channel)
}

/// The input: a file (its length known, for progress) or stdin.
struct Source {
    reader: Box<dyn Read>,
    len: Option<u64>,
    name: String,
}

impl Source {
    fn open(path: Option<&Path>) -> Result<Self, Failure> {
        match path {
            Some(p) if p != Path::new("-") => {
                let name = p.display().to_string();
                let file = File::open(p).map_err(|e| io_failure(&name, &e))?;
                let len = file
                    .metadata()
                    .ok()
                    .filter(std::fs::Metadata::is_file)
                    .map(|m| m.len());
                Ok(Self {
                    reader: Box::new(BufReader::with_capacity(1 << 16, file)),
                    len,
                    name,
                })
            }
            _ => Ok(Self {
                reader: Box::new(BufReader::with_capacity(1 << 16, io::stdin())),
                len: None,
                name: "stdin".to_owned(),
            }),
        }
    }

    /// Reads up to `n` bytes (fewer only at EOF).
    fn peek(&mut self, n: usize) -> Result<Vec<u8>, Failure> {
        let mut buf = Vec::with_capacity(n);
        (&mut self.reader)
            .take(n as u64)
            .read_to_end(&mut buf)
            .map_err(|e| io_failure(&self.name, &e))?;
        Ok(buf)
    }

    /// The whole input again, `head` first.
    fn chained(&mut self, head: Vec<u8>) -> impl Read + '_ {
        io::Cursor::new(head).chain(&mut self.reader)
    }

    /// `head` and the rest of the input, bounded.
    fn rest_after(&mut self, head: Vec<u8>, limit: u64) -> Result<Zeroizing<Vec<u8>>, Failure> {
        let mut all = Zeroizing::new(head);
        input::read_bounded(&mut self.reader, &mut all, limit, &self.name).map(|()| all)
    }

    /// The whole input (plaintext: zeroized on drop), bounded.
    fn read_all(&mut self, limit: u64) -> Result<Zeroizing<Vec<u8>>, Failure> {
        let mut all = Zeroizing::new(Vec::new());
        input::read_bounded(&mut self.reader, &mut all, limit, &self.name)?;
        Ok(all)
    }
}

/// The output: stdout, or a file with no name that replaces OUT on success.
enum Sink {
    Stdout(BufWriter<io::Stdout>),
    File(BufWriter<AtomicFile>),
}

impl Sink {
    fn open(path: Option<&Path>) -> Result<Self, Failure> {
        match path {
            Some(p) if p != Path::new("-") => {
                let name = p.display().to_string();
                // What a killed earlier run may have left (only where the file system has no
                // O_TMPFILE, or in the instant before its rename): locked temporaries of
                // live runs are kept.
                let _ = sweep_stale(p);
                let out = AtomicFile::new(p)
                    .map_err(|e| io_failure(&name, &e))?
                    .with_keep_metadata(true);
                Ok(Self::File(BufWriter::with_capacity(1 << 16, out)))
            }
            _ => Ok(Self::Stdout(BufWriter::with_capacity(
                1 << 16,
                io::stdout(),
            ))),
        }
    }

    fn is_terminal(&self) -> bool {
        matches!(self, Self::Stdout(_)) && io::stdout().is_terminal()
    }

    fn write_data(&mut self, data: &[u8]) -> Result<(), Failure> {
        self.write_all(data).map_err(|e| io_failure("output", &e))
    }

    /// Flushes, and for a file fsyncs it, renames it into place and fsyncs the directory.
    /// Returns where the report goes: stderr when stdout carried the data.
    fn commit(&mut self) -> Result<Channel, Failure> {
        let placeholder = Self::Stdout(BufWriter::new(io::stdout()));
        match std::mem::replace(self, placeholder) {
            Self::Stdout(mut out) => {
                out.flush().map_err(|e| io_failure("stdout", &e))?;
                Ok(Channel::Stderr)
            }
            Self::File(out) => {
                let out = out
                    .into_inner()
                    .map_err(|e| io_failure("output", e.error()))?;
                let name = out.target().display().to_string();
                out.commit().map_err(|e| io_failure(&name, &e))?;
                Ok(Channel::Stdout)
            }
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Stdout(out) => out.write(buf),
            Self::File(out) => out.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Stdout(out) => out.flush(),
            Self::File(out) => out.flush(),
        }
    }
}
