//! Sealing and opening values (`docs/envelope.md` §2 to §5): the byte layout lives in
//! `sealed.rs`, the per-thread subkeys and nonces in `subkey.rs`.

use super::*;

impl Keyring {
    // ---- sealing ---------------------------------------------------------------------------

    fn key_prefix(&self, version: u32) -> [u8; off::KEY_PREFIX] {
        let mut p = [0u8; off::KEY_PREFIX];
        p[0] = FORMAT_V1;
        p[1] = SUITE_AES256GCM_HKDF;
        p[off::KEYRING..off::REGION].copy_from_slice(&self.id.0.to_be_bytes());
        p[off::REGION..off::VERSION].copy_from_slice(&self.region_code.to_be_bytes());
        p[off::VERSION..off::SALT].copy_from_slice(&version.to_be_bytes());
        p
    }

    /// Seals `plaintext` under the primary version with `context` bound as associated data.
    ///
    /// Output: the v1 format (88 bytes + plaintext, see the crate docs). Errors:
    /// [`Error::NoPrimary`], [`Error::TooLarge`] above [`MAX_PLAINTEXT_LEN`],
    /// [`Error::Context`] for a context that breaks its rules, [`Error::Random`].
    pub fn seal(&self, plaintext: &[u8], context: &Context) -> Result<Vec<u8>, Error> {
        let primary = self.primary.ok_or(Error::NoPrimary)?;
        self.seal_with_version(primary, plaintext, context)
    }

    /// Seals under a chosen live version (retention seals under the current bucket).
    pub(crate) fn seal_with_version(
        &self,
        version: u32,
        plaintext: &[u8],
        context: &Context,
    ) -> Result<Vec<u8>, Error> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(Error::TooLarge {
                len: plaintext.len(),
                max: MAX_PLAINTEXT_LEN,
            });
        }
        let vk = self.version_key(version)?;
        let spec = SealerSpec {
            key_uid: vk.uid,
            alive: &vk.alive,
            version_key: &vk.bytes,
            prefix: self.key_prefix(version),
            binding: &self.aad_binding,
            source: self.nonce_source,
        };
        let on_new = |salt: &[u8; sealed::SALT_LEN], sk: &Arc<subkey::Subkey>| {
            self.cache.insert(
                CacheKey {
                    version,
                    salt: *salt,
                },
                Arc::clone(sk),
            );
        };
        THREAD.with(|t| {
            t.borrow_mut().with_next(&spec, on_new, |sealer, aad| {
                // AAD is the caller's context only: every header byte but the nonce and the
                // commitment feeds the subkey derivation, the nonce is GCM's own input, and
                // the commitment is compared before decryption (`docs/envelope.md` §2).
                aad.clear();
                context.encode_into(aad)?;
                let mut out = Vec::with_capacity(OVERHEAD + plaintext.len());
                out.extend_from_slice(&sealer.header);
                out.extend_from_slice(plaintext);
                let nonce: [u8; sealed::NONCE_LEN] = sealer.header[off::NONCE..off::COMMIT]
                    .try_into()
                    .expect("12 bytes");
                let tag = sealer
                    .subkey
                    .key
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(nonce),
                        Aad::from(&aad[..]),
                        &mut out[HEADER_LEN..],
                    )
                    .map_err(|_| Error::TooLarge {
                        len: plaintext.len(),
                        max: MAX_PLAINTEXT_LEN,
                    })?;
                out.extend_from_slice(tag.as_ref());
                Ok(out)
            })?
        })
    }

    /// [`Keyring::seal`] then unpadded base64url, for text columns.
    pub fn seal_text(&self, plaintext: &[u8], context: &Context) -> Result<String, Error> {
        self.seal(plaintext, context)
            .map(|ct| primitives::b64url_encode(&ct))
    }

    // ---- opening ---------------------------------------------------------------------------

    /// Checks that a header names this keyring and region.
    fn check_owner(&self, h: &sealed::Header<'_>) -> Result<(), Error> {
        if h.keyring != self.id {
            return Err(Error::KeyringMismatch {
                expected: self.id,
                found: h.keyring,
            });
        }
        if h.region_code != self.region_code {
            return Err(Error::RegionMismatch {
                expected: self.region.clone(),
                found_code: h.region_code,
            });
        }
        Ok(())
    }

    /// Opens a value sealed by this keyring under any live version, with the same context.
    ///
    /// Checks, in order and before any decryption: format and suite bytes, length, keyring id
    /// ([`Error::KeyringMismatch`]), region ([`Error::RegionMismatch`]), version
    /// ([`Error::UnknownKeyVersion`], [`Error::KeyRetired`], [`Error::BelowMinDecrypt`]), then the
    /// key commitment in constant time ([`Error::CommitmentMismatch`]); only then the GCM tag
    /// ([`Error::Authentication`], also for a wrong context). No plaintext is returned on any
    /// failure; the result zeroizes on drop.
    pub fn open(&self, ciphertext: &[u8], context: &Context) -> Result<Zeroizing<Vec<u8>>, Error> {
        let h = sealed::parse_header(ciphertext)?;
        self.check_owner(&h)?;
        let vk = self.version_key(h.version)?;
        let key = CacheKey {
            version: h.version,
            salt: *h.salt(),
        };
        let nonce = h.nonce();
        let body = &ciphertext[HEADER_LEN..];
        let open_with = |sk: &subkey::Subkey| -> Result<Zeroizing<Vec<u8>>, Error> {
            THREAD.with(|t| {
                let mut t = t.borrow_mut();
                let aad = &mut t.scratch;
                aad.clear();
                context.encode_into(aad)?;
                let mut out = Zeroizing::new(body.to_vec());
                let n = sk
                    .key
                    .open_in_place(
                        Nonce::assume_unique_for_key(nonce),
                        Aad::from(&aad[..]),
                        &mut out[..],
                    )
                    .map_err(|_| Error::Authentication)?
                    .len();
                out.truncate(n);
                Ok(out)
            })
        };
        if let Some(r) = self.cache.with(&key, h.commitment(), open_with) {
            return r?;
        }
        // Miss: derive, compare the commitment in constant time, cache only if it matched
        // (so forged headers cannot evict real entries).
        let sk = subkey::derive(
            &vk.bytes,
            h.salt(),
            &h.bytes[..off::KEY_PREFIX],
            &self.aad_binding,
        );
        if !subkey::commitment_eq(&sk.commitment, h.commitment()) {
            return Err(Error::CommitmentMismatch);
        }
        let sk = Arc::new(sk);
        let out = open_with(&sk);
        self.cache.insert(key, sk);
        out
    }

    /// Decodes the text form then [`Keyring::open`]; [`Error::MalformedText`] for bad text.
    pub fn open_text(&self, text: &str, context: &Context) -> Result<Zeroizing<Vec<u8>>, Error> {
        let ct = primitives::b64url_decode(text).ok_or(Error::MalformedText)?;
        self.open(&ct, context)
    }

    /// True when the value was sealed under a version older than the primary. Reads the header
    /// only (no cryptography); the value must belong to this keyring and region.
    pub fn needs_reencrypt(&self, ciphertext: &[u8]) -> Result<bool, Error> {
        let h = sealed::parse_header(ciphertext)?;
        self.check_owner(&h)?;
        let primary = self.primary.ok_or(Error::NoPrimary)?;
        Ok(h.version < primary)
    }

    /// The version named in a value's header (no cryptography).
    pub fn version_of(&self, ciphertext: &[u8]) -> Result<u32, Error> {
        let h = sealed::parse_header(ciphertext)?;
        self.check_owner(&h)?;
        Ok(h.version)
    }

    /// Opens and seals again under the primary, without handing the plaintext to the caller
    /// (it lives only in a zeroizing buffer). Always returns a fresh ciphertext.
    ///
    /// [`Error::RetentionReencrypt`] for a retention keyring: its primary is the current
    /// time bucket, so re-encrypting would extend the data's life (crypto-shredding relies
    /// on data staying in the bucket it was sealed in).
    pub fn reencrypt(&self, ciphertext: &[u8], context: &Context) -> Result<Vec<u8>, Error> {
        self.refuse_retention_reencrypt()?;
        let plain = self.open(ciphertext, context)?;
        self.seal(&plain, context)
    }

    /// Every path that moves data to the primary (values, file re-keying, jobs) asks here.
    pub(crate) fn refuse_retention_reencrypt(&self) -> Result<(), Error> {
        match self.kind {
            KeyringKind::Retention => Err(Error::RetentionReencrypt),
            KeyringKind::Values => Ok(()),
        }
    }

    /// Number of subkeys in the open cache.
    #[cfg(test)]
    pub(crate) fn open_cache_len(&self) -> usize {
        self.cache.len()
    }
}

