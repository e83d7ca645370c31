//! Test harness: a real server on a random port, a fresh database per test (SQLite file in
//! a temp dir, or a fresh Postgres database), real HTTP through reqwest with one cookie
//! jar per client, and a ledger check after every test body.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;
use member_server::{Clock, Config, RunningServer};
use sqlx::{PgPool, SqlitePool};

mod asserts;
mod clients;
pub use asserts::*;
pub use clients::*;

pub const STAFF_USER: &str = "cashier";
pub const STAFF_PASS: &str = "cashier-dev-pass";
pub const ADMIN_USER: &str = "admin";
pub const ADMIN_PASS: &str = "admin-dev-pass";
/// The inline script of the harness's index.html and its CSP hash
/// (`printf '%s' "$script" | openssl dgst -sha256 -binary | base64`).
/// Every test server serves /metrics to this bearer token (`Config::metrics_token`).
pub const METRICS_TOKEN: &str = "test-metrics-token";
pub const INDEX_INLINE_SCRIPT: &str = r#"document.documentElement.dataset.harness="1""#;
pub const INDEX_INLINE_SCRIPT_HASH: &str = "'sha256-ZYHylgqN04dr37Z2HMsNN0dI9vqcg+h/z2WOlt9hsFE='";
/// Its inline style (Trunk inlines the member app's CSS) and that one's hash.
pub const INDEX_INLINE_STYLE: &str = "body{margin:0}";
pub const INDEX_INLINE_STYLE_HASH: &str = "'sha256-IAdwN3biDCQ3brrgp1m8kBEsPQYyqfREKOEfeoREopc='";

/// Generates each listed test twice, `sqlite::name` and `postgres::name`. Every test runs
/// on a multi-thread runtime so the server and the clients really run side by side.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    $crate::common::run($crate::common::Backend::Sqlite, super::$name).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    $crate::common::run($crate::common::Backend::Postgres, super::$name).await;
                }
            )*
        }
    };
}

/// Tests of what only Postgres does (its SQLSTATEs, its locks), registered for Postgres
/// alone so they never pass on SQLite by asserting nothing.
#[macro_export]
macro_rules! postgres_only {
    ($($name:ident),* $(,)?) => {
        mod postgres_only {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    $crate::common::run($crate::common::Backend::Postgres, super::$name).await;
                }
            )*
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What a test body gets: where the server is, its clock and a way into its database.
#[derive(Clone)]
pub struct TestApp {
    pub base: String,
    #[allow(dead_code)] // handy when a test must differ per backend
    pub backend: Backend,
    pub db: Db,
    /// The server's clock (shared): `advance_clock` lets minutes pass without sleeping.
    pub clock: Clock,
    /// The server's database, for tests that call `member_server::db` directly.
    pub database_url: String,
    /// `http://addr` of the `METRICS_BIND` listener, when the test configured one.
    #[allow(dead_code)]
    pub metrics_base: Option<String>,
}

/// Direct database access for invariants and for looking behind the API.
#[derive(Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

impl Db {
    pub async fn scalar_i64(&self, sql: &str) -> i64 {
        match self {
            Db::Sqlite(p) => sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await,
            Db::Pg(p) => sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await,
        }
        .unwrap_or_else(|e| panic!("query failed: {sql}: {e}"))
    }

    pub async fn execute(&self, sql: &str) -> u64 {
        match self {
            Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
            Db::Pg(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
        }
        .unwrap_or_else(|e| panic!("statement failed: {sql}: {e}"))
    }

    async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Pg(p) => p.close().await,
        }
    }
}

/// The real time, where a test's frozen clock starts.
fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn admin_pg_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

fn with_database(url: &str, db: &str) -> String {
    let (head, tail) = url.rsplit_once('/').unwrap_or((url, ""));
    let query = tail
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{head}/{db}{query}")
}

pub(crate) fn random_suffix() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..12)
        .map(|_| char::from(b'a' + rng.gen_range(0..26u8)))
        .collect()
}

