//! Points expiry: the rules at their local-midnight boundaries, the job exactly once
//! (twice in a row, two instances at once, after a run cut short), and due points that
//! can't be spent even before the job reaches them.

use member_core::civil;
use member_core::points::last_valid_day;
use member_server::points::store::ledger;
use reqwest::StatusCode;

use crate::common::{assert_error, idem, json_ok, phone, TestApp};
use crate::ledger::{adjust, batches, buy, count, run_expiry, server_db, set_rule};

both_backends!(
    thirty_day_rule_expires_after_thirty_one_days,
    month_end_and_year_end_end_at_local_midnight_in_june,
    month_end_and_year_end_end_at_local_midnight_in_december,
    job_twice_or_concurrently_expires_once,
    due_points_are_not_spendable_before_the_job,
    rules_are_validated_and_audited,
    one_failing_member_does_not_block_the_others,
);

const DAY: i64 = 86_400;

async fn thirty_day_rule_expires_after_thirty_one_days(app: TestApp) {
    let m = app.sign_up(&phone(1), "张三").await;
    let no = m.me.member_no.clone();
    let admin = app.admin_login().await;
    let till = app.staff_login().await;
    set_rule(&admin, "days", 30).await;
    let bought_at = app.now();
    buy(&app, &till, &m, 12_300, "X-1").await;
    let at = batches(&app, &no).await[0].2.expect("expires");
    // Valid through the local day 30 days after the purchase, gone at the midnight after.
    let last = civil::days_from_date(last_valid_day(at));
    let earned = civil::days_from_date(civil::local_date(bought_at));
    assert!(
        (30..=31).contains(&(last - earned)),
        "last valid day {} for a purchase on {}",
        civil::iso(last_valid_day(at)),
        civil::iso(civil::local_date(bought_at))
    );

    // One second before: nothing due.
    assert_eq!(run_expiry(&app, at - 1).await, ledger::ExpiryRun::default());
    app.advance_clock(31 * DAY);
    let run = run_expiry(&app, app.now()).await;
    assert_eq!((run.members, run.points), (1, 123));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM points_ledger WHERE kind = 'expire'"
        )
        .await,
        1
    );
    // The month passed: the member signs in again and finds the expiry in the history.
    let m = app.sign_up(&m.phone, "张三").await;
    let me = m.me().await;
    assert_eq!(me.points, 0);
    assert!(me.expiring.is_none());
    let h = m.points_history().await;
    assert_eq!(h["items"][0]["kind"], "expire", "{h}");
    assert_eq!(h["items"][0]["points"], -123, "{h}");
    assert!(h["items"][0]["expires_at"].is_null(), "{h}");
    // The scheduled job's work is counted per instance.
    let metrics = app.metrics().await.text().await.unwrap_or_default();
    assert!(metrics.contains("\nmc_points_expired_total "), "{metrics}");
}

async fn month_end_and_year_end_end_at_local_midnight_in_june(app: TestApp) {
    app.move_clock_to_next(6, 15);
    month_end_and_year_end(app, false).await;
}

/// In December the month's end is the year's end: both batches expire together.
async fn month_end_and_year_end_end_at_local_midnight_in_december(app: TestApp) {
    app.move_clock_to_next(12, 10);
    month_end_and_year_end(app, true).await;
}

