//! What a row holds, both ways: the parameters of the failure statement, computed from a
//! [`Rule`] by the Rust rules themselves, and the checked reading of a row into a [`Streak`].
//! Nothing read from the database becomes a streak or a token before it passed these checks.

use ring::digest;

use crate::error::RowProblem;
use crate::policy::Rule;
use crate::streak::{LOCKED_UNTIL_UNLOCKED, Streak};
use crate::subject::Subject;
use crate::token::TokenHash;

/// The row layout this release writes and reads (`layout` column).
pub(crate) const ROW_LAYOUT: i64 = 1;
/// 9999-12-31T23:59:59.999Z in Unix ms: the largest time a row holds (the migrations'
/// CHECK constraints say the same). Twice it is far below `i64::MAX`, so no sum the
/// statements compute can overflow.
pub(crate) const MAX_MS: i64 = 253_402_300_799_999;
/// `lock_until_ms` of a lock lifted only by its token (or the streak's expiry).
const UNTIL_UNLOCKED: i64 = -1;
/// Longest storage key kept verbatim (as the Redis store): longer ones, and any with a NUL
/// (PostgreSQL `TEXT` cannot hold one), are stored as `h:` and their SHA-256 in hex.
const MAX_VERBATIM_KEY: usize = 256;

/// The row key of `subject`: its storage key, or `h:<sha256 hex>` (see [`MAX_VERBATIM_KEY`];
/// no storage key starts with `h:`, so the two forms never meet).
pub(crate) fn key_of(subject: &Subject) -> String {
    let sk = subject.storage_key();
    if sk.len() <= MAX_VERBATIM_KEY && !sk.contains('\0') {
        return sk;
    }
    let mut key = String::with_capacity(2 + 64);
    key.push_str("h:");
    for b in digest::digest(&digest::SHA256, sk.as_bytes()).as_ref() {
        key.push(char::from(HEX[usize::from(b >> 4)]));
        key.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    key
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A time as the database keeps it: clamped to [`MAX_MS`] (a caller's clock beyond the year
/// 9999 is not worth an error; the memory store has no such limit to agree with).
pub(crate) fn db_ms(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(MAX_MS).min(MAX_MS)
}

fn db_lock(lock_until_ms: u64) -> i64 {
    if lock_until_ms == LOCKED_UNTIL_UNLOCKED {
        UNTIL_UNLOCKED
    } else {
        db_ms(lock_until_ms)
    }
}

/// The parameters of `fail.sql` (see its header for their order and meaning).
#[derive(Clone, Copy, Debug)]
pub(crate) struct FailParams<'a> {
    pub(crate) now_ms: i64,
    pub(crate) idle_ms: i64,
    pub(crate) notify_at: i64,
    pub(crate) lock_after: i64,
    /// `lock_until_ms` of a lock that starts with this failure.
    pub(crate) lock_value: i64,
    pub(crate) token: Option<&'a [u8]>,
    /// The row of a first failure (no row yet), from `Streak::record_failure`.
    pub(crate) fresh_notified: bool,
    pub(crate) fresh_lock_until: i64,
    pub(crate) fresh_token: Option<&'a [u8]>,
    pub(crate) fresh_outcome: i16,
}

impl<'a> FailParams<'a> {
    pub(crate) fn new(rule: &Rule, now_ms: u64, token: Option<&'a TokenHash>) -> Self {
        let now_ms = db_ms(now_ms);
        let now = u64::try_from(now_ms).unwrap_or(0);
        let lock_value = if rule.lock_ms == 0 {
            UNTIL_UNLOCKED
        } else {
            db_ms(now.saturating_add(rule.lock_ms))
        };
        let token = token.map(|t| &t.0[..]);
        // A subject's first failure: the Rust rules decide, the statement only stores it.
        let first = Streak::default().record_failure(rule, now);
        FailParams {
            now_ms,
            idle_ms: db_ms(rule.idle_ms),
            notify_at: i64::from(rule.notify_at),
            lock_after: i64::from(rule.lock_after),
            lock_value,
            token,
            fresh_notified: first.streak.notified,
            fresh_lock_until: db_lock(first.streak.lock_until_ms),
            fresh_token: if first.newly_locked { token } else { None },
            fresh_outcome: outcome(first.notify, first.newly_locked),
        }
    }
}

/// The `outcome` column: bit 0 crossed the notify threshold, bit 1 started a lock.
pub(crate) fn outcome(notify: bool, newly_locked: bool) -> i16 {
    i16::from(notify) | (i16::from(newly_locked) << 1)
}

/// A row's values as the driver decoded them (types already checked), ranges not yet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RawRow {
    pub(crate) layout: i64,
    pub(crate) failures: i64,
    pub(crate) first_ms: i64,
    pub(crate) last_ms: i64,
    /// 0 or 1 (PostgreSQL's boolean mapped by the dialect).
    pub(crate) notified: i64,
    pub(crate) lock_until_ms: i64,
    pub(crate) token_hash: Option<Vec<u8>>,
}

impl RawRow {
    /// Reads a row's columns in their order, so the first whose type is wrong is the one
    /// named; `layout` and `notified` come through the database's own types (`layout`,
    /// `notified`), the token hash only when the statement returned it (`with_token`).
    pub(crate) fn read<'r, R>(
        row: &'r R,
        with_token: bool,
        layout: impl FnOnce() -> Result<i64, RowProblem>,
        notified: impl FnOnce() -> Result<i64, RowProblem>,
    ) -> Result<Self, RowProblem>
    where
        R: sqlx::Row,
        &'static str: sqlx::ColumnIndex<R>,
        i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    {
        Ok(RawRow {
            layout: layout()?,
            failures: column(row, "failures")?,
            first_ms: column(row, "first_ms")?,
            last_ms: column(row, "last_ms")?,
            notified: notified()?,
            lock_until_ms: column(row, "lock_until_ms")?,
            token_hash: if with_token {
                column(row, "token_hash")?
            } else {
                None
            },
        })
    }
}

