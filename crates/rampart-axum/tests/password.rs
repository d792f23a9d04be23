//! Password login over real HTTP: a login route built on `PasswordLogin` and `PasswordForm`.

mod common;

use rampart_testkit::http::Sent;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::{Router, routing::post};
use common::{ManualClock, client, hour_throttle, serve};
use rampart_attempts::{MemoryStore, SubjectKind, Tracker};
use rampart_axum::{Accounts, ClientIp, Error, PasswordForm, PasswordLogin, StoredAccount};
use rampart_password::{DEFAULT_MAX_PASSWORD_BYTES, Hasher, Params, Password};

#[derive(Default)]
struct Users {
    hashes: Mutex<HashMap<String, String>>,
    lookups: Mutex<Vec<String>>,
    upgrades: Mutex<Vec<String>>,
}

impl Accounts for Users {
    type Error = std::convert::Infallible;

    async fn find(&self, account: &str) -> Result<Option<StoredAccount>, Self::Error> {
        self.lookups.lock().unwrap().push(account.to_owned());
        Ok(self
            .hashes
            .lock()
            .unwrap()
            .get(account)
            .map(|h| StoredAccount::new(h.clone()).with_roles(["viewer"])))
    }

    async fn store_upgraded_hash(&self, account: &str, new_hash: &str) -> Result<(), Self::Error> {
        self.upgrades.lock().unwrap().push(account.to_owned());
        self.hashes
            .lock()
            .unwrap()
            .insert(account.to_owned(), new_hash.to_owned());
        Ok(())
    }
}

struct App {
    login: PasswordLogin<MemoryStore>,
    tracker: Arc<Tracker<MemoryStore>>,
    users: Users,
}

async fn log_in(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    form: PasswordForm,
) -> Result<String, Error> {
    let who = app
        .login
        .log_in(&app.users, &form.account, form.password, ip)
        .await?;
    Ok(format!(
        "{} {}",
        who.owner(),
        who.roles().collect::<Vec<_>>().join(",")
    ))
}

async fn start(users: Users) -> (String, Arc<App>) {
    let tracker = Arc::new(Tracker::new(MemoryStore::default()));
    start_with(users, tracker, |login| login).await
}

/// As [`start`], with `tracker` and `configure` applied to the login.
async fn start_with(
    users: Users,
    tracker: Arc<Tracker<MemoryStore>>,
    configure: impl FnOnce(PasswordLogin<MemoryStore>) -> PasswordLogin<MemoryStore>,
) -> (String, Arc<App>) {
    let app = Arc::new(App {
        login: configure(PasswordLogin::new(Hasher::new(), tracker.clone())),
        tracker,
        users,
    });
    let router = Router::new()
        .route("/login", post(log_in))
        .with_state(app.clone());
    (serve(router).await, app)
}

const PASSWORD: &str = "correct horse battery staple";

fn users_with_ann(hasher: &Hasher) -> Users {
    let users = Users::default();
    let hash = hasher.hash(&Password::new(PASSWORD)).unwrap();
    users.hashes.lock().unwrap().insert("ann".into(), hash);
    users
}

async fn post_form(base: &str, body: impl Into<reqwest::Body>) -> (u16, String, Duration) {
    let started = Instant::now();
    let r = client()
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .sent()
        .await;
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, text, started.elapsed())
}

async fn attempt(base: &str, account: &str, password: &str) -> (u16, String, Duration) {
    post_form(base, format!("account={account}&password={password}")).await
}

#[tokio::test]
async fn right_password_logs_in_with_the_accounts_roles() {
    let (base, _) = start(users_with_ann(&Hasher::new())).await;
    let (status, body, _) = attempt(&base, "ann", "correct+horse+battery+staple").await;
    assert_eq!((status, body.as_str()), (200, "ann viewer"));
}

#[tokio::test]
async fn wrong_password_is_401_and_echoes_nothing() {
    let (base, app) = start(users_with_ann(&Hasher::new())).await;
    let (status, body, _) = attempt(&base, "ann", "hunter2-guess").await;
    assert_eq!((status, body.as_str()), (401, "invalid_password\n"));
    assert!(!body.contains("hunter2") && !body.contains("ann"));
    // Counted for the account, the IP and the pair.
    assert_eq!(app.tracker.store().len(), 3);
}

#[tokio::test]
async fn unknown_account_costs_a_dummy_verification_like_a_wrong_password() {
    let (base, app) = start(users_with_ann(&Hasher::new())).await;
    // Interleaved, the median of each: a loaded machine slows both alike.
    let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
    for i in 0..4 {
        let (s, body, t) = attempt(&base, &format!("nobody{i}"), "guess").await;
        assert_eq!(
            (s, body.as_str()),
            (401, "invalid_password\n"),
            "same answer as a wrong password"
        );
        unknown.push(t);
        let (s, _, t) = attempt(&base, "ann", &format!("guess{i}")).await;
        assert_eq!(s, 401);
        wrong.push(t);
    }
    unknown.sort();
    wrong.sort();
    let (u, w) = (unknown[2], wrong[2]);
    // Without the dummy verification an unknown account answers in well under a millisecond
    // against tens of milliseconds of argon2id (m = 19 MiB, t = 2).
    assert!(
        u.as_secs_f64() > 0.5 * w.as_secs_f64(),
        "unknown account {u:?} vs wrong password {w:?}: the dummy verification was skipped"
    );
    assert_eq!(app.users.lookups.lock().unwrap().len(), 8);
}

