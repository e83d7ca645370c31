//! MEMBER_SECRET: the HMAC key for session tokens and OTP codes.

use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

const FILE_NAME: &str = "member-secret";
const MIN_LEN: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("MEMBER_SECRET must be at least {MIN_LEN} characters")]
    TooShort,
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The key itself; `Debug` never shows it.
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    pub fn from_text(text: &str) -> Result<Self, SecretError> {
        let text = text.trim();
        if text.len() < MIN_LEN {
            return Err(SecretError::TooShort);
        }
        Ok(Self(text.as_bytes().to_vec()))
    }

    /// HMAC-SHA256 of `data` under a purpose label, hex encoded. The label keeps a
    /// session token and an OTP with the same text from ever sharing a digest.
    pub fn mac_hex(&self, purpose: &str, data: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            return String::new();
        };
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(data.as_bytes());
        crate::crypto::hex(&mac.finalize().into_bytes())
    }
}

/// Postgres without MEMBER_SECRET: the key kept in the database, shared by every
/// instance on it. The first instance stores it: the key of an existing
/// `data_dir/member-secret` (so sessions survive the upgrade), else a fresh random one;
/// a concurrent first start loses the insert race and reads the winner's key.
pub async fn load_or_create_shared(
    db: &crate::db::Db,
    data_dir: &Path,
) -> Result<Secret, crate::StartError> {
    let candidate = match std::fs::read_to_string(data_dir.join(FILE_NAME)) {
        Ok(text) => Secret::from_text(&text)?,
        Err(_) => random(),
    };
    let text = String::from_utf8(candidate.0)
        .map_err(|_| crate::db::DbError::Corrupt("generated secret is not text"))?;
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO server_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&text)
    .execute(&mut *tx)
    .await
    .map_err(crate::db::DbError::from)?;
    let stored: String = sqlx::query_scalar("SELECT secret FROM server_secret WHERE id = 1")
        .fetch_one(&mut *tx)
        .await
        .map_err(crate::db::DbError::from)?;
    tx.commit().await.map_err(crate::db::DbError::from)?;
    Ok(Secret::from_text(&stored)?)
}

fn random() -> Secret {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    Secret(crate::crypto::hex(&bytes).into_bytes())
}

/// Uses `given` (from the environment) or the key saved in `data_dir`, creating it
/// (mode 0600) on the first run.
pub fn load_or_create(given: Option<&str>, data_dir: &Path) -> Result<Secret, SecretError> {
    if let Some(text) = given {
        return Secret::from_text(text);
    }
    let path = data_dir.join(FILE_NAME);
    let io = |source| SecretError::Io {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => return Secret::from_text(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    std::fs::create_dir_all(data_dir).map_err(io)?;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let text = crate::crypto::hex(&bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(text.as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
            tracing::info!(path = %path.display(), "generated a new MEMBER_SECRET");
            Secret::from_text(&text)
        }
        // Another instance created it between our read and our create: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Secret::from_text(&std::fs::read_to_string(&path).map_err(io)?)
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn generated_once_then_reused() {
        let dir = std::env::temp_dir().join(format!("mc-secret-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let a = load_or_create(None, &dir).unwrap();
        let b = load_or_create(None, &dir).unwrap();
        assert_eq!(a.mac_hex("x", "y"), b.mac_hex("x", "y"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn purposes_separate_digests() {
        let s = Secret::from_text("0123456789abcdef0123").unwrap();
        assert_ne!(s.mac_hex("session", "t"), s.mac_hex("otp", "t"));
        assert!(Secret::from_text("short").is_err());
    }
}
