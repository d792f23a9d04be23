//! The SQL key stores against real databases: an SQLite file in a temporary directory, and a
//! PostgreSQL cluster each test starts for itself (skipped loudly without PostgreSQL, a
//! failure under CI=true). Every behaviour is one generic body run on both.
#![cfg(any(feature = "sqlite", feature = "postgres"))]

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rampart_apikey::{
    ApiKeys, ConfigError, Error, HashingKey, IssuedKey, KeyOptions, KeyPrefix, Keyset, PublicId,
    SqlBackend, SqlKeyStore, SqlStoreOptions, StoreError,
};
use rampart_testkit::sql::Bookkeeping;
use sqlx::Pool;

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn service() -> ApiKeys {
    ApiKeys::new(
        KeyPrefix::new("rk", "live").unwrap(),
        Keyset::new(1, HashingKey::from_bytes(&[0x42; 32]).unwrap()),
    )
}

fn options() -> SqlStoreOptions {
    SqlStoreOptions::new().with_timeout(Duration::from_secs(2))
}

/// Hand edits, as an operator (or an attacker with database access) would make them; and
/// migrations recorded as a newer release would (`Bookkeeping::add_migration`).
trait Backend: SqlBackend + Bookkeeping {
    /// Replaces the record text of row `id`.
    fn set_record(pool: &Pool<Self>, id: &str, text: &str) -> impl Future<Output = ()>;
}

macro_rules! backend {
    ($db:ty) => {
        impl Backend for $db {
            async fn set_record(pool: &Pool<Self>, id: &str, text: &str) {
                let done =
                    sqlx::query("UPDATE rampart_api_keys SET record = $1 WHERE public_id = $2")
                        .bind(text)
                        .bind(id)
                        .execute(pool)
                        .await
                        .unwrap();
                assert_eq!(done.rows_affected(), 1);
            }
        }
    };
}

#[cfg(feature = "sqlite")]
backend!(sqlx::Sqlite);
#[cfg(feature = "postgres")]
backend!(sqlx::Postgres);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Where a test's database lives, and how to open a store on it (again: a second replica,
/// or after a restart).
trait Place<B: SqlBackend> {
    fn open(&self) -> impl Future<Output = Result<SqlKeyStore<B>, StoreError>>;
}

#[cfg(feature = "sqlite")]
struct SqliteFile(tempfile::TempDir);

#[cfg(feature = "sqlite")]
impl Place<sqlx::Sqlite> for SqliteFile {
    async fn open(&self) -> Result<SqlKeyStore<sqlx::Sqlite>, StoreError> {
        SqlKeyStore::open(self.0.path().join("keys.db"), &options()).await
    }
}

#[cfg(feature = "postgres")]
struct PostgresDb(String);

#[cfg(feature = "postgres")]
impl Place<sqlx::Postgres> for PostgresDb {
    async fn open(&self) -> Result<SqlKeyStore<sqlx::Postgres>, StoreError> {
        SqlKeyStore::connect(&self.0, &options()).await
    }
}

// One test body per behaviour, generic over the back end, run on an SQLite file and on a
// PostgreSQL database of its own.
rampart_testkit::on_sql_backends!(
    sqlite: super::SqliteFile, postgres: super::PostgresDb, database: "keys",
    runtime: super::runtime;
    issued_key_checks_through_the_store_and_a_stray_one_is_unknown,
    duplicate_insert_is_refused_and_changes_nothing,
    revocation_is_visible_to_the_next_check_on_another_replica,
    concurrent_updates_lose_nothing_and_a_racing_rotation_cannot_undo_a_revocation,
    stale_save_is_a_conflict_and_a_missing_record_is_not_found,
    corrupt_rows_are_typed_errors_naming_the_key_and_never_authenticate,
    schema_from_a_newer_version_is_refused,
    migrations_share_a_database_with_other_bookkeeping,
    acknowledged_writes_survive_reopening,
);

async fn issue<B: SqlBackend>(
    keys: &ApiKeys,
    store: &SqlKeyStore<B>,
    opts: KeyOptions,
) -> IssuedKey {
    let issued = keys.issue(opts, t0()).unwrap();
    store.insert(&issued.record).await.unwrap();
    issued
}

/// The store error inside a check's `Error::Store`.
fn store_error(e: &Error) -> &StoreError {
    match e {
        Error::Store(inner) => inner.downcast_ref::<StoreError>().expect("a StoreError"),
        other => panic!("expected a store error, got {other:?}"),
    }
}

