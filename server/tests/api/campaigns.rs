//! Admin campaigns (create, list, read, edit, validation, stats), manual issues to
//! listed members and segments (idempotent under retries and cut-off runs), and the
//! sign-up welcome pack.

use member_core::dto::{AdminCampaign, IssueCouponsResult};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_any_error, assert_error, idem, json_ok, phone, Client, TestApp};
use crate::ledger::{member_id, post_idem};

both_backends!(
    campaign_create_list_get_patch,
    campaign_validation,
    campaign_stats_follow_grants_and_use,
    signup_campaign_gives_welcome_pack_once,
    a_member_limit_added_later_counts_coupons_held,
);

// ---------------------------------------------------------------------------------------
// Shared helpers (also used by claims.rs and campaign_jobs.rs)

/// Template options for `template_with`.
#[derive(Default, Clone, Copy)]
pub struct Tpl<'a> {
    pub total_limit: Option<i64>,
    pub per_member_limit: Option<i64>,
    pub required_tier: Option<&'a str>,
}

/// A ¥`off_cents` off coupon template valid 30 days from issue, inserted by SQL.
pub async fn template(app: &TestApp, name: &str, off_cents: i64) -> i64 {
    template_with(app, name, off_cents, Tpl::default()).await
}

pub async fn template_with(app: &TestApp, name: &str, off_cents: i64, t: Tpl<'_>) -> i64 {
    let opt = |v: Option<i64>| v.map_or_else(|| "NULL".to_string(), |v| v.to_string());
    let tier = t
        .required_tier
        .map_or_else(|| "NULL".to_string(), |c| format!("'{c}'"));
    app.db
        .scalar_i64(&format!(
            "INSERT INTO coupon_templates (name, kind, amount_off_cents, valid_days, total_limit, \
             per_member_limit, required_tier_code, created_at) \
             VALUES ('{name}', 'amount', {off_cents}, 30, {}, {}, {tier}, {}) RETURNING id",
            opt(t.total_limit),
            opt(t.per_member_limit),
            app.now()
        ))
        .await
}

/// Switches off every campaign already there (e.g. demo ones a seed made), so a test
/// sees only its own.
pub async fn only_my_campaigns(app: &TestApp) {
    app.db.execute("UPDATE campaigns SET active = 0").await;
}

pub async fn create_campaign(admin: &Client, body: Value) -> AdminCampaign {
    let v = json_ok(
        admin.post("/api/v1/admin/campaigns", &body).await,
        StatusCode::CREATED,
    )
    .await;
    serde_json::from_value(v).expect("AdminCampaign")
}

pub async fn get_campaign(admin: &Client, id: i64) -> AdminCampaign {
    let v = json_ok(
        admin.get(&format!("/api/v1/admin/campaigns/{id}")).await,
        StatusCode::OK,
    )
    .await;
    serde_json::from_value(v).expect("AdminCampaign")
}

pub async fn patch(client: &Client, path: &str, body: &Value) -> reqwest::Response {
    client
        .http
        .patch(format!("{}{path}", client.base))
        .json(body)
        .send()
        .await
        .expect("PATCH")
}

/// Coupons a campaign put in wallets (all periods).
pub async fn campaign_coupons(app: &TestApp, campaign_id: i64) -> i64 {
    app.db
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM coupons WHERE source_ref LIKE 'campaign:{campaign_id}:%'"
        ))
        .await
}

pub async fn campaign_grants(app: &TestApp, campaign_id: i64) -> i64 {
    app.db
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM campaign_grants WHERE campaign_id = {campaign_id}"
        ))
        .await
}

// ---------------------------------------------------------------------------------------

