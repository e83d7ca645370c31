//! The till in a real browser: a cashier scans a member's card and the staff app asks
//! the server for the member's coupons before an amount is typed. None of what the app
//! asks on the way may be refused (a refused request is a red line in the browser
//! console, which is how a silent 400 from the checkout preview went unnoticed).
//!
//! Needs `dist/` (scripts/build-web.sh), /usr/bin/chromium and /usr/bin/chromedriver;
//! under CI=true anything missing fails the test.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/app.rs"]
mod app;
#[path = "support/browser.rs"]
mod browser;

use std::time::Instant;

use app::*;
use fantoccini::Client;
use member_core::card_code;

const PHONE: &str = "13700002222";
const NAME: &str = "周末";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_look_up_at_the_till_is_answered_without_refusals() {
    with_app("e2e_till", |base, member, staff| async move {
        look_up(&base, &member, &staff).await
    })
    .await;
}

/// Every request the page started after `since` (the page's `performance.now()`) that
/// the server answered with 4xx/5xx, as "status url" (Chromium's Resource Timing entries
/// carry the HTTP status: what the console reports as "the server responded with a
/// status of 400").
async fn refused_requests(c: &Client, since: f64) -> Res<Vec<String>> {
    let v = c
        .execute(
            "return performance.getEntriesByType('resource')\
               .filter(e => e.startTime >= arguments[0] && (e.responseStatus || 0) >= 400)\
               .map(e => e.responseStatus + ' ' + e.name);",
            vec![serde_json::json!(since)],
        )
        .await?;
    Ok(v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

/// How many checkout previews the page has had answered so far.
async fn previews_answered(c: &Client) -> Res<u64> {
    let v = c
        .execute(
            "return performance.getEntriesByType('resource')\
               .filter(e => e.name.includes('/api/v1/staff/checkout/preview') \
                            && (e.responseStatus || 0) > 0).length;",
            vec![],
        )
        .await?;
    Ok(v.as_u64().unwrap_or(0))
}

async fn look_up(base: &str, member: &Client, staff: &Client) -> Res {
    sign_up(base, member, PHONE, NAME).await?;
    find(member, "#card-qr svg").await?;
    wait_text(member, "#card-code", |t| card_code::parse_code(t).is_ok()).await?;

    staff.goto(&format!("{base}/staff/")).await?;
    type_staff_sign_in(staff, "cashier", "cashier-dev-pass").await?;
    find(staff, "#scan-input").await?;
    // Before signing in the app asks who is signed in (a 401 then is the answer "nobody");
    // what counts is what the look-up sets off.
    let since = staff
        .execute("return performance.now();", vec![])
        .await?
        .as_f64()
        .ok_or("performance.now()")?;
    let code = digits(&find(member, "#card-code").await?.text().await?);
    scan(staff, &code).await?;
    wait_text(staff, "#member-name", |t| t.contains(NAME)).await?;

    // The look-up is followed by a preview for the empty basket: wait for its answer.
    let deadline = Instant::now() + WAIT;
    while previews_answered(staff).await? == 0 {
        if Instant::now() > deadline {
            return Err("no checkout preview was answered after the look-up".into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let refused = refused_requests(staff, since).await?;
    if !refused.is_empty() {
        return Err(format!("the till's requests were refused: {refused:?}").into());
    }
    Ok(())
}
