//! What the member reads, in a real browser: a member whose browser is English gets the
//! app in English on the first visit and finds no Chinese the app or the server wrote on
//! the card, the points history and the mall (the brand's own names excepted); sign-up
//! opens the documents it names, puts errors at their field and says why its button is
//! disabled; right after an upgrade the keep line reads as an upgrade; a voucher order
//! says it is in the wallet. A Chinese browser's first visit gets Chinese. Offline (the
//! server stopped, so every fetch fails, the service worker's too) `/points` and the
//! mall say so with a retry that works once the server is back, and the mall opened
//! offline before its first visit gets the service worker's offline page, not the
//! browser's error page.
//!
//! Needs `dist/` (scripts/build-web.sh), /usr/bin/chromium and /usr/bin/chromedriver;
//! under CI=true anything missing fails. `SAVE_SCREENSHOTS=1` writes docs/screenshots/.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/app.rs"]
mod app;
#[path = "support/browser.rs"]
mod browser;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use app::*;
use fantoccini::{Client, ClientBuilder, Locator};
use member_core::dto::OutboxMessage;

const PHONE: &str = "13700001111";

/// Names the brand wrote (the dev seed's stores, items, categories, coupons, campaigns,
/// benefits): their English comes with the console, not from the app.
const BRAND_NAMES: &[&str] = &[
    "旗舰店",
    "加料券",
    "贴纸套装",
    "中杯咖啡券",
    "满50减5券",
    "帆布袋",
    "限量联名马克杯",
    "蓝牙耳机",
    "电影票（2D 单人）",
    "保温杯",
    "手冲咖啡礼盒",
    "年度会员礼包",
    "满30减5券",
    "饮品券",
    "周边",
    "合作伙伴",
    "优惠券",
    "数码",
    "会员专享",
    "新人礼包",
    "新人礼",
    "满100减20",
    "9折券",
    "免费加料券",
    "加料",
    "生日礼券",
    "生日礼",
    "会员日券",
    "回归礼",
    "满30减5",
    "银卡升级礼",
    "金卡升级礼",
    // The description of the voucher item the journey opens.
    "兑换后券直接放入卡包：单笔满 30 元立减 5 元，30 天内有效",
];

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
        || ('\u{3000}'..='\u{303f}').contains(&c)
        || ('\u{ff00}'..='\u{ffef}').contains(&c)
}

/// The page's visible text without the brand's names and the language toggle (which
/// names Chinese in Chinese on purpose): any CJK left was written by the app or server.
async fn app_written_cjk(c: &Client) -> Res<Option<String>> {
    let text: String = c
        .execute(
            "const t = document.getElementById('lang-toggle'); \
             const saved = t ? t.textContent : null; if (t) t.textContent = ''; \
             const s = document.body.innerText; if (t) t.textContent = saved; return s;",
            vec![],
        )
        .await?
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut names: Vec<&str> = BRAND_NAMES.to_vec();
    names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
    let mut rest = text.clone();
    for n in names {
        rest = rest.replace(n, "");
    }
    Ok(rest
        .lines()
        .find(|l| l.chars().any(is_cjk))
        .map(|l| format!("{l:?} in {text:?}")))
}

async fn no_app_cjk(c: &Client, screen: &str) -> Res {
    match app_written_cjk(c).await? {
        None => Ok(()),
        Some(found) => Err(format!("{screen}: Chinese written by the app: {found}").into()),
    }
}

/// A phone-sized Chromium whose language is `lang` (headless, the preference is what sets
/// navigator.language; --lang for good measure).
async fn browser_in(driver: &browser::ChromeDriver, profile: &Path, lang: &str) -> Client {
    std::fs::create_dir_all(profile).unwrap();
    let mut options = browser::chrome_options(profile);
    if let Some(args) = options["args"].as_array_mut() {
        args.retain(|a| !a.as_str().is_some_and(|a| a.starts_with("--lang=")));
        args.push(format!("--lang={lang}").into());
    }
    let short = lang.split('-').next().unwrap_or(lang);
    options["prefs"] = serde_json::json!({ "intl.accept_languages": format!("{lang},{short}") });
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "chrome".into());
    caps.insert("goog:chromeOptions".into(), options);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("chromedriver gives a session")
}

