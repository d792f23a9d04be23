//! The hasher: argon2id with OWASP defaults, optional versioned pepper, PHC string output.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use zeroize::Zeroizing;

use crate::error::{ConfigError, Error, Result};
use crate::limiter::{Limiter, LimiterConfig};
use crate::params::{Caps, OUTPUT_LEN, Params, SALT_LEN, block_count};
use crate::pepper::{Pepper, Peppers, keyid_bytes};
use crate::secret::Password;
use crate::stored::{Argon2Hash, Parsed};
use crate::verify::Verdict;

/// Default cap on password length in bytes, before normalization. argon2 hashes any length
/// cheaply, but legacy formats and normalization do not, and no human types 4 KiB.
pub const DEFAULT_MAX_PASSWORD_BYTES: usize = 4096;

/// Hashes and verifies passwords. Cheap to clone (shared state behind an `Arc`), `Send` and
/// `Sync`: build one at start-up and share it.
///
/// New hashes are argon2id v1.3 PHC strings with a 16-byte random salt and a 32-byte output,
/// for example `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` (with `,keyid=..` when a pepper
/// is configured). Passwords are normalized to Unicode NFKC before argon2 sees them
/// (NIST SP 800-63B section 5.1.1.2), so the same password typed on different keyboards
/// verifies; legacy formats are verified on the password exactly as given.
///
/// ```
/// use rampart_password::{Hasher, Password, Verdict};
/// # let hasher = Hasher::builder().with_params(rampart_password::Params::new(64, 1, 1)?).build()?;
/// // let hasher = Hasher::new(); // OWASP defaults
/// let hash = hasher.hash(&Password::new("correct horse battery staple"))?;
/// assert!(hash.starts_with("$argon2id$v=19$"));
/// assert_eq!(hasher.verify(&Password::new("correct horse battery staple"), &hash)?, Verdict::Valid);
/// assert_eq!(hasher.verify(&Password::new("wrong"), &hash)?, Verdict::Invalid);
/// # Ok::<(), rampart_password::Error>(())
/// ```
#[derive(Clone)]
pub struct Hasher {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) params: Params,
    pub(crate) peppers: Peppers,
    pub(crate) caps: Caps,
    pub(crate) limiter: Limiter,
    /// The limiter's worker threads for async calls.
    #[cfg(feature = "tokio")]
    pub(crate) pool: crate::pool::Pool,
    pub(crate) max_password_bytes: usize,
    /// A hash of nothing, at the current parameters and pepper, for unknown users.
    pub(crate) dummy: String,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("params", &self.inner.params)
            .field(
                "pepper_version",
                &self.inner.peppers.current().map(Pepper::version),
            )
            .field("caps", &self.inner.caps)
            .field("workers", &self.inner.limiter.workers())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Hasher`]. Every setting has a safe default.
///
/// Rotating the pepper: make version 2 current and keep version 1 as an old pepper. Hashes
/// made under version 1 still verify, and report an upgrade to a version-2 hash.
///
/// ```
/// use rampart_password::{Hasher, Params, Password, Pepper, UpgradeReason, Verdict};
/// let params = Params::new(64, 1, 1)?; // tiny for the example; keep the default in production
/// let v1 = Hasher::builder().with_params(params).with_pepper(Pepper::new(1, [1u8; 32])?).build()?;
/// let pw = Password::new("correct horse battery staple");
/// let stored = v1.hash(&pw)?;
/// assert!(stored.contains(",keyid=AAAAAQ$")); // pepper version 1
///
/// let v2 = Hasher::builder()
///     .with_params(params)
///     .with_pepper(Pepper::new(2, [2u8; 32])?)
///     .with_old_pepper(Pepper::new(1, [1u8; 32])?)
///     .build()?;
/// let Verdict::ValidNeedsUpgrade { new_hash, reason } = v2.verify(&pw, &stored)? else {
///     panic!("a version-1 hash is upgraded");
/// };
/// assert_eq!(reason, UpgradeReason::Pepper);
/// assert!(new_hash.contains(",keyid=AAAAAg$")); // pepper version 2
/// assert_eq!(v2.verify(&pw, &new_hash)?, Verdict::Valid);
/// # Ok::<(), rampart_password::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct HasherBuilder {
    params: Params,
    pepper: Option<Pepper>,
    older_peppers: Vec<Pepper>,
    caps: Option<Caps>,
    limiter: LimiterConfig,
    max_password_bytes: Option<usize>,
}

