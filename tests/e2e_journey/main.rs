//! The journey in a real browser against the real server and the real build:
//! a new customer signs up on a phone-sized screen and lands on the e-card; a cashier
//! scans the card, records a purchase that upgrades the member; the same code is refused
//! a second time; the member's reloaded card shows the new points and tier. Then the
//! points mall: the member finds a low-threshold item, redeems it and gets an order code;
//! the staff scan that code, see whose order it is and hand it over; the member's orders
//! say collected and the card and history show the points spent.
//!
//! The coupon journey: the brand sets up a welcome coupon (admin API); a new member
//! finds it on the card and in the wallet; the cashier ticks it (by scanning its code)
//! and records a purchase for less; the wallet shows it used. Then the profile's
//! birthday, and a claim link for a visitor and for the member.
//!
//! Needs `dist/` (scripts/build-web.sh; `make test` builds it first), /usr/bin/chromium
//! and /usr/bin/chromedriver. Under CI=true anything missing fails the test.
//! `SAVE_SCREENSHOTS=1` writes docs/screenshots/*.png.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/app.rs"]
mod app;
#[path = "../support/browser.rs"]
mod browser;

use std::time::{Duration, Instant};

use app::*;
use fantoccini::{Client, Locator};
use member_core::card_code;
use member_core::mall::{format_order_code, normalize_order_code};

mod join;
mod shop;
use join::*;
use shop::*;

const PHONE: &str = "13812345678";
const NAME: &str = "韩梅梅";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_signs_up_and_cashier_records_an_upgrading_purchase() {
    with_app("e2e_journey", |base, member, staff| async move {
        journey(&base, &member, &staff).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn welcome_coupon_is_used_at_the_till() {
    with_app("e2e_coupons", |base, member, staff| async move {
        coupon_journey(&base, &member, &staff).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgraded_member_sees_keep_line_inbox_benefits_and_growth() {
    with_app("e2e_tiers", |base, member, _staff| async move {
        tier_journey(&base, &member).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poster_scan_signs_up_with_welcome_gift_and_counts_for_the_store() {
    with_app("e2e_signup", |base, member, staff| async move {
        signup_journey(&base, &member).await?;
        staff_code_journey(&base, &staff).await
    })
    .await;
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

    // Points earned from now on expire in 30 days, so the card has an expiry to show.
    expire_points_within(base, 30).await?;

    // --- the cashier scans it and records a purchase that upgrades the member ----------
    staff.goto(&format!("{base}/staff/")).await?;
    type_staff_sign_in(staff, "cashier", "cashier-dev-pass").await?;
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
    wait_text(member, "#points-expiring", |t| {
        t.starts_with("600 分将于 ") && t.ends_with(" 过期")
    })
    .await?;
    if std::env::var_os("SAVE_SCREENSHOTS").is_some() {
        screenshot(member, "card-silver.png").await?;
        find(member, "#lang-toggle").await?.click().await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        screenshot(member, "card-en.png").await?;
        // Back to zh-CN (the choice is remembered) for the rest of the journey.
        find(member, "#lang-toggle").await?.click().await?;
    }

    mall_journey(base, member, staff).await
}

/// The cashier's own sign-up code in the staff app: a big QR code for the counter.
async fn staff_code_journey(base: &str, staff: &Client) -> Res {
    staff.goto(&format!("{base}/staff/")).await?;
    type_staff_sign_in(staff, "cashier", "cashier-dev-pass").await?;
    find(staff, "#tab-signup-code").await?.click().await?;
    wait_text(staff, "#signup-code-lead", |t| t.contains("旗舰店")).await?;
    find(staff, "#signup-code-qr svg").await?;
    screenshot(staff, "staff-signup-code.png").await?;
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

/// The brand's points rule (admin API): points earned later stay valid for `days` days.
async fn expire_points_within(base: &str, days: i64) -> Res {
    let admin = admin_client(base).await?;
    admin
        .put(format!("{base}/api/v1/admin/points-rules"))
        .json(&serde_json::json!({ "expiry": "days", "n": days }))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}