/// Column `name` of `row`, or the column named as the one whose type is wrong.
pub(crate) fn column<'r, R, T>(row: &'r R, name: &'static str) -> Result<T, RowProblem>
where
    R: sqlx::Row,
    &'static str: sqlx::ColumnIndex<R>,
    T: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    row.try_get(name)
        .map_err(|_| RowProblem::Type { column: name })
}

/// A checked row: its streak and the stored unlock-token hash, if any.
pub(crate) struct Checked {
    pub(crate) streak: Streak,
    pub(crate) token_hash: Option<[u8; 32]>,
}

impl RawRow {
    /// The streak this row holds, or what is wrong with it. Checks the layout first: a row
    /// of a newer layout is reported as such, whatever its other columns hold.
    pub(crate) fn check(&self) -> Result<Checked, RowProblem> {
        if self.layout != ROW_LAYOUT {
            return Err(RowProblem::Layout { found: self.layout });
        }
        let time = |v: i64, column| {
            if (0..=MAX_MS).contains(&v) {
                u64::try_from(v).map_err(|_| RowProblem::OutOfRange { column })
            } else {
                Err(RowProblem::OutOfRange { column })
            }
        };
        let count = u32::try_from(self.failures)
            .map_err(|_| RowProblem::OutOfRange { column: "failures" })?;
        let notified = match self.notified {
            0 => false,
            1 => true,
            _ => {
                return Err(RowProblem::OutOfRange { column: "notified" });
            }
        };
        let lock_until_ms = if self.lock_until_ms == UNTIL_UNLOCKED {
            LOCKED_UNTIL_UNLOCKED
        } else {
            time(self.lock_until_ms, "lock_until_ms")?
        };
        let token_hash = match &self.token_hash {
            None => None,
            Some(t) => Some(
                <[u8; 32]>::try_from(t.as_slice())
                    .map_err(|_| RowProblem::TokenLength { len: t.len() })?,
            ),
        };
        Ok(Checked {
            streak: Streak {
                count,
                first_ms: time(self.first_ms, "first_ms")?,
                last_ms: time(self.last_ms, "last_ms")?,
                notified,
                lock_until_ms,
            },
            token_hash,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: Rule = Rule {
        idle_ms: 60_000,
        notify_at: 1,
        lock_after: 1,
        lock_ms: 0,
    };

    fn good() -> RawRow {
        RawRow {
            layout: 1,
            failures: 3,
            first_ms: 1000,
            last_ms: 2000,
            notified: 1,
            lock_until_ms: -1,
            token_hash: Some(vec![7; 32]),
        }
    }

    #[test]
    fn a_good_row_reads_back_as_its_streak_and_token() {
        let c = good().check().unwrap();
        assert_eq!(
            c.streak,
            Streak {
                count: 3,
                first_ms: 1000,
                last_ms: 2000,
                notified: true,
                lock_until_ms: LOCKED_UNTIL_UNLOCKED,
            }
        );
        assert_eq!(c.token_hash, Some([7; 32]));
    }

    #[test]
    fn every_hand_edit_out_of_range_is_named() {
        type Edit = fn(&mut RawRow);
        let cases: [(Edit, RowProblem); 9] = [
            (|r| r.layout = 2, RowProblem::Layout { found: 2 }),
            (
                |r| r.failures = -1,
                RowProblem::OutOfRange { column: "failures" },
            ),
            (
                |r| r.failures = 1 << 32,
                RowProblem::OutOfRange { column: "failures" },
            ),
            (
                |r| r.first_ms = -5,
                RowProblem::OutOfRange { column: "first_ms" },
            ),
            (
                |r| r.last_ms = MAX_MS + 1,
                RowProblem::OutOfRange { column: "last_ms" },
            ),
            (
                |r| r.notified = 2,
                RowProblem::OutOfRange { column: "notified" },
            ),
            (
                |r| r.lock_until_ms = -2,
                RowProblem::OutOfRange {
                    column: "lock_until_ms",
                },
            ),
            (
                |r| r.token_hash = Some(vec![7; 31]),
                RowProblem::TokenLength { len: 31 },
            ),
            (
                |r| r.token_hash = Some(Vec::new()),
                RowProblem::TokenLength { len: 0 },
            ),
        ];
        for (edit, want) in cases {
            let mut row = good();
            edit(&mut row);
            assert_eq!(row.check().err(), Some(want));
        }
    }

    #[test]
    fn a_newer_layout_is_reported_before_anything_else() {
        let row = RawRow {
            layout: 9,
            failures: -1,
            ..good()
        };
        assert_eq!(row.check().err(), Some(RowProblem::Layout { found: 9 }));
    }

    #[test]
    fn a_first_failure_is_computed_by_the_rust_rules() {
        let hash = TokenHash([1; 32]);
        let p = FailParams::new(&RULE, 5000, Some(&hash));
        assert!(p.fresh_notified);
        assert_eq!((p.fresh_lock_until, p.fresh_outcome), (-1, 3));
        assert_eq!(p.fresh_token, Some(&[1u8; 32][..]));
        let later = Rule {
            notify_at: 2,
            lock_after: 3,
            lock_ms: 10_000,
            ..RULE
        };
        let p = FailParams::new(&later, 5000, Some(&hash));
        assert!(!p.fresh_notified);
        assert_eq!((p.fresh_lock_until, p.fresh_outcome), (0, 0));
        assert_eq!(p.fresh_token, None, "no lock, no token");
        assert_eq!(p.lock_value, 15_000);
    }

    #[test]
    fn times_beyond_the_year_9999_are_clamped_not_overflowed() {
        let far = Rule {
            idle_ms: u64::MAX,
            lock_ms: u64::MAX,
            ..RULE
        };
        let p = FailParams::new(&far, u64::MAX, None);
        assert_eq!(
            (p.now_ms, p.idle_ms, p.lock_value),
            (MAX_MS, MAX_MS, MAX_MS)
        );
        assert!(p.now_ms.checked_add(p.idle_ms).is_some());
    }

    #[test]
    fn long_or_nul_keys_are_hashed_and_short_ones_kept() {
        assert_eq!(key_of(&Subject::account("carol")), "a:carol");
        let long = key_of(&Subject::account_from_ip(
            "x".repeat(256),
            "2001:db8::1".parse().unwrap(),
        ));
        assert!(long.starts_with("h:") && long.len() == 66, "{long}");
        let nul = key_of(&Subject::account("a\0b"));
        assert!(nul.starts_with("h:") && nul.len() == 66);
        assert_ne!(nul, key_of(&Subject::account("a\0c")));
    }
}
