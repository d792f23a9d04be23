//! Real `fork()`s, not simulations: a parent seals, forks, and parent and child both go on
//! sealing from the same sealer state; no (salt, nonce) pair may appear in both. Runs once per
//! nonce source that promises fork safety.
//!
//! No libtest harness (`harness = false`): `fork()` from safe code needs a single-threaded
//! process, and libtest runs tests on threads.

use std::collections::HashSet;
use std::time::SystemTime;

use rampart_envelope::{Context, Keyring, LocalMasterKey, NonceSource};

/// Salt and nonce of a sealed value (`docs/envelope.md` §2: salt at 12..28, nonce 28..40).
fn salt_nonce(sealed: &[u8]) -> [u8; 28] {
    sealed[12..40].try_into().expect("header")
}

fn seal_n(ring: &Keyring, ctx: &Context, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|_| ring.seal(b"x", ctx).expect("seal"))
        .collect()
}

fn parent_and_child_never_share_a_nonce(source: NonceSource) {
    let master = LocalMasterKey::generate().expect("master");
    let mut ring = Keyring::create("fork", "eu", &master, SystemTime::now()).expect("ring");
    ring.set_nonce_source(source);
    let ctx = Context::new().with("t", "1");
    let before = seal_n(&ring, &ctx, 10);
    let dir = tempfile::tempdir().expect("temp dir");
    let child_out = dir.path().join("child");

    let status = safe_fork::fork_join(|| {
        let sealed = seal_n(&ring, &ctx, 100);
        match std::fs::write(&child_out, sealed.concat()) {
            Ok(()) => 0,
            Err(_) => 1,
        }
    })
    .expect("fork");
    assert_eq!(status, 0, "{source:?}: child failed");
    let parent = seal_n(&ring, &ctx, 100);

    let child_bytes = std::fs::read(&child_out).expect("child output");
    let len = before[0].len();
    let child: Vec<&[u8]> = child_bytes.chunks(len).collect();
    assert_eq!(child.len(), 100, "{source:?}: child sealed 100 values");
    // The child's sealer state came from the parent, but it drew its own salt.
    assert_ne!(
        salt_nonce(child[0])[..16],
        salt_nonce(&before[0])[..16],
        "{source:?}: child kept the parent's subkey"
    );
    let parent_pairs: HashSet<_> = before
        .iter()
        .chain(&parent)
        .map(|c| salt_nonce(c))
        .collect();
    assert_eq!(parent_pairs.len(), 110);
    for c in &child {
        assert!(
            !parent_pairs.contains(&salt_nonce(c)),
            "{source:?}: nonce reused across fork"
        );
        assert_eq!(&ring.open(c, &ctx).expect("child's value opens")[..], b"x");
    }
    println!("{source:?}: parent and child sealed 100 values each after fork, no shared nonce");
}

fn main() {
    for source in [
        NonceSource::Counter,
        NonceSource::CounterWithPidCheck,
        NonceSource::OsRandom,
    ] {
        parent_and_child_never_share_a_nonce(source);
    }
}
