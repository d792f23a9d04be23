//! Reading inputs: secrets from stdin, small files, and `--context` pairs.
//!
//! Secrets are held in `Zeroizing` buffers from the moment they are read, and every size is
//! bounded so that a wrong redirection (`< /dev/zero`) ends with an error, not with the
//! machine's memory.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;

use zeroize::Zeroizing;

use crate::output::{Failure, io_failure};

/// Largest secret (password, API secret) read from stdin. Passwords are capped far lower by
/// rampart-password; this only bounds the read.
pub(crate) const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// Largest document read whole (SAML response, metadata, certificate, record, sealed value).
pub(crate) const MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a secret from stdin: everything up to EOF, less one trailing line ending (`\n` or
/// `\r\n`), so `echo secret |` and `printf %s secret |` give the same secret.
///
/// At a terminal, one line is read without echo (the terminal's echo is turned off while it
/// is typed, by `rpassword`) after a prompt on stderr that names `what`.
pub(crate) fn secret_from_stdin(what: &str) -> Result<Zeroizing<String>, Failure> {
    let stdin = io::stdin();
    let mut buf = Zeroizing::new(Vec::new());
    if stdin.is_terminal() {
        let _ = write!(io::stderr(), "{what} (not shown as you type): ");
        let _ = io::stderr().flush();
        let line = read_terminal_line()?;
        buf.extend_from_slice(line.as_bytes());
    } else {
        read_bounded(stdin.lock(), &mut buf, MAX_SECRET_BYTES, "stdin")?;
        strip_one_line_ending(&mut buf);
    }
    if buf.is_empty() {
        return Err(Failure::input(
            "empty_secret",
            format!("no {what} on stdin"),
        ));
    }
    let text = std::str::from_utf8(&buf)
        .map_err(|_| Failure::input("malformed_secret", format!("the {what} is not UTF-8")))?;
    Ok(Zeroizing::new(text.to_owned()))
}

fn strip_one_line_ending(buf: &mut Vec<u8>) {
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
}

/// One line typed at the terminal, without echo and without its line ending.
fn read_terminal_line() -> Result<Zeroizing<String>, Failure> {
    let line = match rpassword::read_password() {
        Ok(line) => Zeroizing::new(line),
        // Ctrl-D on an empty line: nothing was typed.
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Zeroizing::new(String::new()),
        Err(e) => return Err(io_failure("terminal", &e)),
    };
    if line.len() as u64 > MAX_SECRET_BYTES {
        return Err(too_large("terminal", MAX_SECRET_BYTES));
    }
    Ok(line)
}

/// Reads all of `reader` into `buf`, refusing more than `limit` bytes.
pub(crate) fn read_bounded(
    reader: impl Read,
    buf: &mut Vec<u8>,
    limit: u64,
    what: &str,
) -> Result<(), Failure> {
    reader
        .take(limit + 1)
        .read_to_end(buf)
        .map_err(|e| io_failure(what, &e))?;
    if buf.len() as u64 > limit {
        return Err(too_large(what, limit));
    }
    Ok(())
}

fn too_large(what: &str, limit: u64) -> Failure {
    Failure::input(
        "too_large",
        format!("{what}: larger than the limit of {limit} bytes"),
    )
}

/// Reads a whole (non-secret) document from a file, or stdin for "-".
pub(crate) fn document(path: &Path) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    if path == Path::new("-") {
        read_bounded(io::stdin().lock(), &mut buf, MAX_DOCUMENT_BYTES, "stdin")?;
    } else {
        let what = path.display().to_string();
        let file = File::open(path).map_err(|e| io_failure(&what, &e))?;
        read_bounded(file, &mut buf, MAX_DOCUMENT_BYTES, &what)?;
    }
    Ok(buf)
}

/// Reads a whole (non-secret) text document, which must be UTF-8.
pub(crate) fn text_document(path: &Path) -> Result<String, Failure> {
    let bytes = document(path)?;
    String::from_utf8(bytes).map_err(|_| {
        Failure::input(
            "malformed_input",
            format!("{}: not UTF-8 text", path.display()),
        )
    })
}

/// Largest key file read (a base64 key is under 100 bytes; this leaves room for newlines).
const MAX_KEY_FILE_BYTES: u64 = 4096;

