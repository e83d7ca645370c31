//! The tier job (`member_server::tiers::jobs::run_once`): evaluations under each policy, idempotent runs
//! (twice, two instances at once, with and without the lease), catching up after an
//! outage, warnings, window recounts, decay, member-day messages, a failing member
//! skipped, and versions applying from their start only.

use member_core::civil;
use member_core::dto::MemberDayRule;
use member_core::tier_program;
use member_server::tiers::jobs::{run_once, TierRun};
use member_server::tiers::store::tier_eval;
use member_server::tiers::store::tier_program as versions;
use reqwest::StatusCode;

use crate::common::{json_ok, phone, Client, Member, TestApp};
use crate::ledger::{buy, member_id, server_db};
use crate::tiers::{growth_events_sum, member_growth, set_program};

both_backends!(
    evaluation_keeps_drops_and_steps_down,
    job_twice_and_two_instances_evaluate_once,
    catch_up_after_an_outage,
    warning_only_when_short_and_once,
    window_recount_drops_old_growth_not_the_tier,
    decay_once_a_day_never_below_zero,
    member_day_messages_once_for_everyone,
    a_failing_member_is_skipped,
    a_version_applies_from_its_start_only,
);

const DAY: i64 = 86_400;

pub async fn job(app: &TestApp, now: i64) -> TierRun {
    let db = server_db(app).await;
    let run = run_once(&db, now, "test").await.expect("tier job");
    db.close().await;
    run
}

/// Signs the member in again: sessions end when the clock jumps months ahead.
pub async fn sign_in(app: &TestApp, m: &Member) {
    let resp = m
        .client
        .post("/api/v1/auth/otp", &serde_json::json!({ "phone": m.phone }))
        .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED, "otp for {}", m.phone);
    let code = app.otp_for(&m.phone).await;
    let resp = m
        .client
        .post(
            "/api/v1/auth/verify",
            &serde_json::json!({ "phone": m.phone, "code": code, "privacy_consent": true }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK, "sign in {}", m.phone);
}

/// Lets `secs` pass, then signs the members and the cashier in again.
pub async fn jump(app: &TestApp, secs: i64, members: &[&Member]) -> Client {
    app.advance_clock(secs);
    for m in members {
        sign_in(app, m).await;
    }
    app.staff_login().await
}

pub async fn tier(app: &TestApp, id: i64) -> String {
    let n = |code: &str| {
        format!("SELECT COUNT(*) FROM members WHERE id = {id} AND tier_code = '{code}'")
    };
    for code in ["normal", "silver", "gold", "diamond"] {
        if app.db.scalar_i64(&n(code)).await == 1 {
            return code.to_string();
        }
    }
    panic!("member {id} has no known tier")
}

async fn kinds(app: &TestApp, id: i64) -> Vec<String> {
    let mut out = Vec::new();
    for kind in [
        "upgraded",
        "kept",
        "downgraded",
        "downgrade_warning",
        "member_day",
    ] {
        let n = app
            .db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM notifications WHERE member_id = {id} AND kind = '{kind}'"
            ))
            .await;
        for _ in 0..n {
            out.push(kind.to_string());
        }
    }
    out
}

/// A member who reaches `cents / 100` growth now (gold at 200,000).
async fn member_at(app: &TestApp, till: &Client, n: u32, cents: i64) -> (Member, i64) {
    let m = app.sign_up(&phone(n), "会员").await;
    let id = member_id(app, &m.me.member_no).await;
    buy(app, till, &m, cents, &format!("UP-{n}")).await;
    (m, id)
}

async fn period_end_of(app: &TestApp, id: i64) -> i64 {
    app.db
        .scalar_i64(&format!("SELECT period_end FROM members WHERE id = {id}"))
        .await
}

