//! Scheduled issuance (`member_server::campaigns::jobs::run_once`): birthday month and week windows
//! (across New Year and 29 February), member days only on the day, win-back after the
//! lapse and again after a new purchase and a new lapse, returns marked; every run exactly
//! once per member and period (twice in a row, two instances at once), and one failing
//! member doesn't stop the others.
//!
//! The campaigns here start in 2031 and the runs are dated then, so the server's own job
//! (which runs by the real clock) never touches them.

use member_core::civil::{self, Date};
use member_server::campaigns::jobs::{run_once, CampaignRun};
use reqwest::StatusCode;
use serde_json::json;

use crate::campaigns::{
    campaign_coupons, campaign_grants, create_campaign, get_campaign, only_my_campaigns, template,
};
use crate::common::{json_ok, phone, Backend, TestApp};
use crate::ledger::{buy, member_id, server_db};

both_backends!(
    birthday_month_once_a_year,
    birthday_week_across_new_year_and_leap_day,
    member_day_only_on_the_day,
    winback_after_lapse_and_again_after_a_new_lapse,
    job_twice_and_concurrently_grants_once,
    one_failing_member_does_not_block_the_others,
);

const DAY: i64 = 86_400;
const STARTS: &str = "2031-01-01T00:00:00+08:00";

/// `hour` o'clock local time (Asia/Shanghai) on that day.
fn at(year: i64, month: u32, day: u32, hour: i64) -> i64 {
    civil::local_midnight(Date { year, month, day }) + hour * 3_600
}

async fn run(app: &TestApp, now: i64) -> CampaignRun {
    let db = server_db(app).await;
    let r = run_once(&db, now).await.expect("campaign run");
    db.close().await;
    r
}

/// A signed-up member with a birthday; returns the member id.
async fn born(app: &TestApp, n: u32, month: u32, day: u32) -> i64 {
    let m = app.sign_up(&phone(n), "寿星").await;
    let id = member_id(app, &m.me.member_no).await;
    app.db
        .execute(&format!(
            "UPDATE members SET birth_month = {month}, birth_day = {day} WHERE id = {id}"
        ))
        .await;
    id
}

/// The periods of campaign `cid` granted to member `id`, sorted.
async fn periods(app: &TestApp, cid: i64, id: i64) -> Vec<String> {
    let n = app
        .db
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM campaign_grants WHERE campaign_id = {cid} AND member_id = {id}"
        ))
        .await;
    let mut out = Vec::new();
    for year in 2031..=2035 {
        let hit = app
            .db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM campaign_grants WHERE campaign_id = {cid} \
                 AND member_id = {id} AND period = '{year}'"
            ))
            .await;
        if hit > 0 {
            out.push(year.to_string());
        }
    }
    assert_eq!(out.len() as i64, n, "unexpected periods for member {id}");
    out
}

async fn birthday_month_once_a_year(app: TestApp) {
    only_my_campaigns(&app).await;
    let admin = app.admin_login().await;
    let t = template(&app, "生日礼 ¥30", 3_000).await;
    let c = create_campaign(
        &admin,
        json!({ "kind": "birthday", "name": "生日月", "birthday_window": "month",
                "starts_at": STARTS, "coupons": [{ "template_id": t }] }),
    )
    .await;
    let a = born(&app, 1, 11, 23).await;
    let b = born(&app, 2, 11, 1).await;
    let dec = born(&app, 3, 12, 5).await;
    let none = app.sign_up(&phone(4), "没填生日").await;
    let none = member_id(&app, &none.me.member_no).await;

    let r = run(&app, at(2031, 11, 5, 10)).await;
    assert_eq!((r.granted, r.coupons, r.failed), (2, 2, 0), "{r:?}");
    // Later the same month, and again at once: nothing new.
    assert_eq!(run(&app, at(2031, 11, 30, 23)).await.granted, 0);
    assert_eq!(run(&app, at(2031, 11, 30, 23)).await.granted, 0);
    // 1 December local time (16:00 UTC on the 30th).
    let r = run(&app, at(2031, 12, 1, 0) + 60).await;
    assert_eq!(r.granted, 1);
    // Next year's month: each again, for the new year.
    let r = run(&app, at(2032, 11, 2, 9)).await;
    assert_eq!(r.granted, 2);
    assert_eq!(periods(&app, c.id, a).await, vec!["2031", "2032"]);
    assert_eq!(periods(&app, c.id, b).await, vec!["2031", "2032"]);
    assert_eq!(periods(&app, c.id, dec).await, vec!["2031"]);
    assert!(periods(&app, c.id, none).await.is_empty());
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM coupons WHERE source = 'birthday' AND member_id = {a} \
                 AND source_ref = 'campaign:{}:2032'",
                c.id
            ))
            .await,
        1
    );
    let s = get_campaign(&admin, c.id).await.stats;
    assert_eq!((s.members, s.coupons_issued), (5, 5));
    // Switched off: nothing more.
    app.db
        .execute(&format!(
            "UPDATE campaigns SET active = 0 WHERE id = {}",
            c.id
        ))
        .await;
    assert_eq!(run(&app, at(2033, 11, 2, 9)).await, CampaignRun::default());
}

