//! The apps under their Content-Security-Policy in a real browser: the member app (its
//! inline prefetch and feature-check scripts, the inlined CSS, the wasm), the benefits
//! page's tier colours, the mall, the staff app and the no-wasm fallback page all work,
//! and the console reports no refusal (`with_app` checks that after every journey). An
//! inline script injected into a page is refused, and that refusal is in the console,
//! so the console check can see one.
//!
//! Needs `dist/` (scripts/build-web.sh), /usr/bin/chromium and /usr/bin/chromedriver.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/app.rs"]
mod app;
#[path = "support/browser.rs"]
mod browser;

use app::*;
use fantoccini::Client;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apps_run_under_their_content_security_policy() {
    with_app("e2e_security", |base, member, staff| async move {
        csp_journey(&base, &member, &staff).await
    })
    .await;
}

async fn fallback_hidden(c: &Client, page: &str) -> Res {
    let display = c
        .execute(
            "return getComputedStyle(document.getElementById('unsupported')).display;",
            vec![],
        )
        .await?;
    if display != json!("none") {
        return Err(format!("{page}: the feature check did not run (fallback {display})").into());
    }
    Ok(())
}

async fn csp_journey(base: &str, member: &Client, staff: &Client) -> Res {
    let page = reqwest::get(format!("{base}/")).await?;
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if !(csp.contains("'wasm-unsafe-eval'") && csp.contains("'sha256-")) {
        return Err(format!("/ has no app CSP: {csp:?}").into());
    }
    if csp.contains("'unsafe-inline'") {
        return Err(format!("the CSP allows inline code: {csp}").into());
    }

    // The member app: the card after sign-up, the fallback hidden by the feature check.
    sign_up(base, member, "13900003333", "李雷").await?;
    find(member, "#card-qr svg").await?;
    wait_text(member, "#points", |t| t == "0").await?;
    fallback_hidden(member, "/").await?;

    // The benefits page colours each tier through a CSS property set at run time.
    member.goto(&format!("{base}/tiers")).await?;
    find(member, "#tier-cols .tier-col[data-tier=gold]").await?;
    let color = member
        .execute(
            "return getComputedStyle(document.querySelector('.tier-col[data-tier=gold]'))\
             .getPropertyValue('--tier-color').trim();",
            vec![],
        )
        .await?;
    if color.as_str().map(str::to_ascii_uppercase).as_deref() != Some("#C9A227") {
        return Err(format!("the gold column's colour is {color}").into());
    }
    fallback_hidden(member, "/tiers").await?;

    // The mall (its own bundle).
    member.goto(&format!("{base}/mall/")).await?;
    find(member, "#mall-list .mall-item").await?;
    fallback_hidden(member, "/mall/").await?;

    // The page for browsers that cannot run the app: its inline style applies.
    member.goto(&format!("{base}/unsupported.html")).await?;
    let background = member
        .execute(
            "return getComputedStyle(document.body).backgroundColor;",
            vec![],
        )
        .await?;
    if background != json!("rgb(244, 245, 248)") {
        return Err(format!("unsupported.html is unstyled: {background}").into());
    }

    // The staff app.
    staff.goto(&format!("{base}/staff/")).await?;
    find(staff, "#username").await?;
    fallback_hidden(staff, "/staff/").await?;

    injected_script_is_refused(base).await
}

/// A browser of its own, so its console can be read here (and the refusal expected).
async fn injected_script_is_refused(base: &str) -> Res {
    let tmp = tempfile::tempdir()?;
    let driver = browser::ChromeDriver::spawn()?;
    let probe = open_browser(&driver, &tmp.path().join("probe")).await;
    let outcome = async {
        probe.goto(&format!("{base}/login")).await?;
        find(&probe, "#phone").await?;
        no_csp_violations(&driver, &probe).await?;
        let ran = probe
            .execute(
                "var s = document.createElement('script');\
                 s.textContent = 'window.__injected = 1';\
                 document.head.appendChild(s);\
                 return window.__injected === 1;",
                vec![],
            )
            .await?;
        if ran != json!(false) {
            return Err("an injected inline script ran".into());
        }
        if no_csp_violations(&driver, &probe).await.is_ok() {
            return Err("the refused script is not in the console".into());
        }
        Ok(())
    }
    .await;
    let _ = probe.close().await;
    outcome
}
