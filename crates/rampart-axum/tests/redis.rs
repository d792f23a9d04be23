//! ApiKeyLayer on two replicas sharing a real `redis-server` attempt store.

mod common;

use rampart_testkit::http::Sent;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::{Router, routing::get};
use common::{Keys, client, serve};
use rampart_attempts::{FnNotifier, Notification, RedisConfig, RedisStore, Tracker};
use rampart_axum::{ApiKeyLayer, TrustedProxies};
use rampart_testkit::RedisServer;

#[tokio::test]
async fn replicas_on_one_redis_throttle_together_and_notify_once() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let k = Keys::new();
    let issued = k.issue(&[]);
    let notified = Arc::new(AtomicU32::new(0));
    let mut bases = Vec::new();
    for _ in 0..2 {
        let counter = notified.clone();
        let store = RedisStore::connect(RedisConfig::new(server.url()))
            .await
            .unwrap();
        let tracker = Arc::new(Tracker::new(store).with_notifier(FnNotifier(
            move |_: &Notification| {
                counter.fetch_add(1, Ordering::SeqCst);
            },
        )));
        let app = Router::new()
            .route("/whoami", get(|| async { "ok" }))
            .layer(
                ApiKeyLayer::new(k.keys.clone(), k.store.clone(), tracker)
                    .with_trusted_proxies(TrustedProxies::new(["127.0.0.1"]).unwrap()),
            );
        bases.push(serve(app).await);
    }
    let forged = {
        let mut s = issued.secret_key.expose_secret().to_owned();
        let last = s.pop().unwrap();
        s.push(if last == 'A' { 'B' } else { 'A' });
        s
    };
    let send = |base: &str, ip: String, secret: String| {
        let url = format!("{base}/whoami");
        async move {
            client()
                .get(url)
                .header("authorization", format!("Bearer {secret}"))
                .header("x-forwarded-for", ip)
                .sent()
                .await
        }
    };
    // One IP, the two replicas in turn: the (key, IP) pair's 5 free failures are shared.
    for i in 0..6 {
        let r = send(&bases[i % 2], "203.0.113.1".into(), forged.clone()).await;
        assert_eq!(r.status(), 401, "failure {i}");
    }
    let r = send(&bases[0], "203.0.113.1".into(), forged.clone()).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    // Many IPs: the key's 20th consecutive failure (6 so far) notifies once across replicas.
    for i in 0..20u8 {
        let r = send(
            &bases[usize::from(i) % 2],
            format!("198.51.100.{i}"),
            forged.clone(),
        )
        .await;
        assert_eq!(r.status(), 401);
    }
    assert_eq!(notified.load(Ordering::SeqCst), 1);
    let r = send(
        &bases[1],
        "192.0.2.1".into(),
        issued.secret_key.expose_secret().to_owned(),
    )
    .await;
    assert_eq!(r.status(), 200);
}
