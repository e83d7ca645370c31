//! The journey in a real browser against the real server and the real build:
//! a new customer signs up on a phone-sized screen and lands on the e-card; a cashier
//! scans the card, records a purchase that upgrades the member; the same code is refused
//! a second time; the member's reloaded card shows the new points and tier.
//!
//! Needs `dist/` (scripts/build-web.sh; `make test` builds it first), /usr/bin/chromium
//! and /usr/bin/chromedriver. Under CI=true anything missing fails the test.
//! `SAVE_SCREENSHOTS=1` writes docs/screenshots/*.png.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/browser.rs"]
mod browser;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use member_core::card_code;
use member_core::dto::OutboxMessage;
use member_core::phone::Phone;

type Res<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const PHONE: &str = "13812345678";
const NAME: &str = "韩梅梅";
const ENTER: &str = "\u{e007}";
const WAIT: Duration = Duration::from_secs(20);

fn dist_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("dist")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_signs_up_and_cashier_records_an_upgrading_purchase() {
    const TEST: &str = "e2e_journey";
    if let Some(why) = browser::missing_browser() {
        return browser::skip_or_fail(TEST, &why);
    }
    let dist = dist_dir();
    if !dist.join("index.html").exists() || !dist.join("staff/index.html").exists() {
        let why = format!(
            "{} has no built app (run scripts/build-web.sh or `make web`)",
            dist.display()
        );
        return browser::skip_or_fail(TEST, &why);
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
    let member = open_browser(&driver, &tmp.path().join("member-profile")).await;
    let staff = open_browser(&driver, &tmp.path().join("staff-profile")).await;

    let outcome = journey(&base, &member, &staff).await;
    if outcome.is_err() {
        save_failure_screens(&driver, &member, &staff).await;
    }
    // Close the browsers before judging, so a failure leaves no Chromium behind.
    let _ = member.close().await;
    let _ = staff.close().await;
    drop(driver);
    server.shutdown().await;
    if let Err(e) = outcome {
        panic!("journey failed: {e}");
    }
}

async fn open_browser(driver: &browser::ChromeDriver, profile: &Path) -> Client {
    std::fs::create_dir_all(profile).unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "chrome".into());
    caps.insert(
        "goog:chromeOptions".into(),
        browser::chrome_options(profile),
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

async fn journey(base: &str, member: &Client, staff: &Client) -> Res {
    fallback_page_exists(base, member).await?;

    // --- a new customer signs up -------------------------------------------------------
    member.goto(&format!("{base}/")).await?;
    let phone = find(member, "#phone").await?;
    phone.send_keys(PHONE).await?;
    find(member, "#send-code").await?.click().await?;
    let otp = otp_from_outbox(base, PHONE).await?;
    find(member, "#otp").await?.send_keys(&otp).await?;
    find(member, "#name").await?.send_keys(NAME).await?;
    find(member, "#privacy-consent").await?.click().await?;
    find(member, "#verify").await?.click().await?;

    // --- the e-card --------------------------------------------------------------------
    find(member, "#card-qr svg").await?;
    let shown = wait_text(member, "#card-code", |t| card_code::parse_code(t).is_ok()).await?;
    wait_text(member, "#tier-name", |t| t == "普卡").await?;
    wait_text(member, "#points", |t| t == "0").await?;
    wait_text(member, "#member-no", |t| {
        !digits(t).is_empty() && digits(&shown).starts_with(&digits(t))
    })
    .await?;
    screenshot(member, "card.png").await?;

    // --- the cashier scans it and records a purchase that upgrades the member ----------
    staff.goto(&format!("{base}/staff/")).await?;
    find(staff, "#username").await?.send_keys("cashier").await?;
    find(staff, "#password")
        .await?
        .send_keys("cashier-dev-pass")
        .await?;
    find(staff, "#login").await?.click().await?;
    // Read the code as late as possible: it is good for the current 30 s step +-1.
    let code = digits(&find(member, "#card-code").await?.text().await?);
    scan(staff, &code).await?;
    wait_text(staff, "#member-name", |t| t.contains(NAME)).await?;
    let amount = find(staff, "#amount").await?;
    amount.clear().await?;
    amount.send_keys("600").await?;
    find(staff, "#record-purchase").await?.click().await?;
    wait_text(staff, "#purchase-result", |t| {
        t.contains("600") && t.contains("银卡")
    })
    .await?;
    screenshot(staff, "staff.png").await?;

    // --- the same code cannot pay twice --------------------------------------------------
    scan(staff, &code).await?;
    // Either the scan itself is refused, or the purchase is.
    let refusal = match wait_visible(staff, ".error", Duration::from_secs(3)).await {
        Ok(shown) => shown,
        Err(_) => {
            let amount = find(staff, "#amount").await?;
            amount.clear().await?;
            amount.send_keys("10").await?;
            find(staff, "#record-purchase").await?.click().await?;
            wait_visible(staff, ".error", WAIT).await?
        }
    };
    eprintln!("second use of the code refused with: {refusal}");

    // --- the member's reloaded card shows the credit, once -------------------------------
    member.refresh().await?;
    find(member, "#card-qr svg").await?;
    wait_text(member, "#points", |t| t == "600").await?;
    wait_text(member, "#tier-name", |t| t == "银卡").await?;
    if std::env::var_os("SAVE_SCREENSHOTS").is_some() {
        screenshot(member, "card-silver.png").await?;
        find(member, "#lang-toggle").await?.click().await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        screenshot(member, "card-en.png").await?;
    }
    Ok(())
}

/// Old engines without WebAssembly get a plain page instead of a blank screen. The
/// fallback is visible unless the feature check marks `<html class="wasm-ok">`, so an
/// engine that cannot even parse the (minified, modern) check script still shows it.
async fn fallback_page_exists(base: &str, member: &Client) -> Res {
    let page = reqwest::get(format!("{base}/unsupported.html")).await?;
    let is_html = page
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/html"));
    if !(page.status().is_success() && is_html) {
        return Err("/unsupported.html is not served".into());
    }
    for path in ["/", "/staff/"] {
        member.goto(&format!("{base}{path}")).await?;
        let display = |class_kept: bool| {
            let script = if class_kept {
                "return getComputedStyle(document.getElementById('unsupported')).display;"
            } else {
                "document.documentElement.classList.remove('wasm-ok');\
                 return getComputedStyle(document.getElementById('unsupported')).display;"
            };
            member.execute(script, vec![])
        };
        if display(true).await? != serde_json::json!("none") {
            return Err(format!("{path}: the no-wasm fallback shows in a modern browser").into());
        }
        if display(false).await? == serde_json::json!("none") {
            return Err(
                format!("{path}: without the feature check the fallback stays hidden").into(),
            );
        }
    }
    Ok(())
}

/// The OTP the dev outbox holds for `phone` (what an SMS would have carried).
async fn otp_from_outbox(base: &str, phone: &str) -> Res<String> {
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
async fn scan(staff: &Client, code: &str) -> Res {
    let input = find(staff, "#scan-input").await?;
    input.clear().await?;
    input.send_keys(&format!("{code}{ENTER}")).await?;
    Ok(())
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

async fn find(c: &Client, css: &str) -> Res<fantoccini::elements::Element> {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .map_err(|e| format!("{css} never appeared: {e}").into())
}

/// Waits until the element's visible text satisfies `ok`; returns that text.
async fn wait_text(c: &Client, css: &str, ok: impl Fn(&str) -> bool) -> Res<String> {
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

async fn wait_visible(c: &Client, css: &str, within: Duration) -> Res<String> {
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
async fn screenshot(c: &Client, name: &str) -> Res {
    if std::env::var_os("SAVE_SCREENSHOTS").is_none() {
        return Ok(());
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(name), c.screenshot().await?)?;
    Ok(())
}

/// What both screens looked like when the journey failed, and what the browser console
/// said, for whoever reads the CI log.
async fn save_failure_screens(driver: &browser::ChromeDriver, member: &Client, staff: &Client) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e-failure");
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
                let log = log.text().await.unwrap_or_default();
                eprintln!("{name} browser console: {log}");
            }
        }
    }
    eprintln!("screens at the failure: {}", dir.display());
}
