//! The output layer: one JSON object per run, and the exit status.
//!
//! Every command returns `Result<Report, Failure>`; only this module prints reports or decides
//! exit codes, so the contract (one JSON object on stdout; 0 success, 1 negative verdict, 2
//! usage or input error) holds in one place. Messages are built by the commands from error
//! values that never carry secrets, and no secret is ever passed here.

use std::io::{self, Write};
use std::process::ExitCode;

use serde_json::{Map, Value, json};

/// Exit status of a run (`docs/design.md`, command-line contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// The command did what was asked, or the verdict is positive.
    Success = 0,
    /// A negative verdict: mismatch, invalid, rejected.
    Negative = 1,
    /// Usage or input error: nothing was decided.
    Usage = 2,
}

/// Where the report goes: stdout normally, stderr when stdout carries the command's data
/// (encrypt/decrypt/reencrypt without `-o`), so data and report never mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    /// The usual place for the JSON object.
    Stdout,
    /// Used when stdout is the data stream.
    Stderr,
}

/// What a command reports when it ends without an input error.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) exit: Exit,
    pub(crate) channel: Channel,
    pub(crate) body: Value,
    /// Human-readable lines for stderr (for example `saml verify --explain`).
    pub(crate) notes: Vec<String>,
    /// Text printed on stdout instead of the JSON object (`saml metadata --raw`).
    pub(crate) raw: Option<String>,
}

impl Report {
    /// A success (exit 0) with its JSON object.
    pub(crate) fn success(body: Value) -> Self {
        Self {
            exit: Exit::Success,
            channel: Channel::Stdout,
            body,
            notes: Vec::new(),
            raw: None,
        }
    }

    /// A negative verdict (exit 1) with its JSON object.
    pub(crate) fn negative(body: Value) -> Self {
        Self {
            exit: Exit::Negative,
            channel: Channel::Stdout,
            body,
            notes: Vec::new(),
            raw: None,
        }
    }

    /// Sends the report to `channel` instead of stdout.
    pub(crate) fn on(mut self, channel: Channel) -> Self {
        self.channel = channel;
        self
    }

    /// A success that prints `text` itself on stdout, with no JSON object.
    pub(crate) fn raw(text: String) -> Self {
        Self {
            raw: Some(text),
            ..Self::success(Value::Null)
        }
    }
}

/// Why a command could not finish: printed as `{"error":kind,"message":..}`.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) exit: Exit,
    pub(crate) kind: &'static str,
    pub(crate) message: String,
    pub(crate) channel: Channel,
    /// Extra fields merged into the JSON object (never secrets). Boxed: with serde_json's
    /// `preserve_order` (which other crates of a workspace build may turn on) a map is 72
    /// bytes, and every command returns `Result<_, Failure>`.
    pub(crate) extra: Box<Map<String, Value>>,
    /// Human-readable lines for stderr (for example `saml verify --explain`).
    pub(crate) notes: Vec<String>,
}

impl Failure {
    /// A usage or input error (exit 2).
    pub(crate) fn input(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            exit: Exit::Usage,
            kind,
            message: message.into(),
            channel: Channel::Stdout,
            extra: Box::default(),
            notes: Vec::new(),
        }
    }

    /// A negative verdict reached through an error (exit 1): the input was well-formed and
    /// was rejected.
    pub(crate) fn rejected(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            exit: Exit::Negative,
            ..Self::input(kind, message)
        }
    }

    /// Sends the failure to `channel` instead of stdout.
    pub(crate) fn on(mut self, channel: Channel) -> Self {
        self.channel = channel;
        self
    }

    /// Adds a field to the JSON object.
    pub(crate) fn with(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.to_owned(), value);
        self
    }
}

/// An I/O error reading or writing `what` (a path or "stdin"): an input error.
pub(crate) fn io_failure(what: &str, err: &io::Error) -> Failure {
    Failure::input("io", format!("{what}: {}", describe_io(err)))
}

