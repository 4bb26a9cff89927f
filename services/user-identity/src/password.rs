//! Password hashing with argon2id: hashing and constant-time verification off the async runtime, and a
//! fixed dummy hash so a login for an unknown user costs the same as a wrong password.

use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

/// The configured argon2id hasher plus a dummy hash made with the same parameters.
#[derive(Clone)]
pub struct Hasher {
    params: Params,
    dummy: String,
}

impl Hasher {
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> anyhow::Result<Self> {
        let params = Params::new(memory_kib, iterations, parallelism, None)
            .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
        let mut h = Self { params, dummy: String::new() };
        let mut random = [0u8; 24];
        rand::rng().fill_bytes(&mut random);
        h.dummy = h.hash_blocking(&String::from_utf8_lossy(&random))?;
        Ok(h)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    fn hash_blocking(&self, password: &str) -> anyhow::Result<String> {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        let hash =
            self.argon2().hash_password(password.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
        Ok(hash.to_string())
    }

    fn verify_blocking(&self, password: &str, hash: &str) -> bool {
        PasswordHash::new(hash).is_ok_and(|parsed| self.argon2().verify_password(password.as_bytes(), &parsed).is_ok())
    }

    /// Hashes `password` (PHC string) on a blocking thread.
    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.hash_blocking(&password)).await.context("hash task")?
    }

    /// Verifies `password` against `hash`, or against the dummy hash when there is no user (always false then).
    pub async fn verify(&self, password: String, hash: Option<String>) -> anyhow::Result<bool> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || match hash {
            Some(h) => this.verify_blocking(&password, &h),
            None => {
                let _ = this.verify_blocking(&password, &this.dummy);
                false
            }
        })
        .await
        .context("verify task")
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn hash_and_verify() {
        let h = super::Hasher::new(1024, 1, 1).unwrap();
        let hash = h.hash("Correct-Horse1".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert!(h.verify("Correct-Horse1".into(), Some(hash.clone())).await.unwrap());
        assert!(!h.verify("Correct-Horse2".into(), Some(hash)).await.unwrap());
        assert!(!h.verify("Correct-Horse1".into(), None).await.unwrap());
    }
}
