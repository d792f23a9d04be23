//! The Redis replay cache against a real redis-server that the test starts on a unix socket in
//! a temporary directory (skipped loudly when redis-server is missing, except under CI=true).
#![cfg(feature = "redis")]

use std::time::{Duration, SystemTime};

use rampart_saml::{RedisReplayCache, ReplayCache};
use rampart_testkit::RedisServer;

fn start() -> Option<RedisServer> {
    RedisServer::start()
}

/// The `unix://` URL `RedisReplayCache::connect` takes.
fn url(server: &RedisServer) -> String {
    format!("unix://{}", server.socket().display())
}

#[test]
fn redis_replay_cache_accepts_once_across_replicas_until_expiry() {
    let Some(server) = start() else { return };
    let url = url(&server);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // Two "replicas" with their own connections share the server.
        let a = RedisReplayCache::connect(&url, "saml:replay:")
            .await
            .unwrap();
        let b = RedisReplayCache::connect(&url, "saml:replay:")
            .await
            .unwrap();
        let now = SystemTime::now();
        let exp = now + Duration::from_millis(300);
        assert!(a.insert_if_new("", "_assertion1", exp, now).await.unwrap());
        assert!(
            !b.insert_if_new("", "_assertion1", exp, now).await.unwrap(),
            "replica b must see the replay"
        );
        assert!(!a.insert_if_new("", "_assertion1", exp, now).await.unwrap());
        assert!(b.insert_if_new("", "_assertion2", exp, now).await.unwrap());

        // Concurrent first uses: exactly one wins.
        let mut tasks = Vec::new();
        for i in 0..16 {
            let c = if i % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move {
                c.insert_if_new("", "_race", exp, now).await.unwrap()
            }));
        }
        let mut wins = 0;
        for t in tasks {
            if t.await.unwrap() {
                wins += 1;
            }
        }
        assert_eq!(wins, 1);

        // Kept only until the assertion expires (PX), then the key is gone.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let later = SystemTime::now();
        assert!(
            a.insert_if_new("", "_assertion1", later + Duration::from_secs(60), later)
                .await
                .unwrap()
        );
    });
}

#[test]
fn redis_replay_cache_fails_closed_when_server_is_gone() {
    let Some(server) = start() else { return };
    let url = url(&server);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = RedisReplayCache::connect(&url, "p:").await.unwrap();
        drop(server);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = SystemTime::now();
        let r = c
            .insert_if_new("", "_x", now + Duration::from_secs(60), now)
            .await;
        assert_eq!(r.unwrap_err().kind(), "replay_cache_unavailable");
    });
}

#[test]
fn validated_response_checks_replay_through_redis() {
    let Some(server) = start() else { return };
    let url = url(&server);
    let xml = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/both_signed.xml"
    ))
    .unwrap();
    let idp = rampart_saml::IdentityProvider::new(
        "https://idp.example.com/metadata",
        [rampart_saml::Certificate::from_pem(
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/keys/idp.cert.pem"
            ))
            .unwrap(),
        )
        .unwrap()],
    )
    .unwrap();
    let sp = rampart_saml::ServiceProvider::builder(
        "https://sp.example.com/metadata",
        "https://sp.example.com/saml/acs",
    )
    .identity_provider(idp)
    .build()
    .unwrap();
    let now = SystemTime::from(time::macros::datetime!(2030-01-01 00:01:00 UTC));
    let expected = rampart_saml::Expected::Request("_req0123456789abcdef0123456789abcdef");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let cache = RedisReplayCache::connect(&url, "saml:").await.unwrap();
        let login = sp
            .validate_response(&xml, expected, now)
            .unwrap()
            .check_replay(&cache)
            .await
            .unwrap();
        assert_eq!(login.name_id.value, "alice@example.com");
        let e = sp
            .validate_response(&xml, expected, now)
            .unwrap()
            .check_replay(&cache)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "replay");
    });
}

