//! Keys of the shared state stores (replay cache, issued request IDs): fixed-length digests,
//! so an ID of any length makes a 32-byte key, and the replay key holds the issuer, since
//! assertion IDs are unique per issuer only (SAML core 1.3.4).

use ring::digest::{Context, SHA256};

/// SHA-256 of (issuer length as u64 big-endian, issuer, assertion ID): the length prefix
/// keeps `("ab", "c")` and `("a", "bc")` apart. The Redis cache's key layout version 2 hashes
/// the same bytes.
#[cfg(any(feature = "postgres", feature = "sqlite"))]
pub(crate) fn replay_key(issuer: &str, assertion_id: &str) -> [u8; 32] {
    let mut ctx = Context::new(&SHA256);
    ctx.update(
        &u64::try_from(issuer.len())
            .unwrap_or(u64::MAX)
            .to_be_bytes(),
    );
    ctx.update(issuer.as_bytes());
    ctx.update(assertion_id.as_bytes());
    finish(ctx)
}

/// SHA-256 of an AuthnRequest ID.
pub(crate) fn request_key(request_id: &str) -> [u8; 32] {
    let mut ctx = Context::new(&SHA256);
    ctx.update(request_id.as_bytes());
    finish(ctx)
}

fn finish(ctx: Context) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// Lower-case hex, for Redis keys and error messages.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(any(feature = "postgres", feature = "sqlite"))]
    fn replay_key_is_the_redis_layout_v2_digest() {
        // Pinned by tests/replay_redis.rs: "shared:v2:" + this digest.
        let expected = "e6e03bf9a9d42a33fee012d92525877c51ec0626e990167e3e62b21638d5de88";
        let key = replay_key("https://idp-a.example.com", "_same");
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
    }

    #[test]
    #[cfg(any(feature = "postgres", feature = "sqlite"))]
    fn issuer_and_id_boundary_is_part_of_the_key() {
        assert_ne!(replay_key("ab", "c"), replay_key("a", "bc"));
        assert_ne!(replay_key("", "x"), replay_key("x", ""));
    }

    #[test]
    fn request_keys_differ_and_print_as_hex() {
        assert_ne!(request_key("_a"), request_key("_b"));
        assert_eq!(hex(&request_key("abc"))[..8], *"ba7816bf");
    }
}
