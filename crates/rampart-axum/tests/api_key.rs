//! ApiKeyLayer over real HTTP: a router on a loopback port, driven by reqwest.

mod common;

use rampart_testkit::http::Sent;

use std::time::{Duration, SystemTime};

use axum::{Router, routing::get};
use common::{Keys, ManualClock, client, hour_throttle, serve};
use rampart_attempts::SubjectKind;
use rampart_axum::{ApiKeyLayer, ClientIp, Principal, TrustedProxies};

/// A route that shows what the handler sees.
fn app(k: &Keys, scopes: &[&str]) -> Router {
    Router::new()
        .route(
            "/whoami",
            get(|who: Principal| async move {
                format!(
                    "{} {} {}",
                    who.owner(),
                    who.public_id().unwrap_or("-"),
                    who.scopes().collect::<Vec<_>>().join(",")
                )
            }),
        )
        .layer(
            ApiKeyLayer::new(k.keys.clone(), k.store.clone(), k.tracker.clone())
                .with_required_scopes(scopes.iter().copied()),
        )
}

async fn get_with(url: &str, authorization: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let r = client()
        .get(url)
        .header("authorization", authorization)
        .sent()
        .await;
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, r.text().await.unwrap(), headers)
}

/// A forged secret for `secret`'s public id with a valid checksum is not possible to make
/// here; a changed last character fails the checksum and still names the key.
fn wrong_secret(secret: &str) -> String {
    let mut s = secret.to_owned();
    let last = s.pop().unwrap();
    s.push(if last == 'A' { 'B' } else { 'A' });
    s
}

fn assert_no_part_of(body: &str, secret: &str) {
    // Neither the secret, nor its public id, nor its random part.
    let parts: Vec<&str> = secret.split('_').collect();
    for p in [secret, parts[2], parts[3]] {
        assert!(!body.contains(p), "body {body:?} echoes part of the secret");
    }
}

#[tokio::test]
async fn valid_key_reaches_the_handler_with_its_principal() {
    let k = Keys::new();
    let issued = k.issue(&["orders:read"]);
    let base = serve(app(&k, &["orders:read"])).await;
    let secret = issued.secret_key.expose_secret();
    let (status, body, _) = get_with(&format!("{base}/whoami"), &format!("Bearer {secret}")).await;
    assert_eq!(status, 200);
    let id = issued.public_key.public_id();
    assert_eq!(body, format!("{} {} orders:read", id.as_str(), id.as_str()));
}

#[tokio::test]
async fn wrong_secret_is_401_and_echoes_nothing() {
    let k = Keys::new();
    let issued = k.issue(&[]);
    let base = serve(app(&k, &[])).await;
    let forged = wrong_secret(issued.secret_key.expose_secret());
    let (status, body, headers) =
        get_with(&format!("{base}/whoami"), &format!("Bearer {forged}")).await;
    assert_eq!(status, 401);
    assert_eq!(body, "invalid_api_key\n");
    assert_eq!(headers["www-authenticate"], "Bearer");
    assert_no_part_of(&body, &forged);
}

#[tokio::test]
async fn unknown_key_is_401_and_echoes_nothing() {
    let k = Keys::new();
    let other = Keys::new();
    // Issued under the same prefix by another service instance: well formed, not stored here.
    let stranger = other
        .keys
        .issue(rampart_apikey::KeyOptions::new(), SystemTime::now())
        .unwrap();
    let base = serve(app(&k, &[])).await;
    let secret = stranger.secret_key.expose_secret();
    let (status, body, _) = get_with(&format!("{base}/whoami"), &format!("Bearer {secret}")).await;
    assert_eq!(status, 401);
    assert_no_part_of(&body, secret);
}