async fn campaign_create_list_get_patch(app: TestApp) {
    only_my_campaigns(&app).await;
    let admin = app.admin_login().await;
    let a = template(&app, "满100减20", 2000).await;
    let b = template(&app, "免费加料", 500).await;
    let pack = json!([{ "template_id": a, "quantity": 2 }, { "template_id": b }]);
    let bodies = [
        json!({ "kind": "signup", "name": "新人礼", "coupons": pack }),
        json!({ "kind": "upgrade", "name": "银卡礼", "coupons": pack, "tier_code": "silver" }),
        json!({ "kind": "birthday", "name": "生日礼", "coupons": pack, "birthday_window": "week" }),
        json!({ "kind": "member_day", "name": "会员日", "coupons": pack, "member_day": " monthday:18 " }),
        json!({ "kind": "winback", "name": "回归礼", "coupons": pack, "lapse_days": 90 }),
        json!({ "kind": "claim", "name": "扫码领券", "coupons": pack, "total_cap": 500,
                "starts_at": "2026-05-01T00:00:00+08:00", "ends_at": "2036-05-01T00:00:00Z" }),
    ];
    let mut ids = Vec::new();
    for body in &bodies {
        let c = create_campaign(&admin, body.clone()).await;
        assert_eq!(c.kind, body["kind"].as_str().unwrap());
        assert!(c.active);
        assert_eq!(c.coupons.len(), 2);
        assert_eq!(c.coupons[0].quantity + c.coupons[1].quantity, 3);
        assert_eq!(c.stats.members, 0);
        ids.push(c.id);
        match c.kind.as_str() {
            "upgrade" => assert_eq!(c.tier_code.as_deref(), Some("silver")),
            "birthday" => assert_eq!(c.birthday_window.as_deref(), Some("week")),
            "member_day" => assert_eq!(c.member_day.as_deref(), Some("monthday:18")),
            "winback" => assert_eq!(c.lapse_days, Some(90)),
            "claim" => {
                let token = c.claim_token.clone().expect("token");
                assert_eq!(token.len(), 16);
                assert!(token
                    .bytes()
                    .all(|b| b"23456789ABCDEFGHJKMNPQRSTUVWXYZ".contains(&b)));
                assert_eq!(c.claim_path, Some(format!("/claim/{token}")));
                assert_eq!(c.total_cap, Some(500));
                assert_eq!(c.starts_at.as_deref(), Some("2026-04-30T16:00:00Z"));
                assert_eq!(c.ends_at.as_deref(), Some("2036-05-01T00:00:00Z"));
            }
            _ => assert!(c.claim_token.is_none() && c.claim_path.is_none()),
        }
    }
    // Two claim links never share a token.
    let other = create_campaign(&admin, bodies[5].clone()).await;
    assert_ne!(
        other.claim_token,
        get_campaign(&admin, ids[5]).await.claim_token
    );

    let list: Vec<AdminCampaign> = serde_json::from_value(
        json_ok(admin.get("/api/v1/admin/campaigns").await, StatusCode::OK).await,
    )
    .expect("list");
    for id in &ids {
        assert!(list.iter().any(|c| c.id == *id), "{id} listed");
    }
    assert!(list.windows(2).all(|w| w[0].id > w[1].id), "newest first");

    // Patch: rename, switch off, end, re-cap; each change audited.
    let path = format!("/api/v1/admin/campaigns/{}", ids[5]);
    let v = json_ok(
        patch(
            &admin,
            &path,
            &json!({ "name": " 春季领券 ", "active": false, "ends_at": "2030-01-01T00:00:00Z",
                     "total_cap": 10 }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let c: AdminCampaign = serde_json::from_value(v).expect("patched");
    assert_eq!(c.name, "春季领券");
    assert!(!c.active);
    assert_eq!(c.ends_at.as_deref(), Some("2030-01-01T00:00:00Z"));
    assert_eq!(c.total_cap, Some(10));
    // `null` removes the end and the cap; absent fields stay.
    let c: AdminCampaign = serde_json::from_value(
        json_ok(
            patch(
                &admin,
                &path,
                &json!({ "ends_at": null, "total_cap": null }),
            )
            .await,
            StatusCode::OK,
        )
        .await,
    )
    .expect("patched");
    assert_eq!((c.ends_at, c.total_cap, c.active), (None, None, false));
    assert_eq!(c.name, "春季领券");
    assert_eq!(get_campaign(&admin, ids[5]).await.name, "春季领券");

    assert_eq!(
        app.db
            .scalar_i64(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'campaign.create' \
                 AND actor = 'admin:admin'"
            )
            .await,
        7
    );
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'campaign.update' \
                 AND target = 'campaign:{}'",
                ids[5]
            ))
            .await,
        2
    );
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM campaigns WHERE id = {} AND created_by = 'admin'",
                ids[0]
            ))
            .await,
        1
    );
}

