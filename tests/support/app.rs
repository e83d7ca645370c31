//! What every browser test needs: a fresh server on the built app, phone-sized Chromium
//! sessions, the dev outbox's OTPs, and small waits that say what they waited for.
#![allow(dead_code)] // each test binary uses its own part

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use member_core::dto::OutboxMessage;
use member_core::phone::Phone;

use crate::browser;

pub type Res<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub const ENTER: &str = "\u{e007}";
pub const WAIT: Duration = Duration::from_secs(20);

pub fn dist_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("dist")
}

/// A fresh server (dev seed, SQLite in a temp dir) serving `dist/`, and two phone-sized
/// browsers (the member's and the cashier's) for `journey`; both closed before judging.
pub async fn with_app<F, Fut>(test: &str, journey: F)
where
    F: FnOnce(String, Client, Client) -> Fut,
    Fut: Future<Output = Res>,
{
    with_app_at(test, browser::WINDOW, journey).await;
}

/// [`with_app`] with both browsers `window` (CSS px) wide and high.
pub async fn with_app_at<F, Fut>(test: &str, window: (u32, u32), journey: F)
where
    F: FnOnce(String, Client, Client) -> Fut,
    Fut: Future<Output = Res>,
{
    if let Some(why) = browser::missing_browser() {
        return browser::skip_or_fail(test, &why);
    }
    let dist = dist_dir();
    let built = ["index.html", "staff/index.html", "mall/index.html"];
    if !built.iter().all(|f| dist.join(f).exists()) {
        let why = format!(
            "{} has no built app (run scripts/build-web.sh or `make web`)",
            dist.display()
        );
        return browser::skip_or_fail(test, &why);
    }

    let tmp = tempfile::tempdir().unwrap();
    let server = member_server::start(member_server::Config {
        database_url: format!("sqlite://{}?mode=rwc", tmp.path().join("e2e.db").display()),
        bind: "127.0.0.1:0".parse().unwrap(),
        static_dir: dist,
        dev: true,
        data_dir: tmp.path().to_path_buf(),
        ..member_server::Config::default()
    })
    .await
    .expect("server starts");
    let base = format!("http://{}", server.addr);

    let driver = browser::ChromeDriver::spawn().unwrap();
    let member = open_browser_at(&driver, &tmp.path().join("member-profile"), window).await;
    let staff = open_browser_at(&driver, &tmp.path().join("staff-profile"), window).await;

    let mut outcome = journey(base, member.clone(), staff.clone()).await;
    // Every journey also proves the pages run under their Content-Security-Policy: a
    // refused script or style is only a line in the console, so read it.
    if outcome.is_ok() {
        for (name, c) in [("member", &member), ("staff", &staff)] {
            if let Err(e) = no_csp_violations(&driver, c).await {
                outcome = Err(format!("{name} browser: {e}").into());
                break;
            }
        }
    }
    if let Err(e) = &outcome {
        // First, so a shortened log (CI keeps its head and tail) still says what failed.
        eprintln!("{test} failed: {e}");
        save_failure_screens(test, &driver, &member, &staff).await;
    }
    // Close the browsers before judging, so a failure leaves no Chromium behind.
    let _ = member.close().await;
    let _ = staff.close().await;
    drop(driver);
    server.shutdown().await;
    if let Err(e) = outcome {
        panic!("{test} failed: {e}");
    }
}

pub async fn open_browser(driver: &browser::ChromeDriver, profile: &Path) -> Client {
    open_browser_at(driver, profile, browser::WINDOW).await
}

