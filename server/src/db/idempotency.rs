//! Idempotency keys: claimed inside the transaction that does the work, so the key and
//! the effect commit (or vanish) together. A concurrent duplicate waits on the unique
//! index and then sees the finished row. `purchases` marks the row done.

use crate::db::{Db, DbError, Tx};

pub enum Claim {
    /// First use of the key: do the work, then `complete`.
    New(i64),
    /// The key was used before with the same request: answer what was answered then.
    Replay { status: u16, body: String },
}

pub async fn claim(
    tx: &mut Tx,
    scope: &str,
    key: &str,
    request_hash: &str,
    now: i64,
) -> Result<Claim, DbError> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO idempotency_keys (scope, idem_key, request_hash, status, created_at) \
         VALUES ($1, $2, $3, 'running', $4) ON CONFLICT (scope, idem_key) DO NOTHING RETURNING id",
    )
    .bind(scope)
    .bind(key)
    .bind(request_hash)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(id) = id {
        return Ok(Claim::New(id));
    }
    let (hash, status, response_status, body): (String, String, Option<i64>, Option<String>) =
        sqlx::query_as(
            "SELECT request_hash, status, response_status, response_body FROM idempotency_keys \
             WHERE scope = $1 AND idem_key = $2",
        )
        .bind(scope)
        .bind(key)
        .fetch_one(&mut **tx)
        .await?;
    if !crate::crypto::eq_ct(&hash, request_hash) {
        return Err(DbError::IdempotencyReused);
    }
    match (status.as_str(), response_status, body) {
        ("done", Some(code), Some(body)) => Ok(Claim::Replay {
            status: u16::try_from(code).map_err(|_| DbError::Corrupt("stored status"))?,
            body,
        }),
        _ => Err(DbError::RequestInProgress),
    }
}

/// Marks a claimed key done with the answer to replay ($1 status, $2 body, $3 claim
/// id); runs in the transaction that does the work.
pub const COMPLETE: &str = "UPDATE idempotency_keys SET status = 'done', response_status = $1, \
                            response_body = $2 WHERE id = $3";

/// The statement that completes claim `claim_id` with `status` and `body`.
pub fn complete(claim_id: i64, status: u16, body: String) -> crate::db::batch::Stmt {
    use crate::db::batch::{Arg, Stmt};
    Stmt::new(
        COMPLETE,
        vec![
            Arg::Int(i64::from(status)),
            Arg::Text(body),
            Arg::Int(claim_id),
        ],
    )
}

/// What a request under an Idempotency-Key did: the work now, or the stored answer of
/// the first request with this key.
pub enum Outcome<T> {
    Fresh(T),
    Replayed { status: u16, body: String },
}

/// The stored answer of the first request with a key.
pub struct Replay {
    pub status: u16,
    pub body: String,
}

impl<T> From<Replay> for Outcome<T> {
    fn from(r: Replay) -> Self {
        Outcome::Replayed {
            status: r.status,
            body: r.body,
        }
    }
}

/// A write transaction with the key claimed in it (do the work, then `complete` the
/// claim in the same transaction), or the stored answer of the first request.
pub enum Begun {
    Claimed(Tx, i64),
    Replayed(Replay),
}

/// Opens a write transaction and claims the key in it.
pub async fn begin(
    db: &Db,
    scope: &str,
    key: &str,
    request_hash: &str,
    now: i64,
) -> Result<Begun, DbError> {
    begin_in(db.begin_write().await?, scope, key, request_hash, now).await
}

/// Claims the key in a write transaction the caller already holds.
pub async fn begin_in(
    mut tx: Tx,
    scope: &str,
    key: &str,
    request_hash: &str,
    now: i64,
) -> Result<Begun, DbError> {
    Ok(match claim(&mut tx, scope, key, request_hash, now).await? {
        Claim::New(id) => Begun::Claimed(tx, id),
        Claim::Replay { status, body } => Begun::Replayed(Replay { status, body }),
    })
}

/// `(tx, claim_id)` of a freshly claimed key, or returns the stored answer from the
/// calling use case as its `Ok(Outcome::Replayed)`: the one way every keyed write starts.
macro_rules! claim_or_replay {
    ($db:expr, $scope:expr, $key:expr, $hash:expr, $now:expr) => {
        match $crate::db::idempotency::begin($db, $scope, $key, $hash, $now).await? {
            $crate::db::idempotency::Begun::Claimed(tx, id) => (tx, id),
            $crate::db::idempotency::Begun::Replayed(replay) => return Ok(replay.into()),
        }
    };
    (in $tx:expr, $scope:expr, $key:expr, $hash:expr, $now:expr) => {
        match $crate::db::idempotency::begin_in($tx, $scope, $key, $hash, $now).await? {
            $crate::db::idempotency::Begun::Claimed(tx, id) => (tx, id),
            $crate::db::idempotency::Begun::Replayed(replay) => return Ok(replay.into()),
        }
    };
}
pub(crate) use claim_or_replay;

/// The stored answer for a key already done with this same request, read without
/// claiming anything (`begin` stays the authority: anything else is left to it).
pub async fn stored(
    db: &Db,
    scope: &str,
    key: &str,
    request_hash: &str,
) -> Result<Option<Replay>, DbError> {
    let row: Option<(String, Option<i64>, Option<String>)> = sqlx::query_as(
        "SELECT request_hash, response_status, response_body FROM idempotency_keys \
         WHERE scope = $1 AND idem_key = $2 AND status = 'done'",
    )
    .bind(scope)
    .bind(key)
    .fetch_optional(db.reader())
    .await?;
    Ok(match row {
        Some((hash, Some(status), Some(body))) if crate::crypto::eq_ct(&hash, request_hash) => {
            Some(Replay {
                status: u16::try_from(status).map_err(|_| DbError::Corrupt("stored status"))?,
                body,
            })
        }
        _ => None,
    })
}
