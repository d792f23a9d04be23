//! Per-thread HKDF subkeys with counter nonces, the open-side subkey cache, and fork/snapshot
//! safety (`docs/envelope.md` §2 to §4).
//!
//! A *sealer* is one subkey instance: a 128-bit salt `S` drawn from the OS, the subkey
//! `K_s = HKDF-SHA256(ikm = K_v, salt = S, info = "rampart/v1/seal-key" ‖ header[0..12] ‖
//! binding)`, the commitment `C = HKDF-Expand(same PRK, "rampart/v1/commit" ‖ header[0..12] ‖
//! binding, 32)` (binding: the keyring's region label and name) and a counter. Each thread
//! has its own sealer per version key, so sealing needs no lock and no coordination between
//! threads, processes or replicas.
//!
//! Fork and snapshot safety: a sealer remembers the fork count (kept by a `pthread_atfork`
//! child handler, through forkguard) or, in [`NonceSource::CounterWithPidCheck`], the process
//! id it was created under, and the global reseed epoch. A seal in a forked child or after
//! [`reseed`] throws the sealer away and draws a new salt from the OS before sealing.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};

use ring::aead::LessSafeKey;
use ring::hkdf;
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::primitives::{self, KEY_LEN};
use crate::sealed::{COMMIT_LEN, HEADER_LEN, NONCE_LEN, SALT_LEN, off};

/// Counter-mode sealers draw a new salt after this many seals, which keeps every subkey far
/// inside NIST SP 800-38D's per-key guidance (`docs/envelope.md` §3).
pub(crate) const COUNTER_SEALS_PER_SUBKEY: u64 = 1 << 32;
/// OS-random-nonce sealers draw a new salt after this many seals (random 96-bit nonces: at
/// 2^20 messages per key the collision probability is below 2^-56).
pub(crate) const RANDOM_SEALS_PER_SUBKEY: u64 = 1 << 20;
/// Sealers kept per thread (one per keyring version in use); beyond this the oldest is
/// dropped, which only costs a new salt later.
const SEALERS_PER_THREAD: usize = 8;
/// Default number of (version, salt) subkeys cached for `open`.
pub(crate) const DEFAULT_OPEN_CACHE: usize = 1024;

/// How a keyring chooses nonces when sealing.
///
/// ```
/// use rampart_envelope::{Context, Keyring, LocalMasterKey, NonceSource};
///
/// let master = LocalMasterKey::generate()?;
/// let mut ring = Keyring::create("tokens", "eu-central", &master, std::time::SystemTime::now())?;
/// assert_eq!(NonceSource::default(), NonceSource::Counter);
/// // A VM image that is snapshotted and cannot run a restore hook calling reseed():
/// ring.set_nonce_source(NonceSource::OsRandom);
/// let ctx = Context::new();
/// let a = ring.seal(b"same", &ctx)?;
/// let b = ring.seal(b"same", &ctx)?;
/// assert_ne!(a[28..40], b[28..40]); // nonces (bytes 28..40) differ
/// assert_eq!(&ring.open(&a, &ctx)?[..], b"same");
/// # Ok::<(), rampart_envelope::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum NonceSource {
    /// Default: a per-thread subkey with a counter nonce. Fast (no system call per seal);
    /// safe across `fork()` (a `pthread_atfork` child handler counts forks, and a sealer
    /// created before a fork is never used after it) and, after [`reseed`] is called, across
    /// VM snapshot restores.
    #[default]
    Counter,
    /// Counter nonces that also compare the process id on every seal (one `getpid` system
    /// call, about as much as the AES-GCM call itself at 64 bytes). For processes that fork
    /// without running `pthread_atfork` handlers (a raw `clone` system call, glibc's
    /// `_Fork`), which the default cannot see.
    CounterWithPidCheck,
    /// Opt-in for platforms that snapshot and cannot call [`reseed`]: a fresh OS-random nonce
    /// per seal and a fresh subkey every 2^20 seals. Costs one OS random call (~300 ns) per
    /// seal, but relies only on the kernel's RNG being reseeded after a restore.
    OsRandom,
}

