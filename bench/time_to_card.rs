//! Time from navigation start to the member's QR code on screen, in headless Chromium
//! under "Slow 4G" emulation, cold (nothing cached) and warm (returning visitor), next to
//! a tiny static page from the same server under the same emulation as the baseline.
//!
//! Run through `bench/time-to-card`, which builds the release server and passes:
//!   --server target/release/member-server --dist dist [--cold 3] [--warm 5]
//! Exits 1 when a median is over budget (cold 2500 ms, warm 500 ms).

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("time-to-card: no tokio runtime: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match runtime.block_on(bench::run()) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(e) => {
            eprintln!("time-to-card: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[path = "../tests/support/browser.rs"]
mod browser;

#[cfg(not(target_arch = "wasm32"))]
mod bench {
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use member_core::dto::{OutboxMessage, VerifyOtpRequest};
    use serde_json::{json, Value};

    use super::browser;

    pub type Res<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

    const COLD_BUDGET_MS: f64 = 2500.0;
    const WARM_BUDGET_MS: f64 = 500.0;
    const PHONE: &str = "13900001111";
    /// Chromium DevTools' "Slow 4G" preset.
    const SLOW_4G: (f64, u64, u64) = (562.5, 180 * 1024, 84 * 1024);
    const BASELINE_PAGE: &str = "bench-baseline.html";
    /// As small as a page gets, and it reports the same way the app does.
    const BASELINE_HTML: &str = "<!doctype html><meta charset=utf-8><title>baseline</title>\
        <p>baseline</p><script>window.__mc_card_ms = performance.now()</script>";

    struct Args {
        server: PathBuf,
        dist: PathBuf,
        cold: usize,
        warm: usize,
    }

    fn args() -> Res<Args> {
        let mut a = Args {
            server: "target/release/member-server".into(),
            dist: "dist".into(),
            cold: 3,
            warm: 5,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let value = it.next().ok_or(format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--server" => a.server = value.into(),
                "--dist" => a.dist = value.into(),
                "--cold" => a.cold = value.parse()?,
                "--warm" => a.warm = value.parse()?,
                _ => return Err(format!("unknown flag {flag}").into()),
            }
        }
        if a.cold == 0 || a.warm == 0 {
            return Err("--cold and --warm need at least one run".into());
        }
        Ok(a)
    }

    /// The release server as its own process, killed on drop.
    struct Server {
        child: Child,
        base: String,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            let target = to.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                copy_dir(&entry.path(), &target)?;
            } else {
                std::fs::copy(entry.path(), target)?;
            }
        }
        Ok(())
    }

    async fn start_server(a: &Args, tmp: &Path) -> Res<Server> {
        // A copy of the build plus the baseline page, so dist/ stays as Trunk made it.
        let static_dir = tmp.join("static");
        copy_dir(&a.dist, &static_dir)?;
        std::fs::write(static_dir.join(BASELINE_PAGE), BASELINE_HTML)?;

        let port = browser::free_port()?;
        let log = std::fs::File::create(tmp.join("server.log"))?;
        let child = Command::new(&a.server)
            .arg("--dev")
            .arg("--database-url")
            .arg(format!(
                "sqlite://{}?mode=rwc",
                tmp.join("bench.db").display()
            ))
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--static-dir")
            .arg(&static_dir)
            .arg("--data-dir")
            .arg(tmp)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", a.server.display()))?;
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let up = reqwest::get(format!("{}/healthz", server.base)).await;
            if up.is_ok_and(|r| r.status().is_success()) {
                return Ok(server);
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(tmp.join("server.log")).unwrap_or_default();
                return Err(format!("server did not come up within 30 s:\n{log}").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Signs a new member up through the API; returns the `mc_member` cookie value.
    async fn member_cookie(base: &str) -> Res<String> {
        let http = reqwest::Client::new();
        http.post(format!("{base}/api/v1/auth/otp"))
            .json(&json!({ "phone": PHONE }))
            .send()
            .await?
            .error_for_status()?;
        let outbox: Vec<OutboxMessage> = http
            .get(format!("{base}/api/v1/dev/outbox"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let otp = outbox
            .iter()
            .rev()
            .find(|m| m.to.ends_with(PHONE))
            .ok_or("no OTP in the dev outbox")?
            .code
            .clone();
        let verified = http
            .post(format!("{base}/api/v1/auth/verify"))
            .json(&VerifyOtpRequest {
                phone: PHONE.into(),
                code: otp,
                name: Some("Bench".into()),
                privacy_consent: true,
                marketing_consent: false,
                link: None,
                referral_code: None,
                birthday: None,
                gender: None,
                city: None,
            })
            .send()
            .await?
            .error_for_status()?;
        let cookie = verified
            .cookies()
            .find(|c| c.name() == "mc_member")
            .ok_or("verify set no mc_member cookie")?;
        Ok(cookie.value().to_owned())
    }

    /// Plain W3C WebDriver over HTTP: the few commands this bench needs, including
    /// ChromeDriver's network emulation and CDP passthrough.
    struct Session {
        http: reqwest::Client,
        url: String,
    }

    impl Session {
        async fn new(driver: &browser::ChromeDriver, profile: &Path) -> Res<Self> {
            let http = reqwest::Client::new();
            let caps = json!({ "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": browser::chrome_options(profile),
            }}});
            let created: Value = http
                .post(format!("{}/session", driver.url))
                .json(&caps)
                .send()
                .await?
                .json()
                .await?;
            let id = created["value"]["sessionId"]
                .as_str()
                .ok_or_else(|| format!("no session: {created}"))?;
            Ok(Self {
                http,
                url: format!("{}/session/{id}", driver.url),
            })
        }

        async fn cmd(&self, path: &str, body: Value) -> Res<Value> {
            let reply: Value = self
                .http
                .post(format!("{}/{path}", self.url))
                .json(&body)
                .send()
                .await?
                .json()
                .await?;
            match reply["value"].get("error") {
                Some(err) => Err(format!("{path}: {err}: {}", reply["value"]["message"]).into()),
                None => Ok(reply["value"].clone()),
            }
        }

        async fn cdp(&self, cmd: &str, params: Value) -> Res<Value> {
            self.cmd("goog/cdp/execute", json!({ "cmd": cmd, "params": params }))
                .await
        }

        async fn goto(&self, url: &str) -> Res {
            self.cmd("url", json!({ "url": url })).await.map(drop)
        }

        async fn script(&self, js: &str) -> Res<Value> {
            self.cmd("execute/sync", json!({ "script": js, "args": [] }))
                .await
        }

        async fn close(self) {
            let _ = self.http.delete(&self.url).send().await;
        }
    }

    /// Navigates and waits for the page to report `window.__mc_card_ms`.
    async fn time_page(s: &Session, url: &str) -> Res<f64> {
        s.goto(url).await?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(ms) = s
                .script("return window.__mc_card_ms ?? null")
                .await?
                .as_f64()
            {
                return Ok(ms);
            }
            if Instant::now() > deadline {
                let shown = s
                    .script("return document.body.innerText.slice(0, 300)")
                    .await
                    .unwrap_or_default();
                return Err(format!("{url}: nothing drawn within 30 s; page says {shown}").into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Forgets everything a first-time visitor would not have, except the session cookie.
    async fn forget_cache(s: &Session, origin: &str) -> Res {
        s.cdp("Network.clearBrowserCache", json!({})).await?;
        s.cdp(
            "Storage.clearDataForOrigin",
            json!({ "origin": origin,
                    "storageTypes": "service_workers,cache_storage,local_storage,indexeddb" }),
        )
        .await?;
        Ok(())
    }

    /// Waits until the member app's service worker is active, then loads the page once
    /// more so that it is controlled (a first visit never is); warm runs are timed after.
    async fn await_service_worker(s: &Session, base: &str) -> Res {
        s.script(
            "window.__mc_sw_ready = false; \
             if (navigator.serviceWorker) \
               navigator.serviceWorker.ready.then(() => { window.__mc_sw_ready = true; });",
        )
        .await?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while s.script("return window.__mc_sw_ready").await? != Value::Bool(true) {
            if Instant::now() > deadline {
                return Err("the service worker did not become active within 30 s".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        time_page(s, &format!("{base}/")).await?;
        let controlled = s
            .script("return !!(navigator.serviceWorker && navigator.serviceWorker.controller)")
            .await?;
        if controlled != Value::Bool(true) {
            return Err("the service worker does not control the member page".into());
        }
        Ok(())
    }

    fn median(xs: &[f64]) -> f64 {
        let mut v = xs.to_vec();
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        if v.len() % 2 == 1 {
            v[mid]
        } else {
            (v[mid - 1] + v[mid]) / 2.0
        }
    }

    struct Runs {
        card: Vec<f64>,
        baseline: Vec<f64>,
    }

    async fn measure(s: &Session, base: &str, n: usize, cold: bool) -> Res<Runs> {
        let mut runs = Runs {
            card: Vec::new(),
            baseline: Vec::new(),
        };
        let label = if cold { "cold" } else { "warm" };
        // Cold: neither the HTTP cache nor the member app's service worker may answer
        // (forget_cache also unregisters it and empties Cache Storage before each load).
        s.cdp("Network.setCacheDisabled", json!({ "cacheDisabled": cold }))
            .await?;
        s.cdp("Network.setBypassServiceWorker", json!({ "bypass": cold }))
            .await?;
        if !cold {
            // The visit that fills the caches and installs the service worker; a
            // returning visitor has had it.
            time_page(s, &format!("{base}/{BASELINE_PAGE}")).await?;
            time_page(s, &format!("{base}/")).await?;
            await_service_worker(s, base).await?;
        }
        for i in 1..=n {
            if cold {
                forget_cache(s, base).await?;
            }
            s.goto("about:blank").await?;
            let baseline = time_page(s, &format!("{base}/{BASELINE_PAGE}")).await?;
            if cold {
                forget_cache(s, base).await?;
            }
            s.goto("about:blank").await?;
            let card = time_page(s, &format!("{base}/")).await?;
            println!(
                "  {label} run {i}: card {card:7.0} ms   baseline {baseline:7.0} ms   ratio {:5.2}",
                card / baseline
            );
            runs.card.push(card);
            runs.baseline.push(baseline);
        }
        Ok(runs)
    }

    fn verdict(label: &str, runs: &Runs, budget: f64) -> bool {
        let (card, baseline) = (median(&runs.card), median(&runs.baseline));
        let ok = card <= budget;
        println!(
            "{label:4} median: card {card:7.0} ms (budget {budget:.0} ms, {:.2} of it)   \
             baseline {baseline:7.0} ms   card/baseline {:5.2}   {}",
            card / budget,
            card / baseline,
            if ok { "OK" } else { "OVER BUDGET" }
        );
        ok
    }

    pub async fn run() -> Res<bool> {
        let a = args()?;
        if !a.dist.join("index.html").exists() {
            return Err(format!("{}/index.html missing: run `make web`", a.dist.display()).into());
        }
        if let Some(why) = browser::missing_browser() {
            return Err(why.into());
        }
        let tmp = tempfile::tempdir()?;
        let server = start_server(&a, tmp.path()).await?;
        let base = server.base.clone();
        let cookie = member_cookie(&base).await?;

        let driver = browser::ChromeDriver::spawn()?;
        let session = Session::new(&driver, &tmp.path().join("profile")).await?;
        let outcome = async {
            let (latency, down, up) = SLOW_4G;
            session
                .cmd(
                    "chromium/network_conditions",
                    json!({ "network_conditions": {
                        "offline": false, "latency": latency,
                        "download_throughput": down, "upload_throughput": up,
                    }}),
                )
                .await?;
            session.cdp("Network.enable", json!({})).await?;
            // A cookie can only be set on a page of its origin.
            session.goto(&format!("{base}/{BASELINE_PAGE}")).await?;
            session
                .cmd(
                    "cookie",
                    json!({ "cookie": { "name": "mc_member", "value": cookie, "path": "/",
                                        "httpOnly": true, "sameSite": "Lax" } }),
                )
                .await?;
            println!(
                "time-to-card: Slow 4G ({latency} ms, {} KB/s down, {} KB/s up), {}x{} window",
                down / 1024,
                up / 1024,
                browser::WINDOW.0,
                browser::WINDOW.1
            );
            let cold = measure(&session, &base, a.cold, true).await?;
            let warm = measure(&session, &base, a.warm, false).await?;
            let cold_ok = verdict("cold", &cold, COLD_BUDGET_MS);
            let warm_ok = verdict("warm", &warm, WARM_BUDGET_MS);
            Res::Ok(cold_ok && warm_ok)
        }
        .await;
        session.close().await;
        drop(driver);
        drop(server);
        outcome
    }
}
