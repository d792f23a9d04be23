//! Verification of legacy formats for migration (feature `legacy`): bcrypt, scrypt, PBKDF2
//! PHC strings and Django's `pbkdf2_sha256`. Each runs on a limiter worker after its costs are
//! checked against the caps. Legacy formats hash the password exactly as given (no NFKC), as
//! the systems that wrote them did.

use zeroize::Zeroizing;

use crate::error::{MalformedHash, Result};
use crate::hasher::Hasher;
use crate::params::cap;
use crate::secret::Password;
use crate::stored::Parsed;
use crate::verify::ct_eq;

impl Hasher {
    pub(crate) fn verify_legacy(&self, password: &Password, parsed: &Parsed) -> Result<bool> {
        let caps = self.inner.caps;
        let pw = password.expose_secret().as_bytes();
        match parsed {
            Parsed::Bcrypt { cost, text } => {
                cap(
                    "bcrypt cost",
                    u64::from(*cost),
                    u64::from(caps.max_bcrypt_cost),
                )?;
                let _lease = self.inner.limiter.acquire_external(0)?;
                // bcrypt reads at most 72 bytes of the password (longer ones were truncated
                // when the hash was made); `verify` truncates the same way.
                bcrypt::verify(pw, text).map_err(|_| MalformedHash::Output.into())
            }
            Parsed::Scrypt {
                log_n,
                r,
                p,
                salt,
                output,
            } => {
                // scrypt needs 128 * r * N bytes (RFC 7914 section 2) and N * r * p work.
                let n = 1u128 << *log_n;
                let memory = 128 * u128::from(*r) * n;
                let work = n * u128::from(*r) * u128::from(*p);
                cap(
                    "scrypt memory",
                    u64::try_from(memory).unwrap_or(u64::MAX),
                    caps.max_scrypt_memory_bytes,
                )?;
                cap(
                    "scrypt work",
                    u64::try_from(work).unwrap_or(u64::MAX),
                    caps.max_scrypt_work,
                )?;
                let params = scrypt::Params::new(*log_n, *r, *p, output.len())
                    .map_err(|_| MalformedHash::Param("ln"))?;
                let blocks = usize::try_from(memory / 1024).unwrap_or(usize::MAX);
                let _lease = self.inner.limiter.acquire_external(blocks)?;
                let mut out = Zeroizing::new(vec![0u8; output.len()]);
                scrypt::scrypt(pw, salt, &params, &mut out).map_err(|_| MalformedHash::Output)?;
                Ok(ct_eq(&out, output))
            }
            Parsed::Pbkdf2 {
                sha512,
                rounds,
                salt,
                output,
            } => {
                cap(
                    "pbkdf2 iterations",
                    u64::from(*rounds),
                    u64::from(caps.max_pbkdf2_iterations),
                )?;
                let _lease = self.inner.limiter.acquire_external(0)?;
                let mut out = Zeroizing::new(vec![0u8; output.len()]);
                if *sha512 {
                    pbkdf2::pbkdf2_hmac::<sha2::Sha512>(pw, salt, *rounds, &mut out);
                } else {
                    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pw, salt, *rounds, &mut out);
                }
                Ok(ct_eq(&out, output))
            }
            Parsed::Django {
                rounds,
                salt,
                output,
            } => {
                cap(
                    "pbkdf2 iterations",
                    u64::from(*rounds),
                    u64::from(caps.max_pbkdf2_iterations),
                )?;
                let _lease = self.inner.limiter.acquire_external(0)?;
                let mut out = Zeroizing::new([0u8; 32]);
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pw, salt.as_bytes(), *rounds, &mut out[..]);
                Ok(ct_eq(&out[..], output))
            }
            Parsed::Argon2(_) => Err(MalformedHash::UnknownFormat.into()),
        }
    }
}
