//! Stores, staff accounts and their login throttling.

use member_core::dto::StaffView;
use sqlx::AnyConnection;

use crate::auth::store::sessions::{self, Kind};
use crate::db::{Db, DbError};

pub async fn ensure_store(
    conn: &mut AnyConnection,
    code: &str,
    name: &str,
    now: i64,
) -> Result<i64, DbError> {
    sqlx::query(
        "INSERT INTO stores (code, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(code)
    .bind(name)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(sqlx::query_scalar("SELECT id FROM stores WHERE code = $1")
        .bind(code)
        .fetch_one(conn)
        .await?)
}

async fn exists(db: &Db, username: &str) -> Result<bool, DbError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staff_users WHERE username = $1")
        .bind(username)
        .fetch_one(db.reader())
        .await?;
    Ok(n > 0)
}

async fn hash(password: &str) -> Result<String, DbError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || crate::crypto::hash_password(&password))
        .await
        .map_err(|_| DbError::Hash)?
        .map_err(|_| DbError::Hash)
}

/// Creates the account unless the username is taken (hashing only when needed: argon2
/// is deliberately slow).
pub async fn create_staff_if_missing(
    db: &Db,
    username: &str,
    password: &str,
    display_name: &str,
    role: &str,
    store_id: Option<i64>,
    now: i64,
) -> Result<(), DbError> {
    if exists(db, username).await? {
        return Ok(());
    }
    let hash = hash(password).await?;
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO staff_users (username, display_name, password_hash, role, store_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(username)
    .bind(display_name)
    .bind(hash)
    .bind(role)
    .bind(store_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// `member-server admin create`: creates an admin, or resets the password (and role) of
/// an existing account with that name. Returns true when it created one.
pub async fn upsert_admin(
    db: &Db,
    username: &str,
    password: &str,
    now: i64,
) -> Result<bool, DbError> {
    let hash = hash(password).await?;
    let mut tx = db.begin_write().await?;
    let updated = sqlx::query(
        "UPDATE staff_users SET password_hash = $1, role = 'admin', active = 1 WHERE username = $2",
    )
    .bind(&hash)
    .bind(username)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        sqlx::query(
            "INSERT INTO staff_users (username, display_name, password_hash, role, store_id, created_at) \
             VALUES ($1, $1, $2, 'admin', NULL, $3)",
        )
        .bind(username)
        .bind(&hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(updated == 0)
}

#[derive(sqlx::FromRow)]
pub struct LoginRow {
    pub id: i64,
    pub password_hash: String,
    pub role: String,
    pub active: i64,
}

pub async fn find_for_login(db: &Db, username: &str) -> Result<Option<LoginRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, password_hash, role, active FROM staff_users WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(db.reader())
    .await?)
}

async fn record_attempt(
    conn: &mut AnyConnection,
    username: &str,
    ip: &str,
    ok: bool,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO login_attempts (username, ip, ok, at) VALUES ($1, $2, $3, $4)")
        .bind(username)
        .bind(ip)
        .bind(i64::from(ok))
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Kept as an audit trail of sign-ins; throttling uses `limits`.
pub async fn record_failure(db: &Db, username: &str, ip: &str, now: i64) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    record_attempt(&mut tx, username, ip, false, now).await?;
    tx.commit().await?;
    Ok(())
}

pub struct NewSession<'a> {
    pub staff_id: i64,
    pub username: &'a str,
    pub ip: &'a str,
    pub session_hmac: &'a str,
    pub expires_at: i64,
    pub now: i64,
}

/// Records the successful sign-in and opens the session, together.
pub async fn open_session(db: &Db, s: NewSession<'_>) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    record_attempt(&mut tx, s.username, s.ip, true, s.now).await?;
    sessions::create(
        &mut tx,
        s.session_hmac,
        Kind::Staff,
        s.staff_id,
        s.expires_at,
        s.now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
pub struct StaffRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub store_id: Option<i64>,
    pub store_code: Option<String>,
    pub store_name: Option<String>,
}

impl StaffRow {
    pub fn view(&self) -> StaffView {
        StaffView {
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role.clone(),
            store_code: self.store_code.clone(),
            store_name: self.store_name.clone(),
        }
    }
}

/// The signed-in staff member behind a session token digest, if the session is live
/// and the account active.
pub async fn by_session(db: &Db, token_hmac: &str, now: i64) -> Result<Option<StaffRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT u.id, u.username, u.display_name, u.role, u.store_id, \
                st.code AS store_code, st.name AS store_name \
         FROM sessions s \
         JOIN staff_users u ON u.id = s.subject_id \
         LEFT JOIN stores st ON st.id = u.store_id \
         WHERE s.token_hmac = $1 AND s.kind = 'staff' AND s.expires_at > $2 AND u.active = 1",
    )
    .bind(token_hmac)
    .bind(now)
    .fetch_optional(db.reader())
    .await?)
}

pub async fn by_id(db: &Db, id: i64) -> Result<Option<StaffRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT u.id, u.username, u.display_name, u.role, u.store_id, \
                st.code AS store_code, st.name AS store_name \
         FROM staff_users u LEFT JOIN stores st ON st.id = u.store_id WHERE u.id = $1",
    )
    .bind(id)
    .fetch_optional(db.reader())
    .await?)
}

/// A store's id by its code.
pub async fn store_by_code(db: &Db, code: &str) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar("SELECT id FROM stores WHERE code = $1")
        .bind(code)
        .fetch_optional(db.reader())
        .await?)
}

/// An active staff account of a store, by username.
pub async fn id_in_store(db: &Db, username: &str, store_id: i64) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM staff_users WHERE username = $1 AND store_id = $2 AND active = 1",
    )
    .bind(username)
    .bind(store_id)
    .fetch_optional(db.reader())
    .await?)
}

/// Rate-counter keys of a staff account's sign-in throttling (see `crate::staff::http::login`).
pub mod login_keys {
    /// One client address's back-off on one account. The username's length goes first
    /// so one account's prefix never matches another's (`a` and `a:b`).
    pub fn pair_prefix(username: &str) -> String {
        format!("login-pair:{}:{username}:", username.chars().count())
    }

    pub fn pair(username: &str, ip: &str) -> String {
        format!("{}{ip}", pair_prefix(username))
    }

    /// Failures on the account from every client.
    pub fn account(username: &str) -> String {
        format!("login-account:{username}")
    }

    /// Failures from one client address across accounts.
    pub fn client(ip: &str) -> String {
        format!("login-ip:{ip}")
    }
}

/// The account's id and store, for deciding who may manage it.
#[derive(sqlx::FromRow)]
pub struct Managed {
    pub id: i64,
    pub store_id: Option<i64>,
}

pub async fn by_username(db: &Db, username: &str) -> Result<Option<Managed>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, store_id FROM staff_users WHERE username = $1")
            .bind(username)
            .fetch_optional(db.reader())
            .await?,
    )
}

/// Forgets every client's failed sign-ins to the account, with an audit entry. Returns
/// how many counters were dropped.
pub async fn unlock(db: &Db, username: &str, actor: &str, now: i64) -> Result<u64, DbError> {
    let mut tx = db.begin_write().await?;
    let cleared = crate::db::limits::clear_prefixed(
        &mut tx,
        &login_keys::account(username),
        &login_keys::pair_prefix(username),
    )
    .await?;
    crate::db::audit::record(
        &mut tx,
        actor,
        "staff.unlock",
        &format!("staff:{username}"),
        &format!("cleared {cleared} sign-in throttle counter(s)"),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(cleared)
}
