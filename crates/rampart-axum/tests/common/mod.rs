//! Shared helpers: a real server on a loopback port, and an API-key fixture.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use axum::Router;
use rampart_apikey::{
    ApiKeys, HashingKey, InMemoryStore, IssuedKey, KeyOptions, KeyPrefix, Keyset,
};
use rampart_attempts::{
    Backoff, FnNotifier, MemoryStore, Notification, Policies, Policy, SubjectKind, Tracker,
};

/// Serves `app` on 127.0.0.1:0 (with the peer address, as the layers need) and returns its
/// base URL.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    format!("http://{addr}")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A memory tracker that throttles `kind` for an hour after one free failure: the system
/// clock cannot pass that delay during a test, only a layer's own clock can.
pub fn hour_throttle(kind: SubjectKind) -> Arc<Tracker<MemoryStore>> {
    let hour = Duration::from_secs(3_600);
    let policies = Policies::default().with(kind, Policy::throttle(Backoff::new(1, hour, hour)));
    Arc::new(
        Tracker::new(MemoryStore::default())
            .with_policies(policies)
            .unwrap(),
    )
}

pub type Notifier = FnNotifier<Box<dyn Fn(&Notification) + Send + Sync>>;

/// Keys, a key store, and a memory tracker whose notifications are counted.
pub struct Keys {
    pub keys: Arc<ApiKeys>,
    pub store: Arc<InMemoryStore>,
    pub tracker: Arc<Tracker<MemoryStore, Notifier>>,
    pub notified: Arc<AtomicU32>,
}

impl Keys {
    pub fn new() -> Self {
        let notified = Arc::new(AtomicU32::new(0));
        let counter = notified.clone();
        let notifier: Notifier = FnNotifier(Box::new(move |_n: &Notification| {
            counter.fetch_add(1, Ordering::SeqCst);
        }));
        Self {
            keys: Arc::new(ApiKeys::new(
                KeyPrefix::new("rk", "test").unwrap(),
                Keyset::new(1, HashingKey::generate().unwrap()),
            )),
            store: Arc::new(InMemoryStore::new()),
            tracker: Arc::new(Tracker::new(MemoryStore::default()).with_notifier(notifier)),
            notified,
        }
    }

    /// Issues a key with `scopes` and stores its record.
    pub fn issue(&self, scopes: &[&str]) -> IssuedKey {
        let issued = self
            .keys
            .issue(
                KeyOptions::new().with_scopes(scopes.iter().copied()),
                SystemTime::now(),
            )
            .unwrap();
        self.store.insert(issued.record.clone()).unwrap();
        issued
    }

    pub fn notifications(&self) -> u32 {
        self.notified.load(Ordering::SeqCst)
    }

    /// Subjects the attempt store holds.
    pub fn tracked(&self) -> usize {
        self.tracker.store().len()
    }
}

/// A clock that stands still at the time it was made until a test moves it; its closure is
/// what the builders' `with_clock` take.
#[derive(Clone)]
pub struct ManualClock {
    start: SystemTime,
    offset_secs: Arc<AtomicU64>,
}

impl ManualClock {
    pub fn new() -> Self {
        Self {
            start: SystemTime::now(),
            offset_secs: Arc::default(),
        }
    }

    pub fn now(&self) -> SystemTime {
        self.start + Duration::from_secs(self.offset_secs.load(Ordering::SeqCst))
    }

    pub fn advance(&self, by: Duration) {
        self.offset_secs.fetch_add(by.as_secs(), Ordering::SeqCst);
    }

    pub fn as_fn(&self) -> impl Fn() -> SystemTime + Send + Sync + 'static {
        let clock = self.clone();
        move || clock.now()
    }
}