async fn campaign_validation(app: TestApp) {
    let admin = app.admin_login().await;
    let t = template(&app, "满50减5", 500).await;
    let pack = json!([{ "template_id": t }]);
    let too_many: Vec<Value> = (0..11)
        .map(|i| json!({ "template_id": t + i, "quantity": 1 }))
        .collect();
    let cases = [
        json!({ "kind": "manual", "name": "x", "coupons": pack }),
        json!({ "kind": "lottery", "name": "x", "coupons": pack }),
        json!({ "kind": "signup", "name": "", "coupons": pack }),
        json!({ "kind": "signup", "name": "字".repeat(41), "coupons": pack }),
        json!({ "kind": "signup", "name": "a\u{0}b", "coupons": pack }),
        json!({ "kind": "signup", "name": "x", "coupons": [] }),
        json!({ "kind": "signup", "name": "x", "coupons": too_many }),
        json!({ "kind": "signup", "name": "x", "coupons": [{ "template_id": t, "quantity": 0 }] }),
        json!({ "kind": "signup", "name": "x", "coupons": [{ "template_id": t, "quantity": 11 }] }),
        json!({ "kind": "signup", "name": "x", "coupons": [{ "template_id": t }, { "template_id": t }] }),
        json!({ "kind": "signup", "name": "x", "coupons": [{ "template_id": 999_999 }] }),
        json!({ "kind": "signup", "name": "x", "coupons": pack, "total_cap": 5 }),
        json!({ "kind": "signup", "name": "x", "coupons": pack, "tier_code": "gold" }),
        json!({ "kind": "upgrade", "name": "x", "coupons": pack }),
        json!({ "kind": "upgrade", "name": "x", "coupons": pack, "tier_code": "platinum" }),
        json!({ "kind": "upgrade", "name": "x", "coupons": pack, "tier_code": "g\u{0}" }),
        json!({ "kind": "birthday", "name": "x", "coupons": pack }),
        json!({ "kind": "birthday", "name": "x", "coupons": pack, "birthday_window": "day" }),
        json!({ "kind": "member_day", "name": "x", "coupons": pack, "member_day": "weekday:8" }),
        json!({ "kind": "member_day", "name": "x", "coupons": pack, "member_day": "18" }),
        json!({ "kind": "winback", "name": "x", "coupons": pack, "lapse_days": 0 }),
        json!({ "kind": "winback", "name": "x", "coupons": pack }),
        json!({ "kind": "claim", "name": "x", "coupons": pack, "total_cap": 0 }),
        json!({ "kind": "claim", "name": "x", "coupons": pack, "starts_at": "tomorrow" }),
        json!({ "kind": "claim", "name": "x", "coupons": pack, "ends_at": "1999-01-01T00:00:00Z" }),
        json!({ "kind": "claim", "name": "x", "coupons": pack,
                "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z" }),
        json!({ "kind": "signup", "name": "x", "coupons": [{ "template_id": "one" }] }),
        json!({ "kind": "signup", "name": "x" }),
    ];
    for body in &cases {
        let code = assert_any_error(
            admin.post("/api/v1/admin/campaigns", body).await,
            &[StatusCode::BAD_REQUEST],
        )
        .await;
        assert!(
            code == "invalid_input" || code == "invalid_quantity",
            "{body}: {code}"
        );
    }
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM campaigns WHERE name = 'x'")
            .await,
        0
    );
    // Malformed JSON and a wrong content type are JSON 400s too.
    assert_error(
        admin
            .post_raw("/api/v1/admin/campaigns", Some("application/json"), "{")
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;

    // Unknown and impossible ids.
    for path in [
        "/api/v1/admin/campaigns/999999",
        "/api/v1/admin/campaigns/0",
        "/api/v1/admin/campaigns/abc",
        "/api/v1/admin/campaigns/-1",
        "/api/v1/admin/campaigns/99999999999999999999",
    ] {
        assert_error(admin.get(path).await, StatusCode::NOT_FOUND, "not_found").await;
        assert_error(
            patch(&admin, path, &json!({ "name": "y" })).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }

    // Patch checks.
    let signup = create_campaign(
        &admin,
        json!({ "kind": "signup", "name": "新人礼", "coupons": pack,
                "starts_at": "2030-01-01T00:00:00Z" }),
    )
    .await;
    let path = format!("/api/v1/admin/campaigns/{}", signup.id);
    for body in [
        json!({ "name": "" }),
        json!({ "total_cap": 5 }),
        json!({ "ends_at": "2029-01-01T00:00:00Z" }),
        json!({ "ends_at": "soon" }),
        json!({ "active": "yes" }),
    ] {
        assert_error(
            patch(&admin, &path, &body).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        )
        .await;
    }
    let after = get_campaign(&admin, signup.id).await;
    assert_eq!(after.name, "新人礼");
    assert!(after.active);
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'campaign.update'")
            .await,
        0
    );
}

