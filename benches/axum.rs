//! rampart-axum benchmarks (BENCHMARKS.md, "rampart-axum").
//!
//! A loopback axum server (tokio `TcpListener` + `axum::serve`) driven by a reqwest client
//! on a keep-alive connection; the three routes return the same four bytes:
//!
//! - `no_layer`: the baseline, no authentication;
//! - `api_key_layer`: behind `ApiKeyLayer` with a valid key (memory attempt store, in-memory
//!   key store): credential parsing, `check_all` over IP, pair and key, the store lookup
//!   and `ApiKeys::verify`, the `Principal`;
//! - `api_key_require`: the same plus `Authorizer::require("reports:read")`, granted by the
//!   key's owner's role;
//! - `apikey_check`: one `ApiKeys::check` alone (in process), the unit of the first target.
//! - `/noop` (paired only): a layer that only inserts a principal, part of the floor.
//!
//! The same routes are also called in process (the router's `Service::call` with the
//! `ConnectInfo` the server would insert, on a current-thread runtime): the layers' own cost
//! without the loopback's noise, which on a shared machine is tens of microseconds against a
//! check of about one.
//!
//! Criterion's groups (`axum_request` over loopback, `axum_in_process`) give each side's
//! absolute time; the targets come from interleaved rounds in the same run (each round times
//! every side back to back), printed as `axum/paired/...`:
//!
//! - added latency of the layer (in process) / one API-key check: target <= 2, against its
//!   floor (the parts the layer cannot skip, `floor_parts`, plus the `/noop` layer);
//! - throughput with the layer / without, over loopback, 16 requests in flight;
//! - `require(permission)` route / the same route without it, in process and over loopback:
//!   target <= 1.02.
//!
//! `cargo bench -p rampart --no-default-features --features axum --bench axum -- --warm-up-time 1 --measurement-time 2`

// criterion_group! generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

#[path = "common/paired.rs"]
mod paired;

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use rampart::apikey::{
    ApiKeys, AsyncKeyStore, HashingKey, InMemoryStore, KeyOptions, KeyPrefix, Keyset,
};
use rampart::attempts::{MemoryStore, Subject, Tracker};
use rampart::axum::{ApiKeyLayer, Authorizer, KeyOwner, Principal};
use tower_service::Service;

/// Requests per side and round of the interleaved ratios.
const PAIRED_REQUESTS: usize = 400;
/// In-process calls per side and round.
const PAIRED_CALLS: usize = 20_000;
/// API-key checks per round (each about a microsecond: many, for a stable time).
const PAIRED_CHECKS: usize = 20_000;
/// Requests in flight for the throughput ratio.
const IN_FLIGHT: u64 = 16;

struct Bench {
    rt: tokio::runtime::Runtime,
    /// For the in-process side: the router called directly, no socket.
    local: tokio::runtime::Runtime,
    app: Router,
    client: reqwest::Client,
    base: String,
    bearer: String,
    keys: Arc<ApiKeys>,
    store: Arc<InMemoryStore>,
    tracker: Arc<Tracker<MemoryStore>>,
    secret: String,
}

fn setup() -> Bench {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let keys = Arc::new(ApiKeys::new(
        KeyPrefix::new("rk", "live").expect("prefix"),
        Keyset::new(1, HashingKey::generate().expect("key")),
    ));
    let store = Arc::new(InMemoryStore::new());
    let issued = keys
        .issue(
            KeyOptions::new().with_scopes(["orders:read"]),
            SystemTime::now(),
        )
        .expect("issue");
    store.insert(issued.record).expect("insert");
    let secret = issued.secret_key.expose_secret().to_owned();
    let tracker = Arc::new(Tracker::new(MemoryStore::default()));
    let authz = Authorizer::new(
        rampart::authz::Policy::from_toml(
            "permissions = [\"reports:read\"]\n[roles.viewer]\npermissions = [\"reports:read\"]",
        )
        .expect("policy"),
    );
    let layer = ApiKeyLayer::new(keys.clone(), store.clone(), tracker.clone()).with_owners(
        |_: &rampart::apikey::VerifiedKey| Some(KeyOwner::new("ann").with_roles(["viewer"])),
    );
    let app = Router::new()
        .route("/plain", get(|| async { "done" }))
        .merge(
            // What any authentication layer does whatever it checks: a boxed future per
            // request and a principal put on the request for the handlers.
            Router::new()
                .route("/noop", get(|| async { "done" }))
                .layer(axum::middleware::from_fn(
                    |mut req: axum::extract::Request, next: axum::middleware::Next| async move {
                        req.extensions_mut()
                            .insert(Principal::restore_from_session("ann", ["viewer"]));
                        next.run(req).await
                    },
                )),
        )
        .merge(
            Router::new()
                .route("/key", get(|| async { "done" }))
                .layer(layer.clone()),
        )
        .merge(
            Router::new()
                .route("/require", get(|| async { "done" }))
                .route_layer(authz.require("reports:read").expect("declared"))
                .layer(layer),
        );
    let served = app.clone();
    let base = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            axum::serve(
                listener,
                served.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("serve");
        });
        format!("http://{addr}")
    });
    let bench = Bench {
        rt,
        local: tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime"),
        app,
        client: reqwest::Client::new(),
        base,
        bearer: format!("Bearer {secret}"),
        keys,
        store,
        tracker,
        secret,
    };
    for path in ["/plain", "/noop", "/key", "/require"] {
        let status = bench.rt.block_on(bench.get(path));
        assert_eq!(status, 200, "{path}");
        bench.local.block_on(async {
            assert_eq!(bench.call(path).await, 200, "{path} in process");
        });
    }
    bench
}