async fn issued_key_checks_through_the_store_and_a_stray_one_is_unknown<B: SqlBackend>(
    place: &impl Place<B>,
) {
    let (keys, store) = (service(), place.open().await.unwrap());
    let k = issue(
        &keys,
        &store,
        KeyOptions::new().with_scopes(["orders:read"]),
    )
    .await;
    let who = keys
        .check_async(&store, k.secret_key.expose_secret(), &["orders:read"], t0())
        .await
        .unwrap();
    assert_eq!(who.public_id(), k.public_key.public_id());
    assert!(matches!(
        keys.check_async(
            &store,
            k.secret_key.expose_secret(),
            &["orders:write"],
            t0()
        )
        .await,
        Err(Error::MissingScope { .. })
    ));
    let stray = keys.issue(KeyOptions::new(), t0()).unwrap();
    assert!(matches!(
        keys.check_async(&store, stray.secret_key.expose_secret(), &[], t0())
            .await,
        Err(Error::UnknownKey { .. })
    ));
    let read = store.get(&k.public_key.public_id()).await.unwrap().unwrap();
    assert_eq!(
        serde_json::to_string(&read.record).unwrap(),
        serde_json::to_string(&k.record).unwrap()
    );
    // Base62 is case-sensitive: the same letters in another case are another key, whatever
    // the database's collation.
    let id = k.public_key.public_id();
    let swapped: String = id
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect();
    if swapped != id.as_str() {
        let swapped = PublicId::parse(&swapped).unwrap();
        assert!(store.get(&swapped).await.unwrap().is_none());
    }
    assert!(
        store
            .get(&stray.public_key.public_id())
            .await
            .unwrap()
            .is_none()
    );
}

async fn duplicate_insert_is_refused_and_changes_nothing<B: SqlBackend>(place: &impl Place<B>) {
    let (keys, store) = (service(), place.open().await.unwrap());
    let k = issue(&keys, &store, KeyOptions::new()).await;
    // Another record under the same public id (a colliding or replayed insert).
    let mut other = keys.issue(KeyOptions::new(), t0()).unwrap().record;
    let json = serde_json::to_string(&other).unwrap().replace(
        other.public_id().as_str(),
        k.public_key.public_id().as_str(),
    );
    other = serde_json::from_str(&json).unwrap();
    let e = store.insert(&other).await.unwrap_err();
    assert!(
        matches!(e, StoreError::Duplicate { public_id } if public_id == k.public_key.public_id())
    );
    assert_eq!(e.kind(), "duplicate_public_id");
    keys.check_async(&store, k.secret_key.expose_secret(), &[], t0())
        .await
        .unwrap();
}

async fn revocation_is_visible_to_the_next_check_on_another_replica<B: SqlBackend>(
    place: &impl Place<B>,
) {
    let keys = service();
    let (a, b) = (place.open().await.unwrap(), place.open().await.unwrap());
    let k = issue(&keys, &a, KeyOptions::new()).await;
    let secret = k.secret_key.expose_secret();
    keys.check_async(&b, secret, &[], t0()).await.unwrap();
    a.revoke(&k.public_key.public_id(), t0()).await.unwrap();
    // Replica b has served this key before; it still sees the revocation at once.
    let earlier = t0() - Duration::from_secs(3600);
    assert!(matches!(
        keys.check_async(&b, secret, &[], earlier).await,
        Err(Error::Revoked { revoked_at, .. }) if revoked_at == t0()
    ));
    // Revocation is final: a rotation is refused, and a second revocation keeps the time.
    let rotated = b
        .rotate(
            &keys,
            &k.public_key.public_id(),
            Duration::from_secs(60),
            t0(),
        )
        .await;
    assert!(matches!(
        rotated,
        Err(Error::Config(ConfigError::RevokedKey))
    ));
    b.revoke(&k.public_key.public_id(), t0() + Duration::from_secs(5))
        .await
        .unwrap();
    let stored = a.get(&k.public_key.public_id()).await.unwrap().unwrap();
    assert_eq!(stored.record.revoked_at(), Some(t0()));
}

async fn concurrent_updates_lose_nothing_and_a_racing_rotation_cannot_undo_a_revocation<
    B: SqlBackend,