async fn campaign_stats_follow_grants_and_use(app: TestApp) {
    only_my_campaigns(&app).await;
    let admin = app.admin_login().await;
    let a = template(&app, "满30减5", 500).await;
    let b = template(&app, "满60减10", 1000).await;
    let c = create_campaign(
        &admin,
        json!({ "kind": "claim", "name": "领券", "total_cap": 10,
                "coupons": [{ "template_id": a, "quantity": 2 }, { "template_id": b }] }),
    )
    .await;
    let token = c.claim_token.clone().expect("token");
    let m1 = app.sign_up(&phone(1), "张三").await;
    let m2 = app.sign_up(&phone(2), "李四").await;
    for m in [&m1, &m2] {
        json_ok(
            m.client
                .post_empty(&format!("/api/v1/me/claims/{token}"))
                .await,
            StatusCode::OK,
        )
        .await;
    }
    // One of m1's coupons used for ¥5 (as a purchase would mark it).
    let m1_id = member_id(&app, &m1.me.member_no).await;
    app.db
        .execute(&format!(
            "UPDATE coupons SET status = 'used', used_at = {now}, discount_cents = 500 \
             WHERE id = (SELECT MIN(id) FROM coupons WHERE member_id = {m1_id} \
                         AND source_ref = 'campaign:{id}:')",
            now = app.now(),
            id = c.id
        ))
        .await;
    // A coupon of the same template from somewhere else is not this campaign's.
    app.db
        .execute(&format!(
            "INSERT INTO coupons (code, template_id, member_id, source, source_ref, status, \
             valid_from, expires_at, issued_at, used_at, discount_cents) \
             VALUES ('ZZZZZZZZZZ', {a}, {m1_id}, 'mall', 'ORDERCODE1', 'used', 0, 1, 0, 1, 999)"
        ))
        .await;
    let s = get_campaign(&admin, c.id).await.stats;
    assert_eq!(
        (
            s.members,
            s.coupons_issued,
            s.coupons_used,
            s.discount_cents,
            s.returned
        ),
        (2, 6, 1, 500, 0)
    );
    let list: Vec<AdminCampaign> = serde_json::from_value(
        json_ok(admin.get("/api/v1/admin/campaigns").await, StatusCode::OK).await,
    )
    .expect("list");
    let listed = list.iter().find(|x| x.id == c.id).expect("listed");
    assert_eq!(listed.stats, s);
    // The cap can't go below the members who claimed (judged under the lock).
    let path = format!("/api/v1/admin/campaigns/{}", c.id);
    assert_error(
        patch(&admin, &path, &json!({ "total_cap": 1 })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    )
    .await;
    json_ok(
        patch(&admin, &path, &json!({ "total_cap": 2 })).await,
        StatusCode::OK,
    )
    .await;
}

async fn signup_campaign_gives_welcome_pack_once(app: TestApp) {
    only_my_campaigns(&app).await;
    let admin = app.admin_login().await;
    let a = template(&app, "新人礼 ¥10", 1000).await;
    let b = template(&app, "免费加料", 300).await;
    let c = create_campaign(
        &admin,
        json!({ "kind": "signup", "name": "新人礼包",
                "coupons": [{ "template_id": a, "quantity": 2 }, { "template_id": b }] }),
    )
    .await;
    // Switched off: not given. (A campaign that ended is the same test of `ACTIVE`.)
    let off = create_campaign(
        &admin,
        json!({ "kind": "signup", "name": "旧礼包", "coupons": [{ "template_id": b }] }),
    )
    .await;
    json_ok(
        patch(
            &admin,
            &format!("/api/v1/admin/campaigns/{}", off.id),
            &json!({ "active": false }),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    let m = app.sign_up(&phone(40), "新会员").await;
    let id = member_id(&app, &m.me.member_no).await;
    let mine = |id: i64, cid: i64| {
        format!(
            "SELECT COUNT(*) FROM coupons WHERE member_id = {id} AND source = 'signup' \
             AND source_ref = 'campaign:{cid}:'"
        )
    };
    assert_eq!(app.db.scalar_i64(&mine(id, c.id)).await, 3);
    assert_eq!(app.db.scalar_i64(&mine(id, off.id)).await, 0);
    // Signing in again (a new session, after the OTP resend wait) gives nothing more.
    app.advance_clock(61);
    let again = app.sign_up(&phone(40), "新会员").await;
    assert_eq!(again.me.member_no, m.me.member_no);
    assert_eq!(app.db.scalar_i64(&mine(id, c.id)).await, 3);
    assert_eq!(campaign_grants(&app, c.id).await, 1);

    // Template `a` runs out: sign-up still works and the pack gives what is left.
    app.db
        .execute(&format!(
            "UPDATE coupon_templates SET total_limit = issued_count WHERE id = {a}"
        ))
        .await;
    let late = app.sign_up(&phone(41), "晚来的").await;
    let late_id = member_id(&app, &late.me.member_no).await;
    assert_eq!(app.db.scalar_i64(&mine(late_id, c.id)).await, 1);
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM coupons WHERE member_id = {late_id} AND template_id = {b}"
            ))
            .await,
        1
    );
    assert_eq!(late.me().await.member_no, late.me.member_no);
    let s = get_campaign(&admin, c.id).await.stats;
    assert_eq!((s.members, s.coupons_issued), (2, 4));
}