impl HasherBuilder {
    /// argon2id parameters for new hashes (default [`Params::OWASP`]). Stored hashes with any
    /// parameter below these verify and report [`Verdict::ValidNeedsUpgrade`].
    #[must_use]
    pub fn with_params(mut self, params: Params) -> Self {
        self.params = params;
        self
    }

    /// The current pepper: new hashes use it and record its version in `keyid`.
    #[must_use]
    pub fn with_pepper(mut self, pepper: Pepper) -> Self {
        self.pepper = Some(pepper);
        self
    }

    /// An older pepper, kept so hashes made with it still verify (and get upgraded).
    #[must_use]
    pub fn with_old_pepper(mut self, pepper: Pepper) -> Self {
        self.older_peppers.push(pepper);
        self
    }

    /// Caps on parameters read from stored hashes (default: 4x the current parameters).
    #[must_use]
    pub fn with_caps(mut self, caps: Caps) -> Self {
        self.caps = Some(caps);
        self
    }

    /// Concurrency limits (default: one worker per core within a 256 MiB budget).
    #[must_use]
    pub fn with_limiter(mut self, limiter: LimiterConfig) -> Self {
        self.limiter = limiter;
        self
    }

    /// Longest password accepted, in bytes (default [`DEFAULT_MAX_PASSWORD_BYTES`]).
    #[must_use]
    pub fn with_max_password_bytes(mut self, bytes: usize) -> Self {
        self.max_password_bytes = Some(bytes);
        self
    }

