//! What every feature's store shares: the pools, transactions, the error type and the
//! migrations. SQL lives here and in the features' `store` modules only. One portable SQL
//! text per query through sqlx's Any driver (`$n` placeholders work on SQLite and
//! Postgres); migrations per backend.
//!
//! SQLite: one writer connection (plus `BEGIN IMMEDIATE`) so write transactions never
//! race or deadlock on lock upgrades, and a small reader pool beside it (WAL).
//! Postgres: one pool; correctness comes from conditional updates, upserts and unique
//! constraints, so several server instances can share one database.

pub mod audit;
pub mod batch;
pub mod idempotency;
pub mod leases;
pub mod limits;

use std::str::FromStr;
use std::time::Duration;

use member_core::card_code::CardCodeError;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{AnyPool, ConnectOptions, Connection, Executor};

pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Why an edit of a stored row (under its lock) did not happen: there is no such row,
/// the edit refused the merged fields (`E`, nothing written), or storage failed.
#[derive(Debug)]
pub enum Changed<E> {
    NotFound,
    Refused(E),
    Db(DbError),
}

impl<E> From<DbError> for Changed<E> {
    fn from(e: DbError) -> Self {
        Self::Db(e)
    }
}

impl<E> From<sqlx::Error> for Changed<E> {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(DbError::from(e))
    }
}

/// Failures and business refusals of the storage layer; the HTTP layer maps each to a
/// status and code.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error("unsupported database url (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("stored data is inconsistent: {0}")]
    Corrupt(&'static str),
    #[error("password hashing failed")]
    Hash,
    #[error("card code refused: {0:?}")]
    CardCode(CardCodeError),
    #[error("order reference already recorded for this store")]
    DuplicateOrder,
    #[error("idempotency key reused with a different request")]
    IdempotencyReused,
    #[error("a request with this idempotency key is still running")]
    RequestInProgress,
    #[error("no valid code for this phone")]
    OtpExpired,
    #[error("too many wrong codes")]
    OtpLocked,
    #[error("wrong code")]
    OtpWrong,
    #[error("new members need a name")]
    NameRequired,
    #[error("rate limited")]
    RateLimited { retry_after_secs: i64 },
    #[error("no tiers configured")]
    NoTiers,
    #[error("not enough points")]
    InsufficientPoints,
    #[error("out of stock")]
    OutOfStock,
    #[error("per-member limit reached")]
    LimitReached,
    #[error("the order is no longer open")]
    OrderClosed,
    /// The refund's rules refused it (nothing left, more than is left).
    #[error("refund refused: {0:?}")]
    Refund(member_core::refund::Refusal),
    #[error("not found")]
    NotFound,
    #[error("concurrent change; retry")]
    Conflict,
    /// A coupon named for a purchase (or preview) can't be used; the rules say why.
    #[error("coupon {coupon_id} refused: {refusal:?}")]
    Coupon {
        coupon_id: i64,
        refusal: member_core::coupons::Refusal,
    },
    /// A named coupon is not in this member's wallet (or is someone else's).
    #[error("coupon not found")]
    CouponNotFound,
    /// A template's total (or a claim link's cap) has been given out.
    #[error("coupons exhausted")]
    CouponsExhausted,
    /// The coupon template is for a higher tier.
    #[error("tier required")]
    TierRequired,
    /// The birthday was set less than a year ago; it may change from this instant.
    #[error("birthday locked until {until}")]
    BirthdayLocked { until: i64 },
    /// A claim link that has ended, not started, or been switched off.
    #[error("campaign closed")]
    CampaignClosed,
    /// A tier program version that breaks the program's rules (the text says which).
    #[error("invalid tier program: {0}")]
    InvalidProgram(String),
    /// A sign-up field the brand requires was not given (`birthday`, `gender`, `city`).
    #[error("field required: {0}")]
    FieldRequired(&'static str),
}

#[derive(Clone)]
pub struct Db {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
}

impl Db {
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl);
        };
        let options = AnyConnectOptions::from_str(url)?;
        match backend {
            Backend::Sqlite => Self::connect_sqlite(url, options).await,
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(8))
                    // Ping a pooled connection before reuse only when it sat idle for a
                    // while (the server or a proxy may have dropped it): under load a
                    // ping per acquire is one more round trip per query.
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| {
                        Box::pin(async move {
                            if meta.idle_for > Duration::from_secs(30) {
                                conn.ping().await?;
                            }
                            Ok(true)
                        })
                    })
                    .connect_with(options)
                    .await?;
                Ok(Self {
                    read: pool.clone(),
                    write: pool,
                    backend,
                })
            }
        }
    }

    async fn connect_sqlite(url: &str, options: AnyConnectOptions) -> Result<Self, DbError> {
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        if !memory {
            // The file is created (if missing) and switched to WAL once, natively; WAL
            // is persistent, so the Any pools below inherit it.
            let conn = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .connect()
                .await?;
            conn.close().await?;
        }
        let pool = |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .min_connections(if memory { 1 } else { 0 })
                .acquire_timeout(Duration::from_secs(8))
                .idle_timeout(if memory {
                    None
                } else {
                    Some(Duration::from_secs(600))
                })
                .max_lifetime(if memory {
                    None
                } else {
                    Some(Duration::from_secs(3600))
                })
                // Every acquire would otherwise ping: one more trip to the connection's
                // worker thread per query, for a file that cannot hang up.
                .test_before_acquire(false)
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        conn.execute(
                            "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                             PRAGMA busy_timeout = 5000; PRAGMA temp_store = MEMORY;",
                        )
                        .await?;
                        if !memory {
                            // `checkpoints` below copies the WAL back from a reader, off
                            // the writer: an automatic checkpoint runs inside a commit
                            // and, with its fsyncs, holds up every writer queued behind
                            // it. Under steady writes a passive checkpoint never quite
                            // catches up, so the WAL only starts over after the writer's
                            // own (now mostly done) checkpoint: at 4,000 pages (16 MB),
                            // and the file is cut back to 32 MB after that.
                            conn.execute(
                                "PRAGMA wal_autocheckpoint = 4000; \
                                 PRAGMA journal_size_limit = 33554432;",
                            )
                            .await?;
                        }
                        Ok(())
                    })
                })
        };
        let write = pool(1).connect_with(options.clone()).await?;
        // An in-memory database exists once per connection: share the single one.
        let read = if memory {
            write.clone()
        } else {
            pool(4).connect_with(options).await?
        };
        if !memory {
            tokio::spawn(checkpoints(read.clone()));
        }
        Ok(Self {
            read,
            write,
            backend: Backend::Sqlite,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// For queries that only read.
    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::migrate!("./migrations/sqlite")
                    .run(&self.write)
                    .await?;
                sqlite_ledger_kinds(&self.write)
                    .await
                    .map_err(sqlx::migrate::MigrateError::Execute)
            }
            Backend::Postgres => {
                sqlx::migrate!("./migrations/postgres")
                    .run(&self.write)
                    .await
            }
        }
    }

    /// A write transaction. On SQLite it takes the write lock up front, so two
    /// read-then-write transactions can never deadlock on upgrading their locks.
    pub async fn begin_write(&self) -> Result<Tx, DbError> {
        Ok(match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.write.begin().await?,
        })
    }

    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// The ledger kinds `import` and `referral` (migration 0008) on SQLite: points_ledger is
