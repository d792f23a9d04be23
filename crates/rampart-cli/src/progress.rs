//! Progress of long file operations, on stderr, only when stderr is a terminal.
//!
//! Scripts and CI logs get no progress noise (and nothing but the JSON object on stdout);
//! a person waiting for a multi-gigabyte file to encrypt sees bytes, rate and time left.

use std::io::{self, IsTerminal, Read};

use indicatif::{ProgressBar, ProgressStyle};

/// Inputs smaller than this finish before a bar would be worth drawing.
const MIN_BYTES_FOR_BAR: u64 = 8 * 1024 * 1024;

/// A progress display that may be absent; every method is a no-op then.
#[derive(Debug)]
pub(crate) struct Progress(Option<ProgressBar>);

impl Progress {
    /// Starts a display for reading `total` bytes (unknown for a pipe), labelled `label`.
    pub(crate) fn start(total: Option<u64>, label: &str) -> Self {
        if !io::stderr().is_terminal() || total.is_some_and(|t| t < MIN_BYTES_FOR_BAR) {
            return Self(None);
        }
        let bar = match total {
            Some(len) => ProgressBar::new(len).with_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {msg} {bytes} {bytes_per_sec}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.set_message(label.to_owned());
        Self(Some(bar))
    }

    /// Wraps a reader so that every byte read advances the display.
    pub(crate) fn reader<R: Read>(&self, inner: R) -> ProgressReader<R> {
        ProgressReader {
            inner,
            bar: self.0.clone(),
        }
    }

    /// Removes the display (success or failure alike: the JSON report says which).
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A reader that reports the bytes it passes on.
#[derive(Debug)]
pub(crate) struct ProgressReader<R> {
    inner: R,
    bar: Option<ProgressBar>,
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(bar) = &self.bar {
            bar.inc(n as u64);
        }
        Ok(n)
    }
}