    /// Builds the hasher.
    ///
    /// # Errors
    /// [`Error::Config`] when caps are below the parameters, peppers share a version, older
    /// peppers are given without a current one, or the memory budget is below one hash.
    /// [`Error::Rng`] if the OS random generator fails.
    pub fn build(self) -> Result<Hasher> {
        let caps = self.caps.unwrap_or_else(|| Caps::times(&self.params, 4));
        caps.check_covers(&self.params)?;
        let peppers = Peppers::new(self.pepper, self.older_peppers)?;
        let limiter = Limiter::new(
            self.limiter,
            block_count(self.params.m_kib(), self.params.p()),
        )?;
        let max_password_bytes = self
            .max_password_bytes
            .unwrap_or(DEFAULT_MAX_PASSWORD_BYTES);
        if max_password_bytes < 64 {
            return Err(ConfigError::Policy("max_password_bytes below 64").into());
        }
        let mut salt = [0u8; SALT_LEN];
        let mut output = [0u8; OUTPUT_LEN];
        fill_random(&mut salt)?;
        fill_random(&mut output)?;
        let dummy = format_argon2id(
            &self.params,
            peppers.current().map(Pepper::version),
            &salt,
            &output,
        );
        Ok(Hasher {
            inner: Arc::new(Inner {
                params: self.params,
                peppers,
                caps,
                #[cfg(feature = "tokio")]
                pool: crate::pool::Pool::new(limiter.workers()),
                limiter,
                max_password_bytes,
                dummy,
            }),
        })
    }
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Hasher {
    /// A hasher with OWASP parameters, no pepper and default caps and limiter.
    ///
    /// # Panics
    /// Only if the OS random generator fails while making the dummy hash; use
    /// [`Hasher::builder`] to handle that as an error.
    #[must_use]
    pub fn new() -> Self {
        Self::builder()
            .build()
            .expect("the default configuration is valid")
    }

    /// A builder for non-default parameters, peppers, caps and limits.
    #[must_use]
    pub fn builder() -> HasherBuilder {
        HasherBuilder::default()
    }

    /// The parameters new hashes are made with.
    #[must_use]
    pub fn params(&self) -> Params {
        self.inner.params
    }

    /// The caps applied to stored hashes.
    #[must_use]
    pub fn caps(&self) -> Caps {
        self.inner.caps
    }

    /// Number of hashes that may run at once.
    #[must_use]
    pub fn workers(&self) -> usize {
        self.inner.limiter.workers()
    }

    /// Hashes a password with the current parameters and pepper into a PHC string.
    ///
    /// Blocks while all workers are busy. The password is normalized to NFKC first; a fresh
    /// random salt makes every hash of the same password different.
    ///
    /// ```
    /// use rampart_password::{Hasher, Params, Password, Verdict};
    /// let hasher = Hasher::builder().with_params(Params::new(64, 2, 1)?).build()?;
    /// let pw = Password::new("correct horse battery staple");
    /// let stored = hasher.hash(&pw)?;
    /// assert!(stored.starts_with("$argon2id$v=19$m=64,t=2,p=1$"));
    /// assert_ne!(hasher.hash(&pw)?, stored, "salted");
    /// assert_eq!(hasher.verify(&pw, &stored)?, Verdict::Valid);
    /// # Ok::<(), rampart_password::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::PasswordTooLong`] above the byte cap, [`Error::Overloaded`] when the limiter's
    /// queue is full, [`Error::Rng`] if no salt could be drawn.
    pub fn hash(&self, password: &Password) -> Result<String> {
        self.check_len(password)?;
        let normalized = nfkc(password);
        // The OS generator, through the one fallible path the crate has (a getrandom call
        // costs nothing beside argon2's memory fill): a failure is Error::Rng, never a panic.
        let mut salt = [0u8; SALT_LEN];
        fill_random(&mut salt)?;
        let pepper = self.inner.peppers.current();
        let mut output = Zeroizing::new([0u8; OUTPUT_LEN]);
        let params = self.inner.params;
        let ctx = Argon2Job {
            algorithm: argon2::Algorithm::Argon2id,
            version: argon2::Version::V0x13,
            m_kib: params.m_kib(),
            t: params.t(),
            p: params.p(),
            data: &[],
            pepper: pepper.map(Pepper::expose_secret),
        };
        self.run_argon2(&ctx, normalized.as_bytes(), &salt, &mut output[..])?;
        Ok(format_argon2id(
            &params,
            pepper.map(Pepper::version),
            &salt,
            &output[..],
        ))
    }

    pub(crate) fn check_len(&self, password: &Password) -> Result<()> {
        if password.len_bytes() > self.inner.max_password_bytes {
            return Err(Error::PasswordTooLong {
                max_bytes: self.inner.max_password_bytes,
            });
        }
        Ok(())
    }

    /// Runs one argon2 computation on a worker's memory, which is wiped afterwards.
    pub(crate) fn run_argon2(
        &self,
        job: &Argon2Job<'_>,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<()> {
        let mut builder = argon2::ParamsBuilder::new();
        builder
            .m_cost(job.m_kib)
            .t_cost(job.t)
            .p_cost(job.p)
            .output_len(out.len());
        if !job.data.is_empty() {
            let data = argon2::AssociatedData::new(job.data)
                .map_err(|_| crate::error::MalformedHash::Param("data"))?;
            builder.data(data);
        }
        let params = builder
            .build()
            .map_err(|_| crate::error::MalformedHash::Param("m"))?;
        let blocks = params.block_count();
        let ctx = match job.pepper {
            Some(secret) => {
                argon2::Argon2::new_with_secret(secret, job.algorithm, job.version, params)
                    .map_err(ConfigError::Argon2Params)?
            }
            None => argon2::Argon2::new(job.algorithm, job.version, params),
        };
        let mut lease = self.inner.limiter.acquire(blocks)?;
        ctx.hash_password_into_with_memory(password, salt, out, lease.memory())
            .map_err(|_| crate::error::MalformedHash::Output)?;
        Ok(())
    }

    /// Verifies a password against the dummy hash: same parameters, same pepper, same code
    /// path as a real verification, always [`Verdict::Invalid`]. Call it when the account does
    /// not exist, so response time does not reveal which accounts do (OWASP Authentication
    /// Cheat Sheet, "Authentication Responses").
    ///
    /// ```
    /// use rampart_password::{Hasher, Params, Password, Verdict};
    /// let hasher = Hasher::builder().with_params(Params::new(64, 1, 1)?).build()?;
    /// // No account named "mallory": spend the same work, then say no.
    /// assert_eq!(hasher.dummy_verify(&Password::new("hunter2"))?, Verdict::Invalid);
    /// # Ok::<(), rampart_password::Error>(())
    /// ```
    ///
    /// # Errors
    /// The same errors as [`Hasher::verify`] would give for the password (length, overload).
    pub fn dummy_verify(&self, password: &Password) -> Result<Verdict> {
        let dummy = self.inner.dummy.clone();
        // The dummy output is random, so a match is a 2^-256 event; report Invalid regardless.
        self.verify(password, &dummy).map(|_| Verdict::Invalid)
    }

    /// Verifies against the stored hash when there is one, and against the dummy otherwise:
    /// the usual shape of a login handler.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use rampart_password::{Hasher, Params, Password, Verdict};
    /// let hasher = Hasher::builder().with_params(Params::new(64, 1, 1)?).build()?;
    /// let mut users = HashMap::new();
    /// users.insert("alice", hasher.hash(&Password::new("correct horse battery staple"))?);
    ///
    /// let login = |user: &str, pw: &str| {
    ///     let stored = users.get(user).map(String::as_str);
    ///     hasher.verify_or_dummy(&Password::new(pw), stored)
    /// };
    /// assert_eq!(login("alice", "correct horse battery staple")?, Verdict::Valid);
    /// assert_eq!(login("alice", "wrong")?, Verdict::Invalid);
    /// assert_eq!(login("mallory", "correct horse battery staple")?, Verdict::Invalid);
    /// # Ok::<(), rampart_password::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Hasher::verify`].
    pub fn verify_or_dummy(&self, password: &Password, stored: Option<&str>) -> Result<Verdict> {
        match stored {
            Some(stored) => self.verify(password, stored),
            None => self.dummy_verify(password),
        }
    }

    pub(crate) fn verify_argon2(&self, password: &Password, hash: &Argon2Hash) -> Result<bool> {
        self.inner.caps.check_argon2(hash.m_kib, hash.t, hash.p)?;
        let pepper = match hash.pepper_version {
            Some(version) => Some(
                self.inner
                    .peppers
                    .by_version(version)
                    .ok_or(Error::UnknownPepperVersion { version })?,
            ),
            None => None,
        };
        let normalized = nfkc(password);
        let mut out = Zeroizing::new(vec![0u8; hash.output.len()]);
        let job = Argon2Job {
            algorithm: hash.algorithm,
            version: hash.version,
            m_kib: hash.m_kib,
            t: hash.t,
            p: hash.p,
            data: &hash.data,
            pepper: pepper.map(Pepper::expose_secret),
        };
        self.run_argon2(&job, normalized.as_bytes(), &hash.salt, &mut out)?;
        Ok(crate::verify::ct_eq(&out, &hash.output))
    }

    pub(crate) fn parse(stored: &str) -> Result<Parsed> {
        Parsed::parse(stored)
    }
}

/// What one argon2 computation needs.
pub(crate) struct Argon2Job<'a> {
    pub(crate) algorithm: argon2::Algorithm,
    pub(crate) version: argon2::Version,
    pub(crate) m_kib: u32,
    pub(crate) t: u32,
    pub(crate) p: u32,
    pub(crate) data: &'a [u8],
    pub(crate) pepper: Option<&'a [u8]>,
}

