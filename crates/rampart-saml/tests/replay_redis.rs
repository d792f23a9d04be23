//! The Redis replay cache against a real redis-server that the test starts on a unix socket in
//! a temporary directory (skipped loudly when redis-server is missing, except under CI=true).
#![cfg(feature = "redis")]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use rampart_saml::{RedisReplayCache, ReplayCache};

struct Server {
    child: Child,
    _dir: tempfile::TempDir,
    socket: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Option<Server> {
    if Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "redis-server is required under CI=true"
        );
        eprintln!(
            "\n!!!!! SKIPPED: redis-server not installed; the Redis replay cache is untested !!!!!\n"
        );
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("redis.sock");
    let mut child = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--save",
            "",
            "--appendonly",
            "no",
            "--unixsocket",
        ])
        .arg(&socket)
        .arg("--dir")
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if socket.exists() {
            return Some(Server {
                child,
                _dir: dir,
                socket,
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("redis-server did not create its socket");
}

#[test]
fn redis_replay_cache_accepts_once_across_replicas_until_expiry() {
    let Some(server) = start() else { return };
    let url = format!("unix://{}", server.socket.display());
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
    let url = format!("unix://{}", server.socket.display());
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
    let url = format!("unix://{}", server.socket.display());
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
    let url = format!("unix://{}", server.socket.display());
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
