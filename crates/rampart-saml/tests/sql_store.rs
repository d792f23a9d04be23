//! The SQL replay cache and request ID store against real databases: an SQLite file in a
//! temporary directory, and a PostgreSQL cluster each test starts for itself (skipped loudly
//! without PostgreSQL, a failure under CI=true). Every behaviour is one generic body run on
//! both.
#![cfg(any(feature = "sqlite", feature = "postgres"))]

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rampart_saml::{
    Certificate, Expected, IdentityProvider, ReplayCache, RequestIdStore, ServiceProvider,
    SqlBackend, SqlStore, SqlStoreError, SqlStoreOptions,
};
use rampart_testkit::sql::Bookkeeping;
use sqlx::Pool;

const IDP: &str = "https://idp.example.com/metadata";

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn options() -> SqlStoreOptions {
    SqlStoreOptions::new().with_timeout(Duration::from_secs(2))
}

/// Hand edits, as an operator (or an attacker with database access) would make them; and
/// migrations recorded as a newer release would (`Bookkeeping::add_migration`).
trait Backend: SqlBackend + Bookkeeping {
    /// Runs `sql`; `Err` with the database's refusal.
    fn exec(pool: &Pool<Self>, sql: &'static str)
    -> impl Future<Output = Result<u64, sqlx::Error>>;
}

macro_rules! backend {
    ($db:ty) => {
        impl Backend for $db {
            async fn exec(pool: &Pool<Self>, sql: &'static str) -> Result<u64, sqlx::Error> {
                sqlx::query(sql)
                    .execute(pool)
                    .await
                    .map(|d| d.rows_affected())
            }
        }
    };
}

#[cfg(feature = "sqlite")]
backend!(sqlx::Sqlite);
#[cfg(feature = "postgres")]
backend!(sqlx::Postgres);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Where a test's database lives, and how to open a store on it (again: a second replica,
/// or after a restart).
trait Place<B: SqlBackend> {
    fn open_with(
        &self,
        options: &SqlStoreOptions,
    ) -> impl Future<Output = Result<SqlStore<B>, SqlStoreError>>;
    async fn open(&self) -> Result<SqlStore<B>, SqlStoreError> {
        self.open_with(&options()).await
    }
}

#[cfg(feature = "sqlite")]
struct SqliteFile(tempfile::TempDir);

#[cfg(feature = "sqlite")]
impl Place<sqlx::Sqlite> for SqliteFile {
    async fn open_with(
        &self,
        options: &SqlStoreOptions,
    ) -> Result<SqlStore<sqlx::Sqlite>, SqlStoreError> {
        SqlStore::open(self.0.path().join("saml.db"), options).await
    }
}

#[cfg(feature = "postgres")]
struct PostgresDb(String);

#[cfg(feature = "postgres")]
impl Place<sqlx::Postgres> for PostgresDb {
    async fn open_with(
        &self,
        options: &SqlStoreOptions,
    ) -> Result<SqlStore<sqlx::Postgres>, SqlStoreError> {
        SqlStore::connect(&self.0, options).await
    }
}

// One test body per behaviour, generic over the back end, run on an SQLite file and on a
// PostgreSQL database of its own.
rampart_testkit::on_sql_backends!(
    sqlite: super::SqliteFile, postgres: super::PostgresDb, database: "saml",
    runtime: super::runtime;
    replayed_assertion_is_refused_on_every_replica_until_it_expires,
    concurrent_first_uses_of_one_assertion_have_exactly_one_winner,
    request_id_is_consumed_once_across_replicas_and_never_after_it_expires,
    concurrent_consumers_of_one_request_id_have_exactly_one_winner,
    expired_rows_are_swept_in_bounded_batches,
    response_flow_consumes_the_request_id_and_refuses_the_replay,
    schema_refuses_malformed_rows,
    schema_from_a_newer_version_is_refused,
    migrations_share_a_database_with_other_bookkeeping,
    accepted_assertions_and_issued_ids_survive_reopening,
);

async fn replayed_assertion_is_refused_on_every_replica_until_it_expires<B: SqlBackend>(
    place: &impl Place<B>,
) {
    let (a, b) = (place.open().await.unwrap(), place.open().await.unwrap());
    let exp = t0() + Duration::from_secs(300);
    assert!(a.insert_if_new(IDP, "_a1", exp, t0()).await.unwrap());
    assert!(
        !b.insert_if_new(IDP, "_a1", exp, t0()).await.unwrap(),
        "replica b sees it"
    );
    let almost = exp - Duration::from_nanos(1);
    assert!(
        !a.insert_if_new(IDP, "_a1", exp, almost).await.unwrap(),
        "live to the last instant"
    );
    // IDs are unique per issuer only (SAML core 1.3.4), and the boundary is part of the key.
    assert!(
        b.insert_if_new("https://other.example", "_a1", exp, t0())
            .await
            .unwrap()
    );
    assert!(a.insert_if_new("x", "yz", exp, t0()).await.unwrap());
    assert!(a.insert_if_new("xy", "z", exp, t0()).await.unwrap());
    // An ID of any length makes a key of fixed size.
    let long = "_".repeat(100_000);
    assert!(a.insert_if_new(IDP, &long, exp, t0()).await.unwrap());
    assert!(!b.insert_if_new(IDP, &long, exp, t0()).await.unwrap());
    // Once expired, the row may be replaced (the assertion itself is refused as expired).
    let later = exp + Duration::from_secs(600);
    assert!(b.insert_if_new(IDP, "_a1", later, exp).await.unwrap());
    assert!(!a.insert_if_new(IDP, "_a1", later, exp).await.unwrap());
}

async fn concurrent_first_uses_of_one_assertion_have_exactly_one_winner<B: SqlBackend>(
    place: &impl Place<B>,
) {
    let (a, b) = (place.open().await.unwrap(), place.open().await.unwrap());
    let exp = t0() + Duration::from_secs(300);
    // An expired row of the same key makes the race harder: every racer may replace it.
    assert!(
        a.insert_if_new(IDP, "_race", t0(), t0() - Duration::from_secs(1))
            .await
            .unwrap()
    );
    let mut tasks = Vec::new();
    for i in 0..16 {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            c.insert_if_new(IDP, "_race", exp, t0()).await.unwrap()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap());
    }
    assert_eq!(wins, 1);
}