/// NFKC form of the password (NIST SP 800-63B section 5.1.1.2), exactly sized and zeroized.
fn nfkc(password: &Password) -> Zeroizing<String> {
    crate::normalize::nfkc(password.expose_secret())
}

/// `$argon2id$v=19$m=..,t=..,p=..[,keyid=..]$salt$hash`, B64 without padding (PHC string
/// format specification).
fn format_argon2id(
    params: &Params,
    pepper_version: Option<u32>,
    salt: &[u8],
    output: &[u8],
) -> String {
    let keyid = pepper_version
        .map(|v| format!(",keyid={}", B64.encode(keyid_bytes(v))))
        .unwrap_or_default();
    format!(
        "$argon2id$v=19$m={},t={},p={}{keyid}${}${}",
        params.m_kib(),
        params.t(),
        params.p(),
        B64.encode(salt),
        B64.encode(output)
    )
}

/// Fills `buf` from the OS CSPRNG (for secrets, such as generated peppers).
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<()> {
    use ring::rand::SecureRandom as _;
    ring::rand::SystemRandom::new()
        .fill(buf)
        .map_err(|_| Error::Rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LimiterConfig;

    fn one_worker(params: Params) -> Hasher {
        Hasher::builder()
            .with_params(params)
            .with_limiter(LimiterConfig::default().with_max_workers(1))
            .build()
            .unwrap()
    }

    #[test]
    fn worker_memory_is_reused_and_wiped_after_hash_and_verify() {
        let h = one_worker(Params::new(64, 2, 1).unwrap());
        let stored = h.hash(&Password::new("pw")).unwrap();
        {
            let lease = h.inner.limiter.acquire(64).unwrap();
            assert_eq!(lease.slot_len(), 64, "the worker keeps its blocks");
            assert!(lease.slot_is_wiped(), "no argon2 state left after hash");
        }
        assert!(h.verify(&Password::new("pw"), &stored).unwrap().is_valid());
        let lease = h.inner.limiter.acquire(64).unwrap();
        assert!(lease.slot_is_wiped(), "no argon2 state left after verify");
    }

    #[test]
    fn dummy_hash_has_current_params_and_pepper() {
        let h = Hasher::builder()
            .with_params(Params::new(128, 3, 1).unwrap())
            .with_pepper(Pepper::new(5, vec![1u8; 32]).unwrap())
            .build()
            .unwrap();
        let info = crate::inspect(&h.inner.dummy).unwrap();
        assert_eq!(info.algorithm(), crate::Algorithm::Argon2id);
        assert_eq!(info.argon2_params(), Some((128, 3, 1)));
        assert_eq!(info.pepper_version(), Some(5));
        assert_eq!(h.needs_upgrade(&h.inner.dummy).unwrap(), None);
    }

    /// The dummy is a real verification: it waits for a worker like any other (and so is
    /// refused the same way when the queue is full), and runs argon2 in the worker's memory.
    #[test]
    fn dummy_verify_goes_through_the_limiter_and_argon2() {
        let h = Hasher::builder()
            .with_params(Params::new(64, 1, 1).unwrap())
            .with_limiter(
                LimiterConfig::default()
                    .with_max_workers(1)
                    .with_max_queue(0),
            )
            .build()
            .unwrap();
        let meter = h.inner.limiter.meter();
        assert_eq!(meter.peak(), 0, "building the hasher hashes nothing");
        assert_eq!(
            h.dummy_verify(&Password::new("guess")).unwrap(),
            Verdict::Invalid
        );
        assert_eq!(meter.peak(), 64 * 1024, "argon2 ran in the worker's slot");
        {
            let lease = h.inner.limiter.acquire(64).unwrap();
            assert!(lease.slot_is_wiped(), "and the slot was wiped afterwards");
            assert!(matches!(
                h.dummy_verify(&Password::new("guess")),
                Err(Error::Overloaded)
            ));
            assert!(matches!(
                h.verify(&Password::new("guess"), &h.inner.dummy),
                Err(Error::Overloaded)
            ));
            assert!(matches!(
                h.verify_or_dummy(&Password::new("guess"), None),
                Err(Error::Overloaded)
            ));
        }
        let too_long = Password::new("x".repeat(DEFAULT_MAX_PASSWORD_BYTES + 1));
        assert!(matches!(
            h.dummy_verify(&too_long),
            Err(Error::PasswordTooLong { .. })
        ));
    }
}