async fn evaluation_keeps_drops_and_steps_down(app: TestApp) {
    set_program(&app, |p| p.downgrade.period_months = 3).await;
    let till = app.staff_login().await;
    let (a, ida) = member_at(&app, &till, 1, 200_000).await;
    let (b, idb) = member_at(&app, &till, 2, 200_000).await;
    let (_c, idc) = member_at(&app, &till, 3, 200_000).await;
    let till = jump(&app, 10 * DAY, &[&a, &b]).await;
    buy(&app, &till, &a, 200_000, "A-keep").await;
    buy(&app, &till, &b, 60_000, "B-short").await;
    // Nothing due yet.
    assert_eq!(job(&app, app.now()).await.evaluated, 0);
    let till = jump(&app, 90 * DAY, &[&a, &b]).await;
    let run = job(&app, app.now()).await;
    assert_eq!(
        (run.evaluated, run.kept, run.downgraded),
        (3, 1, 2),
        "{run:?}"
    );
    assert_eq!(tier(&app, ida).await, "gold");
    assert_eq!(
        tier(&app, idb).await,
        "silver",
        "to the tier the period earned"
    );
    assert_eq!(tier(&app, idc).await, "normal");
    assert_eq!(kinds(&app, ida).await, vec!["upgraded", "kept"]);
    assert_eq!(kinds(&app, idb).await, vec!["upgraded", "downgraded"]);
    let null_end = app
        .db
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM members WHERE id = {idc} AND period_end IS NULL"
        ))
        .await;
    assert_eq!(null_end, 1, "the entry tier has no period");
    // B's lifetime growth (2,600) would reach gold, but what was judged too little no
    // longer counts: B stays silver on the next purchase.
    assert_eq!(member_growth(&app, idb).await, 600);
    let r = buy(&app, &till, &b, 10_000, "B-after").await;
    assert_eq!(r["tier"]["code"], "silver");
    assert_eq!(
        job(&app, app.now()).await.evaluated,
        0,
        "a second run changes nothing"
    );

    // One step at most: gold with nothing earned ends one tier down, then one more.
    set_program(&app, |p| p.downgrade.policy = "one_step".into()).await;
    drop(till);
    app.advance_clock(95 * DAY);
    job(&app, app.now()).await;
    assert_eq!(tier(&app, ida).await, "silver");
    app.advance_clock(95 * DAY);
    job(&app, app.now()).await;
    assert_eq!(tier(&app, ida).await, "normal");
}

async fn job_twice_and_two_instances_evaluate_once(app: TestApp) {
    let till = app.staff_login().await;
    let mut ids = Vec::new();
    let mut members = Vec::new();
    for n in 0..10 {
        let (m, id) = member_at(&app, &till, 20 + n, 200_000).await;
        ids.push(id);
        members.push(m);
    }
    // Half keep gold in the first year.
    let refs: Vec<&Member> = members.iter().take(5).collect();
    let till = jump(&app, 30 * DAY, &refs).await;
    for (n, m) in members.iter().enumerate().take(5) {
        buy(&app, &till, m, 200_000, &format!("K-{n}")).await;
    }
    app.advance_clock(340 * DAY);
    let now = app.now();
    // Without the lease: two evaluators at once on two connections.
    let db1 = server_db(&app).await;
    let db2 = server_db(&app).await;
    let all = versions::all(&db1).await.unwrap();
    let (r1, r2) = tokio::join!(
        tier_eval::evaluate_due(&db1, &all, now),
        tier_eval::evaluate_due(&db2, &all, now)
    );
    let (r1, r2) = (r1.unwrap(), r2.unwrap());
    assert_eq!(r1.changed + r2.changed, 10, "{r1:?} {r2:?}");
    assert_eq!(r1.kept + r2.kept, 5);
    let evaluations = || async {
        app.db
            .scalar_i64("SELECT COUNT(*) FROM tier_changes WHERE period_end IS NOT NULL")
            .await
    };
    assert_eq!(evaluations().await, 10);
    // With the lease: two instances run the whole job at once; a year later the kept
    // ones drop. Each member is evaluated once.
    app.advance_clock(370 * DAY);
    let now = app.now();
    let (a, b) = tokio::join!(run_once(&db1, now, "one"), run_once(&db2, now, "two"));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.evaluated + b.evaluated, 5, "{a:?} {b:?}");
    assert_eq!(a.downgraded + b.downgraded, 5);
    assert_eq!(evaluations().await, 15);
    let again = run_once(&db1, now, "one").await.unwrap();
    assert!(again.leased);
    assert_eq!(again.evaluated, 0);
    let messages = app
        .db
        .scalar_i64("SELECT COUNT(*) FROM notifications WHERE dedupe LIKE 'eval:%'")
        .await;
    assert_eq!(messages, 15);
    // Someone else's lease that hasn't run out keeps this instance away.
    let until = now + 600;
    app.db
        .execute(&format!(
            "INSERT INTO job_leases (name, holder, until) VALUES ('tiers', 'elsewhere', {until})"
        ))
        .await;
    assert!(!run_once(&db1, now, "one").await.unwrap().leased);
    assert!(
        run_once(&db1, until, "one").await.unwrap().leased,
        "a lease runs out"
    );
    db1.close().await;
    db2.close().await;
    for id in ids {
        assert_eq!(tier(&app, id).await, "normal");
    }
}