fn describe_io(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::NotFound => "no such file".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => err.to_string(),
    }
}

/// Writes `data` to `path` atomically: a temporary file beside it, renamed into place only
/// once complete (rampart-envelope's `AtomicFile`), so a crash never leaves half a file. The
/// mode of a file it replaces is kept.
pub(crate) fn replace_file(path: &std::path::Path, data: &[u8]) -> Result<(), Failure> {
    let name = path.display().to_string();
    let mut file = rampart::envelope::atomic_file::AtomicFile::new(path)
        .map_err(|e| io_failure(&name, &e))?
        .with_keep_metadata(true);
    file.as_file_mut()
        .write_all(data)
        .map_err(|e| io_failure(&name, &e))?;
    file.commit().map_err(|e| io_failure(&name, &e))
}

/// Prints the outcome of a run and returns the process exit code.
pub(crate) fn finish(outcome: Result<Report, Failure>) -> ExitCode {
    match outcome {
        Ok(report) => {
            for note in &report.notes {
                let _ = writeln!(io::stderr(), "{note}");
            }
            match &report.raw {
                Some(text) => {
                    let _ = io::stdout().lock().write_all(text.as_bytes());
                }
                None => emit(report.channel, &report.body),
            }
            code(report.exit)
        }
        Err(failure) => {
            for note in &failure.notes {
                let _ = writeln!(io::stderr(), "{note}");
            }
            let mut body = Map::new();
            if failure.exit == Exit::Negative {
                // A rejection is a verdict: say so in the same shape as a positive one.
                body.insert("valid".to_owned(), Value::Bool(false));
            }
            body.insert("error".to_owned(), Value::String(failure.kind.to_owned()));
            body.insert("message".to_owned(), Value::String(failure.message.clone()));
            body.extend(*failure.extra);
            // A person at a terminal sees the reason even when stdout is piped to a file
            // (with Channel::Stderr, the JSON object itself is on stderr).
            if failure.channel == Channel::Stdout {
                let _ = writeln!(io::stderr(), "rampart: {}", failure.message);
            }
            emit(failure.channel, &Value::Object(body));
            code(failure.exit)
        }
    }
}

/// Where the JSON object of a usage error goes, judged from the raw arguments (clap could not
/// parse them): stderr for `encrypt`, `decrypt` and `reencrypt` unless an `-o`/`--output`
/// other than "-" is named, since their stdout is the data stream (`rampart decrypt --bogus >
/// out` must not leave JSON in `out`); stdout for every other command.
///
/// When in doubt the answer is stderr: a JSON object missing from stdout costs a script its
/// error message, one written into a data stream corrupts the data.
pub(crate) fn usage_channel(args: &[std::ffi::OsString]) -> Channel {
    let mut rest = args.iter().skip(1).filter_map(|a| a.to_str());
    // The subcommand is the first argument that is not an option (the top level has none
    // that take a value).
    let Some(command) = rest.by_ref().find(|a| !a.starts_with('-')) else {
        return Channel::Stdout;
    };
    if !matches!(command, "encrypt" | "decrypt" | "reencrypt") {
        return Channel::Stdout;
    }
    let mut output = None;
    while let Some(arg) = rest.next() {
        if arg == "--" {
            break;
        }
        let value = if arg == "-o" || arg == "--output" {
            rest.next()
        } else if let Some(v) = arg.strip_prefix("--output=") {
            Some(v)
        } else if let Some(v) = arg.strip_prefix("-o").filter(|v| !v.is_empty()) {
            Some(v.strip_prefix('=').unwrap_or(v))
        } else {
            continue;
        };
        output = value;
    }
    match output {
        Some(path) if path != "-" && !path.is_empty() && !path.starts_with('-') => Channel::Stdout,
        _ => Channel::Stderr,
    }
}