async fn request_id_is_consumed_once_across_replicas_and_never_after_it_expires<B: SqlBackend>(
    place: &impl Place<B>,
) {
    let (a, b) = (place.open().await.unwrap(), place.open().await.unwrap());
    let exp = t0() + Duration::from_secs(600);
    a.remember("_r1", exp, t0()).await.unwrap();
    a.remember("_r2", exp, t0()).await.unwrap();
    assert!(!b.consume("_never_issued", t0()).await.unwrap());
    assert!(b.consume("_r1", t0()).await.unwrap());
    assert!(!a.consume("_r1", t0()).await.unwrap(), "consumed once");
    assert!(
        !b.consume("_r2", exp).await.unwrap(),
        "expired at its instant"
    );
    assert!(
        !a.consume("_r2", t0()).await.unwrap(),
        "an expired consume still deletes it"
    );
    // Remembering again sets the new expiry.
    a.remember("_r3", t0() + Duration::from_secs(1), t0())
        .await
        .unwrap();
    b.remember("_r3", exp, t0()).await.unwrap();
    assert!(
        a.consume("_r3", t0() + Duration::from_secs(60))
            .await
            .unwrap()
    );
}

async fn concurrent_consumers_of_one_request_id_have_exactly_one_winner<B: SqlBackend>(
    place: &impl Place<B>,
) {
    let (a, b) = (place.open().await.unwrap(), place.open().await.unwrap());
    a.remember("_race", t0() + Duration::from_secs(600), t0())
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            c.consume("_race", t0()).await.unwrap()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap());
    }
    assert_eq!(wins, 1);
}

