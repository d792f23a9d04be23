//! The service over real HTTP: a listener on 127.0.0.1:0, a temporary data directory,
//! reqwest with a cookie jar, and a clock the tests move.

mod common;

use rampart_testkit::http::Sent;

use std::time::Duration;

use common::{
    Idp, PASSWORD, Service, client, request_id_from_redirect, session_index, signed_logout_query,
    signed_response, signed_up,
};
use rampart_service::SmtpConfig;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};
use serde_json::{Value, json};

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A well-formed secret for `public_key` (valid checksum, wrong random part): what an
/// attacker who saw the public key can send, and what counts against it.
fn forged_secret(public_key: &str, n: u32) -> String {
    let mut key = format!("{public_key}_");
    key.extend((0..32u32).map(|i| char::from(BASE62[((n * 7919 + i * 104_729) % 62) as usize])));
    let mut sum = crc32fast::hash(key.as_bytes());
    let mut digits = [b'0'; 6];
    for d in digits.iter_mut().rev() {
        *d = BASE62[(sum % 62) as usize];
        sum /= 62;
    }
    key.extend(digits.iter().map(|&d| char::from(d)));
    key
}

async fn issue_key(
    service: &Service,
    client: &reqwest::Client,
    scopes: &[&str],
) -> (String, String) {
    let response = client
        .post(service.url("/api/keys"))
        .json(&json!({ "scopes": scopes }))
        .sent()
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    (
        body["public_key"].as_str().unwrap().to_owned(),
        body["secret_key"].as_str().unwrap().to_owned(),
    )
}

async fn with_key(service: &Service, path: &str, secret: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(service.url(path))
        .bearer_auth(secret)
        .sent()
        .await
}

