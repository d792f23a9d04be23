//! The cryptography of XML Encryption, all from aws-lc-rs: RSA-OAEP key unwrapping, AES-CBC
//! with XML Encryption's padding, AES-GCM.
//!
//! No oracle: every failure is [`DecryptionError::Failed`], and a content key that no
//! decryption key unwraps is replaced by a random one, so a bad OAEP block goes on to fail
//! at the data like a bad padding or tag does (the way TLS 1.2 servers answer a bad RSA
//! pre-master secret: RFC 5246, 7.4.7.1), in the same steps.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{AES_128, AES_256, DecryptingKey, DecryptionContext, UnboundCipherKey};
use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm};
use zeroize::Zeroizing;

use super::structure::{DataAlgorithm, EncryptedData, KeyTransport};
use crate::decryption_key::DecryptionKey;
use crate::error::DecryptionError;

const AES_BLOCK: usize = 16;
/// XML Encryption 1.1, 5.2.4: a 96-bit IV before the ciphertext, a 128-bit tag after it.
const GCM_IV: usize = 12;
const GCM_TAG: usize = 16;

/// The plaintext of `data`, trying each of its EncryptedKeys with each of `keys`.
pub(crate) fn decrypt(
    data: &EncryptedData,
    keys: &[DecryptionKey],
) -> Result<Zeroizing<Vec<u8>>, DecryptionError> {
    let cek = content_key(data, keys)?;
    match data.algorithm {
        DataAlgorithm::Aes128Cbc | DataAlgorithm::Aes256Cbc => {
            cbc(data.algorithm, &cek, &data.cipher)
        }
        DataAlgorithm::Aes128Gcm | DataAlgorithm::Aes256Gcm => {
            gcm(data.algorithm, &cek, &data.cipher)
        }
    }
    .ok_or(DecryptionError::Failed)
}

/// The first content key of the right length that a key unwraps, else a random one.
fn content_key(
    data: &EncryptedData,
    keys: &[DecryptionKey],
) -> Result<Zeroizing<Vec<u8>>, DecryptionError> {
    let want = data.algorithm.key_len();
    for ek in &data.keys {
        let algorithm: &'static OaepAlgorithm = match ek.transport {
            KeyTransport::OaepSha1 => &OAEP_SHA1_MGF1SHA1,
            KeyTransport::OaepSha256 => &OAEP_SHA256_MGF1SHA256,
        };
        for k in keys {
            let oaep = k.oaep();
            // Wrong length for this key: aws-lc-rs would refuse it anyway; no work to time.
            if ek.cipher.len() != oaep.key_size_bytes() {
                continue;
            }
            let mut out = Zeroizing::new(vec![0u8; oaep.min_output_size()]);
            if let Ok(cek) = oaep.decrypt(algorithm, &ek.cipher, &mut out, ek.label.as_deref())
                && cek.len() == want
            {
                return Ok(Zeroizing::new(cek.to_vec()));
            }
        }
    }
    let mut random = Zeroizing::new(vec![0u8; want]);
    aws_lc_rs::rand::fill(&mut random).map_err(|_| DecryptionError::Failed)?;
    Ok(random)
}

/// AES-CBC, IV first (XML Encryption 1.1, 5.2.1). The padding is XML Encryption's, not
/// PKCS#7: the last byte is the pad length (1 to 16), the other pad bytes are arbitrary.
fn cbc(algorithm: DataAlgorithm, cek: &[u8], input: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if input.len() < 2 * AES_BLOCK || !input.len().is_multiple_of(AES_BLOCK) {
        return None;
    }
    let (iv, body) = input.split_at(AES_BLOCK);
    let cipher = if algorithm == DataAlgorithm::Aes128Cbc {
        &AES_128
    } else {
        &AES_256
    };
    let key = DecryptingKey::cbc(UnboundCipherKey::new(cipher, cek).ok()?).ok()?;
    let iv: [u8; AES_BLOCK] = iv.try_into().ok()?;
    let mut buf = Zeroizing::new(body.to_vec());
    let len = key
        .decrypt(&mut buf, DecryptionContext::Iv128(iv.into()))
        .ok()?
        .len();
    let pad = usize::from(*buf.get(len.checked_sub(1)?)?);
    if pad == 0 || pad > AES_BLOCK {
        return None;
    }
    buf.truncate(len - pad);
    Some(buf)
}

/// AES-GCM: IV, ciphertext, tag (XML Encryption 1.1, 5.2.4); no associated data.
fn gcm(algorithm: DataAlgorithm, cek: &[u8], input: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if input.len() < GCM_IV + GCM_TAG {
        return None;
    }
    let (iv, body) = input.split_at(GCM_IV);
    let aead = if algorithm == DataAlgorithm::Aes128Gcm {
        &aws_lc_rs::aead::AES_128_GCM
    } else {
        &aws_lc_rs::aead::AES_256_GCM
    };
    let key = LessSafeKey::new(UnboundKey::new(aead, cek).ok()?);
    // Decrypting, not sealing: the IV's uniqueness is the encryptor's promise, not ours.
    let nonce = Nonce::try_assume_unique_for_key(iv).ok()?;
    let mut buf = Zeroizing::new(body.to_vec());
    let len = key.open_in_place(nonce, Aad::empty(), &mut buf).ok()?.len();
    buf.truncate(len);
    Some(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cbc_encrypt(key: &[u8], iv: [u8; 16], padded: &[u8]) -> Vec<u8> {
        use aws_lc_rs::cipher::{EncryptingKey, EncryptionContext};
        let k = EncryptingKey::cbc(UnboundCipherKey::new(&AES_128, key).unwrap()).unwrap();
        let mut buf = padded.to_vec();
        k.less_safe_encrypt(&mut buf, EncryptionContext::Iv128(iv.into()))
            .unwrap();
        let mut out = iv.to_vec();
        out.extend(buf);
        out
    }

    #[test]
    fn cbc_padding_filler_bytes_are_arbitrary_not_pkcs7() {
        let key = [7u8; 16];
        let mut padded = b"<a/>".to_vec();
        // 12 pad bytes: 11 arbitrary filler bytes, then the length.
        padded.extend([0xAB; 11]);
        padded.push(12);
        let ct = cbc_encrypt(&key, [1; 16], &padded);
        let pt = cbc(DataAlgorithm::Aes128Cbc, &key, &ct).unwrap();
        assert_eq!(&pt[..], b"<a/>");
    }

    #[test]
    fn cbc_pad_length_zero_or_above_a_block_fails() {
        let key = [7u8; 16];
        for last in [0u8, 17, 255] {
            let mut padded = vec![b'x'; 15];
            padded.push(last);
            let ct = cbc_encrypt(&key, [1; 16], &padded);
            assert!(cbc(DataAlgorithm::Aes128Cbc, &key, &ct).is_none(), "{last}");
        }
    }

    #[test]
    fn truncated_inputs_fail_without_panic() {
        let key = [7u8; 16];
        for n in [0, 1, 15, 16, 17, 27, 31] {
            let input = vec![0u8; n];
            assert!(cbc(DataAlgorithm::Aes128Cbc, &key, &input).is_none());
            assert!(gcm(DataAlgorithm::Aes128Gcm, &key, &input).is_none());
        }
    }
}