impl Bench {
    async fn get(&self, path: &str) -> u16 {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("authorization", &self.bearer)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        black_box(r.bytes().await.expect("body"));
        status
    }

    /// One request through the router in process (what the server does after reading it):
    /// the layers' own cost without the network's noise.
    async fn call(&self, path: &str) -> u16 {
        let mut request = http::Request::get(path)
            .header("authorization", &self.bearer)
            .body(axum::body::Body::empty())
            .expect("request");
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        let mut app = self.app.clone();
        std::future::poll_fn(|cx| {
            <Router as Service<http::Request<axum::body::Body>>>::poll_ready(&mut app, cx)
        })
        .await
        .expect("ready");
        let response = app.call(request).await.expect("infallible");
        response.status().as_u16()
    }

    /// `n` requests in process, one after the other.
    fn in_process(&self, path: &str, n: usize) {
        self.local.block_on(async {
            for _ in 0..n {
                black_box(self.call(path).await);
            }
        });
    }

    /// `n` requests one after the other.
    fn sequential(&self, path: &str, n: usize) {
        self.rt.block_on(async {
            for _ in 0..n {
                self.get(path).await;
            }
        });
    }

    /// `n` checks through the async store path the layer uses, in one `block_on`.
    fn checks_async(&self, n: usize) {
        self.local.block_on(async {
            for _ in 0..n {
                black_box(
                    self.keys
                        .check_async(
                            &*self.store,
                            black_box(&self.secret),
                            &[],
                            SystemTime::now(),
                        )
                        .await
                        .expect("valid"),
                );
            }
        });
    }

    /// `n` times what the layer cannot skip, in its order: the streaks of the three subjects
    /// it must read before the secret is checked (built per request, as the layer does), then
    /// the record's lookup and verification. The floor of the added latency, without the layer's own work.
    fn floor_parts(&self, n: usize) {
        let ip = std::net::IpAddr::from([127, 0, 0, 1]);
        self.local.block_on(async {
            for _ in 0..n {
                let now = SystemTime::now();
                let parsed = self.keys.parse(black_box(&self.secret)).expect("parses");
                let id = parsed.public_id();
                let (by_ip, pair, key) = (
                    Subject::ip(ip),
                    Subject::api_key_from_ip(id.as_str(), ip),
                    Subject::api_key(id.as_str()),
                );
                let decision = self.tracker.check_all(&[&by_ip, &pair, &key], now).await;
                black_box(decision.expect("store"));
                // The layer's own path after the streaks: lookup, then verify.
                let record = AsyncKeyStore::find(&*self.store, &id).await.expect("store");
                black_box(self.keys.verify(&parsed, record, &[], now).expect("valid"));
            }
        });
    }

    fn check(&self) {
        black_box(
            self.keys
                .check(
                    &*self.store,
                    black_box(&self.secret),
                    &[],
                    SystemTime::now(),
                )
                .expect("valid"),
        );
    }
}