/// A derived subkey and its commitment.
pub(crate) struct Subkey {
    pub(crate) key: LessSafeKey,
    pub(crate) commitment: [u8; COMMIT_LEN],
}

/// Constant-time equality of a 32-byte commitment with the header's bytes (`subtle`), in
/// 8-byte words: subtle puts an optimisation barrier per compared element, and this compare
/// runs on every open, so 4 barriers rather than 32 (about a tenth of a cached 64-byte open,
/// measured on a 2-vCPU machine).
pub(crate) fn commitment_eq(ours: &[u8; COMMIT_LEN], theirs: &[u8]) -> bool {
    if theirs.len() != COMMIT_LEN {
        return false;
    }
    let mut same = subtle::Choice::from(1u8);
    for (a, b) in ours.chunks_exact(8).zip(theirs.chunks_exact(8)) {
        let a = u64::from_ne_bytes(a.try_into().expect("8 bytes"));
        let b = u64::from_ne_bytes(b.try_into().expect("8 bytes"));
        same &= a.ct_eq(&b);
    }
    same.into()
}

/// Derives `(K_s, C)` from a version key, the 16-byte salt, the 12-byte header prefix
/// (format, suite, keyring id, region code, version) and the keyring binding (region label and
/// keyring name). Every header field except the nonce and the commitment itself is an input
/// here, so altering one yields another key: the commitment check fails before decryption.
pub(crate) fn derive(
    version_key: &[u8; KEY_LEN],
    salt: &[u8; SALT_LEN],
    prefix: &[u8],
    binding: &[u8],
) -> Subkey {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(version_key);
    let k: Zeroizing<[u8; KEY_LEN]> =
        primitives::expand32(&prk, &[b"rampart/v1/seal-key", prefix, binding]);
    let c = primitives::expand32(&prk, &[b"rampart/v1/commit", prefix, binding]);
    Subkey {
        key: primitives::aes_key(&k),
        commitment: *c,
    }
}

// ---- fork and snapshot detection ---------------------------------------------------------

static RESEED_EPOCH: AtomicU64 = AtomicU64::new(0);

/// Forces every sealer in every thread to draw a new salt (and so a new subkey) before its
/// next seal.
///
/// Call it after a VM snapshot is restored, or in any situation where process memory may
/// have been duplicated without a pid change (CRIU checkpoint/restore, a cloned container).
/// `fork()` needs no call: it is detected (see [`NonceSource`]). Cheap: one atomic increment;
/// sealers pay one re-derivation (~1 µs) each afterwards.
///
/// ```
/// rampart_envelope::reseed();
/// ```
pub fn reseed() {
    RESEED_EPOCH.fetch_add(1, Ordering::SeqCst);
}

pub(crate) fn epoch() -> u64 {
    #[cfg(test)]
    if let Some(e) = PINNED_EPOCH.with(std::cell::Cell::get) {
        return e;
    }
    RESEED_EPOCH.load(Ordering::Relaxed)
}

#[cfg(test)]
thread_local! {
    /// Test hook: the reseed epoch this thread sees, so a test that must observe "no reseed
    /// happened" is not disturbed by another test thread calling `reseed()`.
    pub(crate) static PINNED_EPOCH: std::cell::Cell<Option<u64>> =
        const { std::cell::Cell::new(None) };
}

#[cfg(test)]
thread_local! {
    /// Test hook: the pid this thread pretends to have (simulates being a forked child).
    pub(crate) static FAKE_PID: std::cell::Cell<Option<u32>> = const { std::cell::Cell::new(None) };
}

fn current_pid() -> u32 {
    #[cfg(test)]
    if let Some(p) = FAKE_PID.with(std::cell::Cell::get) {
        return p;
    }
    std::process::id()
}