async fn birthday_week_across_new_year_and_leap_day(app: TestApp) {
    only_my_campaigns(&app).await;
    let admin = app.admin_login().await;
    let t = template(&app, "生日周", 1_000).await;
    let c = create_campaign(
        &admin,
        json!({ "kind": "birthday", "name": "生日周", "birthday_window": "week",
                "starts_at": STARTS, "coupons": [{ "template_id": t }] }),
    )
    .await;
    let dec31 = born(&app, 10, 12, 31).await;
    let jan2 = born(&app, 11, 1, 2).await;
    let dec26 = born(&app, 12, 12, 26).await;
    let jan3 = born(&app, 13, 1, 3).await;
    let leap = born(&app, 14, 2, 29).await;

    // The week of Monday 2032-12-27 to Sunday 2033-01-02.
    assert_eq!(
        member_core::civil::weekday(Date {
            year: 2032,
            month: 12,
            day: 27
        }),
        1
    );
    let r = run(&app, at(2032, 12, 27, 8)).await;
    assert_eq!(r.granted, 2, "{r:?}");
    assert_eq!(periods(&app, c.id, dec31).await, vec!["2032"]);
    assert_eq!(periods(&app, c.id, jan2).await, vec!["2033"]);
    // Sunday of the same week, in the new year: the same gifts, not new ones.
    assert_eq!(run(&app, at(2033, 1, 2, 22)).await.granted, 0);
    // The next week.
    let r = run(&app, at(2033, 1, 3, 0) + 1).await;
    assert_eq!(r.granted, 1);
    assert_eq!(periods(&app, c.id, jan3).await, vec!["2033"]);
    // 2033 has no 29 February: the week with the 28th (Monday) celebrates it.
    assert!(periods(&app, c.id, leap).await.is_empty());
    let r = run(&app, at(2033, 2, 28, 12)).await;
    assert_eq!(r.granted, 1);
    assert_eq!(periods(&app, c.id, leap).await, vec!["2033"]);
    // The week of Monday 2033-12-26: 26 and 31 December, for 2033.
    let r = run(&app, at(2033, 12, 26, 12)).await;
    assert_eq!(r.granted, 2);
    assert_eq!(periods(&app, c.id, dec26).await, vec!["2033"]);
    assert_eq!(periods(&app, c.id, dec31).await, vec!["2032", "2033"]);
    assert_eq!(campaign_grants(&app, c.id).await, 6);
}

async fn member_day_only_on_the_day(app: TestApp) {
    only_my_campaigns(&app).await;
    let admin = app.admin_login().await;
    let t = template(&app, "会员日 满50减8", 800).await;
    let c = create_campaign(
        &admin,
        json!({ "kind": "member_day", "name": "会员日", "member_day": "monthday:18",
                "starts_at": STARTS, "coupons": [{ "template_id": t, "quantity": 2 }] }),
    )
    .await;
    for i in 0..3 {
        app.sign_up(&phone(20 + i), "会员").await;
    }
    let members = app.db.scalar_i64("SELECT COUNT(*) FROM members").await;
    // 23:00 on the 17th, local time: not yet.
    assert_eq!(run(&app, at(2031, 3, 17, 23)).await.granted, 0);
    let r = run(&app, at(2031, 3, 18, 0) + 1_800).await;
    assert_eq!(r.granted as i64, members);
    assert_eq!(r.coupons as i64, members * 2);
    assert_eq!(run(&app, at(2031, 3, 18, 20)).await.granted, 0);
    // Someone who joins during the day gets it on the next run.
    app.sign_up(&phone(30), "当天新会员").await;
    assert_eq!(run(&app, at(2031, 3, 18, 21)).await.granted, 1);
    assert_eq!(run(&app, at(2031, 3, 19, 0) + 1).await.granted, 0);
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM campaign_grants WHERE campaign_id = {} \
                 AND period = '2031-03-18'",
                c.id
            ))
            .await,
        members + 1
    );
    // Next month's member day.
    assert_eq!(
        run(&app, at(2031, 4, 18, 9)).await.granted as i64,
        members + 1
    );
    // 31 every month falls on the month's last day (30 April).
    let end = create_campaign(
        &admin,
        json!({ "kind": "member_day", "name": "月末", "member_day": "monthday:31",
                "starts_at": STARTS, "coupons": [{ "template_id": t }] }),
    )
    .await;
    assert_eq!(run(&app, at(2031, 4, 29, 9)).await.granted, 0);
    assert_eq!(
        run(&app, at(2031, 4, 30, 9)).await.granted as i64,
        members + 1
    );
    assert_eq!(campaign_grants(&app, end.id).await, members + 1);
    // Weekly: Mondays only (2031-03-17 was a Monday).
    let weekly = create_campaign(
        &admin,
        json!({ "kind": "member_day", "name": "周一", "member_day": "weekday:1",
                "starts_at": STARTS, "coupons": [{ "template_id": t }] }),
    )
    .await;
    assert_eq!(run(&app, at(2031, 5, 6, 9)).await.granted, 0);
    assert_eq!(
        run(&app, at(2031, 5, 5, 9)).await.granted as i64,
        members + 1
    );
    assert_eq!(campaign_grants(&app, weekly.id).await, members + 1);
    assert_eq!(campaign_coupons(&app, c.id).await, (2 * members + 2) * 2);
}

