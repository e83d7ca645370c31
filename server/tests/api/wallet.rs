//! The member's coupon wallet (tabs, status, order, counts, the "新" badge, the card's
//! counts) and profile (birthday once a year, name), plus the coupon helpers the
//! checkout tests share: templates by SQL, coupons through the server's issue engine.

use member_core::dto::{CouponCounts, CouponView, ProfileView};
use member_server::coupons::store::coupons::{self, Issue};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, idem, json_ok, phone, Client, TestApp};
use crate::ledger::server_db;

both_backends!(
    wallet_tabs_status_order_and_counts,
    wallet_is_the_members_own,
    seen_clears_the_new_badge,
    profile_birthday_once_a_year,
    profile_rejects_bad_input,
);

pub const DAY: i64 = 86_400;

/// A coupon template, inserted directly (the admin routes are another part's).
pub struct Tpl<'a> {
    pub name: &'a str,
    /// `amount`, `percent` or `gift`
    pub kind: &'a str,
    pub off: i64,
    pub percent: i64,
    pub cap: Option<i64>,
    pub gift: Option<&'a str>,
    pub min_spend: i64,
    pub stackable: bool,
    /// Comma-separated store codes, '' = every store.
    pub stores: &'a str,
    pub valid_days: Option<i64>,
    pub valid_from: Option<i64>,
    pub valid_until: Option<i64>,
}

impl Default for Tpl<'_> {
    fn default() -> Self {
        Self {
            name: "券",
            kind: "amount",
            off: 1000,
            percent: 0,
            cap: None,
            gift: None,
            min_spend: 0,
            stackable: false,
            stores: "",
            valid_days: Some(30),
            valid_from: None,
            valid_until: None,
        }
    }
}

fn sql_opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "NULL".to_string(), |v| v.to_string())
}

pub async fn template(app: &TestApp, t: &Tpl<'_>) -> i64 {
    app.db
        .scalar_i64(&format!(
            "INSERT INTO coupon_templates (name, kind, amount_off_cents, percent_off, cap_cents, \
               gift_name, min_spend_cents, stackable, store_codes, valid_from, valid_until, \
               valid_days, created_at) \
             VALUES ('{}', '{}', {}, {}, {}, {}, {}, {}, '{}', {}, {}, {}, 0) RETURNING id",
            t.name,
            t.kind,
            t.off,
            t.percent,
            sql_opt(t.cap),
            t.gift
                .map_or_else(|| "NULL".to_string(), |g| format!("'{g}'")),
            t.min_spend,
            i64::from(t.stackable),
            t.stores,
            sql_opt(t.valid_from),
            sql_opt(t.valid_until),
            sql_opt(t.valid_days),
        ))
        .await
}

pub async fn member_id(app: &TestApp, member_no: &str) -> i64 {
    app.db
        .scalar_i64(&format!(
            "SELECT id FROM members WHERE member_no = '{member_no}'"
        ))
        .await
}

/// Puts `quantity` coupons of a template in the member's wallet through the issue
/// engine (as of the server's clock). Returns their ids.
pub async fn give(app: &TestApp, member_no: &str, template_id: i64, quantity: i64) -> Vec<i64> {
    let id = member_id(app, member_no).await;
    let db = server_db(app).await;
    let mut tx = db.begin_write().await.expect("tx");
    let issued = coupons::issue(
        &mut tx,
        &Issue {
            template_id,
            member_id: id,
            member_tier: "normal",
            quantity,
            source: "manual",
            source_ref: "test",
            now: app.now(),
        },
    )
    .await
    .expect("issue")
    .expect("not refused");
    tx.commit().await.expect("commit");
    db.close().await;
    issued.into_iter().map(|(id, _)| id).collect()
}

/// Switches off every seeded campaign (the dev seed's welcome pack would otherwise land
/// in each new wallet and in every count).
pub async fn quiet_campaigns(app: &TestApp) {
    app.db.execute("UPDATE campaigns SET active = 0").await;
}

pub async fn coupon_status(app: &TestApp, id: i64) -> String {
    match &app.db {
        crate::common::Db::Sqlite(p) => {
            sqlx::query_scalar::<_, String>("SELECT status FROM coupons WHERE id = $1")
                .bind(id)
                .fetch_one(p)
                .await
        }
        crate::common::Db::Pg(p) => {
            sqlx::query_scalar::<_, String>("SELECT status FROM coupons WHERE id = $1")
                .bind(id)
                .fetch_one(p)
                .await
        }
    }
    .expect("coupon status")
}