pub async fn open_browser_at(
    driver: &browser::ChromeDriver,
    profile: &Path,
    window: (u32, u32),
) -> Client {
    std::fs::create_dir_all(profile).unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "chrome".into());
    caps.insert(
        "goog:chromeOptions".into(),
        browser::chrome_options_at(profile, window),
    );
    // Keeps the console, read back when the journey fails.
    caps.insert(
        "goog:loggingPrefs".into(),
        serde_json::json!({ "browser": "ALL" }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("chromedriver gives a session")
}

pub async fn admin_client(base: &str) -> Res<reqwest::Client> {
    let admin = reqwest::Client::builder().cookie_store(true).build()?;
    admin
        .post(format!("{base}/api/v1/admin/login"))
        .json(&serde_json::json!({ "username": "admin", "password": "admin-dev-pass" }))
        .send()
        .await?
        .error_for_status()?;
    Ok(admin)
}

/// A new customer signs up on the member app and lands on the card.
pub async fn sign_up(base: &str, member: &Client, phone: &str, name: &str) -> Res {
    member.goto(&format!("{base}/")).await?;
    find(member, "#phone").await?.send_keys(phone).await?;
    find(member, "#send-code").await?.click().await?;
    let otp = otp_from_outbox(base, phone).await?;
    find(member, "#otp").await?.send_keys(&otp).await?;
    find(member, "#name").await?.send_keys(name).await?;
    find(member, "#privacy-consent").await?.click().await?;
    find(member, "#verify").await?.click().await?;
    Ok(())
}

/// The OTP the dev outbox holds for `phone` (what an SMS would have carried).
pub async fn otp_from_outbox(base: &str, phone: &str) -> Res<String> {
    let to = Phone::parse(phone).map_err(|e| format!("{e:?}"))?;
    let deadline = Instant::now() + WAIT;
    loop {
        let outbox: Vec<OutboxMessage> = reqwest::get(format!("{base}/api/v1/dev/outbox"))
            .await?
            .error_for_status()?
            .json()
            .await?;
        if let Some(m) = outbox.iter().rev().find(|m| m.to == to.as_e164()) {
            return Ok(m.code.clone());
        }
        if Instant::now() > deadline {
            return Err(format!("no OTP for {} in the dev outbox", to.as_e164()).into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What a keyboard-wedge scanner does: types the QR payload and presses Enter.
/// Types a staff account's name and password into the staff sign-in and submits it.
pub async fn type_staff_sign_in(staff: &Client, user: &str, pass: &str) -> Res {
    find(staff, "#username").await?.send_keys(user).await?;
    find(staff, "#password").await?.send_keys(pass).await?;
    find(staff, "#login").await?.click().await?;
    Ok(())
}

pub async fn scan(staff: &Client, code: &str) -> Res {
    let input = find(staff, "#scan-input").await?;
    input.clear().await?;
    input.send_keys(&format!("{code}{ENTER}")).await?;
    Ok(())
}

pub fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

pub async fn find(c: &Client, css: &str) -> Res<fantoccini::elements::Element> {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .map_err(|e| format!("{css} never appeared: {e}").into())
}

/// Waits until the element's visible text satisfies `ok`; returns that text.
pub async fn wait_text(c: &Client, css: &str, ok: impl Fn(&str) -> bool) -> Res<String> {
    let deadline = Instant::now() + WAIT;
    let mut last = String::new();
    loop {
        if let Ok(el) = c.find(Locator::Css(css)).await {
            if let Ok(t) = el.text().await {
                let t = t.trim().to_owned();
                if ok(&t) {
                    return Ok(t);
                }
                last = t;
            }
        }
        if Instant::now() > deadline {
            return Err(format!("{css}: unexpected text {last:?} after {WAIT:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn wait_visible(c: &Client, css: &str, within: Duration) -> Res<String> {
    let deadline = Instant::now() + within;
    loop {
        for el in c.find_all(Locator::Css(css)).await? {
            if el.is_displayed().await.unwrap_or(false) {
                let text = el.text().await.unwrap_or_default();
                if !text.trim().is_empty() {
                    return Ok(text);
                }
            }
        }
        if Instant::now() > deadline {
            return Err(format!("no visible {css} within {within:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Screenshots for docs/, only on request so a test run leaves the tree clean.
pub async fn screenshot(c: &Client, name: &str) -> Res {
    if std::env::var_os("SAVE_SCREENSHOTS").is_none() {
        return Ok(());
    }
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/screenshots")
        .join(name);
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(file, c.screenshot().await?)?;
    Ok(())
}

/// The browser console since the last read (ChromeDriver hands each entry out once).
pub async fn browser_log(driver: &browser::ChromeDriver, c: &Client) -> Res<Vec<String>> {
    let id = c.session_id().await?.ok_or("no WebDriver session")?;
    let log: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/session/{id}/se/log", driver.url))
        .json(&serde_json::json!({ "type": "browser" }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(log["value"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| e["message"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

/// Fails on any Content-Security-Policy refusal the console reported since the last read.
pub async fn no_csp_violations(driver: &browser::ChromeDriver, c: &Client) -> Res {
    let refused: Vec<String> = browser_log(driver, c)
        .await?
        .into_iter()
        .filter(|m| m.contains("Content Security Policy"))
        .collect();
    if refused.is_empty() {
        Ok(())
    } else {
        Err(format!("CSP violations in the console: {refused:#?}").into())
    }
}

/// What both screens looked like when the journey failed, and what the browser console
/// said, for whoever reads the CI log.
pub async fn save_failure_screens(
    test: &str,
    driver: &browser::ChromeDriver,
    member: &Client,
    staff: &Client,
) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/e2e-failure")
        .join(test);
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    for (name, c) in [("member", member), ("staff", staff)] {
        if let Ok(png) = c.screenshot().await {
            let _ = std::fs::write(dir.join(format!("{name}.png")), png);
        }
        if let Ok(html) = c.source().await {
            let _ = std::fs::write(dir.join(format!("{name}.html")), html);
        }
        if let Ok(Some(id)) = c.session_id().await {
            let log = reqwest::Client::new()
                .post(format!("{}/session/{id}/se/log", driver.url))
                .json(&serde_json::json!({ "type": "browser" }))
                .send()
                .await;
            if let Ok(log) = log {
                let log: serde_json::Value = log.json().await.unwrap_or_default();
                // Warnings (an ignored `integrity` on a preload, for one) bury the errors.
                let errors: Vec<String> = log["value"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|e| e["level"] != "WARNING" && e["level"] != "INFO")
                    .map(|e| {
                        format!(
                            "{} {}",
                            e["level"].as_str().unwrap_or("?"),
                            e["message"].as_str().unwrap_or("?")
                        )
                    })
                    .collect();
                eprintln!("{name} browser console errors:\n  {}", errors.join("\n  "));
            }
        }
    }
    eprintln!("screens at the failure: {}", dir.display());
}

/// A Chrome DevTools Protocol call through ChromeDriver's `goog/cdp/execute`, for what
/// WebDriver itself cannot do: going offline, a script that runs before the page's own.
#[derive(Debug)]
struct Cdp(serde_json::Value);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or("")
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.0.to_string()))
    }
}

pub async fn cdp(c: &Client, cmd: &str, params: serde_json::Value) -> Res<serde_json::Value> {
    Ok(
        c.issue_cmd(Cdp(serde_json::json!({ "cmd": cmd, "params": params })))
            .await?,
    )
}

/// Cuts the browser's network (`true`) or gives it back: the app's own requests fail as
/// they do on a phone in a lift.
pub async fn set_offline(c: &Client, offline: bool) -> Res {
    cdp(c, "Network.enable", serde_json::json!({})).await?;
    cdp(
        c,
        "Network.emulateNetworkConditions",
        serde_json::json!({
            "offline": offline,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": -1,
        }),
    )
    .await?;
    Ok(())
}

/// Waits until the page is controlled by the service worker (the shell is then cached).
pub async fn wait_controlled(c: &Client, url: &str) -> Res {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = c
            .execute(
                "return !!(navigator.serviceWorker && navigator.serviceWorker.controller)",
                vec![],
            )
            .await?
            .as_bool()
            .unwrap_or(false);
        if ready {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("the service worker never took control".into());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        c.goto(url).await?;
    }
}
