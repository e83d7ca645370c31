//! The tier program through the API: versions (admin), earning by the program in effect
//! (member day, birthday month, upgrade points, first-purchase growth), upgrades that
//! start a period with a keep line, refunds as growth events, tasks (check-in, profile),
//! growth history and the inbox — each member seeing only their own.

use member_core::civil;
use member_core::dto::{
    GrowthHistoryPage, NotificationsPage, PurchaseResult, TierProgram, TierProgramVersions,
    TierStatusView,
};
use member_core::tier_program;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{assert_error, idem, json_ok, phone, Client, Member, TestApp};
use crate::ledger::{buy, member_id, refund};

both_backends!(
    upgrade_starts_a_period_with_points_message_and_keep_line,
    member_day_and_birthday_month_multiply_and_preview_agrees,
    first_purchase_growth_once_and_replay_changes_nothing,
    refunds_are_growth_events_and_window_sums_stay_exact,
    admin_versions_validate_audit_and_start_on_their_date,
);

// ---------------------------------------------------------------------------------------
// Helpers shared with the job tests

pub async fn program_now(admin: &Client) -> TierProgram {
    let v: TierProgramVersions = serde_json::from_value(
        json_ok(
            admin.get("/api/v1/admin/tier-program").await,
            StatusCode::OK,
        )
        .await,
    )
    .expect("versions");
    v.versions
        .into_iter()
        .find(|x| x.id == v.current_id)
        .expect("current version listed")
        .program
}

/// A new version, effective now, from the current one with `edit` applied.
pub async fn set_program(app: &TestApp, edit: impl FnOnce(&mut TierProgram)) -> TierProgram {
    let admin = app.admin_login().await;
    let mut p = program_now(&admin).await;
    edit(&mut p);
    let resp = admin
        .post(
            "/api/v1/admin/tier-program",
            &json!({ "program": p, "note": "test" }),
        )
        .await;
    json_ok(resp, StatusCode::CREATED).await;
    p
}

pub async fn growth_events_sum(app: &TestApp, id: i64) -> i64 {
    app.db
        .scalar_i64(&format!(
            "SELECT CAST(COALESCE(SUM(growth), 0) AS BIGINT) FROM growth_events WHERE member_id = {id}"
        ))
        .await
}

pub async fn member_growth(app: &TestApp, id: i64) -> i64 {
    app.db
        .scalar_i64(&format!("SELECT growth FROM members WHERE id = {id}"))
        .await
}