#[tokio::test]
async fn outdated_hash_is_upgraded_and_handed_back_to_the_store() {
    // Stored under weaker parameters than the hasher's current ones.
    let old = Hasher::builder()
        .with_params(Params::new(8 * 1024, 1, 1).unwrap())
        .build()
        .unwrap();
    let users = users_with_ann(&old);
    let before = users.hashes.lock().unwrap()["ann"].clone();
    let (base, app) = start(users).await;
    let (status, _, _) = attempt(&base, "ann", "correct+horse+battery+staple").await;
    assert_eq!(status, 200);
    assert_eq!(*app.users.upgrades.lock().unwrap(), ["ann"]);
    let after = app.users.hashes.lock().unwrap()["ann"].clone();
    assert_ne!(before, after);
    assert!(after.contains("m=19456,t=2,p=1"), "{after}");
    // The upgraded hash verifies, and needs no further upgrade.
    let (status, _, _) = attempt(&base, "ann", "correct+horse+battery+staple").await;
    assert_eq!(status, 200);
    assert_eq!(app.users.upgrades.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn throttled_account_is_429_before_any_lookup_or_hashing() {
    let (base, app) = start(users_with_ann(&Hasher::new())).await;
    for i in 0..6 {
        assert_eq!(attempt(&base, "ann", &format!("guess{i}")).await.0, 401);
    }
    let lookups = app.users.lookups.lock().unwrap().len();
    let (status, body, _) = attempt(&base, "ann", "correct+horse+battery+staple").await;
    assert_eq!((status, body.as_str()), (429, "throttled\n"));
    assert_eq!(
        app.users.lookups.lock().unwrap().len(),
        lookups,
        "looked up while throttled"
    );
}

#[tokio::test]
async fn throttled_login_is_allowed_again_once_the_logins_clock_passes_the_delay() {
    // An hour's delay per (account, IP) after one free failure: the system clock cannot
    // pass it during the test, only the login's own clock can.
    let hour = Duration::from_secs(3_600);
    let tracker = hour_throttle(SubjectKind::AccountIp);
    let clock = ManualClock::new();
    let (base, _) = start_with(users_with_ann(&Hasher::new()), tracker, |login| {
        login.with_clock(clock.as_fn())
    })
    .await;
    for i in 0..2 {
        assert_eq!(attempt(&base, "ann", &format!("guess{i}")).await.0, 401);
    }
    let right = "correct+horse+battery+staple";
    let r = client()
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("account=ann&password={right}"))
        .sent()
        .await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "3600");
    clock.advance(hour - Duration::from_secs(1));
    assert_eq!(attempt(&base, "ann", right).await.0, 429, "a second early");
    clock.advance(Duration::from_secs(1));
    let (status, body, _) = attempt(&base, "ann", right).await;
    assert_eq!((status, body.as_str()), (200, "ann viewer"));
}

#[tokio::test]
async fn password_over_the_hashers_length_cap_is_a_counted_wrong_password() {
    let (base, app) = start(users_with_ann(&Hasher::new())).await;
    // Within the login form's 16 KiB, past rampart-password's 4 KiB cap.
    let long = "p".repeat(DEFAULT_MAX_PASSWORD_BYTES + 1);
    let (status, body, _) = attempt(&base, "ann", &long).await;
    assert_eq!((status, body.as_str()), (401, "invalid_password\n"));
    // Counted for the account, the IP and the pair, like any wrong password.
    assert_eq!(app.tracker.store().len(), 3);
    // An unknown account answers the same.
    let (status, body, _) = attempt(&base, "nobody", &long).await;
    assert_eq!((status, body.as_str()), (401, "invalid_password\n"));
}

#[tokio::test]
async fn non_utf8_form_value_is_400() {
    let (base, _) = start(users_with_ann(&Hasher::new())).await;
    let (status, body, _) = post_form(&base, "account=ann&password=%FF%FEsecret").await;
    assert_eq!((status, body.as_str()), (400, "bad_form\n"));
    let (status, _, _) = post_form(&base, b"account=\xff&password=x".to_vec()).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn oversized_login_form_is_413() {
    let (base, _) = start(users_with_ann(&Hasher::new())).await;
    let big = format!("account=ann&password={}", "a".repeat(64 * 1024));
    let (status, body, _) = post_form(&base, big).await;
    assert_eq!((status, body.as_str()), (413, "payload_too_large\n"));
}