/// Reads key text (base64) from `file`, or else from the environment variable `env_var`.
///
/// A key file must not be readable or writable by group or others (on Unix), as ssh requires
/// of private keys: the error says how to fix it. The text is returned in a zeroizing buffer
/// and is never part of an error message.
pub(crate) fn key_text(
    file: Option<&Path>,
    env_var: &str,
    what: &str,
) -> Result<Zeroizing<String>, Failure> {
    let bytes = match file {
        Some(path) => {
            let shown = path.display().to_string();
            let file = File::open(path).map_err(|e| io_failure(&shown, &e))?;
            check_private(path, &file)?;
            let mut buf = Zeroizing::new(Vec::new());
            read_bounded(file, &mut buf, MAX_KEY_FILE_BYTES, &shown)?;
            buf
        }
        None => match std::env::var_os(env_var) {
            Some(value) => Zeroizing::new(value.into_encoded_bytes()),
            None => {
                return Err(Failure::input(
                    "missing_key",
                    format!("no {what}: give a key file or set {env_var}"),
                ));
            }
        },
    };
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::input("malformed_key", format!("the {what} is not base64 text")))?;
    Ok(Zeroizing::new(text.trim_ascii().to_owned()))
}

/// `1h`, `90m`, `14d`, `3600s`: a period in whole seconds, for the option named `option`.
pub(crate) fn duration(option: &str, text: &str) -> Result<std::time::Duration, Failure> {
    let bad = || {
        Failure::input(
            "invalid_option",
            format!("{option} {text:?}: give a number and s, m, h or d (1h, 90m, 14d)"),
        )
    };
    let (digits, unit) = text.split_at(text.len().saturating_sub(1));
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    let secs = n.checked_mul(scale).filter(|&s| s > 0).ok_or_else(bad)?;
    Ok(std::time::Duration::from_secs(secs))
}

/// Reads a private key file (PEM): it must be private like a key file, and its bytes are
/// zeroized on drop.
pub(crate) fn private_document(path: &Path) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|e| io_failure(&shown, &e))?;
    check_private(path, &file)?;
    let mut buf = Zeroizing::new(Vec::new());
    read_bounded(file, &mut buf, MAX_KEY_FILE_BYTES * 4, &shown)?;
    Ok(buf)
}

#[cfg(unix)]
fn check_private(path: &Path, file: &File) -> Result<(), Failure> {
    use std::os::unix::fs::PermissionsExt;
    let mode = file
        .metadata()
        .map_err(|e| io_failure(&path.display().to_string(), &e))?;
    let mode = mode.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Failure::input(
            "insecure_key_file",
            format!(
                "key file {} is accessible by group or others (mode {mode:o}); fix with `chmod 600 {}`",
                path.display(),
                path.display()
            ),
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _file: &File) -> Result<(), Failure> {
    Ok(())
}

/// Parses `--context k=v` pairs, in the order given. The split is at the first `=`, so values
/// may contain `=`; empty keys and repeated keys are refused (the library would refuse them
/// too, but here the message can name the argument).
pub(crate) fn context_pairs(args: &[String]) -> Result<Vec<(String, String)>, Failure> {
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(args.len());
    for arg in args {
        let Some((key, value)) = arg.split_once('=') else {
            return Err(Failure::input(
                "malformed_context",
                format!("--context {arg:?}: expected key=value"),
            ));
        };
        if key.is_empty() {
            return Err(Failure::input(
                "malformed_context",
                format!("--context {arg:?}: the key is empty"),
            ));
        }
        if pairs.iter().any(|(k, _)| k == key) {
            return Err(Failure::input(
                "malformed_context",
                format!("--context: the key {key:?} is given twice"),
            ));
        }
        pairs.push((key.to_owned(), value.to_owned()));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_trailing_line_ending_is_stripped() {
        for (input, want) in [
            (&b"pw\n"[..], &b"pw"[..]),
            (b"pw\r\n", b"pw"),
            (b"pw\n\n", b"pw\n"),
            (b"pw ", b"pw "),
            (b"pw", b"pw"),
        ] {
            let mut buf = input.to_vec();
            strip_one_line_ending(&mut buf);
            assert_eq!(buf, want);
        }
    }

    #[test]
    fn context_pairs_split_at_first_equals() {
        let pairs = context_pairs(&["tenant=acme".into(), "q=a=b".into(), "e=".into()]).unwrap();
        assert_eq!(pairs[1], ("q".to_owned(), "a=b".to_owned()));
        assert_eq!(pairs[2], ("e".to_owned(), String::new()));
    }

    #[test]
    fn context_without_equals_or_key_or_twice_is_refused() {
        for bad in [vec!["tenant"], vec!["=v"], vec!["a=1", "a=2"]] {
            let args: Vec<String> = bad.into_iter().map(String::from).collect();
            let err = context_pairs(&args).unwrap_err();
            assert_eq!(err.kind, "malformed_context");
        }
    }

    #[test]
    fn read_bounded_refuses_one_byte_over() {
        let mut buf = Vec::new();
        assert!(read_bounded(&[0u8; 11][..], &mut buf, 10, "x").is_err());
        let mut buf = Vec::new();
        assert!(read_bounded(&[0u8; 10][..], &mut buf, 10, "x").is_ok());
    }
}