#[cfg(test)]
thread_local! {
    /// Test hook: forks this thread pretends happened (simulates the atfork handler firing).
    pub(crate) static SIMULATED_FORKS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How a sealer notices that the process forked after it was created.
#[derive(Clone)]
enum ForkWatch {
    /// The fork count of a `pthread_atfork` child handler: one atomic load per check.
    #[cfg(unix)]
    Atfork {
        guard: forkguard::atfork::Guard,
        #[cfg(test)]
        simulated: u64,
    },
    /// The process id at creation: one `getpid` system call per check, but it also sees
    /// forks that skip the atfork handlers.
    Pid(u32),
}

impl ForkWatch {
    /// Taken before the sealer's salt is drawn, so a fork at any later point is seen.
    fn new(source: NonceSource) -> ForkWatch {
        #[cfg(unix)]
        if source != NonceSource::CounterWithPidCheck {
            // pthread_atfork fails only without memory for the handler: fall back to the pid.
            if let Ok(guard) = forkguard::atfork::Guard::try_new() {
                return ForkWatch::Atfork {
                    guard,
                    #[cfg(test)]
                    simulated: SIMULATED_FORKS.with(std::cell::Cell::get),
                };
            }
        }
        let _ = source;
        ForkWatch::Pid(current_pid())
    }

    fn forked(&self) -> bool {
        match self {
            #[cfg(unix)]
            ForkWatch::Atfork {
                guard,
                #[cfg(test)]
                simulated,
            } => {
                #[cfg(test)]
                if *simulated != SIMULATED_FORKS.with(std::cell::Cell::get) {
                    return true;
                }
                // A copy, so the check reads the count without recording it as seen.
                guard.clone().detected_fork()
            }
            ForkWatch::Pid(pid) => *pid != current_pid(),
        }
    }
}

// ---- per-thread sealers --------------------------------------------------------------------

/// One subkey instance in one thread.
#[derive(Clone)]
pub(crate) struct Sealer {
    /// Unique id of the version key (never reused in the process).
    key_uid: u64,
    /// Dies when the version key is dropped or destroyed: lets threads prune dead sealers.
    alive: Weak<()>,
    fork_watch: ForkWatch,
    epoch: u64,
    source: NonceSource,
    pub(crate) subkey: Arc<Subkey>,
    /// Header template with everything but the nonce filled in.
    pub(crate) header: [u8; HEADER_LEN],
    count: u64,
}

impl Sealer {
    fn is_fresh(&self, source: NonceSource) -> bool {
        let limit = match self.source {
            NonceSource::Counter | NonceSource::CounterWithPidCheck => COUNTER_SEALS_PER_SUBKEY,
            NonceSource::OsRandom => RANDOM_SEALS_PER_SUBKEY,
        };
        self.source == source
            && self.count < limit
            && self.epoch == epoch()
            && !self.fork_watch.forked()
    }

    /// Writes the next nonce into the header template and returns it.
    fn next_nonce(&mut self) -> Result<[u8; NONCE_LEN], Error> {
        let mut nonce = [0u8; NONCE_LEN];
        match self.source {
            NonceSource::Counter | NonceSource::CounterWithPidCheck => {
                nonce[4..].copy_from_slice(&self.count.to_be_bytes());
            }
            NonceSource::OsRandom => primitives::os_fill(&mut nonce)?,
        }
        self.count += 1;
        self.header[off::NONCE..off::COMMIT].copy_from_slice(&nonce);
        Ok(nonce)
    }
}

/// What a thread keeps: its sealers and a scratch buffer for building the AAD.
#[derive(Clone, Default)]
pub(crate) struct ThreadState {
    sealers: Vec<Sealer>,
    pub(crate) scratch: Vec<u8>,
}

thread_local! {
    pub(crate) static THREAD: RefCell<ThreadState> = RefCell::new(ThreadState::default());
}

/// What the keyring hands in to get a sealer for one version key.
pub(crate) struct SealerSpec<'a> {
    pub(crate) key_uid: u64,
    pub(crate) alive: &'a Arc<()>,
    pub(crate) version_key: &'a [u8; KEY_LEN],
    /// `header[0..12]`: format, suite, keyring id, region code, version.
    pub(crate) prefix: [u8; off::KEY_PREFIX],
    /// The keyring binding (region label, keyring name), see [`derive`].
    pub(crate) binding: &'a [u8],
    pub(crate) source: NonceSource,
}

