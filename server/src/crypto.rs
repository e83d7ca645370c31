//! Randomness and password hashing: everything that needs the OS RNG lives here.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use member_core::card_code::{CardKey, KEY_BYTES};
use rand::{Rng, RngCore};

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A session token for a cookie: 32 random bytes, hex.
pub fn session_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// Six uniformly random digits.
pub fn otp_code() -> String {
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32))
}

pub fn card_key() -> CardKey {
    let mut bytes = [0u8; KEY_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    CardKey::from_bytes(bytes)
}

pub fn random_u64() -> u64 {
    rand::rngs::OsRng.next_u64()
}

/// Equal-time comparison for digests, so a wrong guess takes as long as a near miss.
pub fn eq_ct(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Argon2id (the crate's defaults: 19 MiB, 2 passes) in PHC string form.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A valid hash of nothing in particular: verifying against it makes an unknown user
/// cost the same time as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&session_token()).unwrap_or_default())
}

/// Password hashes checked at once, server-wide: each argon2 check takes ~19 MiB and a
/// core for a while, so a burst of logins must queue instead of exhausting memory.
pub const PASSWORD_CHECKS_AT_ONCE: usize = 4;

/// Runs `f` on the blocking pool once `gate` gives a permit. The permit moves into the
/// blocking task, so a cancelled request does not free it while the work still runs.
/// `None` when the gate is closed or the task panicked.
pub async fn run_gated<T, F>(gate: &std::sync::Arc<tokio::sync::Semaphore>, f: F) -> Option<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let permit = gate.clone().acquire_owned().await.ok()?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        f()
    })
    .await
    .ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn otp_is_six_digits() {
        for _ in 0..100 {
            let c = otp_code();
            assert_eq!(c.len(), 6);
            assert!(c.chars().all(|ch| ch.is_ascii_digit()));
        }
    }

    #[test]
    fn password_round_trip() {
        let h = hash_password("s3cret-pass").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("s3cret-pass", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn gated_work_never_exceeds_the_permits() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        let gate = Arc::new(tokio::sync::Semaphore::new(PASSWORD_CHECKS_AT_ONCE));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..(PASSWORD_CHECKS_AT_ONCE * 4) {
            let (gate, running, peak) = (gate.clone(), running.clone(), peak.clone());
            tasks.push(tokio::spawn(async move {
                run_gated(&gate, move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(30));
                    running.fetch_sub(1, Ordering::SeqCst);
                    true
                })
                .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), Some(true));
        }
        assert!(peak.load(Ordering::SeqCst) <= PASSWORD_CHECKS_AT_ONCE);
        assert!(peak.load(Ordering::SeqCst) >= 1);
    }

    #[tokio::test]
    async fn a_cancelled_caller_keeps_the_permit_until_the_work_ends() {
        use std::sync::Arc;
        let gate = Arc::new(tokio::sync::Semaphore::new(1));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let g = gate.clone();
        let caller = tokio::spawn(async move { run_gated(&g, move || rx.recv().is_ok()).await });
        while gate.available_permits() == 1 {
            tokio::task::yield_now().await;
        }
        caller.abort();
        let _ = caller.await;
        // The blocking work still runs: its permit is still taken.
        assert_eq!(gate.available_permits(), 0);
        tx.send(()).unwrap();
        let _permit = tokio::time::timeout(std::time::Duration::from_secs(5), gate.acquire())
            .await
            .unwrap()
            .unwrap();
    }

    #[test]
    fn constant_time_eq() {
        assert!(eq_ct("abc", "abc"));
        assert!(!eq_ct("abc", "abd"));
        assert!(!eq_ct("abc", "ab"));
    }
}
