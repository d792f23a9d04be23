//! The line format, shared by the writer and the verifier (one home for both sides).
//!
//! Every line is one JSON object and ends with its authenticator as the last member:
//!
//! ```text
//! {"seq":0,"kid":"k1","mark":{"kind":"file_start","file":0},"chain":"<43 base64url>"}
//! {"seq":1,"kid":"k1","event":{..OCSF..},"chain":"<43 base64url>"}
//! {"checkpoint":{"next_seq":2,"file":0,"chain":"..","digest":"..","key":"<16 hex>"},"sig":"<86 base64url>"}
//! ```
//!
//! The *canonical bytes* of a line are the line without its last member: everything before
//! `,"chain":` or `,"sig":`, followed by `}` (itself a JSON object). Authenticating the exact
//! bytes the writer produced, rather than a re-serialisation, means no JSON canonicalisation
//! is needed and every byte of the line is covered.
//!
//! - `chain[n] = HMAC-SHA256(key[kid], chain[n-1] || canonical[n])`, `chain[-1]` = 32 zero
//!   bytes: secret-keyed, so only the key holder can extend or verify it.
//! - `digest[n] = SHA-256(digest[n-1] || line[n])` (the whole line without its newline,
//!   chain value included), `digest[-1]` = 32 zero bytes: public, so a checkpoint's
//!   Ed25519 signature over `(next_seq, file, chain, digest)` lets anyone holding only the
//!   public key check every line before it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::{digest, hmac};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::event::Event;
use crate::key::{ChainKey, CheckpointSigner};

/// Length of a chain value and of a digest.
pub(crate) const HASH_LEN: usize = 32;
pub(crate) type Hash = [u8; HASH_LEN];

const CHAIN_TRAILER: &[u8] = b",\"chain\":\"";
const SIG_TRAILER: &[u8] = b",\"sig\":\"";

/// What a mark record says about the trail's structure. `checkpoint` says a signed
/// checkpoint follows the mark at once, so deleting that checkpoint is detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Mark {
    /// First line of every file: the file's position in the trail (0, 1, ...).
    FileStart {
        file: u64,
        #[serde(default)]
        checkpoint: bool,
    },
    /// Last chained line of a file that the trail continues after (rotation).
    FileEnd {
        file: u64,
        #[serde(default)]
        checkpoint: bool,
    },
    /// Last chained line written before a clean shutdown.
    Shutdown {
        file: u64,
        #[serde(default)]
        checkpoint: bool,
    },
}

impl Mark {
    pub(crate) fn file_start(file: u64) -> Self {
        Self::FileStart {
            file,
            checkpoint: false,
        }
    }

    pub(crate) fn file_end(file: u64) -> Self {
        Self::FileEnd {
            file,
            checkpoint: false,
        }
    }

    pub(crate) fn shutdown(file: u64) -> Self {
        Self::Shutdown {
            file,
            checkpoint: false,
        }
    }

    /// Whether a checkpoint must follow this mark.
    pub(crate) fn announces_checkpoint(self) -> bool {
        match self {
            Self::FileStart { checkpoint, .. }
            | Self::FileEnd { checkpoint, .. }
            | Self::Shutdown { checkpoint, .. } => checkpoint,
        }
    }

    fn json(self, checkpoint: bool) -> String {
        let (kind, file) = match self {
            Self::FileStart { file, .. } => ("file_start", file),
            Self::FileEnd { file, .. } => ("file_end", file),
            Self::Shutdown { file, .. } => ("shutdown", file),
        };
        format!("{{\"kind\":\"{kind}\",\"file\":{file},\"checkpoint\":{checkpoint}}}")
    }
}

/// Where the chain stands: what the next line chains from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) next_seq: u64,
    pub(crate) chain: Hash,
    pub(crate) digest: Hash,
}

impl Position {
    pub(crate) const GENESIS: Self = Self {
        next_seq: 0,
        chain: [0; HASH_LEN],
        digest: [0; HASH_LEN],
    };

    pub(crate) fn advance_digest(&mut self, line: &[u8]) {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(&self.digest);
        ctx.update(line);
        self.digest.copy_from_slice(ctx.finish().as_ref());
    }
}

pub(crate) fn chain_value(key: &ChainKey, prev: &Hash, canonical: &[u8]) -> Hash {
    let mut ctx = hmac::Context::with_key(key.hmac());
    ctx.update(prev);
    ctx.update(canonical);
    let mut out = [0u8; HASH_LEN];
    out.copy_from_slice(ctx.sign().as_ref());
    out
}

/// Writes lines: owns the chain position, the current key and the checkpoint signer.
pub(crate) struct Writer {
    pub(crate) key: ChainKey,
    pub(crate) pos: Position,
    pub(crate) signer: Option<CheckpointSigner>,
    body: Vec<u8>,
}

impl Writer {
    pub(crate) fn new(key: ChainKey, pos: Position, signer: Option<CheckpointSigner>) -> Self {
        Self {
            key,
            pos,
            signer,
            body: Vec::with_capacity(1024),
        }
    }

    fn head(&mut self) {
        self.body.clear();
        self.body.extend_from_slice(b"{\"seq\":");
        self.body
            .extend_from_slice(self.pos.next_seq.to_string().as_bytes());
        // Key ids are validated to [A-Za-z0-9._-]: no JSON escaping needed.
        self.body.extend_from_slice(b",\"kid\":\"");
        self.body.extend_from_slice(self.key.id().as_bytes());
        self.body.extend_from_slice(b"\",");
    }

