//! Base62 (`0-9A-Za-z`): the alphabet of public ids, secrets and checksums.
//!
//! Base62 has no punctuation, so a double click selects a whole key and URLs, shells and
//! JSON never need escaping; this is why GitHub's token format uses it for the checksum too.

use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::error::Error;

/// The alphabet in value order: `0`..`9` are 0..9, `A`..`Z` are 10..35, `a`..`z` are 36..61.
pub(crate) const ALPHABET: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Width of an encoded CRC32: 62^6 > 2^32 > 62^5.
pub(crate) const CHECKSUM_LEN: usize = 6;

/// The value of one base62 digit, or `None` when `c` is not in the alphabet (the plain
/// form, kept as the reference the branch-free one is tested against).
#[cfg(test)]
fn digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'Z' => Some(c - b'A' + 10),
        b'a'..=b'z' => Some(c - b'a' + 36),
        _ => None,
    }
}

/// True when every byte is a base62 digit.
pub(crate) fn is_base62(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_alphanumeric)
}

/// A CRC32 as exactly six base62 digits, most significant first (zero padded).
pub(crate) fn encode_checksum(mut value: u32) -> [u8; CHECKSUM_LEN] {
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        // `value % 62` is below 62, so the index is in range and the cast cannot truncate.
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    out
}

/// Decodes six base62 digits; `None` for a non-digit. The value may exceed 32 bits (such a
/// text was never produced by [`encode_checksum`] and matches no CRC32). Branch-free over
/// the digits, like [`all_base62_ct`].
pub(crate) fn decode_checksum(text: &[u8]) -> Option<u64> {
    if text.len() != CHECKSUM_LEN {
        return None;
    }
    let mut value: u64 = 0;
    let mut ok = 1u8;
    for &c in text {
        let (v, valid) = digit_ct(c);
        value = value * 62 + u64::from(v);
        ok &= valid;
    }
    (ok == 1).then_some(value)
}

/// A digit's value and whether it is one (1) or not (0), computed without branches or
/// table lookups on the character.
///
/// Why: the secret part of every presented key goes through here. A branchy check trains
/// the branch predictor on the characters it sees, so a guess sharing a prefix with a
/// recently checked key could run measurably faster (the dudect bench found exactly this
/// with the first version). Arithmetic on comparisons compiles to `setcc`, not jumps.
#[inline]
fn digit_ct(c: u8) -> (u8, u8) {
    let d = c.wrapping_sub(b'0');
    let u = c.wrapping_sub(b'A');
    let l = c.wrapping_sub(b'a');
    let in_d = u8::from(d < 10);
    let in_u = u8::from(u < 26);
    let in_l = u8::from(l < 26);
    let value = in_d.wrapping_mul(d)
        | in_u.wrapping_mul(u.wrapping_add(10))
        | in_l.wrapping_mul(l.wrapping_add(36));
    (value, in_d | in_u | in_l)
}

/// True when every byte is a base62 digit, examining every byte without branching on any
/// (see [`digit_ct`]). A fixed length lets the compiler turn this into a few vector
/// instructions with no remainder loop.
pub(crate) fn all_base62_ct<const N: usize>(s: &[u8; N]) -> bool {
    let mut ok = 1u8;
    for &c in s {
        ok &= digit_ct(c).1;
    }
    ok == 1
}

/// The checksum of a key body: CRC32 (IEEE, as in GitHub's token format) in base62.
pub(crate) fn checksum(body: &[u8]) -> [u8; CHECKSUM_LEN] {
    encode_checksum(crc32fast::hash(body))
}

/// Appends `count` uniformly random base62 digits drawn from the OS CSPRNG.
///
/// Rejection sampling: a byte is used only when below 248 = 4 * 62, so `byte % 62` is
/// uniform (no modulo bias); about 3% of bytes are discarded.
pub(crate) fn push_random(
    rng: &SystemRandom,
    out: &mut Zeroizing<String>,
    count: usize,
) -> Result<(), Error> {
    let mut buf = Zeroizing::new([0u8; 64]);
    let mut produced = 0;
    while produced < count {
        rng.fill(buf.as_mut()).map_err(|_| Error::Random)?;
        for &b in buf.iter() {
            if produced == count {
                break;
            }
            if b < 248 {
                out.push(char::from(ALPHABET[usize::from(b % 62)]));
                produced += 1;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_round_trips_extremes() {
        for v in [0, 1, 61, 62, 0xdead_beef, u32::MAX] {
            assert_eq!(decode_checksum(&encode_checksum(v)), Some(u64::from(v)));
        }
    }

    #[test]
    fn checksum_text_above_u32_matches_no_crc() {
        assert!(decode_checksum(b"zzzzzz").unwrap() > u64::from(u32::MAX));
        assert_eq!(decode_checksum(b"00000"), None);
        assert_eq!(decode_checksum(b"00000_"), None);
    }

    #[test]
    fn branch_free_digits_agree_with_the_plain_ones() {
        for c in 0..=255u8 {
            let (v, ok) = digit_ct(c);
            assert_eq!(digit(c), (ok == 1).then_some(v), "byte {c}");
            assert_eq!(all_base62_ct(&[b'a', c, b'Z']), c.is_ascii_alphanumeric());
        }
    }

    #[test]
    fn digits_match_alphabet() {
        for (i, &c) in ALPHABET.iter().enumerate() {
            assert_eq!(digit(c).map(usize::from), Some(i));
        }
        assert_eq!(digit(b'_'), None);
    }

    #[test]
    fn random_digits_cover_the_alphabet() {
        let rng = SystemRandom::new();
        let mut s = Zeroizing::new(String::new());
        push_random(&rng, &mut s, 4000).unwrap();
        assert_eq!(s.len(), 4000);
        for &c in ALPHABET {
            assert!(
                s.as_bytes().contains(&c),
                "digit {} never drawn",
                char::from(c)
            );
        }
    }
}