/// A per-member limit set on a template later counts the coupons members already hold
/// (a review found the count was only kept while a limit existed).
async fn a_member_limit_added_later_counts_coupons_held(app: TestApp) {
    only_my_campaigns(&app).await;
    let admin = app.admin_login().await;
    let t = template(&app, "无限券", 300).await;
    let m = app.sign_up(&phone(77), "老会员").await;
    let no = m.me.member_no.clone();
    let body = json!({ "template_id": t, "member_nos": [no], "quantity": 2, "reason": "补偿" });
    issued(issue(&admin, &body, &idem()).await).await;
    let resp = patch(
        &admin,
        &format!("/api/v1/admin/coupon-templates/{t}"),
        &json!({ "per_member_limit": 2 }),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json!({ "template_id": t, "member_nos": [no], "reason": "再补" });
    issued(issue(&admin, &body, &idem()).await).await;
    let id = crate::ledger::member_id(&app, &no).await;
    let held = app
        .db
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM coupons WHERE member_id = {id} AND template_id = {t}"
        ))
        .await;
    assert_eq!(held, 2, "the limit of two counts the two already held");
}

pub async fn issue(admin: &Client, body: &Value, key: &str) -> reqwest::Response {
    post_idem(admin, "/api/v1/admin/coupons/issue", body, key).await
}

pub async fn issued(resp: reqwest::Response) -> IssueCouponsResult {
    serde_json::from_value(json_ok(resp, StatusCode::OK).await).expect("IssueCouponsResult")
}