/// rebuilt with the wider CHECK, as SQLite documents for schema changes ALTER TABLE
/// can't make: foreign keys off (only possible outside a transaction, so not in a
/// migration), copy, drop, rename, check, foreign keys on. Three tables reference
/// points_ledger by name and keep doing so. Does nothing once done.
async fn sqlite_ledger_kinds(pool: &AnyPool) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let sql: Option<String> = sqlx::query_scalar(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'points_ledger'",
    )
    .fetch_optional(&mut *conn)
    .await?;
    if sql.is_none_or(|s| s.contains("'referral'")) {
        return Ok(());
    }
    conn.execute("PRAGMA foreign_keys = OFF").await?;
    let rebuilt = conn
        .execute(
            "BEGIN IMMEDIATE;
             CREATE TABLE points_ledger_new (
                 id INTEGER PRIMARY KEY,
                 member_id INTEGER NOT NULL REFERENCES members (id),
                 kind TEXT NOT NULL CHECK (kind IN ('earn', 'redeem', 'expire', 'adjust', 'refund', 'import', 'referral')),
                 points INTEGER NOT NULL,
                 reason TEXT NOT NULL,
                 source_ref TEXT,
                 actor TEXT NOT NULL,
                 store_id INTEGER REFERENCES stores (id),
                 created_at INTEGER NOT NULL,
                 event TEXT
             );
             INSERT INTO points_ledger_new (id, member_id, kind, points, reason, source_ref, actor, store_id, created_at, event)
                 SELECT id, member_id, kind, points, reason, source_ref, actor, store_id, created_at, event FROM points_ledger;
             DROP TABLE points_ledger;
             ALTER TABLE points_ledger_new RENAME TO points_ledger;
             CREATE INDEX points_ledger_member ON points_ledger (member_id, id);
             COMMIT;",
        )
        .await;
    if rebuilt.is_err() {
        let _ = conn.execute("ROLLBACK").await;
    }
    let on = conn.execute("PRAGMA foreign_keys = ON").await;
    rebuilt?;
    on?;
    Ok(())
}

/// How often the WAL is copied back into the database file (SQLite).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Passive WAL checkpoints from a reader connection until the pool closes. A passive
/// checkpoint never waits for (or blocks) the writer or readers; it copies what it can,
/// and the writer starts the WAL over once everything in it has been copied.
async fn checkpoints(pool: AnyPool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                return;
            }
            tracing::debug!(error = %e, "wal checkpoint");
        }
    }
}
