//! The `rampart` command-line tool for operators: keyrings, encrypted files, password hashes,
//! API keys and SAML debugging.
//!
//! The contract (subcommands, JSON output, exit codes 0/1/2, secrets never in arguments) is
//! the "Command-line contract of `rampart`" in `docs/design.md`; `cli.rs` declares it, `output.rs`
//! enforces the output rules, and `commands/` holds one module per subcommand family.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod input;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match cli::Cli::try_parse() {
        Ok(cli) => output::finish(commands::run(cli.command)),
        Err(err) => {
            let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
            output::clap_failure(&err, output::usage_channel(&args))
        }
    }
}
