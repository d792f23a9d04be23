//! `rampart encrypt|decrypt|reencrypt`: files are streamed in constant memory; sealed values
//! are read whole. Which one an input is, is detected from its header
//! (`rampart_envelope::stream::detect`).
//!
//! Data goes to `-o OUT` or stdout; the JSON report goes to stdout, or to stderr when stdout
//! carries the data. An OUT file is written to a temporary file beside it (mode 0600) and
//! renamed into place only when the whole operation succeeded: a decryption that fails half
//! way leaves no partial plaintext behind.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rampart::envelope::stream::{
    DecryptingReader, Detected, EncryptingWriter, FileHeader, HEADER_LEN, detect, file_error,
    rewrap_header,
};
use rampart::envelope::{Context, Keyring, KeyringKind, MAX_PLAINTEXT_LEN};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::envelope::{failure, load, master_key};
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
    let (ring, context) = prepare(args)?;
    if ring.kind() == KeyringKind::Retention {
        return Err(Failure::input(
            "unsupported_keyring",
            "retention keyrings seal under time buckets that only their one writer prepares \
             and saves; encrypt through the service that owns the keyring",
        ));
    }
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
    let mut writer = EncryptingWriter::new(&ring, &context, &mut sink).map_err(|e| failure(&e))?;
    let copied = io::copy(&mut reader, &mut writer).map_err(|e| stream_failure(&e, "encrypt"))?;
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
            let n = io::copy(&mut plain, &mut sink).map_err(|e| stream_failure(&e, "decrypt"))?;
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
    let body = match detected {
        Detected::EncryptedFile { .. } => {
            let header = FileHeader::parse(&head).map_err(|e| failure(&e))?;
            let from = version_of(&ring, header.wrapped_key())?;
            // Only the 120-byte data-key slot changes; the body is copied byte for byte,
            // never decrypted. rewrap_header verifies the old header first.
            let new_header = rewrap_header(&ring, &context, &header).map_err(|e| failure(&e))?;
            let (out_header, changed) = match &new_header {
                Some(h) => (h.as_bytes(), true),
                None => (header.as_bytes(), false),
            };
            sink.write_data(out_header)?;
            let progress = Progress::start(
                source.len.map(|l| l.saturating_sub(HEADER_LEN as u64)),
                "re-keying",
            );
            io::copy(&mut progress.reader(&mut source.reader), &mut sink)
                .map_err(|e| io_failure("copy", &e))?;
            progress.finish();
            json!({ "kind": "file", "from_version": from, "to_version": ring.primary_version(), "changed": changed })
        }
        Detected::SealedValue => {
            let sealed = source.rest_after(head, sealed_limit())?;
            let from = version_of(&ring, &sealed)?;
            let resealed = ring.reencrypt(&sealed, &context).map_err(|e| failure(&e))?;
            sink.write_data(&resealed)?;
            json!({ "kind": "value", "from_version": from, "to_version": ring.primary_version(), "changed": true })
        }
        Detected::SealedValueText => {
            let text = source.rest_after(head, sealed_limit())?;
            let sealed = decode_text(&text)?;
            let from = version_of(&ring, &sealed)?;
            let resealed = ring.reencrypt(&sealed, &context).map_err(|e| failure(&e))?;
            sink.write_data(URL_SAFE_NO_PAD.encode(resealed).as_bytes())?;
            sink.write_data(b"\n")?;
            json!({ "kind": "value", "from_version": from, "to_version": ring.primary_version(), "changed": true })
        }
        _ => return Err(unrecognized()),
    };
    let channel = sink.commit()?;
    let mut body = body;
    body["keyring"] = Value::String(ring.name().to_owned());
    body["output"] = sink_name(args.output.as_deref());
    Ok(report(channel, body))
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
    let master = master_key(&args.file.master_key)?;
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

/// The output: stdout, or a temporary file renamed over OUT on success.
enum Sink {
    Stdout(BufWriter<io::Stdout>),
    File {
        tmp: BufWriter<tempfile::NamedTempFile>,
        path: PathBuf,
    },
}

impl Sink {
    fn open(path: Option<&Path>) -> Result<Self, Failure> {
        match path {
            Some(p) if p != Path::new("-") => {
                let dir = match p.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                    _ => PathBuf::from("."),
                };
                let name = p.display().to_string();
                let tmp = tempfile::Builder::new()
                    .prefix(".rampart-")
                    .tempfile_in(&dir)
                    .map_err(|e| io_failure(&name, &e))?;
                Ok(Self::File {
                    tmp: BufWriter::with_capacity(1 << 16, tmp),
                    path: p.to_path_buf(),
                })
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

    /// Flushes, and for a file renames it into place (after fsync). Returns where the
    /// report goes: stderr when stdout carried the data.
    fn commit(&mut self) -> Result<Channel, Failure> {
        let placeholder = Self::Stdout(BufWriter::new(io::stdout()));
        match std::mem::replace(self, placeholder) {
            Self::Stdout(mut out) => {
                out.flush().map_err(|e| io_failure("stdout", &e))?;
                Ok(Channel::Stderr)
            }
            Self::File { tmp, path } => {
                let name = path.display().to_string();
                let tmp = tmp.into_inner().map_err(|e| io_failure(&name, e.error()))?;
                tmp.as_file()
                    .sync_all()
                    .map_err(|e| io_failure(&name, &e))?;
                tmp.persist(&path)
                    .map_err(|e| io_failure(&name, &e.error))?;
                Ok(Channel::Stdout)
            }
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Stdout(out) => out.write(buf),
            Self::File { tmp, .. } => tmp.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Stdout(out) => out.flush(),
            Self::File { tmp, .. } => tmp.flush(),
        }
    }
}