/// POST /staff/purchases naming coupons.
pub async fn buy_with(
    till: &Client,
    code: &str,
    amount_cents: i64,
    order_ref: &str,
    key: &str,
    coupon_ids: &[i64],
) -> reqwest::Response {
    till.http
        .post(format!("{}/api/v1/staff/purchases", till.base))
        .header("Idempotency-Key", key)
        .json(&json!({
            "code": code, "amount_cents": amount_cents, "order_ref": order_ref,
            "coupon_ids": coupon_ids
        }))
        .send()
        .await
        .expect("POST purchase")
}

pub async fn wallet(client: &Client, query: &str) -> Vec<CouponView> {
    let v = json_ok(
        client.get(&format!("/api/v1/me/coupons{query}")).await,
        StatusCode::OK,
    )
    .await;
    serde_json::from_value(v).expect("[CouponView]")
}

pub fn ids(coupons: &[CouponView]) -> Vec<i64> {
    coupons.iter().map(|c| c.id).collect()
}

async fn counts(client: &Client) -> CouponCounts {
    let v = json_ok(
        client.get("/api/v1/me/coupons/summary").await,
        StatusCode::OK,
    )
    .await;
    serde_json::from_value(v).expect("CouponCounts")
}

async fn wallet_tabs_status_order_and_counts(app: TestApp) {
    quiet_campaigns(&app).await;
    app.db
        .execute("INSERT INTO stores (code, name, created_at) VALUES ('S002', '二店', 0)")
        .await;
    let m = app.sign_up(&phone(1), "张三").await;
    let no = m.me.member_no.clone();
    let till = app.staff_login().await;
    let now = app.now();
    let month = template(
        &app,
        &Tpl {
            name: "满100减10",
            off: 1000,
            min_spend: 10_000,
            stores: "S001,S002",
            ..Tpl::default()
        },
    )
    .await;
    let week = template(
        &app,
        &Tpl {
            name: "9折券",
            kind: "percent",
            off: 0,
            percent: 10,
            cap: Some(3000),
            stackable: true,
            valid_days: Some(7),
            ..Tpl::default()
        },
    )
    .await;
    let later = template(
        &app,
        &Tpl {
            name: "下周券",
            valid_days: None,
            valid_from: Some(now + 2 * DAY),
            valid_until: Some(now + 10 * DAY),
            ..Tpl::default()
        },
    )
    .await;
    let today = template(
        &app,
        &Tpl {
            name: "今日券",
            kind: "gift",
            off: 0,
            gift: Some("加料"),
            valid_days: Some(1),
            ..Tpl::default()
        },
    )
    .await;
    let c1 = give(&app, &no, month, 1).await[0];
    let c2 = give(&app, &no, week, 1).await[0];
    let c3 = give(&app, &no, later, 1).await[0];
    let c4 = give(&app, &no, today, 1).await[0];
    let c5 = give(&app, &no, month, 1).await[0];
    let c6 = give(&app, &no, today, 1).await[0];
    let c7 = give(&app, &no, month, 1).await[0];
    app.db
        .execute(&format!(
            "UPDATE coupons SET expires_at = {} WHERE id = {c5}",
            now - 1
        ))
        .await;
    app.db
        .execute(&format!(
            "UPDATE coupons SET status = 'void' WHERE id = {c6}"
        ))
        .await;
    let code = m.card_code().await;
    let r = json_ok(
        buy_with(&till, &code, 12_000, "W-1", &idem(), &[c7]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["discount_cents"], 1000, "{r}");

    let usable = wallet(&m.client, "?status=usable").await;
    assert_eq!(ids(&usable), vec![c4, c2, c3, c1], "soonest expiry first");
    let statuses: Vec<&str> = usable.iter().map(|c| c.status.as_str()).collect();
    assert_eq!(statuses, ["usable", "usable", "upcoming", "usable"]);
    let used = wallet(&m.client, "?status=used").await;
    assert_eq!(ids(&used), vec![c7]);
    assert_eq!(used[0].status, "used");
    assert_eq!(used[0].discount_cents, Some(1000));
    assert_eq!(used[0].used_store_name.as_deref(), Some("旗舰店"));
    assert!(used[0].used_at.is_some());
    assert!(!used[0].new, "a used coupon is no news");
    let expired = wallet(&m.client, "?status=expired").await;
    assert_eq!(ids(&expired), vec![c6, c5], "latest end first");
    assert_eq!(expired[0].status, "void");
    assert_eq!(expired[1].status, "expired");
    let all = wallet(&m.client, "").await;
    assert_eq!(ids(&all), vec![c4, c2, c3, c1, c7, c6, c5]);

    // The view carries everything the app needs to preview and show the coupon.
    let one: CouponView = serde_json::from_value(
        json_ok(
            m.client.get(&format!("/api/v1/me/coupons/{c1}")).await,
            StatusCode::OK,
        )
        .await,
    )
    .expect("CouponView");
    assert_eq!(one.name, "满100减10");
    assert_eq!(one.code.len(), 10);
    assert_eq!(one.benefit.kind, "amount");
    assert_eq!(one.benefit.amount_off_cents, 1000);
    assert_eq!(one.min_spend_cents, 10_000);
    assert_eq!(one.store_codes, ["S001", "S002"]);
    assert_eq!(one.store_names, ["旗舰店", "二店"]);
    assert_eq!(one.source, "manual");
    assert_eq!(one.status, "usable");
    assert!(one.new);
    assert!(one.to_held().is_some());
    let pct = all.iter().find(|c| c.id == c2).expect("c2");
    assert_eq!(
        (
            pct.benefit.kind.as_str(),
            pct.benefit.percent_off,
            pct.benefit.cap_cents
        ),
        ("percent", 10, Some(3000))
    );
    assert!(pct.stackable);
    let gift = all.iter().find(|c| c.id == c4).expect("c4");
    assert_eq!(gift.benefit.gift_name.as_deref(), Some("加料"));

    let c = counts(&m.client).await;
    assert_eq!(
        (c.usable, c.used, c.expired, c.new, c.expiring_soon),
        (4, 1, 2, 4, 1),
        "{c:?}"
    );
    let me = m.me().await;
    assert_eq!((me.coupons_usable, me.coupons_new), (4, 4));

    assert_error(
        m.client.get("/api/v1/me/coupons?status=nope").await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;

    // A week later: today's gift and the percent coupon have expired, the upcoming one is usable.
    app.advance_clock(8 * DAY);
    let usable = wallet(&m.client, "?status=usable").await;
    assert_eq!(ids(&usable), vec![c3, c1]);
    assert_eq!(usable[0].status, "usable");
    let c = counts(&m.client).await;
    assert_eq!((c.usable, c.used, c.expired), (2, 1, 4), "{c:?}");
    // c3 ends in two days: expiring soon now.
    assert_eq!(c.expiring_soon, 1, "{c:?}");
}

async fn wallet_is_the_members_own(app: TestApp) {
    quiet_campaigns(&app).await;
    let a = app.sign_up(&phone(2), "甲").await;
    let b = app.sign_up(&phone(3), "乙").await;
    let t = template(&app, &Tpl::default()).await;
    let mine = give(&app, &a.me.member_no, t, 1).await[0];
    json_ok(
        a.client.get(&format!("/api/v1/me/coupons/{mine}")).await,
        StatusCode::OK,
    )
    .await;
    // Another member's id is as unknown as one that doesn't exist.
    for path in [
        format!("/api/v1/me/coupons/{mine}"),
        "/api/v1/me/coupons/999999".to_string(),
        "/api/v1/me/coupons/abc".to_string(),
        "/api/v1/me/coupons/-1".to_string(),
        "/api/v1/me/coupons/99999999999999999999999".to_string(),
        "/api/v1/me/coupons/%00".to_string(),
    ] {
        assert_error(
            b.client.get(&path).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    assert!(wallet(&b.client, "").await.is_empty());
    assert_eq!(counts(&b.client).await.usable, 0);
    assert_eq!(b.me().await.coupons_usable, 0);
    // Marking seen touches only the caller's wallet.
    let resp = b.client.post_empty("/api/v1/me/coupons/seen").await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(counts(&a.client).await.new, 1);
}

async fn seen_clears_the_new_badge(app: TestApp) {
    quiet_campaigns(&app).await;
    let m = app.sign_up(&phone(4), "丙").await;
    let t = template(&app, &Tpl::default()).await;
    give(&app, &m.me.member_no, t, 2).await;
    assert_eq!(m.me().await.coupons_new, 2);
    assert!(wallet(&m.client, "").await.iter().all(|c| c.new));
    let resp = m.client.post_empty("/api/v1/me/coupons/seen").await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let me = m.me().await;
    assert_eq!((me.coupons_usable, me.coupons_new), (2, 0));
    assert_eq!(counts(&m.client).await.new, 0);
    assert!(wallet(&m.client, "").await.iter().all(|c| !c.new));
    // Twice is fine.
    let resp = m.client.post_empty("/api/v1/me/coupons/seen").await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    // A coupon that arrives later is news again.
    let fresh = give(&app, &m.me.member_no, t, 1).await[0];
    assert_eq!(m.me().await.coupons_new, 1);
    let view = wallet(&m.client, "?status=usable").await;
    assert!(view.iter().find(|c| c.id == fresh).expect("fresh").new);
    // Sign-in answers the counts too (a minute on: one code per phone per minute).
    app.advance_clock(61);
    let again = app.sign_up(&m.phone, "丙").await;
    assert_eq!((again.me.coupons_usable, again.me.coupons_new), (3, 1));
}

async fn put_profile(client: &Client, body: &Value) -> reqwest::Response {
    client
        .http
        .put(format!("{}/api/v1/me/profile", client.base))
        .json(body)
        .send()
        .await
        .expect("PUT profile")
}

async fn profile(client: &Client) -> ProfileView {
    serde_json::from_value(json_ok(client.get("/api/v1/me/profile").await, StatusCode::OK).await)
        .expect("ProfileView")
}

async fn profile_birthday_once_a_year(app: TestApp) {
    let m = app.sign_up(&phone(5), "赵六").await;
    let p = profile(&m.client).await;
    assert_eq!(p.name, "赵六");
    assert_eq!(p.phone_masked, "139****0005");
    assert_eq!((p.birthday, p.birthday_locked_until), (None, None));
    assert!(!p.marketing_consent);

    // The first birthday is free.
    let p: ProfileView = serde_json::from_value(
        json_ok(
            put_profile(&m.client, &json!({ "birthday": "1990-05-20" })).await,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap();
    assert_eq!(p.birthday.as_deref(), Some("1990-05-20"));
    let locked = p.birthday_locked_until.clone().expect("locked for a year");
    assert_eq!(p.name, "赵六", "fields not given stay");
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT birth_month * 100 + birth_day FROM members WHERE member_no = '{}'",
                m.me.member_no
            ))
            .await,
        520
    );
    // The same birthday again is no change.
    let p: ProfileView = serde_json::from_value(
        json_ok(
            put_profile(&m.client, &json!({ "birthday": "1990-05-20" })).await,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap();
    assert_eq!(p.birthday_locked_until.as_deref(), Some(locked.as_str()));
    // Another day within the year is refused, and nothing changes with it.
    app.advance_clock(100 * DAY);
    let m = app.sign_up(&m.phone, "赵六").await;
    assert_error(
        put_profile(
            &m.client,
            &json!({ "birthday": "1990-06-01", "name": "新名字" }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "birthday_locked",
    )
    .await;
    let p = profile(&m.client).await;
    assert_eq!(p.birthday.as_deref(), Some("1990-05-20"));
    assert_eq!(p.name, "赵六");
    // Name and consent change freely.
    let p: ProfileView = serde_json::from_value(
        json_ok(
            put_profile(
                &m.client,
                &json!({ "name": "  赵小六 ", "marketing_consent": true }),
            )
            .await,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap();
    assert_eq!(p.name, "赵小六");
    assert!(p.marketing_consent);
    assert_eq!(m.me().await.name, "赵小六");
    // A year after it was set, it may change.
    app.advance_clock(266 * DAY);
    let m = app.sign_up(&m.phone, "赵小六").await;
    let p: ProfileView = serde_json::from_value(
        json_ok(
            put_profile(&m.client, &json!({ "birthday": "06-01" })).await,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap();
    assert_eq!(p.birthday.as_deref(), Some("06-01"));
    assert!(p.birthday_locked_until.is_some());
    assert_error(
        put_profile(&m.client, &json!({ "birthday": "07-01" })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "birthday_locked",
    )
    .await;
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'member.birthday' \
                 AND target = 'member:{}'",
                m.me.member_no
            ))
            .await,
        2
    );
}

async fn profile_rejects_bad_input(app: TestApp) {
    let m = app.sign_up(&phone(6), "钱七").await;
    for bad in [
        "1990-02-29",
        "1990-13-01",
        "1899-12-31",
        "2999-01-01",
        "02-30",
        "13-01",
        "1990/05/20",
        "19900520",
        "",
        "abc",
        "1990-5-20",
        "\u{0}",
    ] {
        assert_error(
            put_profile(&m.client, &json!({ "birthday": bad })).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        )
        .await;
    }
    for bad in [
        json!(""),
        json!("   "),
        json!("长".repeat(41)),
        json!("a\u{0}b"),
    ] {
        assert_error(
            put_profile(&m.client, &json!({ "name": bad })).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        )
        .await;
    }
    for body in [
        json!({ "birthday": 19900520 }),
        json!({ "marketing_consent": "yes" }),
        json!("birthday"),
    ] {
        assert_error(
            put_profile(&m.client, &body).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        )
        .await;
    }
    let p = profile(&m.client).await;
    assert_eq!((p.name.as_str(), p.birthday), ("钱七", None));
    // 29 February in a leap year, 40 characters of name: fine.
    let p: ProfileView = serde_json::from_value(
        json_ok(
            put_profile(
                &m.client,
                &json!({ "birthday": "2000-02-29", "name": "长".repeat(40) }),
            )
            .await,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap();
    assert_eq!(p.birthday.as_deref(), Some("2000-02-29"));
    // Only members: no session, no profile.
    assert_error(
        app.client().get("/api/v1/me/profile").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}
