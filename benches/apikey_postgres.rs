//! rampart-apikey's PostgreSQL store (BENCHMARKS.md, "rampart-apikey").
//!
//! - `apikey_postgres_check`: `ApiKeys::check_async` through `PostgresKeyStore` (lookup by
//!   public id, record decoded and validated, HMAC-SHA256, constant-time compare, expiry,
//!   revocation, scopes) against its floor: the raw `SELECT record ... WHERE public_id = $1`
//!   on the same pool plus one HMAC-SHA256 of the secret key text. 10 000 records in the
//!   table; the server is a cluster the bench starts on a unix socket (skipped loudly without
//!   PostgreSQL). Target ratio <= 1.2. Then the same ratio again from 41 interleaved rounds
//!   of 200 calls a side (`apikey_postgres_check/paired/...`): criterion's two entries run
//!   seconds apart, and on a shared machine the load moves more than the difference.
//!
//! `cargo bench -p rampart --no-default-features --features apikey,postgres --bench apikey_postgres`

// criterion_group! generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

#[path = "common/paired.rs"]
mod paired;

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use rampart_apikey::sqlx;
use rampart_apikey::{
    ApiKeys, HashingKey, KeyOptions, KeyPrefix, Keyset, PostgresKeyStore, SqlStoreOptions,
};
use rampart_testkit::PostgresServer;
use ring::hmac;

const HASHING_KEY: [u8; 32] = [0x5a; 32];
const RECORDS: usize = 10_000;

fn check(c: &mut Criterion) {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let url = server.create_database("bench");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let keys = ApiKeys::new(
        KeyPrefix::new("rk", "live").expect("valid prefix"),
        Keyset::new(1, HashingKey::from_bytes(&HASHING_KEY).expect("32 bytes")),
    );
    let now = SystemTime::now();
    let (store, secret) = rt.block_on(async {
        let store = PostgresKeyStore::connect(&url, &SqlStoreOptions::new())
            .await
            .expect("connect");
        for _ in 0..RECORDS {
            let k = keys
                .issue(KeyOptions::new().with_scopes(["read", "write"]), now)
                .expect("issue");
            store.insert(&k.record).await.expect("insert");
        }
        let k = keys
            .issue(KeyOptions::new().with_scopes(["read", "write"]), now)
            .expect("issue");
        store.insert(&k.record).await.expect("insert");
        sqlx::query("ANALYZE rampart_api_keys")
            .execute(store.pool())
            .await
            .expect("analyze");
        (store, k.secret_key.expose_secret().to_owned())
    });
    let id = keys.parse(&secret).expect("valid").public_id();
    let ring_key = hmac::Key::new(hmac::HMAC_SHA256, &HASHING_KEY);

    let mut g = c.benchmark_group("apikey_postgres_check");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("raw_select_plus_hmac", |b| {
        b.iter(|| {
            rt.block_on(async {
                let row: Option<String> =
                    sqlx::query_scalar("SELECT record FROM rampart_api_keys WHERE public_id = $1")
                        .bind(black_box(id.as_str()))
                        .fetch_optional(store.pool())
                        .await
                        .expect("select");
                (row, hmac::sign(&ring_key, black_box(secret.as_bytes())))
            })
        });
    });
    g.bench_function("check_async_via_store", |b| {
        b.iter(|| {
            rt.block_on(keys.check_async(&store, black_box(&secret), &["read"], now))
                .expect("valid")
        });
    });
    g.finish();

    const BATCH: usize = 200;
    let raw = || {
        rt.block_on(async {
            let row: Option<String> =
                sqlx::query_scalar("SELECT record FROM rampart_api_keys WHERE public_id = $1")
                    .bind(black_box(id.as_str()))
                    .fetch_optional(store.pool())
                    .await
                    .expect("select");
            black_box((row, hmac::sign(&ring_key, black_box(secret.as_bytes()))));
        });
    };
    let checked = || {
        black_box(
            rt.block_on(keys.check_async(&store, black_box(&secret), &["read"], now))
                .expect("valid"),
        );
    };
    let batch = |f: &dyn Fn()| (0..BATCH).for_each(|_| f());
    let mut check_vs_raw = |side: usize| batch(if side == 0 { &checked } else { &raw });
    paired::paired_ratios(
        "apikey_postgres_check",
        "check_async through PostgresKeyStore / raw SELECT by public id + one HMAC",
        41,
        &mut [("check_async_vs_raw_select_plus_hmac", &mut check_vs_raw)],
    );
    drop(store);
    drop(server);
}

criterion_group!(benches, check);
criterion_main!(benches);