struct PgDatabase {
    admin: PgPool,
    name: String,
}

/// Connects to the Postgres admin URL; `None` means "skip" (only outside CI).
async fn pg_admin() -> Option<PgPool> {
    let url = admin_pg_url();
    let attempt = tokio::time::timeout(
        Duration::from_secs(5),
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&url),
    )
    .await;
    match attempt {
        Ok(Ok(pool)) => Some(pool),
        Ok(Err(e)) => pg_unreachable(&url, &e.to_string()),
        Err(_) => pg_unreachable(&url, "timed out after 5 s"),
    }
}

fn pg_unreachable(url: &str, why: &str) -> Option<PgPool> {
    skip_or_fail_postgres(skip_requested("SKIP_POSTGRES"), url, why);
    None
}

/// Whether the person running the tests asked to skip a part (`SKIP_POSTGRES=1`).
pub fn skip_requested(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"))
}

/// A Postgres test without Postgres fails, saying how to start it, unless the skip was
/// asked for; then it says loudly that it skipped (and `make test` names the skip).
fn skip_or_fail_postgres(skip: bool, url: &str, why: &str) {
    if !skip {
        panic!(
            "Postgres at {url} is unreachable ({why}). Start it with `make postgres` \
             (or `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`), \
             or skip the Postgres tests on purpose with SKIP_POSTGRES=1."
        );
    }
    eprintln!("SKIPPED Postgres test (SKIP_POSTGRES=1): {url} unreachable ({why})");
}

#[test]
#[should_panic(expected = "SKIP_POSTGRES=1")]
fn a_missing_postgres_fails_unless_skipped() {
    skip_or_fail_postgres(true, "postgres://x", "asked to skip");
    skip_or_fail_postgres(false, "postgres://x", "connection refused");
}

/// Runs one test body against a fresh server and database, then checks the ledger
/// invariant and cleans up (also when the body panicked).
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    run_with(backend, |_| {}, test).await;
}

/// `run` with the server's `Config` adjusted first (e.g. `|cfg| cfg.dev = false`; without
/// dev there is no seed, so no staff accounts and no dev outbox route).
pub async fn run_with<C, F, Fut>(backend: Backend, configure: C, test: F)
where
    C: FnOnce(&mut Config),
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let mut pg: Option<PgDatabase> = None;
    let database_url = match backend {
        Backend::Sqlite => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("test.db").to_string_lossy()
        ),
        Backend::Postgres => {
            let Some(admin) = pg_admin().await else {
                return;
            };
            let name = format!("mc_t_{}", random_suffix());
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin)
                .await
                .expect("CREATE DATABASE");
            let url = with_database(&admin_pg_url(), &name);
            pg = Some(PgDatabase { admin, name });
            url
        }
    };

    let data_dir = dir.path().join("data");
    std::fs::create_dir_all(&data_dir).expect("data dir");
    let static_dir = dir.path().join("dist");
    std::fs::create_dir_all(static_dir.join("staff")).expect("static dir");
    // One inline script, like the real pages: its hash must be in the pages' CSP.
    std::fs::write(
        static_dir.join("index.html"),
        format!(
            "<!doctype html><title>member</title><style>{INDEX_INLINE_STYLE}</style>\
             <script>{INDEX_INLINE_SCRIPT}</script><script src=\"/app.js\"></script>"
        ),
    )
    .expect("index");
    std::fs::write(
        static_dir.join("staff").join("index.html"),
        "<!doctype html><title>staff</title>",
    )
    .expect("staff index");

    let mut config = Config {
        database_url: database_url.clone(),
        bind: "127.0.0.1:0".parse().expect("bind addr"),
        static_dir,
        dev: true,
        member_secret: Some("test-member-secret-0123456789abcdef".to_string()),
        data_dir,
        // Time stands still in tests (issue 15, item 22): what a test reads as "now" is
        // what the server stamps and the job runs at, until the test moves it.
        clock_frozen_at: Some(chrono_now()),
        metrics_token: Some(METRICS_TOKEN.to_string()),
        ..Config::default()
    };
    configure(&mut config);
    let server: RunningServer = match member_server::start(config).await {
        Ok(s) => s,
        Err(e) => {
            drop_pg(pg).await;
            panic!("server failed to start on {backend:?}: {e:?}");
        }
    };

    let db = match backend {
        Backend::Sqlite => Db::Sqlite(
            sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect(&database_url)
                .await
                .expect("open sqlite for checks"),
        ),
        Backend::Postgres => Db::Pg(
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(2)
                .connect(&database_url)
                .await
                .expect("open postgres for checks"),
        ),
    };
    let app = TestApp {
        base: format!("http://{}", server.addr),
        backend,
        db: db.clone(),
        clock: server.state().clock.clone(),
        database_url: database_url.clone(),
        metrics_base: server.metrics_addr.map(|a| format!("http://{a}")),
    };

    let outcome = AssertUnwindSafe(test(app.clone())).catch_unwind().await;
    let invariant = if outcome.is_ok() {
        Some(AssertUnwindSafe(check_ledger(&db)).catch_unwind().await)
    } else {
        None
    };

    db.close().await;
    server.shutdown().await;
    drop_pg(pg).await;
    drop(dir);

    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    if let Some(Err(panic)) = invariant {
        std::panic::resume_unwind(panic);
    }
}