>(
    place: &impl Place<B>,
) {
    let keys = Arc::new(service());
    let (a, b) = (place.open().await.unwrap(), place.open().await.unwrap());
    let k = issue(&keys, &a, KeyOptions::new()).await;
    let id = k.public_key.public_id();
    // Sixteen writers on two replicas each add a scope of their own.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            store
                .update(&id, |r| {
                    let scopes: Vec<String> = r
                        .scopes()
                        .map(str::to_owned)
                        .chain([format!("s{i}")])
                        .collect();
                    r.set_scopes(scopes)
                        .map_err(|_| StoreError::NotFound { public_id: id })
                })
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let record = a.get(&id).await.unwrap().unwrap().record;
    assert_eq!(record.scopes().len(), 16, "a concurrent update was lost");

    // Rotations on one replica race a revocation on the other: whatever the order, the key
    // ends revoked and every rotation either saved or was refused because of it.
    let mut rotations = Vec::new();
    for _ in 0..6 {
        let (store, keys) = (a.clone(), keys.clone());
        rotations.push(tokio::spawn(async move {
            store
                .rotate(&keys, &id, Duration::from_secs(600), t0())
                .await
        }));
    }
    b.revoke(&id, t0()).await.unwrap();
    for r in rotations {
        match r.await.unwrap() {
            Ok(_) | Err(Error::Config(ConfigError::RevokedKey)) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    let record = b.get(&id).await.unwrap().unwrap().record;
    assert_eq!(
        record.revoked_at(),
        Some(t0()),
        "a rotation undid the revocation"
    );
}

async fn stale_save_is_a_conflict_and_a_missing_record_is_not_found<B: SqlBackend>(
    place: &impl Place<B>,
) {
    let (keys, store) = (service(), place.open().await.unwrap());
    let k = issue(&keys, &store, KeyOptions::new()).await;
    let id = k.public_key.public_id();
    let first = store.get(&id).await.unwrap().unwrap();
    let second = store.get(&id).await.unwrap().unwrap();
    let mut revoked = first.record.clone();
    revoked.revoke(t0());
    let next = store.save(&revoked, first.revision).await.unwrap();
    assert_ne!(next, first.revision);
    let e = store
        .save(&second.record, second.revision)
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Conflict { public_id } if public_id == id),
        "{e:?}"
    );
    // The revocation stands.
    assert!(matches!(
        keys.check_async(&store, k.secret_key.expose_secret(), &[], t0())
            .await,
        Err(Error::Revoked { .. })
    ));
    assert!(store.remove(&id).await.unwrap());
    assert!(!store.remove(&id).await.unwrap());
    let e = store.save(&revoked, next).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");
    let e = store.revoke(&id, t0()).await.unwrap_err();
    assert_eq!(e.kind(), "not_found");
}

async fn corrupt_rows_are_typed_errors_naming_the_key_and_never_authenticate<B: Backend>(
    place: &impl Place<B>,
) {
    let (keys, store) = (service(), place.open().await.unwrap());
    let k = issue(&keys, &store, KeyOptions::new()).await;
    let id = k.public_key.public_id();
    let good = serde_json::to_string(&k.record).unwrap();
    let other =
        serde_json::to_string(&keys.issue(KeyOptions::new(), t0()).unwrap().record).unwrap();
    // A MAC cut short by one byte, still valid base64.
    let mac = serde_json::to_value(&k.record).unwrap()["hash"]["mac"]
        .as_str()
        .unwrap()
        .to_owned();
    let short_mac = {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::STANDARD;
        let mut bytes = engine.decode(&mac).unwrap();
        bytes.pop();
        engine.encode(bytes)
    };
    let cases: [(&str, String, &str); 6] = [
        ("truncated", good[..good.len() / 2].to_owned(), "invalid"),
        ("not json", "revoked? no".to_owned(), "invalid"),
        ("empty", String::new(), "invalid"),
        (
            "newer format",
            good.replacen("\"v\":1", "\"v\":2", 1),
            "unsupported_version",
        ),
        ("short mac", good.replacen(&mac, &short_mac, 1), "invalid"),
        ("another key's record", other, "id_mismatch"),
    ];
    // Checked once while good: the store has decoded (and may remember) the valid record.
    keys.check_async(&store, k.secret_key.expose_secret(), &[], t0())
        .await
        .unwrap();
    for (what, text, reason) in cases {
        B::set_record(store.pool(), id.as_str(), &text).await;
        let e = keys
            .check_async(&store, k.secret_key.expose_secret(), &[], t0())
            .await
            .unwrap_err();
        assert!(
            !e.is_credential_failure(),
            "{what}: a server error, not the client's"
        );
        match store_error(&e) {
            StoreError::Corrupt {
                public_id,
                reason: r,
            } => {
                assert_eq!(*public_id, id, "{what}");
                assert_eq!(r.kind(), reason, "{what}: {r}");
            }
            other => panic!("{what}: {other:?}"),
        }
        assert!(
            store_error(&e).to_string().contains(id.as_str()),
            "{what}: names the key"
        );
        let e = store.get(&id).await.unwrap_err();
        assert_eq!(e.public_id(), Some(id), "{what}");
        // Nothing can be saved over it through update either (it is never read as a record).
        assert_eq!(
            store.revoke(&id, t0()).await.unwrap_err().kind(),
            "corrupt_record"
        );
    }
    B::set_record(store.pool(), id.as_str(), &good).await;
    keys.check_async(&store, k.secret_key.expose_secret(), &[], t0())
        .await
        .unwrap();
}