#[tokio::test]
async fn malformed_and_oversized_headers_are_401() {
    let k = Keys::new();
    let issued = k.issue(&[]);
    let base = serve(app(&k, &[])).await;
    let secret = issued.secret_key.expose_secret();
    let url = format!("{base}/whoami");
    let long = format!("Bearer {secret}{}", "x".repeat(8 * 1024));
    for bad in [
        format!("Basic {secret}"),
        format!("Bearer  {secret}"),
        "Bearer ".to_owned(),
        format!("Bearer{secret}"),
        format!("Bearer {}", &secret[..20]),
        long,
    ] {
        let (status, body, _) = get_with(&url, &bad).await;
        assert_eq!(status, 401, "{bad:.20}");
        assert_no_part_of(&body, secret);
    }
    // Not ASCII: reqwest sends the raw bytes.
    let r = client()
        .get(&url)
        .header(
            "authorization",
            reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        )
        .sent()
        .await;
    assert_eq!(r.status(), 401);
    // No credential at all.
    let r = client().get(&url).sent().await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.text().await.unwrap(), "missing_credentials\n");
}

#[tokio::test]
async fn repeated_failures_from_one_ip_are_throttled_with_retry_after() {
    let k = Keys::new();
    let issued = k.issue(&[]);
    let base = serve(app(&k, &[])).await;
    let url = format!("{base}/whoami");
    let forged = wrong_secret(issued.secret_key.expose_secret());
    // The default (key, IP) policy: 5 free failures, then 1 s, 2 s, ...
    for i in 0..6 {
        let (status, _, _) = get_with(&url, &format!("Bearer {forged}")).await;
        assert_eq!(status, 401, "failure {i}");
    }
    let (status, body, headers) = get_with(&url, &format!("Bearer {forged}")).await;
    assert_eq!(status, 429);
    assert_eq!(body, "throttled\n");
    let secs: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&secs), "{secs}");
    // Checked before the secret: the right secret from the same IP waits too.
    let secret = issued.secret_key.expose_secret();
    let (status, _, _) = get_with(&url, &format!("Bearer {secret}")).await;
    assert_eq!(status, 429);
}

#[tokio::test]
async fn throttled_key_is_allowed_again_once_the_layers_clock_passes_the_delay() {
    let k = Keys::new();
    let issued = k.issue(&[]);
    // An hour's delay per (key, IP) after one free failure: the system clock cannot pass
    // it during the test, only the layer's own clock can.
    let hour = Duration::from_secs(3_600);
    let tracker = hour_throttle(SubjectKind::ApiKeyIp);
    let clock = ManualClock::new();
    let app = Router::new()
        .route("/whoami", get(|| async { "ok" }))
        .layer(
            ApiKeyLayer::new(k.keys.clone(), k.store.clone(), tracker).with_clock(clock.as_fn()),
        );
    let base = serve(app).await;
    let url = format!("{base}/whoami");
    let forged = format!("Bearer {}", wrong_secret(issued.secret_key.expose_secret()));
    let bearer = format!("Bearer {}", issued.secret_key.expose_secret());
    for i in 0..2 {
        assert_eq!(get_with(&url, &forged).await.0, 401, "failure {i}");
    }
    let (status, _, headers) = get_with(&url, &bearer).await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "3600");
    clock.advance(hour - Duration::from_secs(1));
    assert_eq!(get_with(&url, &bearer).await.0, 429, "a second early");
    clock.advance(Duration::from_secs(1));
    let (status, body, _) = get_with(&url, &bearer).await;
    assert_eq!((status, body.as_str()), (200, "ok"));
}

#[tokio::test]
async fn missing_scope_is_403_and_not_counted() {
    let k = Keys::new();
    let issued = k.issue(&["orders:read"]);
    let base = serve(app(&k, &["orders:write"])).await;
    let secret = issued.secret_key.expose_secret();
    let (status, body, _) = get_with(&format!("{base}/whoami"), &format!("Bearer {secret}")).await;
    assert_eq!(status, 403);
    assert_eq!(body, "missing_scope\n");
    assert_eq!(k.tracked(), 0);
}

#[tokio::test]
async fn revoked_key_is_refused_on_the_next_request() {
    let k = Keys::new();
    let issued = k.issue(&[]);
    let base = serve(app(&k, &[])).await;
    let url = format!("{base}/whoami");
    let bearer = format!("Bearer {}", issued.secret_key.expose_secret());
    assert_eq!(get_with(&url, &bearer).await.0, 200);
    let mut record = k.store.get(&issued.public_key.public_id()).unwrap();
    record.revoke(SystemTime::now());
    k.store.save(record);
    let (status, body, _) = get_with(&url, &bearer).await;
    assert_eq!(status, 401);
    assert_eq!(body, "invalid_api_key\n");
}

