//! The Rust side of the peer comparison (`benches/peers/run.py`, BENCHMARKS.md
//! "Methodology"): a long-lived process that times rampart's operations, and the baselines
//! that are Rust too, on request, so that the driver can alternate rounds between rampart and
//! a peer in one run.
//!
//! The driver writes one command per line on stdin, `OP N`, and reads one JSON line back,
//! `{"op": OP, "n": N, "ns": elapsed}` (N operations, one thread, except the Redis operations,
//! which keep 64 in flight on a 2-thread Tokio runtime). `info` answers with the inputs the
//! driver needs to run the peers on the same data (the signed response, the IdP certificate,
//! a stored password hash, an API key). Operations:
//!
//! - `saml`: a full validation of the 8.5 KiB xmlsec1-signed response (RSA-2048, RSA-SHA256)
//!   of rampart-saml's fixtures, from the base64 form value to the login, at a fixed `now`.
//! - `password_hash`, `password_verify`: `Hasher` at its defaults (OWASP: argon2id
//!   m=19456 KiB, t=2, p=1); `argon2_hash`, `argon2_verify`: the `argon2` crate called
//!   directly with the same parameters (fresh memory per call, as it allocates).
//! - `apikey_check`: the full check of a key among 10 000 in-memory records.
//! - `attempts_rampart`: `Tracker::record_failure` over the Redis store; `attempts_incr`: the
//!   usual hand-rolled counter, an `INCR` + `EXPIRE` pipeline per failure, on the same kind of
//!   connection (both need `--redis URL`, given by the driver, which starts redis-server).
//!
//! ```text
//! benches/peers/build     # the CLI and this example, in release
//! python3 benches/peers/run.py
//! ```

use std::hint::black_box;
use std::io::{BufRead as _, Write as _};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use argon2::password_hash::{PasswordHash, PasswordVerifier as _};
use base64::Engine as _;
use rampart::apikey::{ApiKeys, HashingKey, InMemoryStore, KeyOptions, KeyPrefix, Keyset};
use rampart::attempts::{RedisConfig, RedisStore, Subject, Tracker};
use rampart::password::{Hasher, Password};
use rampart::saml::{Certificate, Expected, IdentityProvider, ServiceProvider};
use serde_json::json;

#[path = "../common/in_flight.rs"]
mod in_flight;

const RESPONSE: &str =
    include_str!("../../crates/rampart-saml/tests/fixtures/assertion_signed.xml");
const IDP_CERT: &str = include_str!("../../crates/rampart-saml/tests/keys/idp.cert.pem");
/// 2030-01-01T00:01:00Z: one minute after the response's IssueInstant.
const NOW_UNIX: u64 = 1_893_456_060;
const REQUEST_ID: &str = "_req0123456789abcdef0123456789abcdef";
const PW: &str = "correct horse battery staple";
/// Requests in flight against Redis, as in `benches/attempts.rs`.
const IN_FLIGHT: u64 = 64;
/// Distinct subjects cycled through.
const SUBJECTS: usize = 4096;
/// The hand-rolled counter's window, and the Tracker's idle reset: a day.
const WINDOW_SECS: i64 = 24 * 3600;