async fn catch_up_after_an_outage(app: TestApp) {
    set_program(&app, |p| {
        p.downgrade.policy = "one_step".into();
        p.downgrade.period_months = 1;
        p.downgrade.warn_days = 7;
    })
    .await;
    let till = app.staff_login().await;
    let (_m, id) = member_at(&app, &till, 40, 800_000).await;
    assert_eq!(tier(&app, id).await, "diamond");
    app.advance_clock(125 * DAY);
    let run = job(&app, app.now()).await;
    assert_eq!((run.evaluated, run.downgraded), (3, 3), "{run:?}");
    assert_eq!(tier(&app, id).await, "normal");
    let ends = app
        .db
        .scalar_i64(&format!(
            "SELECT COUNT(DISTINCT period_end) FROM tier_changes WHERE member_id = {id} AND kind = 'downgraded'"
        ))
        .await;
    assert_eq!(ends, 3, "one evaluation per period, in order");
}

async fn warning_only_when_short_and_once(app: TestApp) {
    set_program(&app, |p| p.downgrade.period_months = 3).await;
    let till = app.staff_login().await;
    let (a, ida) = member_at(&app, &till, 50, 200_000).await;
    let (b, idb) = member_at(&app, &till, 51, 200_000).await;
    let till = jump(&app, 5 * DAY, &[&a, &b]).await;
    buy(&app, &till, &b, 200_000, "B-keeps").await;
    buy(&app, &till, &a, 30_000, "A-some").await;
    let end = period_end_of(&app, ida).await;
    jump(&app, end - 20 * DAY - app.now(), &[&a]).await;
    let run = job(&app, app.now()).await;
    assert_eq!(run.warned, 1, "{run:?}");
    let inbox = json_ok(
        a.client.get("/api/v1/me/notifications").await,
        StatusCode::OK,
    )
    .await;
    let warning = &inbox["items"][0];
    assert_eq!(warning["kind"], "downgrade_warning");
    assert_eq!(warning["data"]["growth_needed"], 1700);
    assert_eq!(
        warning["data"]["date"],
        civil::iso(tier_program::last_day(end))
    );
    let keep = a.me().await.keep.unwrap();
    assert_eq!(keep.growth_needed, 1700, "the card and the warning agree");
    assert_eq!(job(&app, app.now()).await.warned, 0, "once per period");
    assert_eq!(kinds(&app, idb).await, vec!["upgraded"]);
}

async fn window_recount_drops_old_growth_not_the_tier(app: TestApp) {
    set_program(&app, |p| p.growth.window_months = 1).await;
    let till = app.staff_login().await;
    let (m, id) = member_at(&app, &till, 60, 60_000).await;
    assert_eq!(tier(&app, id).await, "silver");
    jump(&app, 40 * DAY, &[&m]).await;
    let run = job(&app, app.now()).await;
    assert_eq!(run.recounted, 1, "{run:?}");
    assert_eq!(member_growth(&app, id).await, 0);
    assert_eq!(
        tier(&app, id).await,
        "silver",
        "only evaluations move tiers down"
    );
    let me = m.me().await;
    assert_eq!((me.growth, me.next_tier.unwrap().growth_needed), (0, 2000));
    assert_eq!(job(&app, app.now()).await.recounted, 0);
    let spend = app
        .db
        .scalar_i64(&format!(
            "SELECT window_spend_cents FROM members WHERE id = {id}"
        ))
        .await;
    assert_eq!(spend, 0);
}