pub async fn notifications(m: &Member) -> NotificationsPage {
    serde_json::from_value(
        json_ok(
            m.client.get("/api/v1/me/notifications").await,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap()
}

async fn buy_result(
    app: &TestApp,
    till: &Client,
    m: &Member,
    cents: i64,
    order: &str,
) -> PurchaseResult {
    serde_json::from_value(buy(app, till, m, cents, order).await).unwrap()
}

// ---------------------------------------------------------------------------------------

async fn upgrade_starts_a_period_with_points_message_and_keep_line(app: TestApp) {
    set_program(&app, |p| {
        p.tiers[1].upgrade_points = 100;
        p.tiers[2].upgrade_points = 300;
    })
    .await;
    let till = app.staff_login().await;
    let m = app.sign_up(&phone(1), "升级").await;
    let id = member_id(&app, &m.me.member_no).await;
    let before = m.me().await.points;
    assert!(m.me().await.keep.is_none(), "entry tier: nothing to keep");

    let r = buy_result(&app, &till, &m, 60_000, "U-1").await;
    let upgraded_at = app.now();
    assert!(r.upgraded);
    assert_eq!(r.tier.code, "silver");
    assert_eq!(r.upgrade_points, 100);
    // 600 yuan at the entry rate (1 point per yuan) + the silver gift.
    assert_eq!(r.points, before + 600 + 100);
    let me = m.me().await;
    assert_eq!(me.points, before + 700);
    let keep = me.keep.clone().expect("keep line after an upgrade");
    assert_eq!(keep.tier.code, "silver");
    let end = tier_program::period_end(upgraded_at, 12);
    assert_eq!(keep.until, civil::iso(tier_program::last_day(end)));
    // The growth that caused the upgrade doesn't keep the tier too.
    assert_eq!((keep.period_growth, keep.growth_needed), (0, 500));
    assert_eq!(
        app.db
            .scalar_i64(&format!("SELECT period_end FROM members WHERE id = {id}"))
            .await,
        end
    );

    let r = buy_result(&app, &till, &m, 20_000, "U-2").await;
    assert!(!r.upgraded);
    let keep = m.me().await.keep.unwrap();
    assert_eq!((keep.period_growth, keep.growth_needed), (200, 300));
    let status: TierStatusView = serde_json::from_value(
        json_ok(m.client.get("/api/v1/me/tier").await, StatusCode::OK).await,
    )
    .unwrap();
    assert_eq!(status.keep, Some(keep));

    // Two tiers at once: both gifts, one message, one tier change.
    let r = buy_result(&app, &till, &m, 150_000, "U-3").await;
    assert_eq!((r.tier.code.as_str(), r.upgrade_points), ("gold", 300));
    let inbox = notifications(&m).await;
    let kinds: Vec<&str> = inbox.items.iter().map(|n| n.kind.as_str()).collect();
    assert_eq!(kinds, vec!["upgraded", "upgraded"]);
    assert_eq!(inbox.items[0].data.tier.as_ref().unwrap().code, "gold");
    assert_eq!(inbox.unread, 2);
    assert_eq!(m.me().await.notifications_unread, 2);
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM tier_changes WHERE member_id = {id}"
            ))
            .await,
        2
    );
    let gifts = app
        .db
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM points_ledger WHERE member_id = {id} AND reason LIKE '升级礼%'"
        ))
        .await;
    assert_eq!(gifts, 2);
    assert_eq!(
        growth_events_sum(&app, id).await,
        member_growth(&app, id).await
    );
}

/// Moves the server's clock forward to noon (local) tomorrow, so a test that depends on
/// the date can't cross midnight halfway.
pub fn to_noon_tomorrow(app: &TestApp) {
    let now = app.now();
    let noon = civil::local_midnight(civil::local_date(now)) + 12 * 3_600 + 86_400;
    app.advance_clock(noon - now);
}