impl ThreadState {
    /// For tests: whether each sealer's version key is still alive.
    #[cfg(test)]
    pub(crate) fn live_sealers(&self) -> Vec<bool> {
        self.sealers
            .iter()
            .map(|s| s.alive.strong_count() > 0)
            .collect()
    }

    /// Takes a fresh sealer for the spec (creating one, with a new OS-random salt, if none
    /// is usable), advances its nonce and runs `f` with it and the scratch buffer. `on_new`
    /// sees each newly derived subkey (the keyring adds it to the open cache so a process opens
    /// its own values without a derivation).
    pub(crate) fn with_next<R>(
        &mut self,
        spec: &SealerSpec<'_>,
        on_new: impl FnOnce(&[u8; SALT_LEN], &Arc<Subkey>),
        f: impl FnOnce(&Sealer, &mut Vec<u8>) -> R,
    ) -> Result<R, Error> {
        let idx = match self.sealers.iter().position(|s| s.key_uid == spec.key_uid) {
            Some(i) if self.sealers[i].is_fresh(spec.source) => i,
            found => {
                if let Some(i) = found {
                    self.sealers.swap_remove(i);
                }
                self.sealers.retain(|s| s.alive.strong_count() > 0);
                if self.sealers.len() >= SEALERS_PER_THREAD {
                    self.sealers.remove(0);
                }
                let fork_watch = ForkWatch::new(spec.source);
                let epoch = epoch();
                let mut salt = [0u8; SALT_LEN];
                primitives::os_fill(&mut salt)?;
                let subkey = Arc::new(derive(spec.version_key, &salt, &spec.prefix, spec.binding));
                on_new(&salt, &subkey);
                let mut header = [0u8; HEADER_LEN];
                header[..off::KEY_PREFIX].copy_from_slice(&spec.prefix);
                header[off::SALT..off::NONCE].copy_from_slice(&salt);
                header[off::COMMIT..].copy_from_slice(&subkey.commitment);
                self.sealers.push(Sealer {
                    key_uid: spec.key_uid,
                    alive: Arc::downgrade(spec.alive),
                    fork_watch,
                    epoch,
                    source: spec.source,
                    subkey,
                    header,
                    count: 0,
                });
                self.sealers.len() - 1
            }
        };
        let sealer = &mut self.sealers[idx];
        sealer.next_nonce()?;
        Ok(f(sealer, &mut self.scratch))
    }
}

/// Unique ids for version keys held in memory (never reused within a process, so a sealer
/// can never be matched to a different key that happens to reuse a version number).
pub(crate) fn next_key_uid() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

// ---- open-side cache -------------------------------------------------------------------

/// Cache key: a version and a salt. Salts are random (and only entries whose commitment
/// verified are inserted, so an attacker cannot choose them): 8 salt bytes are a good hash.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct CacheKey {
    pub(crate) version: u32,
    pub(crate) salt: [u8; SALT_LEN],
}

impl Hash for CacheKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let lo = u64::from_le_bytes(self.salt[..8].try_into().expect("8 bytes"));
        state.write_u64(lo ^ u64::from(self.version));
    }
}

/// Pass-through hasher for [`CacheKey`] (see there why that is safe).
#[derive(Default)]
pub(crate) struct SaltHasher(u64);

impl Hasher for SaltHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
}

struct CacheEntry {
    subkey: Arc<Subkey>,
    last_used: AtomicU64,
}

/// Bounded cache of derived subkeys for `open`, keyed by (version, salt); approximate LRU
/// (a use stamps a tick; a full cache evicts the entry with the oldest stamp).
pub(crate) struct SubkeyCache {
    map: RwLock<HashMap<CacheKey, CacheEntry, BuildHasherDefault<SaltHasher>>>,
    tick: AtomicU64,
    capacity: usize,
}

