//! argon2id cost parameters and the caps applied to parameters read from stored hashes.

use crate::error::ConfigError;

/// argon2id cost parameters for new hashes.
///
/// The default is the OWASP Password Storage Cheat Sheet's first argon2id configuration:
/// m = 19 MiB (19456 KiB), t = 2, p = 1. To pick stronger parameters, raise memory first
/// (it is what makes GPU and ASIC attacks expensive), then iterations, and measure: a login
/// should cost tens of milliseconds on your servers, and concurrent logins cost `m` each
/// (see [`crate::LimiterConfig`]). OWASP lists equivalent alternatives (m = 46 MiB, t = 1;
/// m = 12 MiB, t = 3; m = 9 MiB, t = 4; m = 7 MiB, t = 5); RFC 9106 section 4 recommends
/// m = 64 MiB, t = 3, p = 4 where memory is constrained, which is [`Params::rfc9106_low_memory`].
///
/// ```
/// use rampart_password::Params;
/// let p = Params::new(64 * 1024, 3, 1).unwrap(); // 64 MiB, 3 passes
/// assert_eq!(p.m_kib(), 65536);
/// assert!(Params::new(4, 1, 1).is_err()); // below argon2's minimum memory
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    m_kib: u32,
    t: u32,
    p: u32,
}

/// Length of the argon2 output written to new hashes, in bytes.
pub(crate) const OUTPUT_LEN: usize = 32;
/// Length of the random salt written to new hashes, in bytes (RFC 9106 section 3.1: 16).
pub(crate) const SALT_LEN: usize = 16;

impl Params {
    /// OWASP's m = 19 MiB, t = 2, p = 1.
    pub const OWASP: Params = Params {
        m_kib: 19 * 1024,
        t: 2,
        p: 1,
    };

    /// Validated parameters: `m_kib` in KiB, `t` passes, `p` lanes.
    ///
    /// # Errors
    /// [`ConfigError::Argon2Params`] when argon2 rejects them (m < 8 * p, t = 0, p = 0, ...).
    pub fn new(m_kib: u32, t: u32, p: u32) -> Result<Self, ConfigError> {
        argon2::Params::new(m_kib, t, p, Some(OUTPUT_LEN)).map_err(ConfigError::Argon2Params)?;
        Ok(Self { m_kib, t, p })
    }

    /// RFC 9106 section 4's second recommended option: m = 64 MiB, t = 3, p = 4.
    #[must_use]
    pub fn rfc9106_low_memory() -> Self {
        Self {
            m_kib: 64 * 1024,
            t: 3,
            p: 4,
        }
    }

    /// Memory in KiB.
    #[must_use]
    pub fn m_kib(&self) -> u32 {
        self.m_kib
    }

    /// Iterations (passes over memory).
    #[must_use]
    pub fn t(&self) -> u32 {
        self.t
    }

    /// Lanes (degree of parallelism recorded in the hash).
    #[must_use]
    pub fn p(&self) -> u32 {
        self.p
    }

    /// Bytes of argon2 working memory one hash with these parameters needs.
    #[must_use]
    pub fn memory_bytes(&self) -> usize {
        block_count(self.m_kib, self.p) * argon2::Block::SIZE
    }
}

impl Default for Params {
    fn default() -> Self {
        Self::OWASP
    }
}

/// Number of 1 KiB blocks argon2 uses for `m_kib` and `p` (m rounded down to 4p blocks per
/// lane, RFC 9106 section 3.2 step 4).
pub(crate) fn block_count(m_kib: u32, p: u32) -> usize {
    let p = p.max(1);
    let per = 4 * p as usize;
    let m = (m_kib as usize).max(8 * p as usize);
    m / per * per
}

