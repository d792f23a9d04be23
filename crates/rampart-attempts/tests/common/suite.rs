//! Behaviour every shared store must show, generic over the store: replicas racing on one
//! streak, random histories compared with the memory store, and rows an operator edited by
//! hand. Each store's test file runs them against a real server (or file).

use std::sync::Arc;
use std::time::Duration;

use rampart_attempts::{
    Decision, Error, FailureOutcome, Lockout, MemoryStore, Policies, Policy, RowProblem, Store,
    StoreError, Subject, SubjectKind, Tracker, UnlockToken,
};

use super::{Collect, scenario_policies, settle, t0};

/// Concurrent failures per subject in [`replicas_notify_exactly_once`].
pub const CONCURRENT: u32 = 50;

/// Two replicas (`a` and `b`, each with its own connection pool) record [`CONCURRENT`]
/// failures per subject at once: exactly one notification per subject, at the threshold;
/// exact counts; exactly one unlock token for a subject that locks at 25.
pub async fn replicas_notify_exactly_once<S: Store + Send + Sync + 'static>(a: S, b: S, tag: &str) {
    let notes = Collect::default();
    let policies = Policies::default().with(
        SubjectKind::Account,
        Policy::notify_only(20).with_lockout(Lockout::until_unlocked(25)),
    );
    let replica = |s: S| {
        Arc::new(
            Tracker::new(s)
                .with_notifier(notes.clone())
                .with_policies(policies.clone())
                .unwrap(),
        )
    };
    let (a, b) = (replica(a), replica(b));
    let subjects: Vec<Subject> = (0..4)
        .map(|i| Subject::api_key(format!("pk_race_{tag}_{i}")))
        .chain([Subject::account(format!("acct_race_{tag}"))])
        .collect();
    let mut tasks = Vec::new();
    for subject in &subjects {
        for i in 0..CONCURRENT {
            let tracker = Arc::clone(if i % 2 == 0 { &a } else { &b });
            let subject = subject.clone();
            tasks.push(tokio::spawn(async move {
                tracker.record_failure(&subject, t0()).await.unwrap()
            }));
        }
    }
    let mut outcomes: Vec<FailureOutcome> = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    let notes = notes.all();
    for subject in &subjects {
        let mine: Vec<_> = notes.iter().filter(|n| &n.subject == subject).collect();
        assert_eq!(mine.len(), 1, "{subject}: exactly one notification");
        assert_eq!(mine[0].count, 20, "{subject}");
        assert_eq!(
            a.record_failure(subject, t0()).await.unwrap().count,
            CONCURRENT + 1,
            "{subject}: every failure counted once"
        );
    }
    let tokens: Vec<UnlockToken> = outcomes
        .into_iter()
        .filter_map(|o| o.unlock_token)
        .collect();
    assert_eq!(tokens.len(), 1, "exactly one lock, one token");
    let acct = &subjects[4];
    assert!(b.unlock(acct, &tokens[0]).await.unwrap());
    assert_eq!(a.check(acct, t0()).await.unwrap(), Decision::Allow);
}

/// A tiny deterministic generator (xorshift64*): the same history on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What one operation answered, in a form both stores must agree on.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Failure {
        count: u32,
        retry_after: Option<Duration>,
        locked: bool,
        notified_at: Option<(u32, std::time::SystemTime)>,
        token: bool,
    },
    Check(Decision),
    Unlock(bool),
    Success,
}

/// `steps` random operations (failures, successes, checks, unlocks with each store's own
/// latest token, time jumps past idle periods and lock ends) applied to `store` and to a
/// memory store: every answer must be the same. Times are whole seconds (the memory store
/// keeps lock ends in seconds). `drained` says when `store`'s background resets landed.
pub async fn agrees_with_the_memory_store<S: Store>(
    store: S,
    drained: impl Fn(&S) -> bool,
    seed: u64,
    steps: usize,
) {
    let sql = Tracker::new(store)
        .with_policies(scenario_policies())
        .unwrap();
    let mem = Tracker::new(MemoryStore::default())
        .with_policies(scenario_policies())
        .unwrap();
    // Subjects of their own per seed: runs with several seeds share one store.
    let ip = format!("198.51.100.{}", seed % 250).parse().unwrap();
    let subjects = [
        Subject::api_key(format!("pk_diff_{seed}")),
        Subject::account(format!("ann_diff_{seed}")),
        Subject::account_from_ip(format!("ann_diff_{seed}"), ip),
        Subject::ip(ip),
    ];
    let mut rng = Rng(seed | 1);
    let mut now = t0();
    let mut tokens: [(Option<UnlockToken>, Option<UnlockToken>); 4] = Default::default();
    for step in 0..steps {
        now += Duration::from_secs(match rng.below(20) {
            0 => 700 + rng.below(4000), // past some idle periods
            1..=4 => rng.below(40),     // past a timed lock, some backoff delays
            _ => rng.below(3),
        });
        let i = usize::try_from(rng.below(4)).unwrap();
        let subject = &subjects[i];
        let (a, b) = match rng.below(20) {
            0..=12 => {
                let (x, y) = (
                    sql.record_failure(subject, now).await.unwrap(),
                    mem.record_failure(subject, now).await.unwrap(),
                );
                let answer = |o: &FailureOutcome| Answer::Failure {
                    count: o.count,
                    retry_after: o.retry_after,
                    locked: o.locked,
                    notified_at: o.notification.as_ref().map(|n| (n.count, n.first_failure)),
                    token: o.unlock_token.is_some(),
                };
                let pair = (answer(&x), answer(&y));
                if x.unlock_token.is_some() {
                    tokens[i] = (x.unlock_token, y.unlock_token);
                }
                pair
            }
            13..=15 => {
                sql.record_success(subject, now).await;
                mem.record_success(subject, now).await;
                settle(|| drained(sql.store())).await;
                (Answer::Success, Answer::Success)
            }
            16..=17 => (
                Answer::Check(sql.check(subject, now).await.unwrap()),
                Answer::Check(mem.check(subject, now).await.unwrap()),
            ),
            _ => match &tokens[i] {
                (Some(x), Some(y)) => (
                    Answer::Unlock(sql.unlock(subject, x).await.unwrap()),
                    Answer::Unlock(mem.unlock(subject, y).await.unwrap()),
                ),
                _ => continue,
            },
        };
        assert_eq!(a, b, "step {step}, {subject}, seed {seed}");
    }
}

