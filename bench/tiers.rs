//! bench/tiers: one tier-job run over 100,000 members whose evaluation periods have all
//! ended, on SQLite and Postgres, against a baseline measured in the same run: the
//! cheapest per-member write the job could possibly do (one conditional UPDATE per
//! member, paged by id, 500 members per transaction). Then the job runs again and must
//! do nothing (idempotent). See bench/README.md.
//!
//!   cargo run --release --example tiers -- [--members N] [--backend sqlite|postgres]

// The app crate is wasm32; this bench is native only.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    native::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::time::{Duration, Instant};

    use member_server::db::Db;
    use member_server::tiers::jobs::run_once;
    use sqlx::Connection;

    type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

    /// Budget: a whole run over 100,000 due members within this, per backend (2 cores).
    const BUDGET: Duration = Duration::from_secs(60);
    const PAGE: i64 = 500;
    const DAY: i64 = 86_400;

    struct Args {
        members: i64,
        backends: Vec<String>,
        pg_url: String,
    }

    fn args() -> Args {
        let mut a = Args {
            members: 100_000,
            backends: vec!["sqlite".into(), "postgres".into()],
            pg_url: std::env::var("BENCH_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into()),
        };
        let mut it = std::env::args().skip(1);
        while let Some(k) = it.next() {
            match (k.as_str(), it.next()) {
                ("--members", Some(v)) => a.members = v.parse().unwrap_or(a.members),
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
                    eprintln!("tiers[{backend}]: could not run: {e}");
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

    async fn bench(a: &Args, backend: &str) -> Res<bool> {
        let dir = tempfile::tempdir()?;
        let scratch = format!(
            "mc_bench_{}_tiers",
            member_server::crypto::random_u64() % 1_000_000_000
        );
        let url = if backend == "postgres" {
            pg_admin(&a.pg_url, &format!("CREATE DATABASE {scratch}")).await?;
            format!("{}/{scratch}", a.pg_url)
        } else {
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("tiers.db").to_string_lossy()
            )
        };
        let result = measure(a, backend, &url).await;
        if backend == "postgres" {
            let _ = pg_admin(
                &a.pg_url,
                &format!("DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"),
            )
            .await;
        }
        result
    }

    async fn measure(a: &Args, backend: &str, url: &str) -> Res<bool> {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs() as i64;
        member_server::ops::store::seed::dev(&db, now - 400 * DAY).await?;
        // The dev program: yearly evaluation from the upgrade, drop to what was earned.
        let t = Instant::now();
        seed(&db, a.members, now).await?;
        println!(
            "tiers[{backend}]: {} members with ended periods and growth events seeded in {:.1} s",
            a.members,
            t.elapsed().as_secs_f64()
        );

        let t = Instant::now();
        let touched = baseline(&db, now).await?;
        let base = t.elapsed();
        println!(
            "tiers[{backend}]: baseline (one conditional UPDATE per member, {PAGE} per transaction): {touched} members in {:.2} s = {:.0}/s",
            base.as_secs_f64(),
            touched as f64 / base.as_secs_f64()
        );

        let t = Instant::now();
        let run = run_once(&db, now, "bench").await?;
        let took = t.elapsed();
        let rate = run.evaluated as f64 / took.as_secs_f64();
        println!(
            "tiers[{backend}]: job run: evaluated {} (kept {}, downgraded {}), warned {}, skipped {} in {:.2} s = {:.0} members/s",
            run.evaluated, run.kept, run.downgraded, run.warned, run.skipped,
            took.as_secs_f64(), rate
        );
        let t = Instant::now();
        let again = run_once(&db, now, "bench").await?;
        let second = t.elapsed();
        println!(
            "tiers[{backend}]: second run: evaluated {} in {:.2} s (idempotent: nothing left to do)",
            again.evaluated,
            second.as_secs_f64()
        );
        let rows: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM tier_changes WHERE period_end IS NOT NULL")
                .fetch_one(db.reader())
                .await?;
        let due: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE period_end <= $1")
            .bind(now)
            .fetch_one(db.reader())
            .await?;
        db.close().await;

        let ratio = base.as_secs_f64() / took.as_secs_f64();
        let ok_count = run.evaluated as i64 == a.members && rows == a.members && due == 0;
        let ok_again = again.evaluated == 0;
        let ok_time = took <= BUDGET;
        println!(
            "tiers[{backend}]: ratio baseline/job = {ratio:.2} (1.0 = as fast as the bare writes); budget {} members in {} s: {:.2} of budget; checks: evaluations {rows} = members {} {}, none still due {}, second run idle {}",
            a.members,
            BUDGET.as_secs(),
            took.as_secs_f64() / BUDGET.as_secs_f64(),
            a.members,
            if ok_count { "OK" } else { "FAILED" },
            if due == 0 { "OK" } else { "FAILED" },
            if ok_again { "OK" } else { "FAILED" },
        );
        Ok(ok_count && ok_again && ok_time)
    }

    /// Members straight into the database (signing 100,000 up through the API would trip
    /// the OTP limits): a third each at 银卡, 金卡, 钻石卡, every one with a period that ended
    /// yesterday and one purchase event in it (0 to 2,999 growth), so some keep their tier
    /// and most drop.
    async fn seed(db: &Db, n: i64, now: i64) -> Res {
        let tiers = ["silver", "gold", "diamond"];
        let start = now - 366 * DAY;
        let end = now - DAY;
        let mut id = 0i64;
        while id < n {
            let mut tx = db.begin_write().await?;
            let upto = (id + PAGE).min(n);
            let mut sql = String::from(
                "INSERT INTO members (member_no, phone, name, tier_code, points, growth, card_key, \
                 privacy_consent_at, created_at, tier_since, period_start, period_end) VALUES ",
            );
            let mut events = String::from(
                "INSERT INTO growth_events (member_id, kind, growth, spend_cents, note, at, \
                 counts_until, in_period) VALUES ",
            );
            for i in id..upto {
                let tier = tiers[(i % 3) as usize];
                let (ps, pe) = (start, end);
                let growth = (i * 37) % 3000;
                if i > id {
                    sql.push(',');
                    events.push(',');
                }
                sql.push_str(&format!(
                    "('B{i:09}', '+861{i:010}', 'bench', '{tier}', 0, {growth}, $1, {start}, {start}, {ps}, {ps}, {pe})"
                ));
                events.push_str(&format!(
                    "((SELECT id FROM members WHERE member_no = 'B{i:09}'), 'purchase', {growth}, {}, 'bench', {}, NULL, 1)",
                    growth * 100,
                    start + DAY
                ));
            }
            sqlx::query(&sql)
                .bind(vec![7u8; 32])
                .execute(&mut *tx)
                .await?;
            sqlx::query(&events).execute(&mut *tx).await?;
            tx.commit().await?;
            id = upto;
        }
        Ok(())
    }

    /// The floor: select each page of due members, then one conditional UPDATE per member in
    /// a transaction per page (what any per-member evaluation must at least write).
    async fn baseline(db: &Db, now: i64) -> Res<i64> {
        let mut after = 0i64;
        let mut touched = 0i64;
        loop {
            let ids: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM members WHERE period_end <= $1 AND id > $2 ORDER BY id LIMIT $3",
            )
            .bind(now)
            .bind(after)
            .bind(PAGE)
            .fetch_all(db.reader())
            .await?;
            let Some(&last) = ids.last() else {
                return Ok(touched);
            };
            after = last;
            let mut tx = db.begin_write().await?;
            for id in &ids {
                touched += sqlx::query(
                    "UPDATE members SET warned_for = period_end WHERE id = $1 AND period_end <= $2",
                )
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected() as i64;
            }
            tx.commit().await?;
        }
    }
}