fn axum_layers(c: &mut Criterion) {
    let bench = Arc::new(setup());
    let mut g = c.benchmark_group("axum_request");
    for (name, path) in [
        ("no_layer", "/plain"),
        ("api_key_layer", "/key"),
        ("api_key_require", "/require"),
    ] {
        g.bench_function(name, |b| b.iter(|| bench.rt.block_on(bench.get(path))));
    }
    g.finish();
    let mut g = c.benchmark_group("axum_in_process");
    for (name, path) in [
        ("no_layer", "/plain"),
        ("api_key_layer", "/key"),
        ("api_key_require", "/require"),
    ] {
        g.bench_function(name, |b| b.iter(|| bench.local.block_on(bench.call(path))));
    }
    g.bench_function("apikey_check", |b| b.iter(|| bench.check()));
    g.finish();

    // Added latency over one API-key check, from interleaved rounds.
    let rounds = 15;
    let mut added_over_check = Vec::with_capacity(rounds);
    let mut added_over_check_async = Vec::with_capacity(rounds);
    let mut floor_over_check = Vec::with_capacity(rounds);
    let mut noop_over_check = Vec::with_capacity(rounds);
    for round in 0..=rounds {
        let time = |f: &dyn Fn()| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        };
        let (plain, key) = if round % 2 == 0 {
            let p = time(&|| bench.in_process("/plain", PAIRED_CALLS));
            (p, time(&|| bench.in_process("/key", PAIRED_CALLS)))
        } else {
            let k = time(&|| bench.in_process("/key", PAIRED_CALLS));
            (time(&|| bench.in_process("/plain", PAIRED_CALLS)), k)
        };
        let check = time(&|| (0..PAIRED_CHECKS).for_each(|_| bench.check()));
        let check_async = time(&|| bench.checks_async(PAIRED_CHECKS));
        let floor = time(&|| bench.floor_parts(PAIRED_CHECKS));
        let noop = time(&|| bench.in_process("/noop", PAIRED_CALLS));
        if round > 0 {
            noop_over_check
                .push(((noop - plain) / PAIRED_CALLS as f64) / (check / PAIRED_CHECKS as f64));
            floor_over_check.push(floor / check);
            let added = (key - plain) / PAIRED_CALLS as f64;
            added_over_check.push(added / (check / PAIRED_CHECKS as f64));
            added_over_check_async.push(added / (check_async / PAIRED_CHECKS as f64));
        }
    }
    added_over_check.sort_by(f64::total_cmp);
    println!(
        "axum/paired/api_key_layer_added_latency: added latency per request in process / one API-key check (target <= 2), median {:.2} over {rounds} interleaved rounds (min {:.2}, max {:.2})",
        added_over_check[rounds / 2],
        added_over_check[0],
        added_over_check[rounds - 1],
    );
    added_over_check_async.sort_by(f64::total_cmp);
    println!(
        "axum/paired/api_key_layer_added_latency_async: the same / one ApiKeys::check_async on the in-memory store (parse, lookup, verify), median {:.2} (min {:.2}, max {:.2})",
        added_over_check_async[rounds / 2],
        added_over_check_async[0],
        added_over_check_async[rounds - 1],
    );

    floor_over_check.sort_by(f64::total_cmp);
    println!(
        "axum/paired/api_key_layer_floor: the parts the layer cannot skip (parse, the attempt check of its three subjects, lookup, verify) / one API-key check, median {:.2} (min {:.2}, max {:.2})",
        floor_over_check[rounds / 2],
        floor_over_check[0],
        floor_over_check[rounds - 1],
    );

    noop_over_check.sort_by(f64::total_cmp);
    println!(
        "axum/paired/noop_layer_added_latency: latency added by a layer that only inserts a principal (axum::middleware::from_fn) / one API-key check, median {:.2} (min {:.2}, max {:.2})",
        noop_over_check[rounds / 2],
        noop_over_check[0],
        noop_over_check[rounds - 1],
    );

    let mut sides_throughput = |side: usize| {
        let path = if side == 0 { "/plain" } else { "/key" };
        concurrent_requests(&bench, path);
    };
    let mut sides_require = |side: usize| {
        bench.in_process(if side == 0 { "/require" } else { "/key" }, PAIRED_CALLS);
    };
    let mut sides_require_loopback = |side: usize| {
        bench.sequential(if side == 0 { "/require" } else { "/key" }, PAIRED_REQUESTS);
    };
    paired::paired_ratios(
        "axum",
        "time of 400 requests, 16 in flight, without the layer / with it = throughput with / without",
        15,
        &mut [("api_key_layer_throughput", &mut sides_throughput)],
    );
    paired::paired_ratios(
        "axum",
        "time of a require(permission) route / the same route without it, in process (target <= 1.02)",
        15,
        &mut [("require_vs_none_in_process", &mut sides_require)],
    );
    paired::paired_ratios(
        "axum",
        "the same over loopback HTTP, 400 sequential requests a side",
        15,
        &mut [("require_vs_none_loopback", &mut sides_require_loopback)],
    );
}

/// `PAIRED_REQUESTS` requests to `path`, `IN_FLIGHT` at a time.
fn concurrent_requests(bench: &Arc<Bench>, path: &'static str) {
    bench.rt.block_on(async {
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..IN_FLIGHT)
            .map(|_| {
                let (bench, next) = (Arc::clone(bench), Arc::clone(&next));
                tokio::spawn(async move {
                    while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < PAIRED_REQUESTS
                    {
                        bench.get(path).await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("task");
        }
    });
}

criterion_group!(benches, axum_layers);
criterion_main!(benches);