async fn drop_pg(pg: Option<PgDatabase>) {
    if let Some(PgDatabase { admin, name }) = pg {
        // Best effort: a leftover database is untidy, not wrong.
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&admin)
            .await;
        admin.close().await;
    }
}

/// How many members' balances differ from the sum of their ledger rows.
pub async fn ledger_mismatches(db: &Db) -> i64 {
    db.scalar_i64(
        "SELECT COUNT(*) FROM members m WHERE m.points <> COALESCE(\
           (SELECT CAST(SUM(l.points) AS BIGINT) FROM points_ledger l WHERE l.member_id = m.id), 0)",
    )
    .await
}

/// How many members' balances differ from what their batches still hold.
pub async fn batch_mismatches(db: &Db) -> i64 {
    db.scalar_i64(
        "SELECT COUNT(*) FROM members m WHERE m.points <> COALESCE(\
           (SELECT CAST(SUM(b.remaining) AS BIGINT) FROM points_batches b WHERE b.member_id = m.id), 0)",
    )
    .await
}

/// Every member's balance equals the sum of their ledger rows and of their batches'
/// remaining points; no balance, batch or stock is negative; every allocation names a
/// batch of the same member as its ledger row.
async fn check_ledger(db: &Db) {
    let mismatched = ledger_mismatches(db).await;
    assert_eq!(
        mismatched, 0,
        "ledger invariant broken: {mismatched} member(s) whose points != sum(ledger)"
    );
    let unbatched = batch_mismatches(db).await;
    assert_eq!(
        unbatched, 0,
        "batch invariant broken: {unbatched} member(s) whose points != sum(batch remaining)"
    );
    let negative = db
        .scalar_i64(
            "SELECT (SELECT COUNT(*) FROM members WHERE points < 0) \
                  + (SELECT COUNT(*) FROM points_batches WHERE remaining < 0) \
                  + (SELECT COUNT(*) FROM mall_items WHERE stock < 0)",
        )
        .await;
    assert_eq!(
        negative, 0,
        "negative balances, batches or stock: {negative}"
    );
    let crossed = db
        .scalar_i64(
            "SELECT COUNT(*) FROM points_allocations a \
             JOIN points_ledger l ON l.id = a.ledger_id \
             JOIN points_batches b ON b.id = a.batch_id WHERE l.member_id <> b.member_id",
        )
        .await;
    assert_eq!(crossed, 0, "allocations across members: {crossed}");
}