async fn schema_from_a_newer_version_is_refused<B: Backend>(place: &impl Place<B>) {
    let store = place.open().await.unwrap();
    assert_eq!(SqlKeyStore::<B>::schema_version(), 1);
    B::add_migration(store.pool(), "_rampart_apikey_migrations", 7).await;
    let e = place.open().await.unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::SchemaTooNew {
                found: 7,
                supported: 1
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.kind(), "schema_too_new");
}

async fn migrations_share_a_database_with_other_bookkeeping<B: Backend>(place: &impl Place<B>) {
    let (keys, first) = (service(), place.open().await.unwrap());
    // The application's own sqlx migrations, and another Rampart crate's, far ahead of ours.
    B::add_migration(first.pool(), "_sqlx_migrations", 20_260_101_000_000).await;
    B::add_migration(first.pool(), "_rampart_saml_migrations", 5).await;
    let k = issue(&keys, &first, KeyOptions::new()).await;
    // Opening again (a second replica, a restart) finds its own version and migrates nothing.
    let again = place.open().await.unwrap();
    keys.check_async(&again, k.secret_key.expose_secret(), &[], t0())
        .await
        .unwrap();
}

async fn acknowledged_writes_survive_reopening<B: SqlBackend>(place: &impl Place<B>) {
    let keys = service();
    let ids: Vec<(PublicId, String)> = {
        let store = place.open().await.unwrap();
        let mut ids = Vec::new();
        for _ in 0..5 {
            let k = issue(&keys, &store, KeyOptions::new()).await;
            ids.push((
                k.public_key.public_id(),
                k.secret_key.expose_secret().to_owned(),
            ));
        }
        store.revoke(&ids[0].0, t0()).await.unwrap();
        store.pool().close().await;
        ids
    };
    let store = place.open().await.unwrap();
    assert!(matches!(
        keys.check_async(&store, &ids[0].1, &[], t0()).await,
        Err(Error::Revoked { .. })
    ));
    for (_, secret) in &ids[1..] {
        keys.check_async(&store, secret, &[], t0()).await.unwrap();
    }
}

/// PostgreSQL killed (SIGKILL, every backend at once) under the store, then restarted: while
/// it is down every call fails within the timeout (a check fails closed), and afterwards the
/// first calls succeed on fresh connections and nothing acknowledged before the kill is lost.
#[cfg(feature = "postgres")]
#[test]
fn killed_and_restarted_postgres_fails_closed_within_the_timeout_and_loses_nothing() {
    use std::time::Instant;
    let Some(mut server) = rampart_testkit::PostgresServer::start() else {
        return;
    };
    let url = server.create_database("keys");
    runtime().block_on(async {
        let keys = service();
        let store = rampart_apikey::PostgresKeyStore::connect(&url, &options())
            .await
            .unwrap();
        let kept = issue(&keys, &store, KeyOptions::new()).await;
        let revoked = issue(&keys, &store, KeyOptions::new()).await;
        store
            .revoke(&revoked.public_key.public_id(), t0())
            .await
            .unwrap();
        // Several pooled connections at once, all of which the kill leaves dead.
        let check = || keys.check_async(&store, kept.secret_key.expose_secret(), &[], t0());
        let (r1, r2, r3, r4) = tokio::join!(check(), check(), check(), check());
        for r in [r1, r2, r3, r4] {
            r.unwrap();
        }

        server.stop();
        let bound = options().timeout() + Duration::from_secs(1);
        let started = Instant::now();
        let down = keys
            .check_async(&store, kept.secret_key.expose_secret(), &[], t0())
            .await
            .unwrap_err();
        assert!(started.elapsed() < bound, "took {:?}", started.elapsed());
        assert!(!down.is_credential_failure(), "{down:?}");
        assert!(
            matches!(store_error(&down).kind(), "database" | "timeout"),
            "{down:?}"
        );
        let started = Instant::now();
        let fresh = keys.issue(KeyOptions::new(), t0()).unwrap();
        assert!(store.insert(&fresh.record).await.is_err());
        assert!(
            store
                .revoke(&kept.public_key.public_id(), t0())
                .await
                .is_err()
        );
        assert!(
            started.elapsed() < 2 * bound,
            "took {:?}",
            started.elapsed()
        );

        server.restart();
        // No retry loop here: the store replaces the dead connections itself.
        keys.check_async(&store, kept.secret_key.expose_secret(), &[], t0())
            .await
            .unwrap();
        assert!(matches!(
            keys.check_async(&store, revoked.secret_key.expose_secret(), &[], t0())
                .await,
            Err(Error::Revoked { .. })
        ));
        store.insert(&fresh.record).await.unwrap();
        keys.check_async(&store, fresh.secret_key.expose_secret(), &[], t0())
            .await
            .unwrap();
    });
}
