//! A year of a tier program, simulated with the server's clock: four members buy through
//! the real API on the first of each month (at 10:00 local, after the tier job's run for
//! that day), and each member's tier every month and their inbox at the end are checked
//! against tables written out below.
//!
//! Program: thresholds 普卡 0 / 银卡 500 / 金卡 2000 / 钻石卡 8000, one growth per yuan,
//! a rolling 12-month window, evaluation every 3 months from the upgrade, drop to the
//! tier the period earned, a warning 31 days before a period ends.

use member_core::civil::{self, Date};
use reqwest::StatusCode;

use crate::common::{json_ok, phone, TestApp};
use crate::ledger::{buy, member_id};
use crate::tier_job::{job, jump, tier};
use crate::tiers::set_program;

both_backends!(a_year_of_tiers_month_by_month);

/// Yuan each member spends on the first of each month, January 2031 to January 2032.
const SPEND: [(&str, [i64; 13]); 4] = [
    ("big", [8000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    ("steady", [600; 13]),
    ("quiet", [100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    ("late", [0, 0, 0, 0, 0, 0, 2500, 2000, 0, 0, 0, 0, 0]),
];

const N: &str = "normal";
const S: &str = "silver";
const G: &str = "gold";
const D: &str = "diamond";

/// The tier after each month's job run and purchase.
const TIERS: [[&str; 13]; 4] = [
    // big: diamond at once, nothing more, dropped to what the period earned (nothing).
    [D, D, D, N, N, N, N, N, N, N, N, N, N],
    // steady: 600 a month reaches gold on the 12-month window but 1,200 per 3-month
    // period doesn't keep it; after a drop the judged growth no longer counts, so it
    // takes two more months to climb back.
    [S, S, S, G, G, G, S, G, G, G, S, G, G],
    // quiet: never enough.
    [N, N, N, N, N, N, N, N, N, N, N, N, N],
    // late: gold in July, kept in October (2,000 in the period), nothing after: dropped
    // in January.
    [N, N, N, N, N, N, G, G, G, G, G, G, N],
];

/// Every message each member got in the year, in order.
const INBOX: [&[&str]; 4] = [
    &["upgraded", "downgrade_warning", "downgraded"],
    &[
        "upgraded",
        "kept",
        "upgraded",
        "downgrade_warning",
        "downgraded",
        "upgraded",
        "downgrade_warning",
        "downgraded",
        "upgraded",
    ],
    &[],
    &["upgraded", "kept", "downgrade_warning", "downgraded"],
];

fn month_start(m: usize) -> i64 {
    let d = civil::first_of_month_after(
        Date {
            year: 2031,
            month: 1,
            day: 1,
        },
        m as i64,
    );
    civil::local_midnight(d) + 10 * 3_600
}

async fn a_year_of_tiers_month_by_month(app: TestApp) {
    app.advance_clock(month_start(0) - 3_600 - app.now());
    set_program(&app, |p| {
        p.growth.window = "rolling_months".into();
        p.growth.window_months = 12;
        p.downgrade.policy = "to_earned".into();
        p.downgrade.period_months = 3;
        p.downgrade.warn_days = 31;
        p.member_day = None;
    })
    .await;
    let till = app.staff_login().await;
    let mut members = Vec::new();
    for (n, (name, _)) in SPEND.iter().enumerate() {
        let m = app.sign_up(&phone(300 + n as u32), name).await;
        let id = member_id(&app, &m.me.member_no).await;
        members.push((m, id));
    }
    let mut seen = vec![Vec::new(); SPEND.len()];
    for month in 0..13 {
        let refs: Vec<&crate::common::Member> = members.iter().map(|(m, _)| m).collect();
        let till = if month == 0 {
            till.clone()
        } else {
            jump(&app, month_start(month) - app.now(), &refs).await
        };
        app.advance_clock(month_start(month) - app.now());
        job(&app, app.now()).await;
        for (i, (m, _)) in members.iter().enumerate() {
            let yuan = SPEND[i].1[month];
            if yuan > 0 {
                buy(&app, &till, m, yuan * 100, &format!("Y{month}-{i}")).await;
            }
        }
        for (i, (_, id)) in members.iter().enumerate() {
            seen[i].push(tier(&app, *id).await);
        }
    }
    for (i, (name, _)) in SPEND.iter().enumerate() {
        let want: Vec<String> = TIERS[i].iter().map(|s| s.to_string()).collect();
        assert_eq!(seen[i], want, "{name}: tier month by month");
    }
    for (i, (m, _)) in members.iter().enumerate() {
        let page = json_ok(
            m.client.get("/api/v1/me/notifications").await,
            StatusCode::OK,
        )
        .await;
        let mut got: Vec<String> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["kind"].as_str().unwrap().to_string())
            .collect();
        got.reverse();
        assert_eq!(got, INBOX[i], "{}: inbox over the year", SPEND[i].0);
    }
    // Running the job again on the last day changes nothing.
    let again = job(&app, app.now()).await;
    assert_eq!((again.evaluated, again.warned), (0, 0));
}
