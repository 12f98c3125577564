//! Channel secrets (page tokens) are encrypted at rest with XChaCha20-Poly1305 under a
//! key from configuration, generated on first run and kept under the data folder. The same
//! key, through a derived HMAC key, signs the expiring links platforms fetch our files by.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use std::path::Path;

const PREFIX: &str = "v1:";

#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
    /// HMAC-SHA256 of a fixed label under the key: a separate key for link signatures.
    link_key: [u8; 32],
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the secret key must be base64 of 32 bytes")]
    BadKey,
    #[error("could not read or write the key file: {0}")]
    Io(#[from] std::io::Error),
    #[error("a stored secret could not be decrypted (was the key changed?)")]
    Undecryptable,
}

impl SecretBox {
    pub fn from_base64(key: &str) -> Result<Self, SecretError> {
        let bytes = STANDARD.decode(key.trim()).map_err(|_| SecretError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SecretError::BadKey);
        }
        let mut derive = <HmacSha256 as hmac::Mac>::new_from_slice(&bytes).map_err(|_| SecretError::BadKey)?;
        hmac::Mac::update(&mut derive, b"messio/signed-links/v1");
        Ok(Self {
            cipher: XChaCha20Poly1305::new(Key::from_slice(&bytes)),
            link_key: hmac::Mac::finalize(derive).into_bytes().into(),
        })
    }

    /// Uses the configured key, or the one kept in `dir/secret.key`, creating it if needed.
    pub fn load_or_create(configured: Option<&str>, dir: &Path) -> Result<Self, SecretError> {
        if let Some(key) = configured {
            return Self::from_base64(key);
        }
        let path = dir.join("secret.key");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            return Self::from_base64(&existing);
        }
        std::fs::create_dir_all(dir)?;
        let key = STANDARD.encode(XChaCha20Poly1305::generate_key(&mut OsRng));
        write_private(&path, &key)?;
        tracing::info!(path = %path.display(), "generated a new secret key for channel credentials");
        Self::from_base64(&key)
    }

    pub fn seal(&self, plaintext: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encryption with a fresh nonce and an in-memory buffer cannot fail.
        let sealed = self.cipher.encrypt(&nonce, plaintext.as_bytes()).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{PREFIX}{}", STANDARD.encode(out))
    }

    pub fn open(&self, sealed: &str) -> Result<String, SecretError> {
        let raw = sealed.strip_prefix(PREFIX).ok_or(SecretError::Undecryptable)?;
        let bytes = STANDARD.decode(raw).map_err(|_| SecretError::Undecryptable)?;
        if bytes.len() < 24 {
            return Err(SecretError::Undecryptable);
        }
        let (nonce, body) = bytes.split_at(24);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), body)
            .map_err(|_| SecretError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| SecretError::Undecryptable)
    }
}

impl SecretBox {
    /// Hex HMAC-SHA256 of `message` under the link key.
    pub fn sign(&self, message: &str) -> String {
        hex::encode(
            self.link_mac(message)
                .map(|m| hmac::Mac::finalize(m).into_bytes().to_vec())
                .unwrap_or_default(),
        )
    }

    /// Checks a signature from `sign` in constant time.
    pub fn verify(&self, message: &str, signature_hex: &str) -> bool {
        let (Ok(expected), Some(mac)) = (hex::decode(signature_hex), self.link_mac(message)) else {
            return false;
        };
        hmac::Mac::verify_slice(mac, &expected).is_ok()
    }

    fn link_mac(&self, message: &str) -> Option<HmacSha256> {
        let mut mac = <HmacSha256 as hmac::Mac>::new_from_slice(&self.link_key).ok()?;
        hmac::Mac::update(&mut mac, message.as_bytes());
        Some(mac)
    }
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let dir = std::env::temp_dir().join(format!("messio-key-{}", rand::random::<u64>()));
        let secrets = SecretBox::load_or_create(None, &dir).expect("key");
        let sealed = secrets.seal("page-token");
        assert!(!sealed.contains("page-token"));
        assert_eq!(secrets.open(&sealed).expect("open"), "page-token");
        // The same folder gives back the same key.
        let again = SecretBox::load_or_create(None, &dir).expect("key again");
        assert_eq!(again.open(&sealed).expect("open again"), "page-token");
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push('A');
        assert!(secrets.open(&tampered).is_err() || tampered == sealed);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn link_signatures_verify_only_unchanged() {
        let key = STANDARD.encode([7u8; 32]);
        let secrets = SecretBox::from_base64(&key).expect("key");
        let signature = secrets.sign("1/abc/1700000000");
        assert_eq!(signature.len(), 64);
        assert!(secrets.verify("1/abc/1700000000", &signature));
        assert!(!secrets.verify("2/abc/1700000000", &signature));
        assert!(!secrets.verify("1/abc/1700000000", "zz"));
        let other = SecretBox::from_base64(&STANDARD.encode([8u8; 32])).expect("key");
        assert!(!other.verify("1/abc/1700000000", &signature));
    }
}
