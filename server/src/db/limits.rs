//! Rate counters, all in `rate_counters` so they hold under parallel requests on SQLite
//! and Postgres and across several server instances (nothing is kept in process).
//!
//! Two kinds of rows, told apart by their key's prefix:
//! - fixed windows (`claim`, `bump`): `window_start` is when the window began, `count`
//!   the units taken in it;
//! - back-offs (`backoff`, `login-pair:` keys): `window_start` holds the time before
//!   which no further attempt is allowed and `count` the failures in a row.
//!
//! Either way the cleanup job drops a row two days after its `window_start`.

use member_core::throttle::{Attempt, Backoff};
use sqlx::AnyConnection;

use crate::db::{audit, Backend, Db, DbError};

pub struct Window {
    pub secs: i64,
    pub max: i64,
}

impl From<member_core::throttle::Budget> for Window {
    fn from(b: member_core::throttle::Budget) -> Self {
        Self {
            secs: b.secs,
            max: b.max,
        }
    }
}

/// Takes one unit of `key`'s budget, or gives the start of the window that is spent.
async fn claim_or_window(
    conn: &mut AnyConnection,
    key: &str,
    window: &Window,
    now: i64,
) -> Result<Result<(), i64>, DbError> {
    let claimed: Option<i64> = sqlx::query_scalar(
        "INSERT INTO rate_counters (counter_key, window_start, count) VALUES ($1, $2, 1) \
         ON CONFLICT (counter_key) DO UPDATE SET \
           window_start = CASE WHEN rate_counters.window_start <= $3 \
                          THEN excluded.window_start ELSE rate_counters.window_start END, \
           count = CASE WHEN rate_counters.window_start <= $3 \
                   THEN 1 ELSE rate_counters.count + 1 END \
         WHERE rate_counters.window_start <= $3 OR rate_counters.count < $4 \
         RETURNING count",
    )
    .bind(key)
    .bind(now)
    .bind(now - window.secs)
    .bind(window.max)
    .fetch_optional(&mut *conn)
    .await?;
    if claimed.is_some() {
        return Ok(Ok(()));
    }
    let start: Option<i64> =
        sqlx::query_scalar("SELECT window_start FROM rate_counters WHERE counter_key = $1")
            .bind(key)
            .fetch_optional(conn)
            .await?;
    Ok(Err(start.unwrap_or(now)))
}

fn retry_after(window_start: i64, window: &Window, now: i64) -> i64 {
    (window_start + window.secs - now).max(1)
}

/// Takes one unit of `key`'s budget, or says how many seconds until the window resets.
pub async fn claim(
    conn: &mut AnyConnection,
    key: &str,
    window: &Window,
    now: i64,
) -> Result<Result<(), i64>, DbError> {
    Ok(claim_or_window(conn, key, window, now)
        .await?
        .map_err(|start| retry_after(start, window, now)))
}

/// Gives back a unit taken by `claim` (e.g. the password was right after all).
pub async fn release(db: &Db, keys: &[&str]) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    for key in keys {
        sqlx::query(
            "UPDATE rate_counters SET count = count - 1 WHERE counter_key = $1 AND count > 0",
        )
        .bind(*key)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Which claim of `claim_all` found its budget spent.
#[derive(Debug, Clone, Copy)]
pub struct Refused {
    pub index: usize,
    pub retry_after_secs: i64,
    /// Start of the spent window: names it (e.g. to note its first refusal once).
    pub window_start: i64,
}

/// Claims every key or none (all in one transaction).
pub async fn claim_all(
    db: &Db,
    claims: &[(&str, &Window)],
    now: i64,
) -> Result<Result<(), Refused>, DbError> {
    let mut tx = db.begin_write().await?;
    for (index, (key, window)) in claims.iter().enumerate() {
        if let Err(window_start) = claim_or_window(&mut tx, key, window, now).await? {
            return Ok(Err(Refused {
                index,
                retry_after_secs: retry_after(window_start, window, now),
                window_start,
            }));
        }
    }
    tx.commit().await?;
    Ok(Ok(()))
}

/// Adds one to each key's count in its current window (no limit; see `count`).
pub async fn bump_all(db: &Db, keys: &[(&str, &Window)], now: i64) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    bump_in(&mut tx, keys, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Adds one to `key`'s count in its current window (no limit; see `count`).
pub async fn bump(db: &Db, key: &str, window: &Window, now: i64) -> Result<(), DbError> {
    bump_all(db, &[(key, window)], now).await
}

/// `key`'s count in its current window (0 once the window is over).
pub async fn count(db: &Db, key: &str, window: &Window, now: i64) -> Result<i64, DbError> {
    let n: Option<i64> = sqlx::query_scalar(
        "SELECT count FROM rate_counters WHERE counter_key = $1 AND window_start > $2",
    )
    .bind(key)
    .bind(now - window.secs)
    .fetch_optional(db.reader())
    .await?;
    Ok(n.unwrap_or(0))
}

/// `key`'s count in its current window and when that window began; `None` when the key
/// has no current window.
pub async fn current(
    db: &Db,
    key: &str,
    window: &Window,
    now: i64,
) -> Result<Option<(i64, i64)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT count, window_start FROM rate_counters \
         WHERE counter_key = $1 AND window_start > $2",
    )
    .bind(key)
    .bind(now - window.secs)
    .fetch_optional(db.reader())
    .await?)
}