async fn month_end_and_year_end(app: TestApp, december: bool) {
    let m = app.sign_up(&phone(2), "李四").await;
    let no = m.me.member_no.clone();
    let admin = app.admin_login().await;
    let till = app.staff_login().await;
    set_rule(&admin, "month_end", 0).await;
    let t0 = app.now();
    buy(&app, &till, &m, 10_000, "M-1").await;
    set_rule(&admin, "year_end", 0).await;
    buy(&app, &till, &m, 20_000, "Y-1").await;
    let rows = batches(&app, &no).await;
    let month_end = rows[0].2.expect("month_end expires");
    let year_end = rows[1].2.expect("year_end expires");

    // First of next month / next year, 00:00 in Shanghai (16:00 UTC the day before).
    let today = civil::local_date(t0);
    let next_month = civil::first_of_month_after(today, 1);
    let next_year = civil::Date {
        year: today.year + 1,
        month: 1,
        day: 1,
    };
    assert_eq!(month_end, civil::local_midnight(next_month));
    assert_eq!(year_end, civil::local_midnight(next_year));
    assert_eq!(year_end == month_end, december);
    assert_eq!((month_end + civil::TZ_OFFSET_SECS) % DAY, 0);
    assert_eq!((year_end + civil::TZ_OFFSET_SECS) % DAY, 0);
    assert_eq!(last_valid_day(year_end).month, 12);
    assert_eq!(last_valid_day(year_end).day, 31);

    // The month-end batch is shown as expiring (it is at most a month away).
    let me = m.me().await;
    let exp = me.expiring.expect("month end is near");
    let expiring = if december { 300 } else { 100 };
    assert_eq!(exp.points, expiring);
    assert_eq!(exp.last_day, civil::iso(last_valid_day(month_end)));

    // 23:59:59 on the last day: still valid. Midnight: gone.
    assert_eq!(run_expiry(&app, month_end - 1).await.points, 0);
    let at_month_end = run_expiry(&app, month_end).await.points;
    if december {
        assert_eq!(at_month_end, 300);
    } else {
        assert_eq!(at_month_end, 100);
        assert_eq!(run_expiry(&app, year_end - 1).await.points, 0);
        assert_eq!(run_expiry(&app, year_end).await.points, 200);
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM points_ledger WHERE kind = 'expire'"
        )
        .await,
        2
    );
    assert_eq!(m.me().await.points, 0);
}

async fn job_twice_or_concurrently_expires_once(app: TestApp) {
    let admin = app.admin_login().await;
    let till = app.staff_login().await;
    set_rule(&admin, "days", 1).await;
    let mut members = Vec::new();
    for i in 0..4u32 {
        let m = app.sign_up(&phone(10 + i), "会员").await;
        // Two batches each (same day: they may share an expiry or not).
        buy(
            &app,
            &till,
            &m,
            1_000 * i64::from(i + 1),
            &format!("J-{i}-a"),
        )
        .await;
        buy(&app, &till, &m, 500, &format!("J-{i}-b")).await;
        members.push(m);
    }
    let due = app.now() + 3 * DAY;
    let total: i64 = (1..=4).map(|i| 10 * i + 5).sum();

    // A run cut short after one member (as if the instance died), then two instances at
    // once, then again: every batch expires once.
    let db_a = server_db(&app).await;
    let db_b = server_db(&app).await;
    let first = ledger::expire_due(&db_a, due, 0, 1)
        .await
        .expect("partial run");
    assert_eq!(first.members, 1);
    let (a, b) = tokio::join!(
        member_server::points::jobs::run_once(&db_a, due),
        member_server::points::jobs::run_once(&db_b, due),
    );
    let (a, b) = (a.expect("run a"), b.expect("run b"));
    assert_eq!(
        first.points + a.points + b.points,
        total,
        "{first:?} {a:?} {b:?}"
    );
    assert_eq!(first.members + a.members + b.members, 4);
    let again = member_server::points::jobs::run_once(&db_a, due + 1)
        .await
        .expect("again");
    assert_eq!(again, ledger::ExpiryRun::default());
    db_a.close().await;
    db_b.close().await;

    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM points_ledger WHERE kind = 'expire'"
        )
        .await,
        8,
        "one expire row per batch"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM points_batches WHERE remaining <> 0"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM (SELECT source_ref FROM points_ledger WHERE kind = 'expire' \
             GROUP BY source_ref HAVING COUNT(*) > 1) d"
        )
        .await,
        0
    );
    for m in &members {
        assert_eq!(m.me().await.points, 0);
    }
}