/// The server on a fixed address over one database, so it can stop (the browser is then
/// offline: nothing answers) and come back with the same sessions.
struct Served {
    dir: tempfile::TempDir,
    addr: SocketAddr,
    server: Option<member_server::RunningServer>,
}

impl Served {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = browser::free_port().unwrap();
        let mut s = Self {
            dir,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            server: None,
        };
        s.up().await;
        s
    }

    async fn up(&mut self) {
        let deadline = Instant::now() + WAIT;
        loop {
            let started = member_server::start(member_server::Config {
                database_url: format!(
                    "sqlite://{}?mode=rwc",
                    self.dir.path().join("e2e.db").display()
                ),
                bind: self.addr,
                static_dir: dist_dir(),
                dev: true,
                data_dir: self.dir.path().to_path_buf(),
                ..member_server::Config::default()
            })
            .await;
            match started {
                Ok(s) => {
                    self.server = Some(s);
                    return;
                }
                // The port may take a moment to be free again after a stop.
                Err(e) if Instant::now() < deadline => {
                    eprintln!("server restart: {e}; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("server does not start again: {e}"),
            }
        }
    }

    async fn down(&mut self) {
        if let Some(s) = self.server.take() {
            if tokio::time::timeout(Duration::from_secs(10), s.shutdown())
                .await
                .is_err()
            {
                eprintln!("server shutdown took over 10 s");
            }
        }
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_read_their_language_and_offline_states_retry() {
    let test = "e2e_words";
    if let Some(why) = browser::missing_browser() {
        return browser::skip_or_fail(test, &why);
    }
    let built = ["index.html", "staff/index.html", "mall/index.html"];
    if !built.iter().all(|f| dist_dir().join(f).exists()) {
        let why = format!(
            "{} has no built app (scripts/build-web.sh)",
            dist_dir().display()
        );
        return browser::skip_or_fail(test, &why);
    }
    let mut served = Served::start().await;
    let driver = browser::ChromeDriver::spawn().unwrap();
    let en = browser_in(&driver, &served.dir.path().join("en-profile"), "en-US").await;
    let zh = browser_in(&driver, &served.dir.path().join("zh-profile"), "zh-CN").await;

    let outcome = async {
        english_member(&mut served, &en).await?;
        chinese_first_visit_and_offline_mall(&mut served, &zh).await
    }
    .await;
    if outcome.is_err() {
        save_failure_screens(test, &driver, &en, &zh).await;
    }
    let _ = en.close().await;
    let _ = zh.close().await;
    drop(driver);
    served.down().await;
    if let Err(e) = outcome {
        panic!("{test} failed: {e}");
    }
}

async fn html_lang(c: &Client) -> Res<String> {
    Ok(c.execute("return document.documentElement.lang", vec![])
        .await?
        .as_str()
        .unwrap_or_default()
        .to_string())
}

async fn wait_lang(c: &Client, lang: &str) -> Res {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = html_lang(c).await?;
        if got == lang {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("<html lang> is {got:?}, not {lang:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn outbox_text(base: &str, phone: &str) -> Res<String> {
    let to = format!("+86{phone}");
    let msgs: Vec<OutboxMessage> = reqwest::get(format!("{base}/api/v1/dev/outbox"))
        .await?
        .json()
        .await?;
    msgs.iter()
        .rev()
        .find(|m| m.to == to)
        .map(|m| m.text.clone())
        .ok_or_else(|| format!("no SMS to {to}").into())
}

/// Opens the link in the new tab it targets, checks the document's title there, and
/// comes back.
async fn document_opens(c: &Client, link: &str, title: &str) -> Res {
    let before = c.windows().await?;
    let home = c.window().await?;
    find(c, link).await?.click().await?;
    let deadline = Instant::now() + WAIT;
    let tab = loop {
        let now = c.windows().await?;
        if let Some(w) = now.into_iter().find(|w| !before.contains(w)) {
            break w;
        }
        if Instant::now() > deadline {
            return Err(format!("{link} opened no tab").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    c.switch_to_window(tab).await?;
    let h1 = wait_text(c, "h1", |t| !t.is_empty()).await?;
    c.close_window().await?;
    c.switch_to_window(home).await?;
    if h1 != title {
        return Err(format!("{link} opened {h1:?}, not {title:?}").into());
    }
    Ok(())
}

async fn english_member(served: &mut Served, m: &Client) -> Res {
    let base = served.base();
    // First visit: the browser is English, so is the app.
    m.goto(&format!("{base}/")).await?;
    wait_text(m, "#verify", |t| t == "Sign in / Join").await?;
    wait_lang(m, "en").await?;
    no_app_cjk(m, "sign-in").await?;

    // The disabled button says why; the documents open.
    if find(m, "#verify").await?.is_enabled().await? {
        return Err("sign-in is enabled without consent".into());
    }
    let why = wait_visible(m, "#verify-why", WAIT).await?;
    if !why.contains("Privacy Policy") {
        return Err(format!("the disabled button's reason: {why:?}").into());
    }
    document_opens(m, "#privacy-link", "Privacy Policy").await?;
    document_opens(m, "#terms-link", "Membership Terms").await?;

    // An error stands at its field.
    find(m, "#send-code").await?.click().await?;
    let at_phone = wait_visible(m, ".field:has(#phone) .field-error", WAIT).await?;
    screenshot(m, "words-login-errors-en.png").await?;
    find(m, "#phone").await?.send_keys(PHONE).await?;
    find(m, "#send-code").await?.click().await?;
    let code = otp_from_outbox(&base, PHONE).await?;
    let sms = outbox_text(&base, PHONE).await?;
    if !sms.starts_with("[Member Center]") || sms.chars().any(is_cjk) {
        return Err(format!("the SMS is not in English: {sms:?}").into());
    }
    find(m, "#name").await?.send_keys("Amy").await?;
    find(m, "#privacy-consent").await?.click().await?;
    if find(m, "#verify-why").await?.is_displayed().await? {
        return Err("the reason stays after consenting".into());
    }
    find(m, "#otp").await?.send_keys("000000").await?;
    find(m, "#verify").await?.click().await?;
    let at_code = wait_visible(m, ".field:has(#otp) .field-error", WAIT).await?;
    if at_code == at_phone || !at_code.contains("code") {
        return Err(format!("the wrong code's error reads {at_code:?}").into());
    }
    let otp = find(m, "#otp").await?;
    otp.clear().await?;
    otp.send_keys(&code).await?;
    find(m, "#verify").await?.click().await?;
    find(m, "#card-qr svg").await?;

    // The cashier records 600 yuan: an upgrade to Silver.
    let till = reqwest::Client::builder().cookie_store(true).build()?;
    till.post(format!("{base}/api/v1/staff/login"))
        .json(&serde_json::json!({ "username": "cashier", "password": "cashier-dev-pass" }))
        .send()
        .await?
        .error_for_status()?;
    let card_code = digits(&find(m, "#card-code").await?.text().await?);
    till.post(format!("{base}/api/v1/staff/purchases"))
        .header("Idempotency-Key", "e2e-words-upgrade")
        .json(&serde_json::json!({
            "code": card_code, "amount_cents": 60_000, "order_ref": "POS-20261207052007-377fe4"
        }))
        .send()
        .await?
        .error_for_status()?;
    m.refresh().await?;
    let keep = wait_text(m, "#keep-line", |t| t.starts_with("Upgraded to Silver")).await?;
    if !(keep.contains("500") && keep.contains("to keep it")) {
        return Err(format!("the keep line reads {keep:?}").into());
    }
    wait_text(m, "#points", |t| {
        digits(t).parse::<i64>().is_ok_and(|p| p >= 600)
    })
    .await?;
    no_app_cjk(m, "card").await?;
    screenshot(m, "words-card-en.png").await?;

    // The history: facts in English, no order reference.
    m.goto(&format!("{base}/points")).await?;
    let rows = wait_text(m, ".ledger", |t| t.contains("Purchase")).await?;
    if !rows.contains("Paid ¥600.00") || rows.contains("POS-") {
        return Err(format!("history rows: {rows:?}").into());
    }
    no_app_cjk(m, "history").await?;
    screenshot(m, "words-history-en.png").await?;

    // The mall, and a voucher that goes into the wallet.
    m.goto(&format!("{base}/mall/")).await?;
    find(m, "#mall-list").await?;
    wait_text(m, "#mall-points", |t| {
        digits(t).parse::<i64>().is_ok_and(|p| p >= 600)
    })
    .await?;
    no_app_cjk(m, "mall").await?;
    screenshot(m, "words-mall-en.png").await?;
    let mut opened = false;
    for li in m.find_all(Locator::Css("#mall-list li")).await? {
        if li.text().await?.contains("满30减5券") {
            li.find(Locator::Css("a")).await?.click().await?;
            opened = true;
            break;
        }
    }
    if !opened {
        return Err("no 满30减5券 in the mall".into());
    }
    wait_text(m, "#item-name", |t| t == "满30减5券").await?;
    let page = m.find(Locator::Css("main")).await?.text().await?;
    if page.contains("order code in store") {
        return Err(format!("a wallet voucher says to show an order code: {page:?}").into());
    }
    no_app_cjk(m, "mall item").await?;
    find(m, "#redeem").await?.click().await?;
    find(m, "#confirm-redeem").await?.click().await?;
    wait_text(m, "#order-status", |t| t == "In your wallet").await?;
    wait_visible(m, "#order-in-wallet", WAIT).await?;
    find(m, "#order-wallet-link").await?;
    no_app_cjk(m, "voucher order").await?;
    screenshot(m, "words-voucher-order-en.png").await?;

    // Offline: /points and the mall say so and retry once the server is back.
    wait_controlled(m, &format!("{base}/points")).await?;
    served.down().await;
    m.goto(&format!("{base}/points")).await?;
    wait_text(m, "#offline", |t| t.contains("You're offline")).await?;
    if m.find(Locator::Css("#history-more"))
        .await?
        .is_displayed()
        .await?
    {
        return Err("a dead 'load more' shows offline".into());
    }
    screenshot(m, "words-history-offline-en.png").await?;
    served.up().await;
    find(m, "#offline-retry").await?.click().await?;
    wait_text(m, ".ledger", |t| t.contains("Purchase")).await?;

    wait_controlled(m, &format!("{base}/mall/")).await?;
    served.down().await;
    m.goto(&format!("{base}/mall/")).await?;
    wait_text(m, "#offline", |t| t.contains("You're offline")).await?;
    screenshot(m, "words-mall-offline-en.png").await?;
    served.up().await;
    find(m, "#offline-retry").await?.click().await?;
    find(m, "#mall-list").await?;

    // The member's pick wins from now on: Chinese screens for the same member.
    m.goto(&format!("{base}/")).await?;
    find(m, "#lang-toggle").await?.click().await?;
    wait_lang(m, "zh-CN").await?;
    wait_text(m, "#keep-line", |t| t.starts_with("已升级为银卡")).await?;
    screenshot(m, "words-card-zh.png").await?;
    m.refresh().await?;
    wait_text(m, "#keep-line", |t| t.starts_with("已升级为银卡")).await?;
    m.goto(&format!("{base}/points")).await?;
    wait_text(m, ".ledger", |t| t.contains("实付 ¥600.00")).await?;
    screenshot(m, "words-history-zh.png").await?;
    m.goto(&format!("{base}/mall/orders")).await?;
    wait_text(m, "main", |t| t.contains("已放入券包")).await?;
    screenshot(m, "words-orders-zh.png").await?;
    Ok(())
}

async fn chinese_first_visit_and_offline_mall(served: &mut Served, c: &Client) -> Res {
    let base = served.base();
    c.goto(&format!("{base}/")).await?;
    wait_text(c, "#verify", |t| t == "登录 / 开卡").await?;
    wait_lang(c, "zh-CN").await?;
    find(c, "#send-code").await?.click().await?;
    wait_visible(c, ".field:has(#phone) .field-error", WAIT).await?;
    wait_text(c, "#verify-why", |t| t.contains("请先勾选同意")).await?;
    screenshot(c, "words-login-errors-zh.png").await?;

    // The mall opened offline before its first visit: the worker's page, then the mall.
    wait_controlled(c, &format!("{base}/")).await?;
    served.down().await;
    c.goto(&format!("{base}/mall/")).await?;
    wait_text(c, "#offline-title", |t| t == "网络不可用").await?;
    screenshot(c, "words-mall-first-offline-zh.png").await?;
    served.up().await;
    find(c, "#offline-retry").await?.click().await?;
    // Not signed in: the mall sends the visitor to sign in, coming back to it.
    let deadline = Instant::now() + WAIT;
    loop {
        let url = c.current_url().await?;
        if url.path() == "/login" && find(c, "#verify").await.is_ok() {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("after the retry the browser is at {url}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}