/// Upper bounds on the costs read back from a stored hash.
///
/// A stored hash is untrusted input: whoever can write to the users table can plant
/// `m=4294967295` and make every login allocate 4 TiB. Verification checks the hash against
/// these caps and returns [`crate::Error::ParamsAboveCap`] before hashing anything.
/// The default is 4x the hasher's current parameters (see [`Caps::times`]).
///
/// ```
/// use rampart_password::{Caps, Params};
/// let caps = Caps::times(&Params::OWASP, 4);
/// assert_eq!(caps.max_m_kib, 4 * 19 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Caps {
    /// Largest argon2 `m` (KiB).
    pub max_m_kib: u32,
    /// Largest argon2 `t`.
    pub max_t: u32,
    /// Largest argon2 `p`.
    pub max_p: u32,
    /// Largest bcrypt cost (log2 rounds). Default 14 (4x the work of cost 12).
    pub max_bcrypt_cost: u32,
    /// Largest scrypt memory `128 * r * 2^ln`, in bytes. Default: the argon2 memory cap
    /// (76 MiB at OWASP parameters). The `scrypt` crate's own default (ln=17, r=8) needs
    /// 128 MiB: raise this if your stored scrypt hashes use it.
    pub max_scrypt_memory_bytes: u64,
    /// Largest scrypt work `2^ln * r * p`. Default 2^23 (8x the work of ln=17, r=8, p=1).
    pub max_scrypt_work: u64,
    /// Largest PBKDF2 iteration count (PHC and Django). Default 4 million (4x Django 5.2's
    /// 1,000,000).
    pub max_pbkdf2_iterations: u32,
}

impl Caps {
    /// Caps at `factor` times `params` for argon2 (saturating), with the legacy defaults.
    #[must_use]
    pub fn times(params: &Params, factor: u32) -> Self {
        let max_m_kib = params.m_kib.saturating_mul(factor);
        Self {
            max_m_kib,
            max_t: params.t.saturating_mul(factor),
            max_p: params.p.saturating_mul(factor),
            max_bcrypt_cost: 14,
            max_scrypt_memory_bytes: u64::from(max_m_kib) * 1024,
            max_scrypt_work: (1u64 << 20) * 8,
            max_pbkdf2_iterations: 4_000_000,
        }
    }

    pub(crate) fn check_covers(&self, params: &Params) -> Result<(), ConfigError> {
        if self.max_m_kib < params.m_kib || self.max_t < params.t || self.max_p < params.p {
            return Err(ConfigError::CapsBelowParams);
        }
        Ok(())
    }

    /// Checks argon2 costs read from a stored hash.
    pub(crate) fn check_argon2(&self, m_kib: u32, t: u32, p: u32) -> crate::Result<()> {
        cap("m", u64::from(m_kib), u64::from(self.max_m_kib))?;
        cap("t", u64::from(t), u64::from(self.max_t))?;
        cap("p", u64::from(p), u64::from(self.max_p))
    }
}

impl Default for Caps {
    fn default() -> Self {
        Self::times(&Params::OWASP, 4)
    }
}

/// One home for "value above cap" so every check reports the same way.
pub(crate) fn cap(param: &'static str, value: u64, cap: u64) -> crate::Result<()> {
    if value > cap {
        return Err(crate::Error::ParamsAboveCap { param, value, cap });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owasp_defaults() {
        let p = Params::default();
        assert_eq!((p.m_kib(), p.t(), p.p()), (19456, 2, 1));
        assert_eq!(p.memory_bytes(), 19456 * 1024);
    }

    #[test]
    fn invalid_params_are_rejected() {
        assert!(Params::new(7, 1, 1).is_err());
        assert!(Params::new(64, 0, 1).is_err());
        assert!(Params::new(64, 1, 0).is_err());
        assert!(Params::new(15, 1, 2).is_err());
        assert!(Params::new(16, 1, 2).is_ok());
    }

    #[test]
    fn block_count_rounds_to_lanes() {
        assert_eq!(block_count(19456, 1), 19456);
        assert_eq!(block_count(100, 3), 96);
        assert_eq!(block_count(8, 1), 8);
    }

    #[test]
    fn default_caps_are_four_times_owasp() {
        let c = Caps::default();
        assert_eq!((c.max_m_kib, c.max_t, c.max_p), (4 * 19456, 8, 4));
        assert!(c.check_argon2(4 * 19456, 8, 4).is_ok());
        assert!(matches!(
            c.check_argon2(4 * 19456 + 1, 1, 1),
            Err(crate::Error::ParamsAboveCap { param: "m", .. })
        ));
    }
}