async fn due_points_are_not_spendable_before_the_job(app: TestApp) {
    let m = app.sign_up(&phone(3), "王五").await;
    let no = m.me.member_no.clone();
    let admin = app.admin_login().await;
    let till = app.staff_login().await;
    set_rule(&admin, "days", 1).await;
    buy(&app, &till, &m, 10_000, "D-1").await;
    let at = batches(&app, &no).await[0].2.expect("expires");
    // Past the expiry on the server's clock, before any job run.
    app.advance_clock(at - app.now() + 10);
    let admin = app.admin_login().await;
    let me = m.me().await;
    assert_eq!(me.points, 0, "due points are not shown as spendable");
    assert!(me.expiring.is_none());
    assert_error(
        adjust(&admin, &no, -10, "抵扣 / spend", &idem()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "insufficient_points",
    )
    .await;
    // A fresh credit is spendable; spending it expires the due batch on the way.
    set_rule(&admin, "never", 0).await;
    json_ok(
        adjust(&admin, &no, 20, "补偿 / goodwill", &idem()).await,
        StatusCode::OK,
    )
    .await;
    let r = json_ok(
        adjust(&admin, &no, -15, "抵扣 / spend", &idem()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["points"], 5, "{r}");
    assert_eq!(m.me().await.points, 5);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM points_ledger WHERE kind = 'expire'"
        )
        .await,
        1
    );
    // The job finds nothing left.
    assert_eq!(run_expiry(&app, app.now()).await.points, 0);
}

async fn rules_are_validated_and_audited(app: TestApp) {
    let admin = app.admin_login().await;
    let rules = json_ok(
        admin.get("/api/v1/admin/points-rules").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rules, serde_json::json!({ "expiry": "year_end", "n": 1 }));
    for body in [
        serde_json::json!({ "expiry": "weekly", "n": 1 }),
        serde_json::json!({ "expiry": "days", "n": 0 }),
        serde_json::json!({ "expiry": "days", "n": -5 }),
        serde_json::json!({ "expiry": "days", "n": 3661 }),
        serde_json::json!({ "expiry": "month_end", "n": 121 }),
        serde_json::json!({ "expiry": "year_end", "n": 11 }),
        serde_json::json!({ "n": 1 }),
        serde_json::json!({ "expiry": "days", "n": "30" }),
    ] {
        let resp = admin
            .http
            .put(format!("{}/api/v1/admin/points-rules", admin.base))
            .json(&body)
            .send()
            .await
            .expect("PUT");
        assert_error(resp, StatusCode::BAD_REQUEST, "invalid_input").await;
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'points.rules'"
        )
        .await,
        0
    );
    set_rule(&admin, "month_end", 12).await;
    let rules = json_ok(
        admin.get("/api/v1/admin/points-rules").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rules, serde_json::json!({ "expiry": "month_end", "n": 12 }));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'points.rules' AND actor = 'staff:admin' \
             AND detail = 'expiry year_end 1 -> month_end 12'"
        )
        .await,
        1
    );
    // "never" ignores n.
    set_rule(&admin, "never", 0).await;
}

/// A member whose expiry fails (here: a balance hand-edited below their batches) is
/// logged and skipped; members after them still expire, now and on the next run.
async fn one_failing_member_does_not_block_the_others(app: TestApp) {
    let admin = app.admin_login().await;
    let till = app.staff_login().await;
    set_rule(&admin, "days", 1).await;
    let broken = app.sign_up(&phone(40), "坏数据").await;
    let fine = app.sign_up(&phone(41), "正常").await;
    buy(&app, &till, &broken, 5_000, "K-1").await;
    buy(&app, &till, &fine, 7_000, "K-2").await;
    app.db
        .execute(&format!(
            "UPDATE members SET points = 1 WHERE member_no = '{}'",
            broken.me.member_no
        ))
        .await;
    let due = app.now() + 3 * DAY;
    let db = server_db(&app).await;
    for _ in 0..2 {
        let run = member_server::points::jobs::run_once(&db, due)
            .await
            .expect("run");
        assert_eq!(run.failed, 1, "{run:?}");
    }
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM points_ledger l JOIN members m ON m.id = l.member_id \
                 WHERE l.kind = 'expire' AND m.member_no = '{}'",
                fine.me.member_no
            )
        )
        .await,
        1
    );
    // Put the hand edit back, so the invariant check after the test holds.
    app.db
        .execute(&format!(
            "UPDATE members SET points = 50 WHERE member_no = '{}'",
            broken.me.member_no
        ))
        .await;
}
