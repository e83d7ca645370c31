//! HTTP load on the write paths (`POST /api/v1/mall/orders`, `POST /api/v1/staff/purchases`)
//! of the release `member-server`, next to a baseline measured in the same run with the
//! same load generator and connection count:
//!
//! - SQLite: a trivial axum handler (this binary, `baseline-server`, in its own process)
//!   answering a small JSON on POST;
//! - Postgres: `pgbench` TPC-B (scale 10, -c 32 -j 2) on a scratch database of the same
//!   cluster; the budget is 0.8x its tps.
//!
//! Then the DESIGN invariants, read straight from the database: every member's balance
//! equals the sum of their ledger rows (and of their batches' remaining points), nothing
//! negative, one effect per 2xx answer, replays answered from the store, and the same
//! balance check after the server is `kill -9`ed mid-load and restarted on the same data.
//!
//! Run through `bench/redeem` or `bench/purchase`:
//!   load run --mode redeem|purchase --server target/release/member-server
//!            --backend sqlite|postgres [--connections 32] [--seconds 10]
//! Exits 1 when over budget or an invariant fails, 2 when the bench cannot run.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    bench::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod bench {
    use std::collections::BTreeMap;
    use std::io::{BufRead, BufReader, Read};
    use std::net::SocketAddr;
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, ExitCode, Stdio};
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    use hyper::Request;
    use hyper_util::rt::TokioIo;
    use member_core::card_code::{self, CardKey};
    use member_server::auth::store::sessions;
    use member_server::db::{Backend, Db};
    use sqlx::Connection;

    pub type Res<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

    const BUDGET_RPS: f64 = 2000.0;
    const BUDGET_P99_MS: f64 = 50.0;
    const PG_FACTOR: f64 = 0.8;
    const PG_SCALE: u32 = 10;
    const SECRET: &str = "bench-member-secret-0123456789abcdef";
    const ITEM_PRICE: i64 = 10;
    const ITEM_STOCK: i64 = 100_000_000;
    const SEED_POINTS: i64 = 1_000_000;
    const REPLAYS: u64 = 20;

    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Mode {
        Redeem,
        Purchase,
    }

    impl Mode {
        fn path(self) -> &'static str {
            match self {
                Mode::Redeem => "/api/v1/mall/orders",
                Mode::Purchase => "/api/v1/staff/purchases",
            }
        }
        fn name(self) -> &'static str {
            match self {
                Mode::Redeem => "redeem",
                Mode::Purchase => "purchase",
            }
        }
    }

    struct Opts {
        mode: Mode,
        server: PathBuf,
        backend: Backend,
        connections: usize,
        seconds: f64,
        members: usize,
        items: usize,
        kill_test: bool,
        pg_url: String,
        /// Purchases: every purchase uses one coupon (¥5 off ¥30) from the member's wallet.
        coupons: bool,
    }

    pub fn main() -> ExitCode {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if args.first().map(String::as_str) == Some("baseline-server") {
            return match baseline_server() {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("baseline-server: {e}");
                    ExitCode::from(2)
                }
            };
        }
        let opts = match parse(&args) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("load: {e}");
                return ExitCode::from(2);
            }
        };
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("load: no tokio runtime: {e}");
                return ExitCode::from(2);
            }
        };
        match runtime.block_on(run(opts)) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => {
                eprintln!("load: {e}");
                ExitCode::from(2)
            }
        }
    }

    fn parse(args: &[String]) -> Res<Opts> {
        let mut o = Opts {
            mode: Mode::Redeem,
            server: PathBuf::from("target/release/member-server"),
            backend: Backend::Sqlite,
            connections: 32,
            seconds: 10.0,
            members: 0,
            // As many hot rows as pgbench's TPC-B has branches at scale 10: one item
            // would make every redemption queue on one row lock (a flash sale, not the
            // steady traffic the budget is about); `--items 1` measures that.
            items: 10,
            kill_test: true,
            coupons: false,
            pg_url: std::env::var("BENCH_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into()),
        };
        let mut it = args.iter();
        if it.clone().next().map(String::as_str) == Some("run") {
            it.next();
        }
        while let Some(a) = it.next() {
            let mut val = || {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{a} needs a value"))
            };
            match a.as_str() {
                "--mode" => {
                    o.mode = match val()?.as_str() {
                        "redeem" => Mode::Redeem,
                        "purchase" => Mode::Purchase,
                        m => return Err(format!("unknown mode {m}").into()),
                    }
                }
                "--server" => o.server = PathBuf::from(val()?),
                "--backend" => {
                    o.backend = match val()?.as_str() {
                        "sqlite" => Backend::Sqlite,
                        "postgres" => Backend::Postgres,
                        b => return Err(format!("unknown backend {b}").into()),
                    }
                }
                "--connections" => o.connections = val()?.parse()?,
                "--seconds" => o.seconds = val()?.parse()?,
                "--members" => o.members = val()?.parse()?,
                "--items" => o.items = val()?.parse::<usize>()?.max(1),
                "--no-kill-test" => o.kill_test = false,
                "--coupons" => o.coupons = true,
                other => return Err(format!("unknown argument {other}").into()),
            }
        }
        if o.coupons && o.mode != Mode::Purchase {
            return Err("--coupons goes with --mode purchase".into());
        }
        if o.members == 0 {
            // A purchase spends the member's card code for its 30 s step, so every
            // purchase in a run needs its own member; redemptions spread over 2,000.
            o.members = match o.mode {
                Mode::Redeem => 2_000,
                Mode::Purchase => 40_000,
            };
        }
        Ok(o)
    }

    // --- the trivial baseline ---------------------------------------------------------

    fn baseline_server() -> Res {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let app = axum::Router::new().fallback(axum::routing::post(
                |axum::Json(v): axum::Json<serde_json::Value>| async move {
                    axum::Json(serde_json::json!({ "ok": true, "echo": v.is_object() }))
                },
            ));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            println!("listening {}", listener.local_addr()?.port());
            axum::serve(listener, app).await?;
            Ok(())
        })
    }

    // --- the load generator -----------------------------------------------------------

    /// What one request carries besides the fixed headers.
    struct Req {
        cookie: String,
        key: String,
        body: String,
    }

    type Factory = Arc<dyn Fn(u64) -> Req + Send + Sync>;

    #[derive(Default)]
    struct Load {
        /// Microseconds, request written to response body read, per completed request.
        latencies: Vec<u32>,
        statuses: BTreeMap<u16, u64>,
        io_errors: u64,
        elapsed: Duration,
        first_error: Option<String>,
        /// The bodies of the first few non-2xx answers, to say why.
        samples: Vec<String>,
    }

    impl Load {
        fn ok(&self) -> u64 {
            self.statuses
                .iter()
                .filter(|(s, _)| (200..300).contains(*s))
                .map(|(_, n)| n)
                .sum()
        }
        fn failed(&self) -> u64 {
            self.statuses
                .iter()
                .filter(|(s, _)| !(200..300).contains(*s))
                .map(|(_, n)| n)
                .sum()
        }
        fn rps(&self) -> f64 {
            self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
        }
        /// Nearest-rank percentile in milliseconds (latencies sorted by `finish`).
        fn pct(&self, q: f64) -> f64 {
            if self.latencies.is_empty() {
                return f64::NAN;
            }
            let rank = ((q * self.latencies.len() as f64).ceil() as usize).max(1);
            f64::from(self.latencies[rank.min(self.latencies.len()) - 1]) / 1000.0
        }
        fn finish(&mut self) {
            self.latencies.sort_unstable();
        }
        fn line(&self) -> String {
            format!(
                "{:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms  ({} requests in {:.2} s)",
                self.rps(),
                self.pct(0.50),
                self.pct(0.99),
                self.pct(1.0),
                self.latencies.len(),
                self.elapsed.as_secs_f64()
            )
        }
    }

    struct Plan {
        addr: SocketAddr,
        path: &'static str,
        connections: usize,
        duration: Duration,
        /// Request numbers handed out from `next` up to (excluding) `limit`.
        next: Arc<AtomicU64>,
        limit: u64,
        factory: Factory,
        stop: Arc<AtomicBool>,
    }

    async fn load(plan: &Plan) -> Load {
        let start = Instant::now();
        let deadline = start + plan.duration;
        let mut tasks = Vec::with_capacity(plan.connections);
        for _ in 0..plan.connections {
            let addr = plan.addr;
            let path = plan.path;
            let next = plan.next.clone();
            let limit = plan.limit;
            let factory = plan.factory.clone();
            let stop = plan.stop.clone();
            tasks.push(tokio::spawn(async move {
                connection(addr, path, next, limit, factory, stop, deadline).await
            }));
        }
        let mut total = Load::default();
        for t in tasks {
            match t.await {
                Ok(part) => {
                    total.latencies.extend(part.latencies);
                    for (s, n) in part.statuses {
                        *total.statuses.entry(s).or_default() += n;
                    }
                    total.io_errors += part.io_errors;
                    if total.first_error.is_none() {
                        total.first_error = part.first_error;
                    }
                    if total.samples.len() < 3 {
                        total.samples.extend(part.samples);
                    }
                }
                Err(e) => {
                    total.io_errors += 1;
                    total.first_error.get_or_insert_with(|| e.to_string());
                }
            }
        }
        total.elapsed = start.elapsed();
        total.finish();
        total
    }

    /// One keep-alive HTTP/1.1 connection sending requests back to back.
    async fn connection(
        addr: SocketAddr,
        path: &'static str,
        next: Arc<AtomicU64>,
        limit: u64,
        factory: Factory,
        stop: Arc<AtomicBool>,
        deadline: Instant,
    ) -> Load {
        let mut out = Load::default();
        fn fail(out: &mut Load, e: String) {
            out.io_errors += 1;
            out.first_error.get_or_insert(e);
        }
        let stream = match tokio::net::TcpStream::connect(addr).await {
            Ok(s) => s,
            Err(e) => {
                fail(&mut out, format!("connect: {e}"));
                return out;
            }
        };
        let _ = stream.set_nodelay(true);
        let (mut sender, conn) =
            match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await {
                Ok(pair) => pair,
                Err(e) => {
                    fail(&mut out, format!("handshake: {e}"));
                    return out;
                }
            };
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let host = addr.to_string();
        loop {
            if stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
                break;
            }
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= limit {
                break;
            }
            let r = factory(i);
            let mut builder = Request::post(path)
                .header("host", &host)
                .header("content-type", "application/json")
                // What Chromium sends: the apps call these endpoints from the browser.
                .header("accept-encoding", "gzip, deflate, br, zstd")
                .header("idempotency-key", &r.key);
            if !r.cookie.is_empty() {
                builder = builder.header("cookie", &r.cookie);
            }
            let req = match builder.body(Full::new(Bytes::from(r.body))) {
                Ok(req) => req,
                Err(e) => {
                    fail(&mut out, format!("request: {e}"));
                    break;
                }
            };
            if let Err(e) = sender.ready().await {
                fail(&mut out, format!("connection: {e}"));
                break;
            }
            let t0 = Instant::now();
            let answer = async {
                let resp = sender.send_request(req).await?;
                let status = resp.status().as_u16();
                let body = resp.into_body().collect().await?.to_bytes();
                Ok::<_, hyper::Error>((status, body))
            }
            .await;
            let dt = t0.elapsed();
            match answer {
                Ok((status, body)) => {
                    out.latencies
                        .push(u32::try_from(dt.as_micros()).unwrap_or(u32::MAX));
                    *out.statuses.entry(status).or_default() += 1;
                    if !(200..300).contains(&status) && out.samples.is_empty() {
                        out.samples
                            .push(format!("{status} {}", String::from_utf8_lossy(&body)));
                    }
                }
                Err(e) => {
                    fail(&mut out, format!("request: {e}"));
                    break;
                }
            }
        }
        out
    }

    // --- processes ----------------------------------------------------------------------

    struct Server {
        child: Child,
        addr: SocketAddr,
        log: PathBuf,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn free_port() -> Res<u16> {
        Ok(std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port())
    }

    async fn start_server(bin: &Path, url: &str, dir: &Path, port: u16) -> Res<Server> {
        let log = dir.join(format!("server-{port}.log"));
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        let err = out.try_clone()?;
        let child = Command::new(bin)
            .args(["--database-url", url, "--bind"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--static-dir")
            .arg(dir)
            .arg("--data-dir")
            .arg(dir)
            .env("MEMBER_SECRET", SECRET)
            // The server's own default log filter, as in production.
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            log,
        };
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = server.child.try_wait()? {
                return Err(format!(
                    "member-server exited ({status}) at start; log: {}",
                    server.log.display()
                )
                .into());
            }
            if get_status(server.addr, "/healthz").await.ok() == Some(200) {
                return Ok(server);
            }
            if Instant::now() > until {
                let _ = server.child.kill();
                return Err("member-server did not answer /healthz within 30 s".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn send(
        addr: SocketAddr,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: String,
    ) -> Res<(u16, hyper::HeaderMap, String)> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header("host", addr.to_string())
            .header("content-type", "application/json");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let resp = sender
            .send_request(b.body(Full::new(Bytes::from(body)))?)
            .await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok((status, headers, String::from_utf8_lossy(&body).into_owned()))
    }

    async fn get_status(addr: SocketAddr, path: &str) -> Res<u16> {
        Ok(send(addr, "GET", path, &[], String::new()).await?.0)
    }

    struct Baseline {
        child: Child,
        addr: SocketAddr,
    }

    impl Drop for Baseline {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn start_baseline() -> Res<Baseline> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("baseline-server")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            BufReader::new(out).read_line(&mut line)?;
        }
        let port: u16 = line
            .trim()
            .strip_prefix("listening ")
            .ok_or("baseline server did not start")?
            .parse()?;
        Ok(Baseline {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        })
    }

    // --- data ----------------------------------------------------------------------------

    struct Member {
        member_no: String,
        key: CardKey,
        token: String,
    }

    struct Seeded {
        members: Vec<Member>,
        item_ids: Vec<i64>,
        /// With `--coupons`: member `i`'s one coupon (same order as `members`).
        coupon_ids: Vec<i64>,
    }

    fn unix_now() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    }

    const TILL_PASSWORD: &str = "bench-till-pass";

    /// `n` cashier accounts of the dev store (`bench-till-1` …), made once.
    async fn till_accounts(url: &str, n: usize) -> Res<Vec<String>> {
        let db = Db::connect(url).await?;
        let store_id: i64 = sqlx::query_scalar("SELECT id FROM stores WHERE code = 'S001'")
            .fetch_one(db.reader())
            .await?;
        let mut names = Vec::with_capacity(n);
        for i in 1..=n.max(1) {
            let username = format!("bench-till-{i}");
            member_server::staff::store::create_staff_if_missing(
                &db,
                &username,
                TILL_PASSWORD,
                &format!("收银台 {i}"),
                "cashier",
                Some(store_id),
                unix_now(),
            )
            .await?;
            names.push(username);
        }
        db.close().await;
        Ok(names)
    }

    /// Signs `username` in and returns its `mc_staff=…` cookie.
    async fn staff_cookie(addr: SocketAddr, username: &str, password: &str) -> Res<String> {
        let body = format!(r#"{{"username":"{username}","password":"{password}"}}"#);
        let (status, headers, text) = send(addr, "POST", "/api/v1/staff/login", &[], body).await?;
        if status != 200 {
            return Err(format!("staff login {username}: {status} {text}").into());
        }
        Ok(headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.split(';').next().filter(|c| c.starts_with("mc_staff=")))
            .ok_or("staff login set no mc_staff cookie")?
            .to_string())
    }

    /// Members with points (one ledger row and one batch each, as a credit leaves them),
    /// member sessions (redeem) and a cheap item with deep stock and no per-member limit.
    /// Straight into the database: signing thousands of members up through the API
    /// would trip the OTP limits and measure nothing useful.
    async fn seed(db: &Db, mode: Mode, count: usize, items: usize, coupons: bool) -> Res<Seeded> {
        let now = unix_now();
        member_server::ops::store::seed::dev(db, now).await?;
        let mut tx = db.begin_write().await?;
        let tier: String =
            sqlx::query_scalar("SELECT code FROM tiers ORDER BY growth_threshold LIMIT 1")
                .fetch_one(&mut *tx)
                .await?;
        let points = if mode == Mode::Redeem { SEED_POINTS } else { 0 };
        const ROWS: usize = 200;
        for chunk_start in (0..count).step_by(ROWS) {
            let n = ROWS.min(count - chunk_start);
            let mut sql = String::from(
                "INSERT INTO members (member_no, phone, name, tier_code, points, card_key, \
                 privacy_consent_at, created_at) VALUES ",
            );
            for r in 0..n {
                let b = r * 8;
                if r > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${},${},${},${},${},${},${},${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8
                ));
            }
            let mut q = sqlx::query(&sql);
            for i in chunk_start..chunk_start + n {
                q = q
                    .bind(card_code::member_no_from_random(1_000_000 + i as u64))
                    .bind(format!("199{:08}", i))
                    .bind(format!("压测 {i}"))
                    .bind(tier.clone())
                    .bind(points)
                    .bind(member_server::crypto::card_key().as_bytes().to_vec())
                    .bind(now)
                    .bind(now);
            }
            q.execute(&mut *tx).await?;
        }
        if points > 0 {
            sqlx::query(
                "INSERT INTO points_ledger (member_id, kind, points, reason, source_ref, actor, \
                 store_id, created_at) SELECT id, 'adjust', points, '压测初始积分 bench seed', \
                 'bench-seed', 'bench', NULL, created_at FROM members WHERE points > 0",
            )
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO points_batches (member_id, ledger_id, points, remaining, \
                 expires_at, created_at) SELECT member_id, id, points, points, NULL, created_at \
                 FROM points_ledger WHERE source_ref = 'bench-seed'",
            )
            .execute(&mut *tx)
            .await?;
        }
        let rows: Vec<(i64, String, Vec<u8>)> =
            sqlx::query_as("SELECT id, member_no, card_key FROM members ORDER BY id")
                .fetch_all(&mut *tx)
                .await?;
        let state = app_state(db)?;
        let mut members = Vec::with_capacity(rows.len());
        for (id, member_no, key) in rows {
            let key = CardKey::from_slice(&key).ok_or("card key length")?;
            let mut token = String::new();
            if mode == Mode::Redeem {
                token = member_server::crypto::session_token();
                let mac = member_server::http::extract::session_mac(&state, &token);
                sessions::create(
                    &mut tx,
                    &mac,
                    sessions::Kind::Member,
                    id,
                    now + member_server::http::extract::MEMBER_SESSION_SECS,
                    now,
                )
                .await?;
            }
            members.push(Member {
                member_no,
                key,
                token,
            });
        }
        let mut item_ids = Vec::with_capacity(items);
        for n in 0..items {
            item_ids.push(
                sqlx::query_scalar(
                    "INSERT INTO mall_items (name, description, category, kind, points_price, \
                     cash_cents, stock, per_member_limit, hidden, sort, created_at, updated_at) \
                     VALUES ($4, '', 'bench', 'voucher', $1, 0, $2, NULL, 0, 0, $3, $3) \
                     RETURNING id",
                )
                .bind(ITEM_PRICE)
                .bind(ITEM_STOCK)
                .bind(now)
                .bind(format!("压测券 bench voucher {n}"))
                .fetch_one(&mut *tx)
                .await?,
            );
        }
        let mut coupon_ids = Vec::new();
        if coupons {
            // One ¥5-off-¥30 coupon per member, valid for a day, straight into the table
            // (the issue path is not what this measures).
            let template: i64 = sqlx::query_scalar(
                "INSERT INTO coupon_templates (name, kind, amount_off_cents, min_spend_cents, \
                 valid_days, created_at) VALUES ('压测券 满30减5', 'amount', 500, 3000, 1, $1) \
                 RETURNING id",
            )
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO coupons (code, template_id, member_id, source, source_ref, status, \
                 valid_from, expires_at, issued_at) SELECT 'B' || id, $1, id, 'manual', 'bench', \
                 'issued', $2, $3, $2 FROM members",
            )
            .bind(template)
            .bind(now - 60)
            .bind(now + 86_400)
            .execute(&mut *tx)
            .await?;
            coupon_ids = sqlx::query_scalar("SELECT id FROM coupons ORDER BY member_id")
                .fetch_all(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Seeded {
            members,
            item_ids,
            coupon_ids,
        })
    }

    /// The server's own state shape, so session cookies are MACed by the server's code.
    fn app_state(db: &Db) -> Res<member_server::AppState> {
        Ok(member_server::AppState {
            db: db.clone(),
            secret: Arc::new(member_server::secret::Secret::from_text(SECRET)?),
            clock: member_server::Clock::with_offset(0),
            dev: false,
            otp_sends_per_ip_hour: 0,
            metrics: Arc::new(member_server::metrics::Metrics::default()),
            password_checks: Arc::new(tokio::sync::Semaphore::new(1)),
            public_url: None,
            edge: Arc::default(),
        })
    }

    fn factory(mode: Mode, seeded: &Seeded, run: &str) -> Factory {
        let items = seeded.item_ids.clone();
        let coupon_ids = Arc::new(seeded.coupon_ids.clone());
        let run = run.to_string();
        let members: Arc<Vec<(String, String, CardKey)>> = Arc::new(
            seeded
                .members
                .iter()
                .map(|m| {
                    (
                        format!("mc_member={}", m.token),
                        m.member_no.clone(),
                        m.key.clone(),
                    )
                })
                .collect(),
        );
        match mode {
            Mode::Redeem => Arc::new(move |i| {
                let (cookie, _, _) = &members[i as usize % members.len()];
                let item_id = items[i as usize % items.len()];
                Req {
                    cookie: cookie.clone(),
                    key: format!("{run}-{i}"),
                    body: format!(r#"{{"item_id":{item_id},"quantity":1}}"#),
                }
            }),
            // Request `i` spends member `i`'s code for the current step: the generator
            // never hands out more requests than there are members.
            Mode::Purchase => Arc::new(move |i| {
                let m = i as usize % members.len();
                let (_, member_no, key) = &members[m];
                let code = card_code::code_at(member_no, key, unix_now());
                let coupons = coupon_ids
                    .get(m)
                    .map(|id| format!(r#","coupon_ids":[{id}]"#))
                    .unwrap_or_default();
                Req {
                    cookie: String::new(),
                    key: format!("{run}-{i}"),
                    body: format!(
                        r#"{{"code":"{code}","amount_cents":3800,"order_ref":"{run}-{i}"{coupons}}}"#
                    ),
                }
            }),
        }
    }

    // --- invariants ----------------------------------------------------------------------

    #[derive(Debug, Default)]
    struct Facts {
        members: i64,
        ledger_mismatch: i64,
        batch_mismatch: i64,
        negative: i64,
        orders: i64,
        stock_used: i64,
        points_spent: i64,
        purchases: i64,
        coupons_used: i64,
        discount_cents: i64,
    }

    async fn facts(url: &str) -> Res<Facts> {
        let db = Db::connect(url).await?;
        let pool = db.reader();
        let one = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
        let f = Facts {
            members: one("SELECT COUNT(*) FROM members").fetch_one(pool).await?,
            ledger_mismatch: one(
                "SELECT COUNT(*) FROM members m WHERE m.points <> \
                 COALESCE((SELECT SUM(l.points) FROM points_ledger l WHERE l.member_id = m.id), 0)",
            )
            .fetch_one(pool)
            .await?,
            batch_mismatch: one("SELECT COUNT(*) FROM members m WHERE m.points <> \
                 COALESCE((SELECT SUM(b.remaining) FROM points_batches b \
                           WHERE b.member_id = m.id), 0)")
            .fetch_one(pool)
            .await?,
            negative: one("SELECT (SELECT COUNT(*) FROM members WHERE points < 0) \
                      + (SELECT COUNT(*) FROM mall_items WHERE stock < 0) \
                      + (SELECT COUNT(*) FROM points_batches WHERE remaining < 0)")
            .fetch_one(pool)
            .await?,
            orders: one("SELECT COUNT(*) FROM mall_orders")
                .fetch_one(pool)
                .await?,
            stock_used: sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM($1 - stock), 0) AS BIGINT) FROM mall_items \
                 WHERE category = 'bench'",
            )
            .bind(ITEM_STOCK)
            .fetch_one(pool)
            .await?,
            points_spent: one(
                "SELECT CAST(COALESCE(SUM(points_spent), 0) AS BIGINT) FROM mall_orders",
            )
            .fetch_one(pool)
            .await?,
            purchases: one("SELECT COUNT(*) FROM purchases")
                .fetch_one(pool)
                .await?,
            coupons_used: one("SELECT COUNT(*) FROM coupons WHERE status = 'used'")
                .fetch_one(pool)
                .await?,
            discount_cents: one(
                "SELECT CAST(COALESCE(SUM(discount_cents), 0) AS BIGINT) FROM purchases",
            )
            .fetch_one(pool)
            .await?,
        };
        db.close().await;
        Ok(f)
    }

    /// The balance invariants; prints them and says whether they hold.
    fn balances_ok(f: &Facts) -> bool {
        let ok = f.ledger_mismatch == 0 && f.batch_mismatch == 0 && f.negative == 0;
        println!(
            "  balances: {} members; balance != SUM(ledger): {}; balance != SUM(batches): {}; \
             negative balance/stock/batch rows: {}  {}",
            f.members,
            f.ledger_mismatch,
            f.batch_mismatch,
            f.negative,
            if ok { "OK" } else { "FAIL" }
        );
        ok
    }

    // --- postgres scaffolding ------------------------------------------------------------

    async fn pg_admin(pg_url: &str, sql: &str) -> Res {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&format!("{pg_url}/postgres")).await?;
        sqlx::query(sql).execute(&mut conn).await?;
        conn.close().await?;
        Ok(())
    }

    fn scratch_name(tag: &str) -> String {
        format!(
            "mc_bench_{}_{tag}",
            member_server::crypto::random_u64() % 1_000_000_000
        )
    }

    /// pgbench TPC-B on a scratch database: tps with `connections` clients.
    async fn pgbench(pg_url: &str, connections: usize, seconds: f64) -> Res<f64> {
        let name = scratch_name("pgbench");
        pg_admin(pg_url, &format!("CREATE DATABASE {name}")).await?;
        let url = format!("{pg_url}/{name}");
        let result = (|| -> Res<f64> {
            let init = Command::new("pgbench")
                .args(["-i", "-q", "-s", &PG_SCALE.to_string(), &url])
                .output()?;
            if !init.status.success() {
                return Err(
                    format!("pgbench -i: {}", String::from_utf8_lossy(&init.stderr)).into(),
                );
            }
            let threads = connections.min(2).to_string();
            let run = Command::new("pgbench")
                .args([
                    "-c",
                    &connections.to_string(),
                    "-j",
                    &threads,
                    "-T",
                    &format!("{}", seconds.ceil() as u64),
                    &url,
                ])
                .output()?;
            let text = String::from_utf8_lossy(&run.stdout).into_owned();
            if !run.status.success() {
                return Err(
                    format!("pgbench: {}{}", text, String::from_utf8_lossy(&run.stderr)).into(),
                );
            }
            for line in text.lines() {
                if let Some(rest) = line.trim().strip_prefix("tps = ") {
                    if let Some(v) = rest.split_whitespace().next() {
                        return Ok(v.parse()?);
                    }
                }
            }
            Err(format!("no tps in pgbench output:\n{text}").into())
        })();
        let _ = pg_admin(
            pg_url,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
        .await;
        result
    }

    // --- the run -------------------------------------------------------------------------

    async fn run(o: Opts) -> Res<bool> {
        let dir = tempfile::tempdir()?;
        let (url, pg_db) = match o.backend {
            Backend::Sqlite => (
                format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("bench.db").display()
                ),
                None,
            ),
            Backend::Postgres => {
                let name = scratch_name(o.mode.name());
                pg_admin(&o.pg_url, &format!("CREATE DATABASE {name}")).await?;
                (format!("{}/{name}", o.pg_url), Some(name))
            }
        };
        let result = run_on(&o, &url, dir.path()).await;
        if let Some(name) = pg_db {
            if let Err(e) = pg_admin(
                &o.pg_url,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await
            {
                eprintln!("load: could not drop {name}: {e}");
            }
        }
        if result.is_err() {
            for entry in std::fs::read_dir(dir.path())?.flatten() {
                let p = entry.path();
                if p.extension().is_some_and(|e| e == "log") {
                    let mut text = String::new();
                    let _ = std::fs::File::open(&p).and_then(|mut f| f.read_to_string(&mut text));
                    let tail: Vec<&str> = text.lines().rev().take(20).collect();
                    eprintln!("--- {} (last lines)", p.display());
                    for l in tail.into_iter().rev() {
                        eprintln!("{l}");
                    }
                }
            }
        }
        result
    }

    async fn run_on(o: &Opts, url: &str, dir: &Path) -> Res<bool> {
        let backend = match o.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        let duration = Duration::from_secs_f64(o.seconds);
        println!(
            "{}{} on {backend}: POST {}, {} connections, {:.0} s, {} members{} (127.0.0.1)",
            o.mode.name(),
            if o.coupons { " with a coupon each" } else { "" },
            o.mode.path(),
            o.connections,
            o.seconds,
            o.members,
            if o.mode == Mode::Redeem {
                format!(", {} items", o.items)
            } else {
                String::new()
            }
        );

        // Baseline first, so the server's data is fresh when measured.
        let baseline_figure = match o.backend {
            Backend::Postgres => {
                let tps = pgbench(&o.pg_url, o.connections, o.seconds).await?;
                println!(
                    "  baseline pgbench TPC-B (scale {PG_SCALE}, -c {} -j 2): {tps:.0} tps",
                    o.connections
                );
                tps
            }
            Backend::Sqlite => 0.0,
        };

        let setup = Instant::now();
        let db = Db::connect(url).await?;
        db.migrate().await?;
        let seeded = seed(&db, o.mode, o.members, o.items, o.coupons).await?;
        db.close().await;
        println!(
            "  seeded {} members{} in {:.1} s",
            seeded.members.len(),
            if o.mode == Mode::Redeem {
                format!(" with {SEED_POINTS} points and sessions, {} items (price {ITEM_PRICE}, stock {ITEM_STOCK} each)", seeded.item_ids.len())
            } else {
                String::new()
            },
            setup.elapsed().as_secs_f64()
        );

        let server = start_server(&o.server, url, dir, free_port()?).await?;
        let mut factory = factory(o.mode, &seeded, "run");
        let mut cookie_staff = String::new();
        if o.mode == Mode::Purchase {
            // One cashier account per connection, as a store's tills have: one account's
            // checks in flight are capped (card-code guessing), and a till has one at a time.
            let tills = till_accounts(url, o.connections).await?;
            let mut cookies = Vec::with_capacity(tills.len());
            for username in &tills {
                cookies.push(staff_cookie(server.addr, username, TILL_PASSWORD).await?);
            }
            cookie_staff = cookies.first().cloned().ok_or("no till account")?;
            let inner = factory.clone();
            let cookies = Arc::new(cookies);
            factory = Arc::new(move |i| Req {
                cookie: cookies[(i as usize) % cookies.len()].clone(),
                ..inner(i)
            });
        } else {
            // The endpoint is being built: say so instead of measuring 404s.
            let probe = send(server.addr, "POST", o.mode.path(), &[], "{}".into()).await?;
            if probe.0 == 404 || probe.0 == 405 {
                return Err(format!(
                    "POST {} answers {} {}: the endpoint is not there yet",
                    o.mode.path(),
                    probe.0,
                    probe.2
                )
                .into());
            }
        }
        let members = seeded.members.len() as u64;
        // Purchases keep members back for the replay check and the kill test.
        let limit = match o.mode {
            Mode::Redeem => u64::MAX,
            Mode::Purchase => members.saturating_sub(REPLAYS + 5_000),
        };

        let baseline = if o.backend == Backend::Sqlite {
            let b = start_baseline()?;
            let plan = Plan {
                addr: b.addr,
                path: "/bench",
                connections: o.connections,
                duration,
                next: Arc::new(AtomicU64::new(0)),
                limit: u64::MAX,
                factory: factory.clone(),
                stop: Arc::new(AtomicBool::new(false)),
            };
            let l = load(&plan).await;
            drop(b);
            println!("  baseline trivial axum POST handler:  {}", l.line());
            Some(l)
        } else {
            None
        };

        // Warm-up: page cache, pool connections, prepared statements; not counted.
        let next = Arc::new(AtomicU64::new(0));
        let mut plan = Plan {
            addr: server.addr,
            path: o.mode.path(),
            connections: o.connections,
            duration: Duration::from_secs(1),
            next: next.clone(),
            limit,
            factory: factory.clone(),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let warm = load(&plan).await;
        plan.duration = duration;
        let l = load(&plan).await;
        println!("  member-server {:<22} {}", o.mode.name(), l.line());
        if o.mode == Mode::Purchase && next.load(Ordering::Relaxed) >= limit {
            println!(
                "  (stopped early: every seeded member's card code was spent; raise --members)"
            );
        }
        let mut pass = true;
        let statuses = |l: &Load| {
            l.statuses
                .iter()
                .map(|(s, n)| format!("{s}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "  answers: {}{}",
            statuses(&l),
            if l.io_errors > 0 {
                format!(
                    "; connection errors: {} ({})",
                    l.io_errors,
                    l.first_error.clone().unwrap_or_default()
                )
            } else {
                String::new()
            }
        );
        if l.failed() + warm.failed() > 0 || l.io_errors + warm.io_errors > 0 {
            println!(
                "  FAIL: non-2xx answers or connection errors under load: {:?}",
                l.samples
            );
            pass = false;
        }

        // Budget.
        let rps = l.rps();
        let p99 = l.pct(0.99);
        match (o.backend, &baseline) {
            (Backend::Sqlite, Some(b)) => {
                println!(
                    "  ratio to baseline: {:.3} of its req/s; p99 {:.1}x",
                    rps / b.rps(),
                    p99 / b.pct(0.99)
                );
                let ok = rps >= BUDGET_RPS && p99 <= BUDGET_P99_MS;
                println!(
                    "  budget: >= {BUDGET_RPS:.0} req/s with p99 <= {BUDGET_P99_MS:.0} ms: {:.2} of the rate, p99 {:.2} of the limit: {}",
                    rps / BUDGET_RPS,
                    p99 / BUDGET_P99_MS,
                    if ok { "PASS" } else { "OVER BUDGET" }
                );
                pass &= ok;
            }
            _ => {
                let need = PG_FACTOR * baseline_figure;
                let ok = rps >= need;
                println!(
                    "  budget: >= {PG_FACTOR}x pgbench tps = {need:.0} req/s: {:.2} of it ({:.2}x pgbench): {}",
                    rps / need,
                    rps / baseline_figure,
                    if ok { "PASS" } else { "OVER BUDGET" }
                );
                pass &= ok;
            }
        }

        // Replays: fresh requests sent twice; the second answer must be the stored first
        // one (same status and body) and leave no second effect (checked below).
        let mut replayed = 0;
        let mut replay_ok_answers = 0;
        for _ in 0..REPLAYS {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let r = factory(i);
            let mut answers = Vec::new();
            for _ in 0..2 {
                answers.push(
                    send(
                        server.addr,
                        "POST",
                        o.mode.path(),
                        &[("cookie", &r.cookie), ("idempotency-key", &r.key)],
                        r.body.clone(),
                    )
                    .await?,
                );
            }
            if (200..300).contains(&answers[0].0) {
                replay_ok_answers += 1;
            }
            if answers[0].0 == answers[1].0 && answers[0].2 == answers[1].2 {
                replayed += 1;
            }
        }

        let done = warm.ok() + l.ok() + replay_ok_answers;
        let f = facts(url).await?;
        pass &= balances_ok(&f);
        let effects = match o.mode {
            Mode::Redeem => {
                let ok = f.orders as u64 == done
                    && f.stock_used as u64 == done
                    && f.points_spent == f.orders * ITEM_PRICE;
                println!(
                    "  effects: {done} successful answers; {} orders, stock down {}, {} points spent  {}",
                    f.orders,
                    f.stock_used,
                    f.points_spent,
                    if ok { "OK" } else { "FAIL" }
                );
                ok
            }
            Mode::Purchase => {
                // With coupons every purchase used exactly one and took ¥5 off; without,
                // none was touched.
                let per = if o.coupons { 1 } else { 0 };
                let ok = f.purchases as u64 == done
                    && f.coupons_used == per * f.purchases
                    && f.discount_cents == per * 500 * f.purchases;
                println!(
                    "  effects: {done} successful answers; {} purchases recorded, {} coupons used, {} fen discount  {}",
                    f.purchases,
                    f.coupons_used,
                    f.discount_cents,
                    if ok { "OK" } else { "FAIL" }
                );
                ok
            }
        };
        pass &= effects;
        let replay_ok = replayed == REPLAYS && replay_ok_answers == REPLAYS;
        println!(
            "  replays: {replayed}/{REPLAYS} requests sent twice got the stored first answer \
             ({replay_ok_answers} succeeded){}",
            if replay_ok { "  OK" } else { "  FAIL" }
        );
        pass &= replay_ok;
        drop(server);

        if o.kill_test {
            pass &= kill_test(
                o,
                url,
                dir,
                &seeded,
                &cookie_staff,
                next.load(Ordering::Relaxed),
            )
            .await?;
        }
        println!(
            "{} on {backend}: {}",
            o.mode.name(),
            if pass { "OK" } else { "FAILED" }
        );
        Ok(pass)
    }

    /// Load, `kill -9` the server half-way, restart it on the same data, check balances.
    async fn kill_test(
        o: &Opts,
        url: &str,
        dir: &Path,
        seeded: &Seeded,
        cookie_staff: &str,
        first: u64,
    ) -> Res<bool> {
        let mut server = start_server(&o.server, url, dir, free_port()?).await?;
        let inner = factory(o.mode, seeded, "kill");
        let cookie = cookie_staff.to_string();
        let f: Factory = if o.mode == Mode::Purchase {
            Arc::new(move |i| Req {
                cookie: cookie.clone(),
                ..inner(i)
            })
        } else {
            inner
        };
        // The staff cookie from the first server's login still works: sessions live in
        // the database.
        let plan = Plan {
            addr: server.addr,
            path: o.mode.path(),
            connections: o.connections,
            duration: Duration::from_secs(4),
            next: Arc::new(AtomicU64::new(first)),
            limit: match o.mode {
                Mode::Redeem => u64::MAX,
                Mode::Purchase => seeded.members.len() as u64,
            },
            factory: f,
            stop: Arc::new(AtomicBool::new(false)),
        };
        let running = async { load(&plan).await };
        let killer = async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let _ = server.child.kill();
            let _ = server.child.wait();
        };
        let (l, ()) = tokio::join!(running, killer);
        drop(server);
        let restarted = start_server(&o.server, url, dir, free_port()?).await?;
        let f = facts(url).await?;
        println!(
            "  kill -9 mid-load: {} answers before the kill ({} connection errors after it); restarted",
            l.latencies.len(),
            l.io_errors
        );
        let ok = balances_ok(&f);
        drop(restarted);
        Ok(ok)
    }
}
