//! HMAC-SHA256 signatures for cookies (sessions, CSRF tokens), with key rotation: the first
//! key signs, every key verifies, so a new key can be put first while cookies signed with
//! the old one stay valid until they expire.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = hmac::Hmac<Sha256>;

/// Keys shorter than this are refused: a short HMAC key can be brute-forced offline from
/// any cookie it signed.
pub(crate) const MIN_KEY_BYTES: usize = 16;

pub(crate) struct Signer {
    keys: Vec<Vec<u8>>,
}

impl Signer {
    pub(crate) fn new(keys: Vec<Vec<u8>>, what: &str) -> Result<Self, String> {
        if keys.is_empty() {
            return Err(format!("{what} needs at least one secret key"));
        }
        if keys.iter().any(|key| key.len() < MIN_KEY_BYTES) {
            return Err(format!(
                "{what} secret keys must be at least {MIN_KEY_BYTES} bytes long"
            ));
        }
        Ok(Self { keys })
    }

    fn tag(key: &[u8], message: &[u8]) -> Option<HmacSha256> {
        let mut mac = HmacSha256::new_from_slice(key).ok()?;
        mac.update(message);
        Some(mac)
    }

    /// `message` signed with the current key: `message.signature`.
    pub(crate) fn sign(&self, message: &str) -> String {
        let signature = self
            .keys
            .first()
            .and_then(|key| Self::tag(key, message.as_bytes()));
        let signature = signature
            .map(|mac| mac.finalize().into_bytes().to_vec())
            .unwrap_or_default();
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// The message of a `message.signature` that one of the keys signed (constant-time
    /// comparison through `verify_slice`).
    pub(crate) fn unsign<'a>(&self, signed: &'a str) -> Option<&'a str> {
        let (message, signature) = signed.rsplit_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        self.keys
            .iter()
            .filter_map(|key| Self::tag(key, message.as_bytes()))
            .any(|mac| mac.verify_slice(&signature).is_ok())
            .then_some(message)
    }
}

/// `bytes` random bytes from the operating system, base64url-encoded.
pub(crate) fn random_token(bytes: usize) -> Option<String> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).ok()?;
    Some(URL_SAFE_NO_PAD.encode(buffer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(keys: &[&str]) -> Signer {
        Signer::new(
            keys.iter().map(|key| key.as_bytes().to_vec()).collect(),
            "test",
        )
        .unwrap()
    }

    #[test]
    fn signed_messages_verify_and_tampering_does_not() {
        let current = signer(&["the current key 0123456789"]);
        let signed = current.sign("hello.world");
        assert_eq!(current.unsign(&signed), Some("hello.world"));
        assert_eq!(current.unsign(&signed.replace("hello", "jello")), None);
        assert_eq!(current.unsign("hello"), None);
        assert_eq!(current.unsign("hello.!!!"), None);
    }

    #[test]
    fn older_keys_verify_but_only_the_first_signs() {
        let old = signer(&["the old key 0123456789"]);
        let rotated = signer(&["the new key 0123456789", "the old key 0123456789"]);
        let by_old = old.sign("data");
        assert_eq!(rotated.unsign(&by_old), Some("data"));
        assert_eq!(old.unsign(&rotated.sign("data")), None);
    }

    #[test]
    fn short_or_missing_keys_are_refused() {
        assert!(Signer::new(Vec::new(), "x").is_err());
        assert!(Signer::new(vec![b"short".to_vec()], "x").is_err());
    }

    #[test]
    fn random_tokens_differ() {
        assert_ne!(random_token(16), random_token(16));
        assert_eq!(random_token(32).map(|token| token.len()), Some(43));
    }
}