async fn winback_after_lapse_and_again_after_a_new_lapse(app: TestApp) {
    only_my_campaigns(&app).await;
    // The server's clock in 2031, so purchases land after the campaign starts.
    app.advance_clock(at(2031, 6, 1, 10) - app.now());
    let admin = app.admin_login().await;
    let t = template(&app, "回归礼 满40减15", 1_500).await;
    let c = create_campaign(
        &admin,
        json!({ "kind": "winback", "name": "回归礼", "lapse_days": 30,
                "starts_at": STARTS, "coupons": [{ "template_id": t }] }),
    )
    .await;
    let m = app.sign_up(&phone(40), "老顾客").await;
    let never = app.sign_up(&phone(41), "从未消费").await;
    let id = member_id(&app, &m.me.member_no).await;
    let never_id = member_id(&app, &never.me.member_no).await;
    let till = app.staff_login().await;
    buy(&app, &till, &m, 10_000, "W-1").await;
    // The purchase path records the last purchase; set it here too, so this test
    // doesn't depend on which path does.
    let sync_last = "UPDATE members SET last_purchase_at = \
                     (SELECT MAX(created_at) FROM purchases p WHERE p.member_id = members.id)";
    app.db.execute(sync_last).await;
    let p1 = app
        .db
        .scalar_i64(&format!(
            "SELECT last_purchase_at FROM members WHERE id = {id}"
        ))
        .await;

    assert_eq!(run(&app, p1 + 30 * DAY - 1).await.granted, 0);
    let r = run(&app, p1 + 30 * DAY).await;
    assert_eq!(r.granted, 1, "{r:?}");
    assert_eq!(run(&app, p1 + 45 * DAY).await.granted, 0);
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM campaign_grants WHERE campaign_id = {} AND member_id = {id} \
                 AND period = '{p1}' AND returned_at IS NULL",
                c.id
            ))
            .await,
        1
    );
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM coupons WHERE member_id = {id} AND source = 'winback'"
            ))
            .await,
        1
    );

    // The member comes back (a month and a half later): the grant is marked returned.
    app.advance_clock(p1 + 46 * DAY - app.now());
    let m = app.sign_up(&phone(40), "老顾客").await;
    let till = app.staff_login().await;
    buy(&app, &till, &m, 5_000, "W-2").await;
    app.db.execute(sync_last).await;
    let p2 = app
        .db
        .scalar_i64(&format!(
            "SELECT last_purchase_at FROM members WHERE id = {id}"
        ))
        .await;
    assert!(p2 > p1);
    let r = run(&app, p2 + 60).await;
    assert_eq!((r.granted, r.returned), (0, 1), "{r:?}");
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT returned_at FROM campaign_grants WHERE campaign_id = {} AND member_id = {id}",
                c.id
            ))
            .await,
        p2
    );
    assert_eq!(run(&app, p2 + 120).await.returned, 0);
    let admin = app.admin_login().await;
    let s = get_campaign(&admin, c.id).await.stats;
    assert_eq!((s.members, s.returned), (1, 1));

    // Lapsing again earns a second offer (for the new last purchase).
    assert_eq!(run(&app, p2 + 29 * DAY).await.granted, 0);
    assert_eq!(run(&app, p2 + 30 * DAY).await.granted, 1);
    assert_eq!(campaign_grants(&app, c.id).await, 2);
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM campaign_grants WHERE campaign_id = {} AND period = '{p2}'",
                c.id
            ))
            .await,
        1
    );
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM campaign_grants WHERE member_id = {never_id} \
                 AND campaign_id = {}",
                c.id
            ))
            .await,
        0
    );
    json_ok(
        admin
            .get(&format!("/api/v1/admin/campaigns/{}", c.id))
            .await,
        StatusCode::OK,
    )
    .await;
}

