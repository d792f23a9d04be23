//! The Redis store of issued request IDs against a real redis-server that the test starts on
//! a unix socket in a temporary directory (skipped loudly when redis-server is missing, except
//! under CI=true).
#![cfg(feature = "redis")]

use std::time::{Duration, SystemTime};

use rampart_saml::{RedisRequestIds, RequestIdStore};
use rampart_testkit::RedisServer;

fn url(server: &RedisServer) -> String {
    format!("unix://{}", server.socket().display())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn redis_request_id_is_consumed_once_across_replicas_and_expires() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let url = url(&server);
    runtime().block_on(async {
        let a = RedisRequestIds::connect(&url, "saml:").await.unwrap();
        let b = RedisRequestIds::connect(&url, "saml:").await.unwrap();
        let now = SystemTime::now();
        a.remember("_r1", now + Duration::from_secs(600), now)
            .await
            .unwrap();
        assert!(!b.consume("_never_issued", now).await.unwrap());
        assert!(b.consume("_r1", now).await.unwrap());
        assert!(!a.consume("_r1", now).await.unwrap(), "consumed once");

        // Concurrent consumers: exactly one wins.
        a.remember("_race", now + Duration::from_secs(600), now)
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for i in 0..16 {
            let c = if i % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move {
                c.consume("_race", now).await.unwrap()
            }));
        }
        let mut wins = 0;
        for t in tasks {
            wins += usize::from(t.await.unwrap());
        }
        assert_eq!(wins, 1);

        // Never answered: Redis drops it when it expires (PX).
        a.remember("_short", now + Duration::from_millis(200), now)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(!b.consume("_short", SystemTime::now()).await.unwrap());
    });
}

#[test]
fn redis_request_id_keys_are_bounded_digests_in_a_versioned_layout() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let url = url(&server);
    runtime().block_on(async {
        let ids = RedisRequestIds::connect(&url, "shared:").await.unwrap();
        // Layout v1, pinned: prefix, "req:v1:", hex SHA-256 of the ID.
        assert_eq!(
            ids.key("abc"),
            "shared:req:v1:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let long = "_".repeat(100_000);
        let now = SystemTime::now();
        ids.remember(&long, now + Duration::from_secs(60), now)
            .await
            .unwrap();
        assert_eq!(ids.key(&long).len(), "shared:req:v1:".len() + 64);
        assert!(ids.consume(&long, now).await.unwrap());
    });
}

#[test]
fn redis_request_ids_fail_closed_when_the_server_is_gone() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let url = url(&server);
    runtime().block_on(async {
        let ids = RedisRequestIds::connect(&url, "p:").await.unwrap();
        let now = SystemTime::now();
        ids.remember("_r", now + Duration::from_secs(60), now)
            .await
            .unwrap();
        drop(server);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let e = ids.consume("_r", now).await.unwrap_err();
        assert_eq!(e.kind(), "request_id_store_unavailable");
        let e = ids
            .remember("_s", now + Duration::from_secs(60), now)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "request_id_store_unavailable");
    });
}

/// Redis killed (SIGKILL) and restarted under the store: while it is down a call fails
/// closed within the deadline, and afterwards an ID remembered before the kill is consumed
/// once (the server keeps an fsynced append-only file), on the first call after the restart.
#[test]
fn killed_and_restarted_redis_keeps_issued_ids_and_fails_closed_meanwhile() {
    use std::time::Instant;
    let Some(mut server) = RedisServer::start_durable() else {
        return;
    };
    runtime().block_on(async {
        let timeout = Duration::from_millis(500);
        let ids = RedisRequestIds::connect_with_timeout(&url(&server), "p:", timeout)
            .await
            .unwrap();
        let now = SystemTime::now();
        let until = now + Duration::from_secs(300);
        ids.remember("_issued", until, now).await.unwrap();

        server.stop();
        let started = Instant::now();
        let err = ids.consume("_issued", now).await.unwrap_err();
        assert_eq!(err.kind(), "request_id_store_unavailable");
        assert!(
            started.elapsed() < timeout + Duration::from_millis(500),
            "{:?}",
            started.elapsed()
        );

        server.restart();
        let mut consumed = None;
        for _ in 0..100 {
            match ids.consume("_issued", now).await {
                Ok(found) => {
                    consumed = Some(found);
                    break;
                }
                // The manager reconnects in the background after the outage.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        assert_eq!(consumed, Some(true), "the ID remembered before the kill");
        assert!(!ids.consume("_issued", now).await.unwrap());
    });
}