    /// Appends the line for `event` (with its newline) to `out`.
    pub(crate) fn event(&mut self, event: &Event, out: &mut Vec<u8>) {
        self.head();
        self.body.extend_from_slice(b"\"event\":");
        // Serialising our own types into a Vec cannot fail (no maps with non-string keys).
        if serde_json::to_writer(&mut self.body, event).is_err() {
            self.body.extend_from_slice(b"null");
        }
        self.body.push(b'}');
        self.seal(out);
    }

    /// Appends the line for `mark` to `out`; with a signer, the caller writes a checkpoint
    /// right after it (the mark announces it).
    pub(crate) fn mark(&mut self, mark: Mark, out: &mut Vec<u8>) {
        self.head();
        self.body.extend_from_slice(b"\"mark\":");
        let announce = self.signer.is_some();
        self.body.extend_from_slice(mark.json(announce).as_bytes());
        self.body.push(b'}');
        self.seal(out);
    }

    fn seal(&mut self, out: &mut Vec<u8>) {
        let chain = chain_value(&self.key, &self.pos.chain, &self.body);
        let start = out.len();
        out.extend_from_slice(&self.body[..self.body.len() - 1]);
        out.extend_from_slice(CHAIN_TRAILER);
        out.extend_from_slice(URL_SAFE_NO_PAD.encode(chain).as_bytes());
        out.extend_from_slice(b"\"}");
        // The public digest only feeds checkpoints; without a signer it is not kept (a
        // restart recomputes it from the files, see `sink::resume_from`).
        if self.signer.is_some() {
            self.pos.advance_digest(&out[start..]);
        }
        out.push(b'\n');
        self.pos.chain = chain;
        self.pos.next_seq += 1;
    }

    /// Appends a signed checkpoint for the current position in `file`, when a signer is set.
    pub(crate) fn checkpoint(&mut self, file: u64, out: &mut Vec<u8>) -> bool {
        let Some(signer) = &self.signer else {
            return false;
        };
        let body = format!(
            "{{\"checkpoint\":{{\"next_seq\":{},\"file\":{file},\"chain\":\"{}\",\"digest\":\"{}\",\"key\":\"{}\"}}}}",
            self.pos.next_seq,
            URL_SAFE_NO_PAD.encode(self.pos.chain),
            URL_SAFE_NO_PAD.encode(self.pos.digest),
            signer.public_key().id(),
        );
        let sig = signer.sign(body.as_bytes());
        out.extend_from_slice(&body.as_bytes()[..body.len() - 1]);
        out.extend_from_slice(SIG_TRAILER);
        out.extend_from_slice(URL_SAFE_NO_PAD.encode(sig).as_bytes());
        out.extend_from_slice(b"\"}\n");
        true
    }
}

/// A line split into its canonical bytes and its authenticator.
pub(crate) enum Split {
    /// A chained record (event or mark) and its chain value.
    Chained { canonical: Vec<u8>, chain: Hash },
    /// A checkpoint and its signature.
    Checkpoint { canonical: Vec<u8>, sig: Vec<u8> },
}

/// Splits a line (without its newline). `None` when the line does not end with a well-formed
/// `"chain"` or `"sig"` member.
pub(crate) fn split(line: &[u8]) -> Option<Split> {
    if !line.ends_with(b"\"}") {
        return None;
    }
    let body = &line[..line.len() - 2];
    let quote = body.iter().rposition(|&b| b == b'"')?;
    let value = &body[quote + 1..];
    let head = &body[..=quote];
    let canonical = |trailer: &[u8]| {
        let mut c = head[..head.len() - trailer.len()].to_vec();
        c.push(b'}');
        c
    };
    if head.ends_with(CHAIN_TRAILER) && value.len() == 43 {
        let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
        let chain: Hash = bytes.try_into().ok()?;
        Some(Split::Chained {
            canonical: canonical(CHAIN_TRAILER),
            chain,
        })
    } else if head.ends_with(SIG_TRAILER) && value.len() == 86 {
        let sig = URL_SAFE_NO_PAD.decode(value).ok()?;
        Some(Split::Checkpoint {
            canonical: canonical(SIG_TRAILER),
            sig,
        })
    } else {
        None
    }
}

/// The canonical bytes of a chained line, parsed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChainedBody {
    pub(crate) seq: u64,
    pub(crate) kid: String,
    #[serde(default)]
    pub(crate) event: Option<Event>,
    #[serde(default)]
    pub(crate) mark: Option<Mark>,
}

/// The canonical bytes of a checkpoint line, parsed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckpointBody {
    pub(crate) checkpoint: CheckpointFields,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckpointFields {
    pub(crate) next_seq: u64,
    pub(crate) file: u64,
    pub(crate) chain: String,
    pub(crate) digest: String,
    pub(crate) key: String,
}

pub(crate) fn decode_hash(text: &str) -> Option<Hash> {
    if text.len() != 43 {
        return None;
    }
    URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()
}

pub(crate) fn hash_eq(a: &Hash, b: &Hash) -> bool {
    bool::from(a.ct_eq(b))
}