/// Members straight into the table (more than a page of the job), tier `normal`.
async fn bulk_members(app: &TestApp, n: u32) {
    let key = match app.backend {
        Backend::Sqlite => "X'00'",
        Backend::Postgres => "'\\x00'::bytea",
    };
    for i in 0..n {
        app.db
            .execute(&format!(
                "INSERT INTO members (member_no, phone, name, tier_code, card_key, \
                 privacy_consent_at, created_at) \
                 VALUES ('9{i:09}', '+861380000{i:04}', '批量', 'normal', {key}, 0, 0)"
            ))
            .await;
    }
}

async fn job_twice_and_concurrently_grants_once(app: TestApp) {
    only_my_campaigns(&app).await;
    let admin = app.admin_login().await;
    let t = template(&app, "会员日券", 500).await;
    let c = create_campaign(
        &admin,
        json!({ "kind": "member_day", "name": "会员日", "member_day": "monthday:8",
                "starts_at": STARTS, "coupons": [{ "template_id": t, "quantity": 2 }] }),
    )
    .await;
    bulk_members(&app, 230).await;
    app.sign_up(&phone(50), "会员").await;
    let members = app.db.scalar_i64("SELECT COUNT(*) FROM members").await;
    assert!(members > 200);
    let now = at(2031, 8, 8, 10);

    let db_a = server_db(&app).await;
    let db_b = server_db(&app).await;
    let (a, b) = tokio::join!(run_once(&db_a, now), run_once(&db_b, now));
    let (a, b) = (a.expect("run a"), b.expect("run b"));
    assert_eq!((a.granted + b.granted) as i64, members, "{a:?} {b:?}");
    assert_eq!(a.failed + b.failed, 0);
    let again = run_once(&db_a, now + 60).await.expect("again");
    assert_eq!(again, CampaignRun::default());
    db_a.close().await;
    db_b.close().await;

    assert_eq!(campaign_grants(&app, c.id).await, members);
    assert_eq!(campaign_coupons(&app, c.id).await, members * 2);
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM (SELECT member_id FROM coupons \
                 WHERE source_ref = 'campaign:{}:2031-08-08' GROUP BY member_id \
                 HAVING COUNT(*) <> 2) d",
                c.id
            ))
            .await,
        0
    );
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT issued_count FROM coupon_templates WHERE id = {t}"
            ))
            .await,
        members * 2
    );
}

async fn one_failing_member_does_not_block_the_others(app: TestApp) {
    only_my_campaigns(&app).await;
    let admin = app.admin_login().await;
    let t = template(&app, "会员日券", 500).await;
    let c = create_campaign(
        &admin,
        json!({ "kind": "member_day", "name": "会员日", "member_day": "weekday:3",
                "starts_at": STARTS, "coupons": [{ "template_id": t }] }),
    )
    .await;
    let broken = app.sign_up(&phone(60), "坏数据").await;
    app.sign_up(&phone(61), "正常").await;
    let broken = member_id(&app, &broken.me.member_no).await;
    let members = app.db.scalar_i64("SELECT COUNT(*) FROM members").await;
    // Every coupon insert for this member fails.
    match app.backend {
        Backend::Sqlite => {
            app.db
                .execute(&format!(
                    "CREATE TRIGGER boom BEFORE INSERT ON coupons WHEN NEW.member_id = {broken} \
                     BEGIN SELECT RAISE(ABORT, 'boom'); END"
                ))
                .await;
        }
        Backend::Postgres => {
            app.db
                .execute(&format!(
                    "CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN \
                     IF NEW.member_id = {broken} THEN RAISE EXCEPTION 'boom'; END IF; \
                     RETURN NEW; END $$ LANGUAGE plpgsql"
                ))
                .await;
            app.db
                .execute(
                    "CREATE TRIGGER boom BEFORE INSERT ON coupons \
                     FOR EACH ROW EXECUTE FUNCTION boom()",
                )
                .await;
        }
    }
    // 2031-01-01 was a Wednesday.
    let now = at(2031, 1, 1, 12);
    for _ in 0..2 {
        let r = run(&app, now).await;
        assert_eq!(r.failed, 1, "{r:?}");
    }
    assert_eq!(campaign_grants(&app, c.id).await, members - 1);
    app.db
        .execute(match app.backend {
            Backend::Sqlite => "DROP TRIGGER boom",
            Backend::Postgres => "DROP TRIGGER boom ON coupons",
        })
        .await;
    assert_eq!(run(&app, now + 60).await.granted, 1);
    assert_eq!(campaign_grants(&app, c.id).await, members);
}