async fn expired_rows_are_swept_in_bounded_batches<B: SqlBackend>(place: &impl Place<B>) {
    let manual = place
        .open_with(&options().with_sweep_every(0))
        .await
        .unwrap();
    let soon = t0() + Duration::from_secs(1);
    for i in 0..1_005 {
        let id = format!("_a{i}");
        assert!(manual.insert_if_new(IDP, &id, soon, t0()).await.unwrap());
    }
    manual.remember("_r", soon, t0()).await.unwrap();
    manual
        .remember("_live", soon + Duration::from_secs(600), t0())
        .await
        .unwrap();
    assert_eq!(
        manual.sweep_expired(t0()).await.unwrap(),
        0,
        "nothing expired yet"
    );
    // At most 1 000 per table per sweep.
    assert_eq!(manual.sweep_expired(soon).await.unwrap(), 1_001);
    assert_eq!(manual.sweep_expired(soon).await.unwrap(), 5);
    assert_eq!(manual.sweep_expired(soon).await.unwrap(), 0);
    assert!(
        manual.consume("_live", soon).await.unwrap(),
        "live rows stay"
    );

    // Automatic: every third write of this store sweeps.
    let auto = place
        .open_with(&options().with_sweep_every(3))
        .await
        .unwrap();
    for id in ["_x1", "_x2"] {
        assert!(auto.insert_if_new(IDP, id, soon, t0()).await.unwrap());
    }
    assert!(
        auto.insert_if_new(IDP, "_x3", soon + Duration::from_secs(600), soon)
            .await
            .unwrap()
    );
    assert_eq!(
        manual.sweep_expired(soon).await.unwrap(),
        0,
        "the third write swept"
    );
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

async fn response_flow_consumes_the_request_id_and_refuses_the_replay<B: SqlBackend>(
    place: &impl Place<B>,
) {
    let idp = IdentityProvider::new(
        IDP,
        [Certificate::from_pem(&fixture("keys/idp.cert.pem")).unwrap()],
    )
    .unwrap();
    let sp = ServiceProvider::builder(
        "https://sp.example.com/metadata",
        "https://sp.example.com/saml/acs",
    )
    .identity_provider(idp)
    .build()
    .unwrap();
    let xml = fixture("fixtures/both_signed.xml");
    let now = SystemTime::from(time::macros::datetime!(2030-01-01 00:01:00 UTC));
    let request_id = "_req0123456789abcdef0123456789abcdef"; // the fixture answers it
    let (a, b) = (place.open().await.unwrap(), place.open().await.unwrap());
    a.remember(request_id, now + Duration::from_secs(600), now)
        .await
        .unwrap();

    // The ACS on replica b: consume, validate as the answer to that request, check replay.
    assert!(b.consume(request_id, now).await.unwrap());
    let login = sp
        .validate_response(&xml, Expected::Request(request_id), now)
        .unwrap()
        .check_replay(&b)
        .await
        .unwrap();
    assert_eq!(login.name_id.value, "alice@example.com");

    // The same POST replayed on replica a: its request ID is spent, and the assertion too.
    assert!(!a.consume(request_id, now).await.unwrap());
    let replay = sp
        .validate_response(&xml, Expected::Request(request_id), now)
        .unwrap()
        .check_replay(&a)
        .await
        .unwrap_err();
    assert_eq!(replay.kind(), "replay");
}

async fn schema_refuses_malformed_rows<B: Backend>(place: &impl Place<B>) {
    let store = place.open().await.unwrap();
    // Keys are 32-byte digests and expiries integers; anything else is refused on write, so a
    // hand edit cannot leave a row that reads as something it is not.
    for sql in [
        "INSERT INTO rampart_saml_replay (digest, expires_at) VALUES (x'00', 1)",
        "INSERT INTO rampart_saml_request_ids (digest, expires_at) \
         VALUES (x'000000000000000000000000000000000000000000000000000000000000000000', 1)",
        "INSERT INTO rampart_saml_replay (digest, expires_at) \
         VALUES (x'0000000000000000000000000000000000000000000000000000000000000000', 'soon')",
        "INSERT INTO rampart_saml_request_ids (digest, expires_at) \
         VALUES (x'0000000000000000000000000000000000000000000000000000000000000000', NULL)",
    ] {
        assert!(B::exec(store.pool(), sql).await.is_err(), "accepted: {sql}");
    }
}

async fn schema_from_a_newer_version_is_refused<B: Backend>(place: &impl Place<B>) {
    let store = place.open().await.unwrap();
    assert_eq!(SqlStore::<B>::schema_version(), 1);
    B::add_migration(store.pool(), "_rampart_saml_migrations", 4).await;
    let e = place.open().await.unwrap_err();
    assert!(
        matches!(
            e,
            SqlStoreError::SchemaTooNew {
                found: 4,
                supported: 1
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.kind(), "schema_too_new");
}

async fn migrations_share_a_database_with_other_bookkeeping<B: Backend>(place: &impl Place<B>) {
    let first = place.open().await.unwrap();
    // The application's own sqlx migrations, and another Rampart crate's, far ahead of ours.
    B::add_migration(first.pool(), "_sqlx_migrations", 20_260_101_000_000).await;
    B::add_migration(first.pool(), "_rampart_apikey_migrations", 9).await;
    let exp = t0() + Duration::from_secs(60);
    assert!(first.insert_if_new(IDP, "_a", exp, t0()).await.unwrap());
    let again = place.open().await.unwrap();
    assert!(!again.insert_if_new(IDP, "_a", exp, t0()).await.unwrap());
}

async fn accepted_assertions_and_issued_ids_survive_reopening<B: SqlBackend>(
    place: &impl Place<B>,
) {
    let exp = t0() + Duration::from_secs(300);
    {
        let store = place.open().await.unwrap();
        assert!(store.insert_if_new(IDP, "_seen", exp, t0()).await.unwrap());
        store.remember("_issued", exp, t0()).await.unwrap();
        store.pool().close().await;
    }
    let store = place.open().await.unwrap();
    assert!(!store.insert_if_new(IDP, "_seen", exp, t0()).await.unwrap());
    assert!(store.consume("_issued", t0()).await.unwrap());
}

/// PostgreSQL killed (SIGKILL, every backend at once) under the store, then restarted: while
/// it is down every call fails within the timeout (fail closed: never "fresh"), and after the
/// restart an assertion accepted before the kill is still a replay and an ID remembered
/// before it is still consumable, once.
#[cfg(feature = "postgres")]
#[test]
fn killed_and_restarted_postgres_still_refuses_a_replay_and_fails_closed_meanwhile() {
    use std::time::Instant;
    let Some(mut server) = rampart_testkit::PostgresServer::start() else {
        return;
    };
    let url = server.create_database("saml");
    runtime().block_on(async {
        let store = rampart_saml::PostgresStore::connect(&url, &options())
            .await
            .unwrap();
        let now = SystemTime::now();
        let until = now + Duration::from_secs(300);
        // Several pooled connections at once, all of which the kill leaves dead.
        let (r1, r2, r3) = tokio::join!(
            store.insert_if_new(IDP, "_seen", until, now),
            store.insert_if_new(IDP, "_seen_too", until, now),
            store.remember("_issued", until, now),
        );
        assert!(r1.unwrap() && r2.unwrap());
        r3.unwrap();

        server.stop();
        let bound = options().timeout() + Duration::from_secs(1);
        let started = Instant::now();
        let down = store.insert_if_new(IDP, "_new", until, now).await;
        assert!(started.elapsed() < bound, "took {:?}", started.elapsed());
        let err = down.expect_err("a replay check without the database must fail closed");
        assert_eq!(err.kind(), "replay_cache_unavailable");
        let started = Instant::now();
        let err = store.consume("_issued", now).await.unwrap_err();
        assert_eq!(err.kind(), "request_id_store_unavailable");
        assert!(store.remember("_other", until, now).await.is_err());
        assert!(
            started.elapsed() < 2 * bound,
            "took {:?}",
            started.elapsed()
        );

        server.restart();
        // No retry loop: the store replaces the dead connections itself.
        assert!(
            !store.insert_if_new(IDP, "_seen", until, now).await.unwrap(),
            "a replay"
        );
        assert!(
            !store
                .insert_if_new(IDP, "_seen_too", until, now)
                .await
                .unwrap(),
            "a replay"
        );
        assert!(store.consume("_issued", now).await.unwrap());
        assert!(!store.consume("_issued", now).await.unwrap());
        assert!(store.insert_if_new(IDP, "_new", until, now).await.unwrap());
    });
}
