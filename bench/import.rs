//! bench/import: the legacy member import of a 100,000-row CSV (every row a new member
//! with points, a tier, a birthday, a store and a join date), on SQLite and Postgres,
//! against a baseline measured in the same run: the bare writes an import can't avoid
//! (one member row and one ledger row per member, 500 members per transaction). Then the
//! same file again, which must import nothing. See bench/README.md.
//!
//!   cargo run --release --example import -- [--rows N] [--backend sqlite|postgres]

// The app crate is wasm32; this bench is native only.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    native::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::fmt::Write as _;
    use std::time::{Duration, Instant};

    use member_server::imports::store as import;

    use member_server::db::Db;
    use sqlx::Connection;

    type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

    /// Budget: 100,000 rows imported within this, per backend (2 cores).
    const BUDGET: Duration = Duration::from_secs(120);
    const PAGE: i64 = 500;

    struct Args {
        rows: i64,
        backends: Vec<String>,
        pg_url: String,
    }

    fn args() -> Args {
        let mut a = Args {
            rows: 100_000,
            backends: vec!["sqlite".into(), "postgres".into()],
            pg_url: std::env::var("BENCH_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into()),
        };
        let mut it = std::env::args().skip(1);
        while let Some(k) = it.next() {
            match (k.as_str(), it.next()) {
                ("--rows", Some(v)) => a.rows = v.parse().unwrap_or(a.rows),
                ("--backend", Some(v)) => a.backends = vec![v],
                _ => {}
            }
        }
        a
    }

    #[tokio::main]
    pub async fn main() -> std::process::ExitCode {
        let a = args();
        let mut worst = 0u8;
        for backend in &a.backends {
            match bench(&a, backend).await {
                Ok(true) => {}
                Ok(false) => worst = worst.max(1),
                Err(e) => {
                    eprintln!("import[{backend}]: could not run: {e}");
                    worst = 2;
                }
            }
        }
        std::process::ExitCode::from(worst)
    }

    async fn pg_admin(pg_url: &str, sql: &str) -> Res {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&format!("{pg_url}/postgres")).await?;
        sqlx::query(sql).execute(&mut conn).await?;
        conn.close().await?;
        Ok(())
    }

    /// A legacy CRM export: `rows` members, most with points, all with a tier code or
    /// name, a birthday, the flagship store and a join date.
    fn file(rows: i64) -> Vec<u8> {
        let tiers = ["normal", "银卡", "gold", "钻石卡"];
        let mut out = String::from("phone,name,tier,points,birthday,store,joined_at\n");
        for i in 0..rows {
            let _ = writeln!(
                out,
                "1{}{:09},会员{i},{},{},{}-{:02}-{:02},S001,20{:02}-{:02}-{:02} 10:30",
                3 + i % 7,
                i,
                tiers[(i % 4) as usize],
                (i * 13) % 5000,
                1960 + i % 45,
                1 + i % 12,
                1 + i % 28,
                15 + i % 10,
                1 + i % 12,
                1 + i % 28,
            );
        }
        out.into_bytes()
    }

    async fn bench(a: &Args, backend: &str) -> Res<bool> {
        let dir = tempfile::tempdir()?;
        let scratch = format!(
            "mc_bench_{}_import",
            member_server::crypto::random_u64() % 1_000_000_000
        );
        let url = |name: &str| {
            if backend == "postgres" {
                format!("{}/{scratch}{name}", a.pg_url)
            } else {
                format!(
                    "sqlite://{}?mode=rwc",
                    dir.path()
                        .join(format!("import{name}.db"))
                        .to_string_lossy()
                )
            }
        };
        if backend == "postgres" {
            pg_admin(&a.pg_url, &format!("CREATE DATABASE {scratch}")).await?;
            pg_admin(&a.pg_url, &format!("CREATE DATABASE {scratch}_base")).await?;
        }
        let result = measure(a, backend, &url(""), &url("_base")).await;
        if backend == "postgres" {
            for db in [scratch.clone(), format!("{scratch}_base")] {
                let _ = pg_admin(
                    &a.pg_url,
                    &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
                )
                .await;
            }
        }
        result
    }

    async fn fresh(url: &str, now: i64) -> Res<Db> {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        member_server::ops::store::seed::dev(&db, now).await?;
        Ok(db)
    }

    async fn measure(a: &Args, backend: &str, url: &str, base_url: &str) -> Res<bool> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs() as i64;
        let csv = file(a.rows);
        println!(
            "import[{backend}]: {} rows, {:.1} MB of CSV",
            a.rows,
            csv.len() as f64 / 1e6
        );

        let base_db = fresh(base_url, now).await?;
        let t = Instant::now();
        baseline(&base_db, a.rows, now).await?;
        let base = t.elapsed();
        base_db.close().await;
        println!(
            "import[{backend}]: baseline (member + ledger row each, {PAGE} per transaction): {:.2} s = {:.0} rows/s",
            base.as_secs_f64(),
            a.rows as f64 / base.as_secs_f64()
        );

        let db = fresh(url, now).await?;
        let t = Instant::now();
        let plan = import::plan(&db, import::Source::from_bytes(&csv)?, now)
            .await?
            .map_err(|e| e.to_string())?;
        let checked = t.elapsed();
        let done = import::run(&db, &plan, "bench", now, |_| async {}).await?;
        let took = t.elapsed();
        println!(
            "import[{backend}]: import: {} imported, {} rejected, {} points in {:.2} s (checking {:.2} s) = {:.0} rows/s",
            done.imported,
            plan.rejected,
            done.points,
            took.as_secs_f64(),
            checked.as_secs_f64(),
            a.rows as f64 / took.as_secs_f64()
        );

        let t = Instant::now();
        let again_plan = import::plan(&db, import::Source::from_bytes(&csv)?, now)
            .await?
            .map_err(|e| e.to_string())?;
        let again = import::run(&db, &again_plan, "bench", now, |_| async {}).await?;
        println!(
            "import[{backend}]: the same file again: {} imported, {} duplicates in {:.2} s",
            again.imported,
            again_plan.duplicates,
            t.elapsed().as_secs_f64()
        );
        let members: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members")
            .fetch_one(db.reader())
            .await?;
        let balance: i64 =
            sqlx::query_scalar("SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM members")
                .fetch_one(db.reader())
                .await?;
        let ledger: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM points_ledger WHERE kind = 'import'",
        )
        .fetch_one(db.reader())
        .await?;
        db.close().await;

        let ok_count = done.imported == a.rows && members == a.rows;
        let ok_ledger = balance == ledger && ledger == done.points;
        let ok_again = again.imported == 0 && again_plan.duplicates == a.rows;
        let ok_time = took <= BUDGET;
        println!(
            "import[{backend}]: ratio baseline/import = {:.2} (1.0 = as fast as the bare writes); budget {} rows in {} s: {:.2} of budget; checks: members {members} = rows {} {}, balances = ledger {}, re-import idle {}",
            base.as_secs_f64() / took.as_secs_f64(),
            a.rows,
            BUDGET.as_secs(),
            took.as_secs_f64() / BUDGET.as_secs_f64(),
            a.rows,
            if ok_count { "OK" } else { "FAILED" },
            if ok_ledger { "OK" } else { "FAILED" },
            if ok_again { "OK" } else { "FAILED" },
        );
        Ok(ok_count && ok_ledger && ok_again && ok_time)
    }

    /// The writes an import can't do without: per member one row in `members` and one in
    /// `points_ledger`, single-row statements, 500 members per transaction.
    async fn baseline(db: &Db, n: i64, now: i64) -> Res {
        let mut i = 0i64;
        while i < n {
            let mut tx = db.begin_write().await?;
            for j in i..(i + PAGE).min(n) {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO members (member_no, phone, name, tier_code, points, card_key, \
                     privacy_consent_at, created_at) VALUES ($1, $2, $3, 'normal', $4, $5, $6, $6) \
                     RETURNING id",
                )
                .bind(format!("9{j:015}"))
                .bind(format!("+861{}{:09}", 3 + j % 7, j))
                .bind(format!("会员{j}"))
                .bind((j * 13) % 5000)
                .bind(vec![0u8; 32])
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO points_ledger (member_id, kind, points, reason, actor, created_at) \
                     VALUES ($1, 'import', $2, 'bench', 'bench', $3)",
                )
                .bind(id)
                .bind((j * 13) % 5000)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            i += PAGE;
        }
        Ok(())
    }
}
