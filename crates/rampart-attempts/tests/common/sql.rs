//! What the SQL stores' tests share: a configuration for tests and the "resets landed" probe.

use std::time::Duration;

use rampart_attempts::{SqlConfig, SqlStore};

/// A generous deadline (exact counts must not depend on a loaded CI machine) and no
/// background sweep (the tests' fixed clock is months behind the real one).
pub fn config() -> SqlConfig {
    SqlConfig::default()
        .with_timeout(Duration::from_secs(10))
        .with_sweep_interval(Duration::ZERO)
}

/// True once every queued reset was applied (or dropped: a reset lost to a failed batch
/// never drains, so a test that waits on it fails loudly).
pub fn drained<DB: sqlx::Database>(store: &SqlStore<DB>) -> bool {
    let s = store.stats();
    s.resets_applied + s.resets_dropped == s.resets_queued
}

/// Asserts that `stored` (a row's `token_hash`) is the SHA-256 of `token`'s bytes, and
/// returns those bytes (to look for them elsewhere).
pub fn assert_hash_of(stored: &[u8], token: &rampart_attempts::UnlockToken) -> Vec<u8> {
    let raw_token = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        token.expose_secret(),
    )
    .unwrap();
    assert_eq!(
        stored,
        ring::digest::digest(&ring::digest::SHA256, &raw_token).as_ref()
    );
    raw_token
}

/// A database a newer release migrated is refused, never misread: `open` (with the test
/// configuration) meets `migration_2`'s unknown migration in this crate's table and fails
/// with `SchemaTooNew`; with the version row then set to `row_version` (by `exec`), opening
/// without running the migrations fails the same way, naming it.
pub async fn a_newer_schema_is_refused<S: std::fmt::Debug>(
    open: impl AsyncFn(SqlConfig) -> Result<S, rampart_attempts::Error>,
    exec: impl AsyncFn(String),
    migration_2: &str,
    row_version: i64,
) {
    use rampart_attempts::{Error, StoreError};
    drop(open(config()).await.unwrap());
    // A newer release's migration ran: this release does not know it.
    exec(migration_2.to_owned()).await;
    let out = open(config()).await;
    assert!(
        matches!(
            out,
            Err(Error::Store(StoreError::SchemaTooNew {
                found: 2,
                supported: 1
            }))
        ),
        "{out:?}"
    );
    // Without running migrations the version row says the same.
    exec(format!(
        "UPDATE rampart_attempts_schema SET version = {row_version}"
    ))
    .await;
    let err = open(config().with_run_migrations(false)).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Store(StoreError::SchemaTooNew { found, supported: 1 }) if found == row_version
        ),
        "{err:?}"
    );
    assert_eq!(err.kind(), "store_schema_too_new");
}