async fn error_kind(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap_or(Value::Null);
    body["error"].as_str().unwrap_or("").to_owned()
}

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    client.get(url).sent().await.json().await.unwrap()
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response
        .headers()
        .get(RETRY_AFTER)
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_login_wrong_password_is_401_then_throttled_429_with_retry_after() {
    let service = Service::start().await;
    let ann = signed_up(&service, "ann@acme.example", "acme").await;
    let dashboard = ann.get(service.url("/dashboard")).sent().await;
    assert_eq!(dashboard.status(), StatusCode::OK);
    assert!(dashboard.text().await.unwrap().contains("ann@acme.example"));

    let browser = client();
    let login = |password: &'static str| {
        browser
            .post(service.url("/login"))
            .form(&[("email", "ann@acme.example"), ("password", password)])
            .send()
    };
    for _ in 0..6 {
        let r = login("wrong password!").await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(error_kind(r).await, "invalid_credentials");
    }
    let throttled = login("wrong password!").await.unwrap();
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&throttled);
    assert!(wait >= 1);
    // Even the right password waits out the delay.
    assert_eq!(
        login(PASSWORD).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    service.advance(Duration::from_secs(wait));
    let ok = login(PASSWORD).await.unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers()["location"], "/dashboard");
    assert_eq!(
        browser.get(service.url("/dashboard")).status_code().await,
        StatusCode::OK
    );
    // An unknown account gets the same answer as a wrong password.
    let unknown = client()
        .post(service.url("/login"))
        .form(&[("email", "nobody@acme.example"), ("password", PASSWORD)])
        .sent()
        .await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    service.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_key_path_answers_401_429_and_403() {
    let service = Service::start().await;
    let admin = signed_up(&service, "admin@acme.example", "acme").await;
    let (public_key, secret) = issue_key(&service, &admin, &[]).await;
    let (_, reader) = issue_key(&service, &admin, &["reports:read"]).await;

    assert_eq!(
        with_key(&service, "/api/v1/whoami", &secret).await.status(),
        StatusCode::OK
    );
    let no_scope = with_key(&service, "/api/v1/reports", &secret).await;
    assert_eq!(no_scope.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_kind(no_scope).await, "missing_scope");
    assert_eq!(
        with_key(&service, "/api/v1/reports", &reader)
            .await
            .status(),
        StatusCode::OK
    );

    let missing = reqwest::get(service.url("/api/v1/whoami")).await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_kind(missing).await, "missing_credentials");
    for header in [
        HeaderValue::from_static("Basic dXNlcjpwYXNz"),
        HeaderValue::from_static("Bearer not-a-key"),
        HeaderValue::from_bytes(b"Bearer rk_live_\xff\xfe").unwrap(),
        HeaderValue::from_str(&format!("Bearer {}", "A".repeat(16 * 1024))).unwrap(),
    ] {
        let r = reqwest::Client::new()
            .get(service.url("/api/v1/whoami"))
            .header(AUTHORIZATION, header)
            .sent()
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let text = r.text().await.unwrap();
        assert!(
            text.len() < 48 && !text.contains("rk_live") && !text.contains("AAAA"),
            "{text}"
        );
    }

    // Twenty free failures against the public key, then 429 with Retry-After.
    for n in 0..21 {
        let r = with_key(&service, "/api/v1/whoami", &forged_secret(&public_key, n)).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "failure {n}");
        assert_eq!(error_kind(r).await, "invalid_api_key");
    }
    let throttled = with_key(&service, "/api/v1/whoami", &forged_secret(&public_key, 21)).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&throttled) >= 1);
    service.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twentieth_consecutive_failure_against_one_key_notifies_the_owner_once() {
    let service = Service::start().await;
    let admin = signed_up(&service, "owner@acme.example", "acme").await;
    let (public_key, secret) = issue_key(&service, &admin, &[]).await;
    let log = service.dir.path().join("notifications.log");
    let lines = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };

    let mut failures = 0u32;
    for n in 0..25 {
        let r = with_key(&service, "/api/v1/whoami", &forged_secret(&public_key, n)).await;
        match r.status() {
            StatusCode::UNAUTHORIZED => failures += 1,
            // Throttled attempts are refused before the secret is looked at: not failures.
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
        if failures == 19 {
            assert!(lines().is_empty(), "nothing before the 20th failure");
        }
        if failures == 20 {
            assert_eq!(lines().len(), 1, "the 20th failure notifies");
        }
    }
    assert!(failures >= 20, "{failures}");
    let lines = lines();
    assert_eq!(lines.len(), 1, "once per streak: {lines:?}");
    let note: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(note["to"], "owner@acme.example");
    assert_eq!(note["failures"], 20);
    // The log names the key, never a secret that was tried.
    assert!(!lines[0].contains(&forged_secret(&public_key, 1)));
    assert!(!lines[0].contains(&secret));
    service.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_smtp_configured_the_owner_is_mailed_at_the_twentieth_failure_once() {
    let Some(smtp) = rampart_testkit::SmtpServer::start() else {
        return;
    };
    let relay = SmtpConfig::parse(&smtp.address()).unwrap();
    let service =
        Service::start_configured(None, common::manual_clock_now(), |c| c.with_smtp(relay)).await;
    let admin = signed_up(&service, "owner@acme.example", "acme").await;
    let (public_key, secret) = issue_key(&service, &admin, &[]).await;
    let mut failures = 0u32;
    let mut tried = Vec::new();
    for n in 0..25 {
        let forged = forged_secret(&public_key, n);
        let r = with_key(&service, "/api/v1/whoami", &forged).await;
        tried.push(forged);
        match r.status() {
            StatusCode::UNAUTHORIZED => failures += 1,
            // Throttled attempts are refused before the secret is looked at: not failures.
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
        if failures == 19 {
            assert!(
                smtp.received().is_empty(),
                "nothing before the 20th failure"
            );
        }
    }
    assert!(failures >= 20, "{failures}");
    let mails = smtp.wait_for_messages(1, Duration::from_secs(10));
    assert_eq!(mails.len(), 1, "one mail per streak: {mails:?}");
    let mail = &mails[0];
    assert!(mail.contains("X-RcptTo: owner@acme.example"), "{mail}");
    assert!(mail.contains("X-MailFrom: security@localhost"), "{mail}");
    assert!(mail.contains("20 failed attempts on API key"), "{mail}");
    // The mail names the key, never a secret, tried or real.
    assert!(!mail.contains(&secret), "{mail}");
    assert!(tried.iter().all(|t| !mail.contains(t.as_str())), "{mail}");
    // Mailed instead of written to the outbox file.
    assert!(!service.dir.path().join("notifications.log").exists());
    service.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_key_is_refused_on_the_next_request() {
    let service = Service::start().await;
    let admin = signed_up(&service, "ann@acme.example", "acme").await;
    let (public_key, secret) = issue_key(&service, &admin, &[]).await;
    assert_eq!(
        with_key(&service, "/api/v1/whoami", &secret).await.status(),
        StatusCode::OK
    );

    let listed: Value = admin
        .get(service.url("/api/keys"))
        .sent()
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["keys"][0]["public_key"], public_key.as_str());
    assert_eq!(listed["keys"][0]["revoked"], false);
    assert!(
        !listed.to_string().contains(&secret),
        "a listing never shows the secret"
    );

    // Another user of the tenant cannot revoke it.
    let bob = signed_up(&service, "bob@acme.example", "acme").await;
    let r = bob
        .delete(service.url(&format!("/api/keys/{public_key}")))
        .sent()
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let r = admin
        .delete(service.url(&format!("/api/keys/{public_key}")))
        .sent()
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let refused = with_key(&service, "/api/v1/whoami", &secret).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    service.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_less_user_gets_403_on_the_dashboard_until_granted_a_role() {
    let service = Service::start().await;
    let admin = signed_up(&service, "admin@acme.example", "acme").await;
    let bob = signed_up(&service, "bob@acme.example", "acme").await;
    assert_eq!(
        bob.get(service.url("/dashboard")).status_code().await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        bob.get(service.url("/dashboard/admin")).status_code().await,
        StatusCode::FORBIDDEN
    );
    let r = bob
        .post(service.url("/api/keys"))
        .json(&json!({"scopes": []}))
        .sent()
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Nor can he grant himself a role.
    let r = bob
        .put(service.url("/api/users/bob@acme.example/roles"))
        .json(&json!({"roles": ["admin"]}))
        .sent()
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let r = admin
        .put(service.url("/api/users/bob@acme.example/roles"))
        .json(&json!({"roles": ["viewer"]}))
        .sent()
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        bob.get(service.url("/dashboard")).status_code().await,
        StatusCode::OK
    );
    assert_eq!(
        bob.get(service.url("/dashboard/admin")).status_code().await,
        StatusCode::FORBIDDEN
    );
    // A viewer may read reports but not hold a key for them.
    let r = bob
        .post(service.url("/api/keys"))
        .json(&json!({"scopes": []}))
        .sent()
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // An admin's key cannot carry a scope its owner lacks... or one nobody declared.
    let r = admin
        .post(service.url("/api/keys"))
        .json(&json!({"scopes": ["billing:delete"]}))
        .sent()
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    service.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_is_gone_after_an_hour_and_its_result_after_14_days() {
    let service = Service::start().await;
    let admin = signed_up(&service, "admin@acme.example", "acme").await;
    let body = b"invoice,amount\n2026-001,120.00\n2026-002,75.50\n".to_vec();
    let r = admin
        .put(service.url("/api/eu/uploads/invoices.csv"))
        .body(body.clone())
        .sent()
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let on_disk = service.dir.path().join("uploads/eu/acme/invoices.csv.rpf");
    let ciphertext = std::fs::read(&on_disk).unwrap();
    assert!(
        !ciphertext.windows(12).any(|w| w == b"invoice,amou"),
        "encrypted on write"
    );

    service.advance(Duration::from_secs(50 * 60));
    let r = admin
        .get(service.url("/api/eu/uploads/invoices.csv"))
        .sent()
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().to_vec(), body);

    service.advance(Duration::from_secs(11 * 60)); // 61 minutes after the upload
    let r = admin
        .get(service.url("/api/eu/uploads/invoices.csv"))
        .sent()
        .await;
    assert_eq!(r.status(), StatusCode::GONE);

    // Two hours on, the bucket's key is destroyed: the file is still on disk, unreadable.
    service.advance(Duration::from_secs(2 * 3600));
    let buckets: Value = admin
        .get(service.url("/api/eu/retention"))
        .sent()
        .await
        .json()
        .await
        .unwrap();
    let first = &buckets["uploads"][0];
    assert!(
        first["purged_ms"].is_number(),
        "the upload's bucket is purged: {buckets}"
    );
    assert!(on_disk.exists());
    assert_eq!(
        admin
            .get(service.url("/api/eu/uploads/invoices.csv"))
            .status_code()
            .await,
        StatusCode::GONE
    );

    let result: Value = admin
        .get(service.url("/api/eu/uploads/invoices.csv/result"))
        .sent()
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(result["result"]["lines"], 3);
    service.advance(Duration::from_secs(15 * 86_400));
    let r = admin
        .get(service.url("/api/eu/uploads/invoices.csv/result"))
        .sent()
        .await;
    assert_eq!(r.status(), StatusCode::GONE);
    service.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_region_read_is_refused() {
    let service = Service::start().await;
    let acme = signed_up(&service, "admin@acme.example", "acme").await; // EU
    let globex = signed_up(&service, "admin@globex.example", "globex").await; // US
    let token = json!({ "token": "ya29.acme-secret-token" });
    let r = acme
        .put(service.url("/api/eu/tokens/google"))
        .json(&token)
        .sent()
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let r = acme.get(service.url("/api/us/tokens/google")).sent().await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_kind(r).await, "cross_region");
    let r = acme
        .put(service.url("/api/us/tokens/google"))
        .json(&token)
        .sent()
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = acme
        .put(service.url("/api/us/uploads/x.csv"))
        .body("a,b\n")
        .sent()
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // globex (US) cannot reach EU data either, nor does its own region hold acme's row.
    let r = globex
        .get(service.url("/api/eu/tokens/google"))
        .sent()
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = globex
        .get(service.url("/api/us/tokens/google"))
        .sent()
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let ok: Value = acme
        .get(service.url("/api/eu/tokens/google"))
        .sent()
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ok["token"], "ya29.acme-secret-token");
    service.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_column_survives_rotation_and_background_reencryption() {
    let service = Service::start().await;
    let admin = signed_up(&service, "admin@acme.example", "acme").await;
    for provider in ["google", "github", "slack"] {
        let r = admin
            .put(service.url(&format!("/api/eu/tokens/{provider}")))
            .json(&json!({ "token": format!("token-for-{provider}") }))
            .sent()
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    let before = get_json(&admin, &service.url("/api/eu/keyrings/tokens")).await;
    assert_eq!(before["primary"], 1);
    assert_eq!(before["rows"], 3);

    service.advance(Duration::from_secs(90 * 86_400));
    let r = admin
        .post(service.url("/api/eu/keyrings/tokens/rotate"))
        .sent()
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let mut after = get_json(&admin, &service.url("/api/eu/keyrings/tokens")).await;
    for _ in 0..100 {
        if after["rows_on_primary"] == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        after = get_json(&admin, &service.url("/api/eu/keyrings/tokens")).await;
    }
    assert_eq!(after["primary"], 2);
    assert_eq!(
        after["rows_on_primary"], 3,
        "every row re-encrypted: {after}"
    );
    for provider in ["google", "github", "slack"] {
        let row: Value = admin
            .get(service.url(&format!("/api/eu/tokens/{provider}")))
            .sent()
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(row["token"], format!("token-for-{provider}"));
        assert_eq!(row["version"], 2);
    }
    // The US keyring was not touched.
    let globex = signed_up(&service, "admin@globex.example", "globex").await;
    let us: Value = globex
        .get(service.url("/api/us/keyrings/tokens"))
        .sent()
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(us["primary"], 1);
    service.running.stop().await.unwrap();
}

/// `GET /saml/{tenant}/login` with `client`; returns the AuthnRequest's id.
async fn start_sso(service: &Service, client: &reqwest::Client, tenant: &str) -> String {
    let r = client
        .get(service.url(&format!("/saml/{tenant}/login")))
        .sent()
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    request_id_from_redirect(r.headers()["location"].to_str().unwrap())
}

/// `client` starts SSO at `tenant` and posts the response `idp` signs for `email` in `groups`
/// at the service's time: the ACS answer and the response posted.
async fn sso(
    service: &Service,
    client: &reqwest::Client,
    (idp, tenant): (Idp, &str),
    email: &str,
    groups: &[&str],
) -> (reqwest::Response, String) {
    let id = start_sso(service, client, tenant).await;
    let base = service.running.url().to_owned();
    let now = service.clock.now();
    let response = signed_response(idp, &base, tenant, &id, email, groups, now);
    let r = client
        .post(service.url(&format!("/saml/{tenant}/acs")))
        .form(&[("SAMLResponse", response.as_str())])
        .sent()
        .await;
    (r, response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saml_login_per_tenant_end_to_end_with_mapped_roles() {
    let service = Service::start().await;
    let base = service.running.url().to_owned();

    // acme: its IdP says "admins", the role map says admin.
    let alice = client();
    let (r, response) = sso(
        &service,
        &alice,
        (Idp::Acme, "acme"),
        "alice@acme.example",
        &["admins"],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = alice
        .get(service.url("/dashboard"))
        .sent()
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("alice@acme.example") && page.contains("admin"),
        "{page}"
    );
    assert_eq!(
        alice
            .get(service.url("/dashboard/admin"))
            .status_code()
            .await,
        StatusCode::OK
    );
    // The same response again: no login is waiting for it any more (rampart-axum's
    // SamlRoutes answers that 400 no_login_in_progress, before the replay cache is asked).
    let replay = alice
        .post(service.url("/saml/acme/acs"))
        .form(&[("SAMLResponse", response.as_str())])
        .sent()
        .await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_kind(replay).await, "no_login_in_progress");

    // globex: "staff" maps to member, whose dashboard has no admin section.
    let gary = client();
    let (r, _) = sso(
        &service,
        &gary,
        (Idp::Globex, "globex"),
        "gary@globex.example",
        &["staff"],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        gary.get(service.url("/dashboard")).status_code().await,
        StatusCode::OK
    );
    assert_eq!(
        gary.get(service.url("/dashboard/admin"))
            .status_code()
            .await,
        StatusCode::FORBIDDEN
    );

    // acme's IdP cannot sign a globex login: the response is refused with globex's keys.
    let mallory = client();
    let (r, _) = sso(
        &service,
        &mallory,
        (Idp::Acme, "globex"),
        "mallory@globex.example",
        &["admins"],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        mallory.get(service.url("/dashboard")).status_code().await,
        StatusCode::SEE_OTHER
    );

    // A response that arrives after its validity window is refused.
    let late = client();
    let id = start_sso(&service, &late, "acme").await;
    let response = signed_response(
        Idp::Acme,
        &base,
        "acme",
        &id,
        "late@acme.example",
        &["admins"],
        service.clock.now(),
    );
    // Past the assertion's NotOnOrAfter (5 minutes) and the skew, within the request's 10.
    service.advance(Duration::from_secs(9 * 60));
    let r = late
        .post(service.url("/saml/acme/acs"))
        .form(&[("SAMLResponse", response.as_str())])
        .sent()
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    service.running.stop().await.unwrap();
}

/// IdP-initiated single logout through the service's session hooks: only the tenant's own
/// IdP, naming the session it started, ends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idp_logout_request_signed_by_the_tenants_idp_ends_that_sso_session() {
    let service = Service::start().await;
    let base = service.running.url().to_owned();
    let now = service.clock.now();
    let alice = client();
    let email = "alice@acme.example";
    let (r, response) = sso(&service, &alice, (Idp::Acme, "acme"), email, &["admins"]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let index = session_index(&response);
    let slo = |idp: Idp, index: &str| {
        let query = signed_logout_query(idp, &base, "acme", email, index, now);
        service.url(&format!("/saml/acme/slo?{query}"))
    };
    // Another session's index, or globex's IdP speaking for acme: refused, the session lives.
    for (idp, index) in [
        (Idp::Acme, "_another_session"),
        (Idp::Globex, index.as_str()),
    ] {
        let r = alice.get(slo(idp, index)).sent().await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(error_kind(r).await, "saml_logout_refused");
        assert_eq!(
            alice.get(service.url("/dashboard")).status_code().await,
            StatusCode::OK
        );
    }
    let r = alice.get(slo(Idp::Acme, &index)).sent().await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        alice.get(service.url("/dashboard")).status_code().await,
        StatusCode::SEE_OTHER,
        "logged out"
    );
    service.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_inputs_get_a_4xx_with_a_short_body_echoing_nothing() {
    let service = Service::start().await;
    let check = |r: reqwest::Response, expected: StatusCode, secret: &'static str| async move {
        assert_eq!(r.status(), expected, "{}", r.url());
        let text = r.text().await.unwrap();
        assert!(text.len() < 100, "short body: {text}");
        assert!(
            secret.is_empty() || !text.contains(secret),
            "echoed: {text}"
        );
    };
    let anonymous = client();
    // A form value that is not UTF-8.
    let r = anonymous
        .post(service.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=%FF%FE&password=hunter2hunter2")
        .sent()
        .await;
    check(r, StatusCode::BAD_REQUEST, "hunter2hunter2").await;
    // Not a form at all.
    let r = anonymous
        .post(service.url("/login"))
        .json(&json!({"password": "hunter2hunter2"}))
        .sent()
        .await;
    check(r, StatusCode::BAD_REQUEST, "hunter2hunter2").await;
    // A megabyte SAMLResponse, on a connection of its own: the server answers 413 without
    // reading the body and closes that connection, which a pooled client may not notice
    // before reusing it.
    let big = "A".repeat(1024 * 1024);
    let r = client()
        .post(service.url("/saml/acme/acs"))
        .form(&[("SAMLResponse", big.as_str())])
        .sent()
        .await;
    check(r, StatusCode::PAYLOAD_TOO_LARGE, "").await;
    // An unknown tenant.
    let r = anonymous
        .post(service.url("/saml/nope/acs"))
        .form(&[("SAMLResponse", "PHg+")])
        .sent()
        .await;
    check(r, StatusCode::NOT_FOUND, "").await;
    let r = anonymous.get(service.url("/saml/nope/login")).sent().await;
    check(r, StatusCode::NOT_FOUND, "").await;
    // No session: an ACS post nobody asked for (rampart-axum's SamlRoutes: 400
    // no_login_in_progress), the API, the admin page (401).
    let r = anonymous
        .post(service.url("/saml/acme/acs"))
        .form(&[("SAMLResponse", "PHg+")])
        .sent()
        .await;
    check(r, StatusCode::BAD_REQUEST, "").await;
    // An IdP's LogoutRequest for a browser with no SAML session: nothing to end (400).
    let r = anonymous
        .get(service.url("/saml/acme/slo?SAMLRequest=PHg%2B"))
        .sent()
        .await;
    check(r, StatusCode::BAD_REQUEST, "PHg").await;
    for path in ["/api/keys", "/dashboard/admin", "/api/eu/tokens/google"] {
        let r = anonymous.get(service.url(path)).sent().await;
        check(r, StatusCode::UNAUTHORIZED, "").await;
    }
    // A session with garbage in it: a SAMLResponse that is not base64, then not XML.
    for garbage in [
        "%%%not base64%%%",
        "PHg+PC94Pg==",
        "PD94bWwgdmVyc2lvbj0iMS4wIj8+PCFET0NUWVBFIHg+",
    ] {
        let c = client();
        start_sso(&service, &c, "acme").await;
        let r = c
            .post(service.url("/saml/acme/acs"))
            .form(&[("SAMLResponse", garbage)])
            .sent()
            .await;
        check(r, StatusCode::UNAUTHORIZED, "").await;
    }
    // A path that does not decode, an unknown region, an invalid name, an unknown route.
    let admin = signed_up(&service, "admin@acme.example", "acme").await;
    let r = admin.get(service.url("/api/zz/tokens/google")).sent().await;
    check(r, StatusCode::NOT_FOUND, "").await;
    let r = admin
        .get(service.url("/api/eu/tokens/Not%20Valid"))
        .sent()
        .await;
    check(r, StatusCode::BAD_REQUEST, "").await;
    let r = admin.delete(service.url("/api/keys/%FF%FE")).sent().await;
    check(r, StatusCode::BAD_REQUEST, "").await;
    let r = admin
        .put(service.url("/api/eu/uploads/..%2Fescape"))
        .body("x")
        .sent()
        .await;
    check(r, StatusCode::BAD_REQUEST, "").await;
    let r = admin
        .post(service.url("/api/keys"))
        .body("{not json")
        .header("content-type", "application/json")
        .sent()
        .await;
    check(r, StatusCode::BAD_REQUEST, "").await;
    let r = admin.get(service.url("/no/such/route")).sent().await;
    check(r, StatusCode::NOT_FOUND, "").await;
    // Sign-up into a tenant that does not exist, with a weak password, twice the same e-mail.
    let r = client()
        .post(service.url("/signup"))
        .form(&[
            ("email", "x@y.z"),
            ("password", PASSWORD),
            ("tenant", "nope"),
        ])
        .sent()
        .await;
    check(r, StatusCode::NOT_FOUND, "").await;
    let r = client()
        .post(service.url("/signup"))
        .form(&[
            ("email", "x@y.z"),
            ("password", "short"),
            ("tenant", "acme"),
        ])
        .sent()
        .await;
    check(r, StatusCode::BAD_REQUEST, "short").await;
    let r = client()
        .post(service.url("/signup"))
        .form(&[
            ("email", "admin@acme.example"),
            ("password", PASSWORD),
            ("tenant", "acme"),
        ])
        .sent()
        .await;
    check(r, StatusCode::CONFLICT, "").await;
    // A password past the hasher's cap is a wrong password, not a server error.
    let long = "p".repeat(100_000);
    let r = client()
        .post(service.url("/login"))
        .form(&[("email", "admin@acme.example"), ("password", long.as_str())])
        .sent()
        .await;
    assert!(r.status().is_client_error(), "{}", r.status());
    service.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_and_redis_back_ends_serve_the_same_flows() {
    let Some(pg) = rampart_testkit::PostgresServer::start() else {
        return;
    };
    let Some(redis) = rampart_testkit::RedisServer::start() else {
        return;
    };
    let (pg_url, redis_url) = (pg.create_database("service"), redis.url());
    let service = Service::start_configured(None, common::manual_clock_now(), |c| {
        c.with_postgres(pg_url).with_redis(redis_url)
    })
    .await;
    // Accounts and keys in PostgreSQL, attempt streaks in Redis.
    let admin = signed_up(&service, "admin@acme.example", "acme").await;
    let (public_key, secret) = issue_key(&service, &admin, &["reports:read"]).await;
    assert_eq!(
        with_key(&service, "/api/v1/reports", &secret)
            .await
            .status(),
        StatusCode::OK
    );
    for n in 0..21 {
        let r = with_key(&service, "/api/v1/whoami", &forged_secret(&public_key, n)).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = with_key(&service, "/api/v1/whoami", &forged_secret(&public_key, 21)).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Tokens in PostgreSQL.
    let r = admin
        .put(service.url("/api/eu/tokens/google"))
        .json(&json!({"token": "t-1"}))
        .sent()
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let row: Value = admin
        .get(service.url("/api/eu/tokens/google"))
        .sent()
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(row["token"], "t-1");
    // SAML request ids and the replay cache in Redis.
    let alice = client();
    let (r, _) = sso(
        &service,
        &alice,
        (Idp::Acme, "acme"),
        "alice@acme.example",
        &["staff"],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        alice.get(service.url("/dashboard")).status_code().await,
        StatusCode::OK
    );
    service.running.stop().await.unwrap();
    drop((pg, redis));
}