#[tokio::test]
async fn only_failures_touch_the_attempt_store() {
    let k = Keys::new();
    let issued = k.issue(&[]);
    let base = serve(app(&k, &[])).await;
    let url = format!("{base}/whoami");
    let bearer = format!("Bearer {}", issued.secret_key.expose_secret());
    for _ in 0..10 {
        assert_eq!(get_with(&url, &bearer).await.0, 200);
    }
    assert_eq!(k.tracked(), 0, "successes wrote to the attempt store");
    let forged = wrong_secret(issued.secret_key.expose_secret());
    assert_eq!(get_with(&url, &format!("Bearer {forged}")).await.0, 401);
    // One failure: the IP, the (key, IP) pair and the key.
    assert_eq!(k.tracked(), 3);
    assert_eq!(get_with(&url, &bearer).await.0, 200);
    assert_eq!(k.tracked(), 3, "a success wrote to the attempt store");
    // No credential is no attempt.
    assert_eq!(client().get(&url).status_code().await, 401);
    assert_eq!(k.tracked(), 3);
}

#[tokio::test]
async fn twentieth_consecutive_failure_against_one_key_notifies_once() {
    let k = Keys::new();
    let issued = k.issue(&[]);
    // Through a trusted proxy, so each guess comes from another client IP (as a distributed
    // attack does) and no per-IP or per-pair throttle stops it first.
    let app = Router::new()
        .route("/whoami", get(|| async { "ok" }))
        .layer(
            ApiKeyLayer::new(k.keys.clone(), k.store.clone(), k.tracker.clone())
                .with_trusted_proxies(TrustedProxies::new(["127.0.0.1"]).unwrap()),
        );
    let base = serve(app).await;
    let forged = wrong_secret(issued.secret_key.expose_secret());
    for i in 0..25u8 {
        let r = client()
            .get(format!("{base}/whoami"))
            .header("authorization", format!("Bearer {forged}"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .sent()
            .await;
        assert_eq!(r.status(), 401);
        assert_eq!(
            k.notifications(),
            u32::from(i >= 19),
            "after failure {}",
            i + 1
        );
    }
    // The owner is not locked out.
    let r = client()
        .get(format!("{base}/whoami"))
        .header(
            "authorization",
            format!("Bearer {}", issued.secret_key.expose_secret()),
        )
        .sent()
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn custom_key_header_is_accepted() {
    let k = Keys::new();
    let issued = k.issue(&[]);
    let app = Router::new()
        .route("/whoami", get(|| async { "ok" }))
        .layer(
            ApiKeyLayer::new(k.keys.clone(), k.store.clone(), k.tracker.clone())
                .with_key_header(http::HeaderName::from_static("x-api-key")),
        );
    let base = serve(app).await;
    let r = client()
        .get(format!("{base}/whoami"))
        .header("x-api-key", issued.secret_key.expose_secret())
        .sent()
        .await;
    assert_eq!(r.status(), 200);
}

async fn ip_seen(trusted: TrustedProxies) -> String {
    let k = Keys::new();
    let issued = k.issue(&[]);
    let app = Router::new()
        .route(
            "/ip",
            get(|ClientIp(ip): ClientIp| async move { ip.to_string() }),
        )
        .layer(
            ApiKeyLayer::new(k.keys.clone(), k.store.clone(), k.tracker.clone())
                .with_trusted_proxies(trusted),
        );
    let base = serve(app).await;
    client()
        .get(format!("{base}/ip"))
        .header(
            "authorization",
            format!("Bearer {}", issued.secret_key.expose_secret()),
        )
        .header("x-forwarded-for", "203.0.113.50, 198.51.100.7")
        .sent()
        .await
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn client_ip_ignores_x_forwarded_for_without_trusted_proxies() {
    assert_eq!(ip_seen(TrustedProxies::none()).await, "127.0.0.1");
}

#[tokio::test]
async fn client_ip_honours_x_forwarded_for_from_a_trusted_proxy() {
    let trusted = TrustedProxies::new(["127.0.0.0/8"]).unwrap();
    assert_eq!(ip_seen(trusted).await, "198.51.100.7");
}
