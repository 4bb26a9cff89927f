//! Password hashing with argon2id: hashing and constant-time verification off the async runtime, and a
//! fixed dummy hash so a login for an unknown user costs the same as a wrong password.
//!
//! At most one hash per core runs at once; the rest wait in FIFO order. Unbounded, a burst of logins shares
//! the cores so that every one of them is slow (each holding its 19 MiB), and the slowest pass the callers'
//! deadlines; queued, each runs at full speed and the queue drains in arrival order.

use std::sync::Arc;

use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use tokio::sync::Semaphore;

/// The configured argon2id hasher plus a dummy hash made with the same parameters.
#[derive(Clone)]
pub struct Hasher {
    params: Params,
    dummy: String,
    /// One permit per core: the hashes that may run at once.
    slots: Arc<Semaphore>,
}

impl Hasher {
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> anyhow::Result<Self> {
        let params = Params::new(memory_kib, iterations, parallelism, None)
            .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
        let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(1);
        let mut h = Self { params, dummy: String::new(), slots: Arc::new(Semaphore::new(cores)) };
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

    /// Runs `work` on a blocking thread once a core is free.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce(&Self) -> T + Send + 'static) -> anyhow::Result<T> {
        let _slot = self.slots.acquire().await.context("the hasher is closed")?;
        let this = self.clone();
        tokio::task::spawn_blocking(move || work(&this)).await.context("password task")
    }

    /// Hashes `password` (PHC string) on a blocking thread.
    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        self.run(move |h| h.hash_blocking(&password)).await?
    }

    /// Verifies `password` against `hash`, or against the dummy hash when there is no user (always false then).
    pub async fn verify(&self, password: String, hash: Option<String>) -> anyhow::Result<bool> {
        self.run(move |h| match hash {
            Some(stored) => h.verify_blocking(&password, &stored),
            None => {
                let _ = h.verify_blocking(&password, &h.dummy);
                false
            }
        })
        .await
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

    #[tokio::test]
    async fn a_hash_waits_while_every_core_is_busy() {
        let h = super::Hasher::new(1024, 1, 1).unwrap();
        let cores = h.slots.available_permits();
        assert!(cores >= 1);
        let busy = h.slots.clone().acquire_many_owned(cores as u32).await.unwrap();
        let mut waiting = tokio::spawn({
            let h = h.clone();
            async move { h.hash("Correct-Horse1".into()).await }
        });
        let early = tokio::time::timeout(std::time::Duration::from_millis(300), &mut waiting).await;
        assert!(early.is_err(), "no hash starts while every slot is taken");
        drop(busy);
        assert!(waiting.await.unwrap().unwrap().starts_with("$argon2id$"));
        assert_eq!(h.slots.available_permits(), cores, "the slot is given back");
    }
}