/// Handles an error from clap: help and version go to stdout with exit 0; every usage error
/// exits 2 with an explanation on stderr and a JSON object on `channel` (see
/// [`usage_channel`]).
///
/// A stray argument is never echoed back: someone who typed a password or an API secret as an
/// argument (instead of piping it on stdin) must not find it again in a terminal log or CI
/// output. Option values (`--below abc`) are not secrets and clap's own message is kept.
pub(crate) fn clap_failure(err: &clap::Error, channel: Channel) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            ExitCode::SUCCESS
        }
        ErrorKind::UnknownArgument | ErrorKind::InvalidSubcommand => {
            let message = "unexpected argument (not echoed: secrets are never taken from \
                           arguments; pipe them on stdin)";
            let _ = writeln!(
                io::stderr(),
                "error: {message}\n\nFor more information, try '--help'."
            );
            emit(channel, &json!({ "error": "usage", "message": message }));
            code(Exit::Usage)
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            let message = "a subcommand is required (its list is printed on stderr)";
            emit(channel, &json!({ "error": "usage", "message": message }));
            code(Exit::Usage)
        }
        _ => {
            let _ = err.print();
            let rendered = err.render().to_string();
            // The first paragraph is the error; usage and the `--help` hint follow it.
            let message = rendered
                .trim_ascii_start()
                .split("\n\n")
                .next()
                .unwrap_or("invalid usage")
                .trim_start_matches("error: ")
                .lines()
                .map(str::trim_ascii)
                .collect::<Vec<_>>()
                .join(" ");
            emit(channel, &json!({ "error": "usage", "message": message }));
            code(Exit::Usage)
        }
    }
}

fn emit(channel: Channel, body: &Value) {
    let line = body.to_string();
    // A closed pipe (`rampart ... | head -c0`) is not worth a panic.
    let _ = match channel {
        Channel::Stdout => writeln!(io::stdout().lock(), "{line}"),
        Channel::Stderr => writeln!(io::stderr().lock(), "{line}"),
    };
}

fn code(exit: Exit) -> ExitCode {
    ExitCode::from(exit as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(args: &[&str]) -> Channel {
        let mut all = vec![std::ffi::OsString::from("rampart")];
        all.extend(args.iter().map(std::ffi::OsString::from));
        usage_channel(&all)
    }

    #[test]
    fn usage_errors_of_data_commands_go_to_stderr_unless_output_is_a_file() {
        for cmd in ["encrypt", "decrypt", "reencrypt"] {
            assert_eq!(channel(&[cmd, "--bogus"]), Channel::Stderr);
            assert_eq!(channel(&[cmd, "--bogus", "-o", "-"]), Channel::Stderr);
            assert_eq!(channel(&[cmd, "--bogus", "-o"]), Channel::Stderr);
            assert_eq!(channel(&[cmd, "-o", "--bogus"]), Channel::Stderr);
            assert_eq!(channel(&[cmd, "--", "-o", "out"]), Channel::Stderr);
            assert_eq!(channel(&[cmd, "--bogus", "-o", "out"]), Channel::Stdout);
            assert_eq!(channel(&[cmd, "-oout", "--bogus"]), Channel::Stdout);
            assert_eq!(channel(&[cmd, "--output=out", "--bogus"]), Channel::Stdout);
            assert_eq!(
                channel(&[cmd, "--output", "out", "--bogus"]),
                Channel::Stdout
            );
            assert_eq!(channel(&[cmd, "-o", "out", "-o", "-"]), Channel::Stderr);
        }
    }

    #[test]
    fn usage_errors_of_other_commands_go_to_stdout() {
        assert_eq!(channel(&["keyring", "list", "--bogus"]), Channel::Stdout);
        assert_eq!(channel(&["password", "verify"]), Channel::Stdout);
        assert_eq!(channel(&["--bogus"]), Channel::Stdout);
        assert_eq!(channel(&[]), Channel::Stdout);
        // An argument named like a data command, further on, is not the subcommand.
        assert_eq!(channel(&["saml", "decrypt"]), Channel::Stdout);
    }
}