/// Hand edits an operator (or an attacker with database access) could make, each a `SET`
/// clause valid in PostgreSQL and SQLite, and what the store must call it.
pub fn hand_edits() -> Vec<(&'static str, RowProblem)> {
    vec![
        (
            "failures = -1",
            RowProblem::OutOfRange { column: "failures" },
        ),
        (
            "failures = 4294967296",
            RowProblem::OutOfRange { column: "failures" },
        ),
        (
            "token_hash = substr(token_hash, 1, 16)",
            RowProblem::TokenLength { len: 16 },
        ),
        ("layout = 2", RowProblem::Layout { found: 2 }),
        (
            "last_ms = 253402300800000",
            RowProblem::OutOfRange { column: "last_ms" },
        ),
        (
            "lock_until_ms = -7",
            RowProblem::OutOfRange {
                column: "lock_until_ms",
            },
        ),
    ]
}

/// For each of `edits`: a locked account's row is edited with `edit(sql)` (which lifts the
/// table's checks as needed); then `check`, `record_failure` and `unlock` with the right
/// token are each [`StoreError::BadRow`] naming the key and the problem: never a decision,
/// never an accepted token, and the row is left as it was (the error repeats).
pub async fn bad_rows_are_typed_errors<S: Store, F: AsyncFn(String)>(
    store: S,
    key_of: fn(&Subject) -> String,
    edits: Vec<(&'static str, RowProblem)>,
    edit: F,
) {
    let policies = Policies::default().with(
        SubjectKind::Account,
        Policy::notify_only(20).with_lockout(Lockout::until_unlocked(3)),
    );
    let tracker = Tracker::new(store).with_policies(policies).unwrap();
    for (i, (set, problem)) in edits.into_iter().enumerate() {
        let acct = Subject::account(format!("edited_{i}"));
        let mut token = None;
        for _ in 0..3 {
            token = token.or(tracker
                .record_failure(&acct, t0())
                .await
                .unwrap()
                .unlock_token);
        }
        let token = token.expect("the third failure locks");
        let key = key_of(&acct);
        edit(format!(
            "UPDATE rampart_attempts_streaks SET {set} WHERE subject_key = '{key}'"
        ))
        .await;
        let expect = |r: Result<String, Error>, op: &str| match r {
            Err(Error::Store(StoreError::BadRow { key: k, problem: p })) => {
                assert_eq!((&k, &p), (&key, &problem), "{op} after `{set}`");
            }
            other => panic!("{op} after `{set}`: {other:?}"),
        };
        for _ in 0..2 {
            expect(
                tracker.check(&acct, t0()).await.map(|d| format!("{d:?}")),
                "check",
            );
            expect(
                tracker
                    .record_failure(&acct, t0())
                    .await
                    .map(|o| format!("{o:?}")),
                "record_failure",
            );
            expect(
                tracker.unlock(&acct, &token).await.map(|u| u.to_string()),
                "unlock",
            );
        }
        let err = tracker.check(&acct, t0()).await.unwrap_err();
        assert_eq!(err.kind(), "store_bad_row");
        assert!(err.to_string().contains(&key), "{err}");
    }
}

/// Eight unlocks of `acct` with the one token `text`, half through replica `a` and half
/// through `b`, all at once: exactly one succeeds (`round` names the failing round).
pub async fn concurrent_unlocks_succeed_once<S: Store + Send + Sync + 'static>(
    a: &Arc<Tracker<S>>,
    b: &Arc<Tracker<S>>,
    acct: &Subject,
    text: &str,
    round: usize,
) {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let tracker = Arc::clone(if i % 2 == 0 { a } else { b });
            let (acct, text) = (acct.clone(), text.to_owned());
            tokio::spawn(async move {
                let token = UnlockToken::parse(&text).unwrap();
                tracker.unlock(&acct, &token).await.unwrap()
            })
        })
        .collect();
    let mut successes = 0;
    for t in tasks {
        successes += usize::from(t.await.unwrap());
    }
    assert_eq!(successes, 1, "round {round}");
}