async fn decay_once_a_day_never_below_zero(app: TestApp) {
    set_program(&app, |p| {
        p.growth.window = "lifetime".into();
        p.growth.window_months = 0;
        p.growth.decay_after_days = 10;
        p.growth.decay_per_day = 100;
    })
    .await;
    let till = app.staff_login().await;
    let (_m, id) = member_at(&app, &till, 70, 25_000).await;
    let bought = app.now();
    let day = |t: i64| (t + civil::TZ_OFFSET_SECS).div_euclid(DAY);
    // Noon (local) eleven days after the purchase's day: one idle day past the ten.
    let target = (day(bought) + 11) * DAY - civil::TZ_OFFSET_SECS + 12 * 3_600;
    app.advance_clock(target - app.now());
    let run = job(&app, app.now()).await;
    assert_eq!(run.decayed, 1);
    assert_eq!(member_growth(&app, id).await, 150);
    assert_eq!(job(&app, app.now()).await.decayed, 0, "once a day");
    app.advance_clock(5 * DAY);
    job(&app, app.now()).await;
    assert_eq!(member_growth(&app, id).await, 0, "never below zero");
    assert_eq!(growth_events_sum(&app, id).await, 0);
    app.advance_clock(DAY);
    assert_eq!(
        job(&app, app.now()).await.decayed,
        0,
        "nothing left to decay"
    );
}

async fn member_day_messages_once_for_everyone(app: TestApp) {
    let a = app.sign_up(&phone(80), "甲").await;
    app.sign_up(&phone(81), "乙").await;
    let now = app.now();
    let weekday = member_core::civil::weekday(civil::local_date(now));
    set_program(&app, |p| {
        p.member_day = Some(MemberDayRule {
            day: format!("weekday:{weekday}"),
            points_multiplier_pct: 300,
            growth_multiplier_pct: 100,
        });
    })
    .await;
    let members = app.db.scalar_i64("SELECT COUNT(*) FROM members").await;
    let run = job(&app, now).await;
    assert_eq!(run.member_day_notices as i64, members);
    assert_eq!(job(&app, now).await.member_day_notices, 0);
    let inbox = json_ok(
        a.client.get("/api/v1/me/notifications").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(inbox["items"][0]["kind"], "member_day");
    assert_eq!(inbox["items"][0]["data"]["points_multiplier_pct"], 300);
    assert_eq!(
        job(&app, now + 2 * DAY).await.member_day_notices,
        0,
        "not a member day"
    );
}

async fn a_failing_member_is_skipped(app: TestApp) {
    set_program(&app, |p| {
        p.downgrade.period_months = 1;
        p.downgrade.warn_days = 7;
    })
    .await;
    let till = app.staff_login().await;
    let (_a, ida) = member_at(&app, &till, 90, 200_000).await;
    let (_b, idb) = member_at(&app, &till, 91, 200_000).await;
    let (_c, idc) = member_at(&app, &till, 92, 200_000).await;
    app.db
        .execute(&format!(
            "UPDATE members SET period_start = NULL WHERE id = {idb}"
        ))
        .await;
    app.advance_clock(40 * DAY);
    let run = job(&app, app.now()).await;
    assert_eq!((run.evaluated, run.skipped >= 1), (2, true), "{run:?}");
    assert_eq!(tier(&app, ida).await, "normal");
    assert_eq!(tier(&app, idc).await, "normal");
    assert_eq!(
        tier(&app, idb).await,
        "gold",
        "left for a person to look at"
    );
}

async fn a_version_applies_from_its_start_only(app: TestApp) {
    set_program(&app, |p| p.downgrade.period_months = 3).await;
    let till = app.staff_login().await;
    let (m, id) = member_at(&app, &till, 95, 200_000).await;
    let till = jump(&app, DAY, &[&m]).await;
    buy(&app, &till, &m, 60_000, "in-period").await;
    let end = period_end_of(&app, id).await;
    let old = versions::in_effect(&server_db(&app).await, app.now())
        .await
        .unwrap();
    // Cheaper gold from a day after the period's end: the evaluation at the end keeps
    // the rules of its time.
    let admin = app.admin_login().await;
    let mut cheap = old.program.clone();
    cheap.tiers[1].growth_threshold = 300;
    cheap.tiers[2].growth_threshold = 500;
    let from = chrono::DateTime::from_timestamp(end + DAY, 0)
        .unwrap()
        .to_rfc3339();
    json_ok(
        admin
            .post(
                "/api/v1/admin/tier-program",
                &serde_json::json!({ "program": cheap, "effective_from": from }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    app.advance_clock(end + 2 * DAY - app.now());
    job(&app, app.now()).await;
    assert_eq!(
        tier(&app, id).await,
        "silver",
        "judged by the old thresholds"
    );
    let version = app
        .db
        .scalar_i64(&format!(
            "SELECT version_id FROM tier_changes WHERE member_id = {id} AND period_end = {end}"
        ))
        .await;
    assert_eq!(version, old.id);
}