async fn member_day_and_birthday_month_multiply_and_preview_agrees(app: TestApp) {
    to_noon_tomorrow(&app);
    let today = civil::local_date(app.now());
    let till = app.staff_login().await;
    let m = app.sign_up(&phone(2), "会员日").await;
    let id = member_id(&app, &m.me.member_no).await;
    set_program(&app, |p| {
        p.member_day = Some(member_core::dto::MemberDayRule {
            day: format!("monthday:{}", today.day),
            points_multiplier_pct: 200,
            growth_multiplier_pct: 150,
        });
    })
    .await;
    // Preview at the till says what the purchase then earns.
    app.advance_clock(member_core::card_code::STEP_SECS);
    let code = m.card_code().await;
    let preview = json_ok(
        till.post(
            "/api/v1/staff/checkout/preview",
            &json!({ "code": code, "amount_cents": 10_000 }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(preview["quote"]["points_earned"], 200);
    // What the till needs to preview any amount the same way.
    assert_eq!(preview["earn"]["points_multiplier_pcts"], json!([200]));
    assert_eq!(preview["earn"]["growth_multiplier_pct"], 150);
    let r: PurchaseResult = serde_json::from_value(
        json_ok(
            till.purchase(&code, 10_000, "MD-1", &idem()).await,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap();
    assert_eq!(
        (r.points_earned, r.growth_earned, r.member_day),
        (200, 150, true)
    );

    // Not a member day: plain rate.
    let other = if today.day == 1 { 2 } else { 1 };
    set_program(&app, |p| {
        if let Some(md) = p.member_day.as_mut() {
            md.day = format!("monthday:{other}");
        }
    })
    .await;
    let r = buy_result(&app, &till, &m, 10_000, "MD-2").await;
    assert_eq!(
        (r.points_earned, r.growth_earned, r.member_day),
        (100, 100, false)
    );

    // Gold's birthday-month benefit (200 %) applies in the birthday month only.
    app.db
        .execute(&format!(
            "UPDATE members SET tier_code = 'gold', birth_month = {}, birth_day = 1 WHERE id = {id}",
            civil::local_date(app.now()).month
        ))
        .await;
    let r = buy_result(&app, &till, &m, 10_000, "BD-1").await;
    assert_eq!((r.points_earned, r.birthday_month), (300, true));
    let next_month = civil::local_date(app.now()).month % 12 + 1;
    app.db
        .execute(&format!(
            "UPDATE members SET birth_month = {next_month} WHERE id = {id}"
        ))
        .await;
    let r = buy_result(&app, &till, &m, 10_000, "BD-2").await;
    assert_eq!((r.points_earned, r.birthday_month), (150, false));
}

async fn first_purchase_growth_once_and_replay_changes_nothing(app: TestApp) {
    set_program(&app, |p| p.growth.first_purchase = 50).await;
    let till = app.staff_login().await;
    let m = app.sign_up(&phone(3), "首购").await;
    let id = member_id(&app, &m.me.member_no).await;
    app.advance_clock(member_core::card_code::STEP_SECS);
    let code = m.card_code().await;
    let key = idem();
    let first = json_ok(
        till.purchase(&code, 10_000, "FP-1", &key).await,
        StatusCode::OK,
    )
    .await;
    let again = json_ok(
        till.purchase(&code, 10_000, "FP-1", &key).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        first, again,
        "a replay answers what the first call answered"
    );
    let r: PurchaseResult = serde_json::from_value(first).unwrap();
    assert_eq!((r.growth_earned, r.task_growth, r.growth), (100, 50, 150));
    let r = buy_result(&app, &till, &m, 10_000, "FP-2").await;
    assert_eq!((r.task_growth, r.growth), (0, 250));
    assert_eq!(member_growth(&app, id).await, 250);
    assert_eq!(growth_events_sum(&app, id).await, 250);
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM growth_events WHERE member_id = {id}"
            ))
            .await,
        3
    );

    // Many members buying at once: every member's growth equals their events.
    let mut members = Vec::new();
    for n in 0..8 {
        members.push(app.sign_up(&phone(100 + n), "并发").await);
    }
    app.advance_clock(member_core::card_code::STEP_SECS);
    let mut handles = Vec::new();
    for (n, mm) in members.iter().enumerate() {
        let code = mm.card_code().await;
        let till = till.clone();
        handles.push(tokio::spawn(async move {
            till.purchase(&code, 12_300, &format!("C-{n}"), &idem())
                .await
                .status()
        }));
    }
    for h in handles {
        assert_eq!(h.await.unwrap(), StatusCode::OK);
    }
    let off = app
        .db
        .scalar_i64(
            "SELECT COUNT(*) FROM members m WHERE m.growth <> COALESCE((SELECT CAST(SUM(e.growth) AS BIGINT) \
             FROM growth_events e WHERE e.member_id = m.id), 0)",
        )
        .await;
    assert_eq!(off, 0);
}

async fn refunds_are_growth_events_and_window_sums_stay_exact(app: TestApp) {
    let till = crate::ledger::manager(&app, "S001").await;
    let m = app.sign_up(&phone(4), "退货").await;
    let id = member_id(&app, &m.me.member_no).await;
    buy(&app, &till, &m, 30_000, "R-1").await;
    buy(&app, &till, &m, 5_000, "R-2").await;
    json_ok(
        refund(&till, "R-1", "不要了", &idem()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(member_growth(&app, id).await, 50);
    assert_eq!(growth_events_sum(&app, id).await, 50);
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT window_spend_cents FROM members WHERE id = {id}"
            ))
            .await,
        5_000
    );
    // The refund leaves the window together with its purchase.
    let same = app
        .db
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM growth_events r JOIN growth_events p ON p.member_id = r.member_id \
             AND p.note = r.note AND p.kind = 'purchase' \
             WHERE r.member_id = {id} AND r.kind = 'refund' AND r.counts_until = p.counts_until"
        ))
        .await;
    assert_eq!(same, 1);
    let page: GrowthHistoryPage = serde_json::from_value(
        json_ok(m.client.get("/api/v1/me/growth").await, StatusCode::OK).await,
    )
    .unwrap();
    assert_eq!(page.items[0].kind, "refund");
    assert_eq!(page.items[0].growth, -300);
}