/// Seconds until the window that began at `window_start` is over (at least 1).
pub fn seconds_left(window_start: i64, window: &Window, now: i64) -> i64 {
    retry_after(window_start, window, now)
}

/// Opens a write transaction that holds `lock_key` until it ends: other holders of the
/// same key wait (SQLite: the one writer; Postgres: a transaction-scoped advisory lock on
/// the key, no row written), so what is decided and counted under it happens one holder
/// after another. Gives the transaction and, read in it, each of `counted`'s count in its
/// current window with the window's start.
pub async fn hold(
    db: &Db,
    lock_key: &str,
    counted: &[(&str, &Window)],
    now: i64,
) -> Result<(crate::db::Tx, Vec<Option<(i64, i64)>>), DbError> {
    let mut tx = db.begin_write().await?;
    if db.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0)) IS NULL")
            .bind(lock_key)
            .execute(&mut *tx)
            .await?;
    }
    // One read for every key: on Postgres each statement is a round trip, and this runs
    // on every card check of the till.
    let placeholders: Vec<String> = (1..=counted.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT counter_key, count, window_start FROM rate_counters WHERE counter_key IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as::<_, (String, i64, i64)>(&sql);
    for (key, _) in counted {
        query = query.bind(*key);
    }
    let rows = if counted.is_empty() {
        Vec::new()
    } else {
        query.fetch_all(&mut *tx).await?
    };
    let counts = counted
        .iter()
        .map(|(key, window)| {
            rows.iter()
                .find(|(k, _, start)| k == key && *start > now - window.secs)
                .map(|(_, n, start)| (*n, *start))
        })
        .collect();
    Ok((tx, counts))
}

/// Adds one to each key's count in its current window, in `tx` (no limit).
pub async fn bump_in(
    tx: &mut crate::db::Tx,
    keys: &[(&str, &Window)],
    now: i64,
) -> Result<(), DbError> {
    for (key, window) in keys {
        let unlimited = Window {
            secs: window.secs,
            max: i64::MAX,
        };
        // Cannot be refused: the budget is unlimited.
        let _ = claim_or_window(tx, key, &unlimited, now).await?;
    }
    Ok(())
}

/// What `once` writes to the audit log.
pub struct Note<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub detail: &'a str,
}

/// Writes `note` to the audit log the first time it is called with `key` within
/// `window_secs`; later calls do nothing. True when it wrote.
pub async fn once(
    db: &Db,
    key: &str,
    window_secs: i64,
    note: Note<'_>,
    now: i64,
) -> Result<bool, DbError> {
    let mut tx = db.begin_write().await?;
    let first = Window {
        secs: window_secs,
        max: 1,
    };
    if claim_or_window(&mut tx, key, &first, now).await?.is_err() {
        return Ok(false);
    }
    audit::record(
        &mut tx,
        note.actor,
        note.action,
        note.target,
        note.detail,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Decides an attempt on `key`'s back-off under a row lock (SQLite's write transaction,
/// Postgres' `FOR UPDATE`), so parallel attempts are decided one after another.
pub async fn backoff(
    db: &Db,
    key: &str,
    now: i64,
    decide: impl FnOnce(Backoff, i64) -> Attempt,
) -> Result<Attempt, DbError> {
    let mut tx = db.begin_write().await?;
    // A row to lock even on the first attempt (two first attempts would both see none).
    sqlx::query(
        "INSERT INTO rate_counters (counter_key, window_start, count) VALUES ($1, $2, 0) \
         ON CONFLICT (counter_key) DO NOTHING",
    )
    .bind(key)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let select = match db.backend() {
        Backend::Sqlite => "SELECT window_start, count FROM rate_counters WHERE counter_key = $1",
        Backend::Postgres => {
            "SELECT window_start, count FROM rate_counters WHERE counter_key = $1 FOR UPDATE"
        }
    };
    let (not_before, failures): (i64, i64) =
        sqlx::query_as(select).bind(key).fetch_one(&mut *tx).await?;
    let attempt = decide(
        Backoff {
            failures,
            not_before,
        },
        now,
    );
    if let Attempt::Check(next) = attempt {
        sqlx::query(
            "UPDATE rate_counters SET window_start = $2, count = $3 WHERE counter_key = $1",
        )
        .bind(key)
        .bind(next.not_before)
        .bind(next.failures)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    Ok(attempt)
}

/// Forgets a back-off (the right password came).
pub async fn clear(db: &Db, key: &str) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM rate_counters WHERE counter_key = $1")
        .bind(key)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Drops the rows whose key is `exact` or starts with `prefix`, inside the caller's
/// transaction. Compares a prefix of the key, not LIKE: a username may hold `%` or `_`.
pub async fn clear_prefixed(
    conn: &mut AnyConnection,
    exact: &str,
    prefix: &str,
) -> Result<u64, DbError> {
    let len = i64::try_from(prefix.chars().count()).unwrap_or(i64::MAX);
    Ok(sqlx::query(
        "DELETE FROM rate_counters WHERE counter_key = $1 \
         OR substr(counter_key, 1, CAST($3 AS INTEGER)) = $2",
    )
    .bind(exact)
    .bind(prefix)
    .bind(len)
    .execute(conn)
    .await?
    .rows_affected())
}