#[test]
fn redis_replay_keys_include_the_issuer_in_a_versioned_layout() {
    let Some(server) = start() else { return };
    let url = url(&server);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let cache = RedisReplayCache::connect(&url, "shared:").await.unwrap();
        let (a, b) = ("https://idp-a.example.com", "https://idp-b.example.com");
        // Layout v2, pinned: prefix, "v2:", hex SHA-256 of (u64 BE length, issuer, id).
        let key = cache.key(a, "_same");
        assert_eq!(
            key,
            "shared:v2:e6e03bf9a9d42a33fee012d92525877c51ec0626e990167e3e62b21638d5de88"
        );
        let now = SystemTime::now();
        let exp = now + Duration::from_secs(60);
        assert!(cache.insert_if_new(a, "_same", exp, now).await.unwrap());
        // Another IdP's assertion with the same ID is not a replay of the first's.
        assert!(cache.insert_if_new(b, "_same", exp, now).await.unwrap());
        assert!(!cache.insert_if_new(a, "_same", exp, now).await.unwrap());
        assert!(!cache.insert_if_new(b, "_same", exp, now).await.unwrap());
        let mut conn =
            redis::aio::ConnectionManager::new(redis::Client::open(url.as_str()).unwrap())
                .await
                .unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("shared:*")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(keys.len(), 2, "{keys:?}");
        assert!(keys.contains(&key), "{keys:?}");
        assert!(keys.iter().all(|k| k.starts_with("shared:v2:")), "{keys:?}");
    });
}

/// Redis killed (SIGKILL) and restarted under the cache: while it is down a check fails
/// closed with a clear error (never "fresh"), and after the restart an assertion recorded
/// before the kill is still a replay (the server keeps an fsynced append-only file, as a
/// production Redis holding replay state must).
#[test]
fn killed_and_restarted_redis_still_refuses_a_replay_and_fails_closed_meanwhile() {
    let Some(mut server) = RedisServer::start_durable() else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let cache = RedisReplayCache::connect(&url(&server), "p:")
            .await
            .unwrap();
        let now = SystemTime::now();
        let until = now + Duration::from_secs(300);
        let issuer = "https://idp.example.com/";
        assert!(
            cache
                .insert_if_new(issuer, "_seen", until, now)
                .await
                .unwrap()
        );

        server.stop();
        let down = cache.insert_if_new(issuer, "_new", until, now).await;
        let err = down.expect_err("a replay check without Redis must fail closed");
        assert_eq!(err.kind(), "replay_cache_unavailable");
        assert!(
            err.to_string().contains("replay cache unavailable"),
            "{err}"
        );

        server.restart();
        let mut replayed = None;
        for _ in 0..100 {
            match cache.insert_if_new(issuer, "_seen", until, now).await {
                Ok(fresh) => {
                    replayed = Some(!fresh);
                    break;
                }
                // The cache's connection is re-established on the next calls.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        assert_eq!(
            replayed,
            Some(true),
            "the assertion seen before the kill is a replay"
        );
        assert!(
            cache
                .insert_if_new(issuer, "_new", until, now)
                .await
                .unwrap()
        );
        assert!(
            !cache
                .insert_if_new(issuer, "_new", until, now)
                .await
                .unwrap()
        );
    });
}

/// Slack for a loaded 2-core CI machine: a check must end near its deadline, not hang.
const SLACK: Duration = Duration::from_secs(3);