/// The open cache is internal: its behaviour is checked here, not through the public API.
#[cfg(test)]
mod cache_tests {
    use std::time::{Duration, SystemTime};

    use crate::{Context, Error, Keyring, LocalMasterKey};

    fn setup() -> (LocalMasterKey, Keyring, Context) {
        let master = LocalMasterKey::generate().unwrap();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000);
        let ring = Keyring::create("oauth-tokens", "eu-central", &master, now).unwrap();
        let ctx = Context::new()
            .with("tenant", "42")
            .with("table", "accounts")
            .with("column", "oauth_token");
        (master, ring, ctx)
    }

    #[test]
    fn open_uses_the_cache_and_a_cold_keyring_still_opens() {
        let (m, ring, ctx) = setup();
        let ct = ring.seal(b"v", &ctx).unwrap();
        assert_eq!(ring.open_cache_len(), 1, "the sealer's subkey is cached");
        // Another process (here: another loaded instance) derives on first use.
        let copy = Keyring::from_json(&ring.to_json().unwrap(), &m).unwrap();
        assert_eq!(copy.open_cache_len(), 0);
        assert_eq!(&copy.open(&ct, &ctx).unwrap()[..], b"v");
        assert_eq!(copy.open_cache_len(), 1);
        assert_eq!(&copy.open(&ct, &ctx).unwrap()[..], b"v");
    }

    #[test]
    fn forged_commitment_is_not_cached() {
        let (m, ring, ctx) = setup();
        let copy = Keyring::from_json(&ring.to_json().unwrap(), &m).unwrap();
        let mut ct = ring.seal(b"v", &ctx).unwrap();
        ct[50] ^= 1;
        assert!(matches!(
            copy.open(&ct, &ctx),
            Err(Error::CommitmentMismatch)
        ));
        assert_eq!(copy.open_cache_len(), 0);
    }
}