type Op = Box<dyn FnMut(u64)>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut redis_url = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--redis" => redis_url = args.next(),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }

    let form_value = base64::engine::general_purpose::STANDARD.encode(RESPONSE);
    let sp = ServiceProvider::builder(
        "https://sp.example.com/metadata",
        "https://sp.example.com/saml/acs",
    )
    .identity_provider(IdentityProvider::new(
        "https://idp.example.com/metadata",
        [Certificate::from_pem(IDP_CERT.as_bytes())?],
    )?)
    .build()?;
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW_UNIX);
    let login = sp.validate_response(form_value.as_bytes(), Expected::Request(REQUEST_ID), now)?;
    let name_id = login.login_unchecked_for_replay().name_id.value.clone();

    let hasher = Hasher::new();
    let password = Password::new(PW);
    let stored = hasher.hash(&password)?;
    let direct = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(19 * 1024, 2, 1, Some(32)).map_err(|e| e.to_string())?,
    );

    let keys = ApiKeys::new(
        KeyPrefix::new("rk", "live")?,
        Keyset::new(1, HashingKey::from_bytes(&[0x5a; 32])?),
    );
    let key_store = InMemoryStore::new();
    let wall = SystemTime::now();
    for _ in 0..10_000 {
        key_store.insert(
            keys.issue(KeyOptions::new().with_scopes(["read"]), wall)?
                .record,
        )?;
    }
    let issued = keys.issue(KeyOptions::new().with_scopes(["read", "write"]), wall)?;
    key_store.insert(issued.record)?;
    let api_key = issued.secret_key.expose_secret().to_owned();

    let mut ops: Vec<(&str, Op)> = Vec::new();
    {
        let form_value = form_value.clone();
        ops.push((
            "saml",
            Box::new(move |n| {
                for _ in 0..n {
                    let v = sp.validate_response(
                        black_box(form_value.as_bytes()),
                        Expected::Request(REQUEST_ID),
                        now,
                    );
                    drop(black_box(v.expect("validates")));
                }
            }),
        ));
    }
    {
        let hasher = hasher.clone();
        ops.push((
            "password_hash",
            Box::new(move |n| {
                let password = Password::new(PW);
                for _ in 0..n {
                    black_box(hasher.hash(&password).expect("hash"));
                }
            }),
        ));
    }
    {
        let (hasher, stored) = (hasher.clone(), stored.clone());
        ops.push((
            "password_verify",
            Box::new(move |n| {
                let password = Password::new(PW);
                for _ in 0..n {
                    black_box(hasher.verify(&password, &stored).expect("verify"));
                }
            }),
        ));
    }
    {
        let direct = direct.clone();
        ops.push((
            "argon2_hash",
            Box::new(move |n| {
                for _ in 0..n {
                    let mut salt = [0u8; 16];
                    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
                    let mut out = [0u8; 32];
                    direct
                        .hash_password_into(black_box(PW.as_bytes()), &salt, &mut out)
                        .expect("hash");
                    black_box(out);
                }
            }),
        ));
    }
    {
        let stored = stored.clone();
        ops.push((
            "argon2_verify",
            Box::new(move |n| {
                for _ in 0..n {
                    let parsed = PasswordHash::new(&stored).expect("phc");
                    let ok = argon2::Argon2::default().verify_password(PW.as_bytes(), &parsed);
                    assert!(ok.is_ok());
                }
            }),
        ));
    }
    {
        let api_key = api_key.clone();
        ops.push((
            "apikey_check",
            Box::new(move |n| {
                for _ in 0..n {
                    let v = keys.check(&key_store, black_box(&api_key), &["read"], wall);
                    black_box(v.expect("valid key"));
                }
            }),
        ));
    }
    if let Some(url) = &redis_url {
        redis_ops(url, &mut ops)?;
    }

    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let mut words = line.split_ascii_whitespace();
        let (Some(op), n) = (
            words.next(),
            words.next().and_then(|w| w.parse::<u64>().ok()),
        ) else {
            continue;
        };
        let reply = if op == "info" {
            json!({
                "saml_response_b64": form_value,
                "saml_request_id": REQUEST_ID,
                "saml_now_unix": NOW_UNIX,
                "saml_name_id": name_id,
                "idp_cert_pem": IDP_CERT,
                "password": PW,
                "password_stored": stored,
                "redis": redis_url.is_some(),
            })
        } else if let Some((_, f)) = ops.iter_mut().find(|(name, _)| *name == op) {
            let n = n.unwrap_or(1);
            let start = Instant::now();
            f(n);
            let ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
            json!({ "op": op, "n": n, "ns": ns })
        } else {
            json!({ "op": op, "error": "unknown operation" })
        };
        writeln!(out, "{reply}")?;
        out.flush()?;
    }
    Ok(())
}

/// `attempts_rampart` and `attempts_incr`, 64 in flight on a 2-thread runtime.
fn redis_ops(url: &str, ops: &mut Vec<(&str, Op)>) -> Result<(), Box<dyn std::error::Error>> {
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?,
    );
    let store = rt.block_on(RedisStore::connect(
        RedisConfig::new(url).with_prefix("peers:"),
    ))?;
    let tracker = Arc::new(Tracker::new(store));
    let subjects: Arc<Vec<Subject>> = Arc::new(
        (0..SUBJECTS)
            .map(|i| Subject::api_key(format!("pk_live_{i:08x}")))
            .collect(),
    );
    let conn = rt.block_on(redis::aio::ConnectionManager::new(redis::Client::open(
        url,
    )?))?;
    let counters: Arc<Vec<String>> = Arc::new(
        (0..SUBJECTS)
            .map(|i| format!("handrolled:pk_live_{i:08x}"))
            .collect(),
    );
    {
        let rt = Arc::clone(&rt);
        ops.push((
            "attempts_rampart",
            Box::new(move |n| {
                let (tracker, subjects) = (Arc::clone(&tracker), Arc::clone(&subjects));
                in_flight::concurrent(&rt, IN_FLIGHT, n, move |i| {
                    let (tracker, subjects) = (Arc::clone(&tracker), Arc::clone(&subjects));
                    async move {
                        let s = &subjects[usize::try_from(i).unwrap_or(0) % SUBJECTS];
                        black_box(tracker.record_failure(s, SystemTime::now()).await.unwrap());
                    }
                });
            }),
        ));
    }
    ops.push((
        "attempts_incr",
        Box::new(move |n| {
            let (conn, counters) = (conn.clone(), Arc::clone(&counters));
            in_flight::concurrent(&rt, IN_FLIGHT, n, move |i| {
                let (mut conn, counters) = (conn.clone(), Arc::clone(&counters));
                async move {
                    let key = &counters[usize::try_from(i).unwrap_or(0) % SUBJECTS];
                    let (count, _): (i64, i64) = redis::pipe()
                        .incr(key, 1)
                        .expire(key, WINDOW_SECS)
                        .query_async(&mut conn)
                        .await
                        .unwrap();
                    black_box(count);
                }
            });
        }),
    ));
    Ok(())
}