/// A frozen Redis (SIGSTOP: it accepts nothing and answers nothing) must not hold a login:
/// the check fails closed with a timeout error within its deadline, and works again once
/// the server thaws.
#[test]
fn frozen_redis_fails_closed_within_the_deadline() {
    let Some(server) = start() else { return };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let deadline = Duration::from_millis(300);
        let cache = RedisReplayCache::connect_with_timeout(&url(&server), "p:", deadline)
            .await
            .unwrap();
        let now = SystemTime::now();
        let until = now + Duration::from_secs(300);
        assert!(
            cache
                .insert_if_new("", "_before", until, now)
                .await
                .unwrap()
        );

        server.signal("-STOP");
        let start = std::time::Instant::now();
        let frozen = cache.insert_if_new("", "_during", until, now).await;
        let took = start.elapsed();
        assert!(took >= deadline && took < deadline + SLACK, "took {took:?}");
        let err = frozen.expect_err("fails closed");
        assert_eq!(err.kind(), "replay_cache_unavailable");
        assert!(
            matches!(
                &err,
                rampart_saml::Error::ReplayCache(rampart_saml::ReplayCacheError::Timeout { after })
                    if *after == deadline
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "replay cache unavailable: no answer within 300ms"
        );

        server.signal("-CONT");
        let mut fresh = None;
        for _ in 0..100 {
            if let Ok(v) = cache.insert_if_new("", "_after", until, now).await {
                fresh = Some(v);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(fresh, Some(true));
        assert!(
            !cache
                .insert_if_new("", "_before", until, now)
                .await
                .unwrap()
        );
    });
}

/// Redis killed (SIGKILL) and restarted while a replica's cache sat idle: its connection is
/// dead, and the first check after the restart is retried on a fresh connection instead of
/// refusing a good login. While Redis is down every check fails closed within the deadline
/// (never "new"); after the restart the assertion seen before the kill is still a replay.
#[test]
fn idle_cache_checks_on_a_fresh_connection_after_a_restart_and_never_says_new_meanwhile() {
    let Some(mut server) = RedisServer::start_durable() else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let deadline = Duration::from_millis(500);
        let busy = RedisReplayCache::connect_with_timeout(&url(&server), "p:", deadline)
            .await
            .unwrap();
        let idle = RedisReplayCache::connect_with_timeout(&url(&server), "p:", deadline)
            .await
            .unwrap();
        let now = SystemTime::now();
        let until = now + Duration::from_secs(300);
        let issuer = "https://idp.example.com/";
        assert!(
            busy.insert_if_new(issuer, "_seen", until, now)
                .await
                .unwrap()
        );
        assert!(
            !idle
                .insert_if_new(issuer, "_seen", until, now)
                .await
                .unwrap()
        );

        server.stop();
        for i in 0..5 {
            let start = std::time::Instant::now();
            let down = busy
                .insert_if_new(issuer, &format!("_down{i}"), until, now)
                .await;
            let took = start.elapsed();
            assert!(took < deadline + SLACK, "took {took:?}");
            let err = down.expect_err("no Redis, no login");
            assert_eq!(err.kind(), "replay_cache_unavailable");
        }

        server.restart();
        // Until it has loaded its append-only file the server answers LOADING errors (an
        // outage too); wait on a connection of our own, leaving the caches' as they are.
        let mut own = redis::Client::open(url(&server))
            .unwrap()
            .get_connection()
            .unwrap();
        let loaded = std::time::Instant::now() + Duration::from_secs(10);
        while redis::cmd("PING").query::<String>(&mut own).is_err() {
            assert!(std::time::Instant::now() < loaded, "redis did not load");
            std::thread::sleep(Duration::from_millis(10));
        }
        // The idle cache's first call meets its dead connection and is retried at once.
        assert!(
            !idle
                .insert_if_new(issuer, "_seen", until, now)
                .await
                .unwrap(),
            "the assertion seen before the kill is a replay"
        );
        assert!(
            idle.insert_if_new(issuer, "_fresh", until, now)
                .await
                .unwrap()
        );
        // The busy one reconnects too (its manager may still be backing off: bounded).
        let mut replay = None;
        for _ in 0..100 {
            if let Ok(v) = busy.insert_if_new(issuer, "_fresh", until, now).await {
                replay = Some(!v);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            replay,
            Some(true),
            "the other replica's fresh ID is a replay"
        );
    });
}