impl SubkeyCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            map: RwLock::new(HashMap::default()),
            tick: AtomicU64::new(0),
            capacity: capacity.max(1),
        }
    }

    /// Runs `f` with the cached subkey, if any, after checking the commitment in constant
    /// time. `None`: not cached. `Some(Err(CommitmentMismatch))`: cached, commitment differs.
    pub(crate) fn with<R>(
        &self,
        key: &CacheKey,
        commitment: &[u8],
        f: impl FnOnce(&Subkey) -> R,
    ) -> Option<Result<R, Error>> {
        let map = self
            .map
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = map.get(key)?;
        // Repeated hits on the most recent entry are a plain load: the shared clock only
        // moves when recency actually changes.
        if entry.last_used.load(Ordering::Relaxed) != self.tick.load(Ordering::Relaxed) {
            let t = self.tick.fetch_add(1, Ordering::Relaxed) + 1;
            entry.last_used.store(t, Ordering::Relaxed);
        }
        if !commitment_eq(&entry.subkey.commitment, commitment) {
            return Some(Err(Error::CommitmentMismatch));
        }
        Some(Ok(f(&entry.subkey)))
    }

    pub(crate) fn insert(&self, key: CacheKey, subkey: Arc<Subkey>) {
        let mut map = self
            .map
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= self.capacity
            && !map.contains_key(&key)
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, e)| e.last_used.load(Ordering::Relaxed))
                .map(|(k, _)| *k)
        {
            map.remove(&oldest);
        }
        let tick = self.tick.fetch_add(1, Ordering::Relaxed) + 1;
        map.insert(
            key,
            CacheEntry {
                subkey,
                last_used: AtomicU64::new(tick),
            },
        );
    }

    /// Drops every subkey of `version` (called when a version is destroyed).
    pub(crate) fn forget_version(&self, version: u32) {
        self.map
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|k, _| k.version != version);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_evicts_least_recently_used() {
        let c = SubkeyCache::new(2);
        let mk = |b: u8| CacheKey {
            version: 1,
            salt: [b; 16],
        };
        let sk = || Arc::new(derive(&[1; 32], &[0; 16], &[0; 12], b""));
        let commit = sk().commitment;
        c.insert(mk(1), sk());
        c.insert(mk(2), sk());
        assert!(c.with(&mk(1), &commit, |_| ()).is_some()); // 1 is now newer than 2
        c.insert(mk(3), sk());
        assert_eq!(c.len(), 2);
        assert!(c.with(&mk(2), &commit, |_| ()).is_none());
        assert!(c.with(&mk(1), &commit, |_| ()).is_some());
        assert!(c.with(&mk(3), &commit, |_| ()).is_some());
    }

    #[test]
    fn commitment_eq_compares_every_byte() {
        let a = [7u8; 32];
        assert!(commitment_eq(&a, &a));
        for i in 0..32 {
            let mut b = a;
            b[i] ^= 0x80;
            assert!(!commitment_eq(&a, &b), "byte {i}");
        }
        assert!(!commitment_eq(&a, &a[..31]));
    }

    #[test]
    fn cached_commitment_mismatch_is_reported() {
        let c = SubkeyCache::new(4);
        let k = CacheKey {
            version: 1,
            salt: [9; 16],
        };
        c.insert(k, Arc::new(derive(&[1; 32], &[9; 16], &[0; 12], b"")));
        assert!(matches!(
            c.with(&k, &[0u8; 32], |_| ()),
            Some(Err(Error::CommitmentMismatch))
        ));
    }

    #[test]
    fn derivation_separates_salt_prefix_and_key() {
        let base = derive(&[1; 32], &[2; 16], &[3; 12], b"eu").commitment;
        assert_ne!(base, derive(&[9; 32], &[2; 16], &[3; 12], b"eu").commitment);
        assert_ne!(base, derive(&[1; 32], &[9; 16], &[3; 12], b"eu").commitment);
        assert_ne!(base, derive(&[1; 32], &[2; 16], &[9; 12], b"eu").commitment);
        assert_ne!(base, derive(&[1; 32], &[2; 16], &[3; 12], b"us").commitment);
        assert_eq!(base, derive(&[1; 32], &[2; 16], &[3; 12], b"eu").commitment);
    }
}