/// One way to spoil a program's JSON.
type Edit = Box<dyn Fn(&mut serde_json::Value)>;

async fn admin_versions_validate_audit_and_start_on_their_date(app: TestApp) {
    let admin = app.admin_login().await;
    let base = program_now(&admin).await;
    let count = || async {
        app.db
            .scalar_i64("SELECT COUNT(*) FROM tier_program_versions")
            .await
    };
    let before = count().await;
    let edits: Vec<(&str, Edit)> = vec![
        (
            "not ascending",
            Box::new(|p| p["tiers"][2]["growth_threshold"] = json!(100)),
        ),
        (
            "entry not 0",
            Box::new(|p| p["tiers"][0]["growth_threshold"] = json!(1)),
        ),
        (
            "policy",
            Box::new(|p| p["downgrade"]["policy"] = json!("sometimes")),
        ),
        (
            "rolling without months",
            Box::new(|p| p["growth"]["window_months"] = json!(0)),
        ),
        (
            "removed tier",
            Box::new(|p| {
                p["tiers"].as_array_mut().unwrap().pop();
            }),
        ),
        (
            "reordered",
            Box::new(|p| {
                let t = p["tiers"].as_array_mut().unwrap();
                t.swap(2, 3);
                t[2]["growth_threshold"] = json!(2000);
                t[3]["growth_threshold"] = json!(8000);
            }),
        ),
        (
            "multiplier",
            Box::new(|p| {
                p["member_day"] = json!({"day": "weekday:3", "points_multiplier_pct": 5000})
            }),
        ),
        (
            "member day",
            Box::new(|p| p["member_day"] = json!({"day": "weekday:9"})),
        ),
        (
            "benefit kind",
            Box::new(|p| p["tiers"][1]["benefits"] = json!([{"kind": "free_beer"}])),
        ),
        (
            "discount",
            Box::new(|p| p["tiers"][1]["benefits"] = json!([{"kind": "discount", "value": 120}])),
        ),
        (
            "control chars",
            Box::new(|p| p["tiers"][1]["name"] = json!("银\u{0}卡")),
        ),
        (
            "empty name",
            Box::new(|p| p["tiers"][1]["name"] = json!("")),
        ),
        (
            "bad code",
            Box::new(|p| p["tiers"][1]["code"] = json!("Silver Card")),
        ),
        (
            "huge",
            Box::new(|p| p["tiers"][3]["growth_threshold"] = json!(i64::MAX)),
        ),
        (
            "too big for i64",
            Box::new(|p| p["tiers"][3]["growth_threshold"] = json!(1e30)),
        ),
        (
            "negative rate",
            Box::new(|p| p["tiers"][1]["points_per_yuan_pct"] = json!(-5)),
        ),
        (
            "colour",
            Box::new(|p| p["tiers"][1]["color"] = json!("red")),
        ),
        ("icon", Box::new(|p| p["tiers"][1]["icon"] = json!("skull"))),
        (
            "period",
            Box::new(|p| p["downgrade"]["period_months"] = json!(0)),
        ),
        (
            "warn",
            Box::new(|p| p["downgrade"]["warn_days"] = json!(400)),
        ),
        (
            "decay half",
            Box::new(|p| p["growth"]["decay_per_day"] = json!(5)),
        ),
        (
            "per yuan",
            Box::new(|p| p["growth"]["per_yuan"] = json!(1000)),
        ),
        (
            "spend on entry",
            Box::new(|p| p["tiers"][0]["spend_threshold_cents"] = json!(100)),
        ),
        ("no tiers", Box::new(|p| p["tiers"] = json!([]))),
        ("tiers not a list", Box::new(|p| p["tiers"] = json!("gold"))),
        (
            "upgrade points on entry",
            Box::new(|p| p["tiers"][0]["upgrade_points"] = json!(10)),
        ),
    ];
    for (what, edit) in &edits {
        let mut p = serde_json::to_value(&base).unwrap();
        edit(&mut p);
        let resp = admin
            .post("/api/v1/admin/tier-program", &json!({ "program": p }))
            .await;
        let status = resp.status();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}");
        let body: serde_json::Value = resp.json().await.unwrap();
        let code = body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            code == "invalid_program" || code == "invalid_input",
            "{what}: {body}"
        );
    }
    let past = admin
        .post(
            "/api/v1/admin/tier-program",
            &json!({ "program": base, "effective_from": "2020-01-01T00:00:00+08:00" }),
        )
        .await;
    assert_error(past, StatusCode::BAD_REQUEST, "invalid_program").await;
    assert_eq!(count().await, before, "nothing stored by a refused version");

    // Roles.
    let till = app.staff_login().await;
    assert_error(
        till.post("/api/v1/admin/tier-program", &json!({ "program": base }))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let m = app.sign_up(&phone(7), "未来").await;
    assert_error(
        m.client.get("/api/v1/admin/tier-program").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;

    // A version from tomorrow on: nothing changes today, everything from tomorrow.
    let starts = app.now() + 86_400;
    let mut cheap = base.clone();
    cheap.tiers[1].growth_threshold = 100;
    let resp = admin
        .post(
            "/api/v1/admin/tier-program",
            &json!({
                "program": cheap,
                "note": "银卡门槛降到100",
                "effective_from": chrono::DateTime::from_timestamp(starts, 0).unwrap().to_rfc3339(),
            }),
        )
        .await;
    json_ok(resp, StatusCode::CREATED).await;
    let till = app.staff_login().await;
    let r = buy_result(&app, &till, &m, 15_000, "V-1").await;
    assert_eq!(
        r.tier.code, "normal",
        "the old threshold still applies today"
    );
    app.advance_clock(86_400 + 60);
    let till = app.staff_login().await;
    let r = buy_result(&app, &till, &m, 1_000, "V-2").await;
    assert_eq!(
        r.tier.code, "silver",
        "from its start the new threshold applies"
    );
    let audit = app
        .db
        .scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'tier_program.create'")
        .await;
    assert_eq!(audit, 1);
    let tiers: serde_json::Value =
        json_ok(app.client().get("/api/v1/tiers").await, StatusCode::OK).await;
    assert_eq!(tiers[1]["growth_threshold"], 100);

    // A new tier between gold and diamond can be added (codes keep their order).
    let admin = app.admin_login().await;
    let mut more = cheap.clone();
    let mut platinum = more.tiers[2].clone();
    platinum.code = "platinum".into();
    platinum.name = "铂金卡".into();
    platinum.growth_threshold = 5000;
    more.tiers.insert(3, platinum);
    json_ok(
        admin
            .post("/api/v1/admin/tier-program", &json!({ "program": more }))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let list: TierProgramVersions = serde_json::from_value(
        json_ok(
            admin.get("/api/v1/admin/tier-program").await,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap();
    assert_eq!(list.versions.len() as i64, before + 2);
    assert_eq!(list.current_id, list.versions[0].id);
    app.db
        .execute(&format!(
            "UPDATE members SET tier_code = 'gold' WHERE id = {}",
            member_id(&app, &m.me.member_no).await
        ))
        .await;
    let r = buy_result(&app, &till, &m, 500_000, "V-3").await;
    assert_eq!(r.tier.code, "platinum");
}
