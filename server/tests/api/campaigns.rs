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
    manual_issue_to_listed_members,
    manual_issue_retry_same_key_does_not_double_issue,
    manual_issue_to_segments_and_refusals,
    manual_issue_validation,
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

async fn issue(admin: &Client, body: &Value, key: &str) -> reqwest::Response {
    post_idem(admin, "/api/v1/admin/coupons/issue", body, key).await
}

async fn issued(resp: reqwest::Response) -> IssueCouponsResult {
    serde_json::from_value(json_ok(resp, StatusCode::OK).await).expect("IssueCouponsResult")
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

async fn manual_issue_to_listed_members(app: TestApp) {
    let admin = app.admin_login().await;
    let t = template(&app, "补偿券", 1000).await;
    let a = app.sign_up(&phone(1), "张三").await;
    let b = app.sign_up(&phone(2), "李四").await;
    let a_no = a.me.member_no.clone();
    let b_no = b.me.member_no.clone();
    let body = json!({
        "template_id": t, "quantity": 2, "reason": "门店停电补偿",
        "member_nos": [a_no, " 00000000000 ", b_no, a_no, "x\u{0}y", ""]
    });
    let r = issued(issue(&admin, &body, &idem()).await).await;
    assert_eq!(r.members, 2);
    assert_eq!(r.issued_members, 2);
    assert_eq!(r.coupons_issued, 4);
    assert_eq!(r.skipped_count, 3, "{r:?}");
    assert!(r.skipped.iter().all(|s| s.reason == "not_found"), "{r:?}");
    assert_eq!(r.skipped[0].member_no, "00000000000");
    for no in [&a_no, &b_no] {
        let id = member_id(&app, no).await;
        assert_eq!(
            app.db
                .scalar_i64(&format!(
                    "SELECT COUNT(*) FROM coupons WHERE member_id = {id} AND template_id = {t} \
                     AND source = 'manual' AND source_ref = 'campaign:{}:'",
                    r.campaign_id
                ))
                .await,
            2
        );
    }
    let c = get_campaign(&admin, r.campaign_id).await;
    assert_eq!(c.kind, "manual");
    assert_eq!(c.name, "门店停电补偿");
    assert_eq!(c.coupons.len(), 1);
    assert_eq!((c.coupons[0].template_id, c.coupons[0].quantity), (t, 2));
    assert_eq!((c.stats.members, c.stats.coupons_issued), (2, 4));
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'coupons.issue' \
                 AND actor = 'admin:admin' AND target = 'campaign:{}'",
                r.campaign_id
            ))
            .await,
        1
    );
    // A cashier can't issue.
    let till = app.staff_login().await;
    assert_error(
        issue(&till, &body, &idem()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

async fn manual_issue_retry_same_key_does_not_double_issue(app: TestApp) {
    let admin = app.admin_login().await;
    let t = template(&app, "补偿券", 1000).await;
    let mut nos = Vec::new();
    for i in 0..3 {
        nos.push(app.sign_up(&phone(10 + i), "会员").await.me.member_no);
    }
    let body = json!({ "template_id": t, "member_nos": nos, "reason": "补偿" });
    let key = idem();

    // The same request several times at once, then again: one issue.
    let mut calls = Vec::new();
    for _ in 0..4 {
        let admin = admin.clone();
        let body = body.clone();
        let key = key.clone();
        calls.push(tokio::spawn(
            async move { issue(&admin, &body, &key).await },
        ));
    }
    let mut campaign_ids = Vec::new();
    for c in calls {
        let r = issued(c.await.expect("join")).await;
        assert_eq!(
            (r.members, r.issued_members, r.coupons_issued),
            (3, 3, 3),
            "{r:?}"
        );
        campaign_ids.push(r.campaign_id);
    }
    campaign_ids.dedup();
    assert_eq!(campaign_ids.len(), 1, "one campaign for the key");
    let cid = campaign_ids[0];
    let resp = issue(&admin, &body, &key).await;
    assert_eq!(
        resp.headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let r = issued(resp).await;
    assert_eq!((r.campaign_id, r.coupons_issued), (cid, 3));
    assert_eq!(campaign_coupons(&app, cid).await, 3);
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM campaigns WHERE kind = 'manual'")
            .await,
        1
    );
    // The same key with another body.
    let mut other = body.clone();
    other["quantity"] = json!(2);
    assert_error(
        issue(&admin, &other, &key).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    // A missing key.
    assert_error(
        admin.post("/api/v1/admin/coupons/issue", &body).await,
        StatusCode::BAD_REQUEST,
        "idempotency_key_required",
    )
    .await;

    // A first run cut off after the campaign was made and one member was granted: the
    // retry grants the others, not the first one again, and reports the same campaign.
    let key2 = idem();
    let r = issued(issue(&admin, &body, &key2).await).await;
    let cid2 = r.campaign_id;
    assert_ne!(cid2, cid);
    for no in &nos[1..] {
        let id = member_id(&app, no).await;
        app.db
            .execute(&format!(
                "DELETE FROM coupons WHERE member_id = {id} AND source_ref = 'campaign:{cid2}:'"
            ))
            .await;
        app.db
            .execute(&format!(
                "DELETE FROM campaign_grants WHERE member_id = {id} AND campaign_id = {cid2}"
            ))
            .await;
    }
    app.db
        .execute(&format!(
            "UPDATE coupon_templates SET issued_count = issued_count - 2 WHERE id = {t}"
        ))
        .await;
    app.db
        .execute(&format!(
            "UPDATE idempotency_keys SET response_status = 202, \
             response_body = '{{\"campaign_id\":{cid2}}}' WHERE idem_key = '{key2}'"
        ))
        .await;
    assert_eq!(campaign_coupons(&app, cid2).await, 1);
    let resp = issue(&admin, &body, &key2).await;
    assert!(resp.headers().get("idempotent-replayed").is_none());
    let r = issued(resp).await;
    assert_eq!(r.campaign_id, cid2);
    assert_eq!((r.members, r.issued_members, r.coupons_issued), (3, 3, 3));
    assert_eq!(campaign_coupons(&app, cid2).await, 3);
    for no in &nos {
        let id = member_id(&app, no).await;
        assert_eq!(
            app.db
                .scalar_i64(&format!(
                    "SELECT COUNT(*) FROM coupons WHERE member_id = {id} \
                     AND source_ref = 'campaign:{cid2}:'"
                ))
                .await,
            1
        );
    }
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT issued_count FROM coupon_templates WHERE id = {t}"
            ))
            .await,
        6
    );
}

/// How many coupons of manual campaign `cid` each of `ids` holds.
async fn holders(app: &TestApp, ids: &[i64], cid: i64) -> Vec<i64> {
    let mut out = Vec::new();
    for id in ids {
        out.push(
            app.db
                .scalar_i64(&format!(
                    "SELECT COUNT(*) FROM coupons WHERE member_id = {id} \
                     AND source_ref = 'campaign:{cid}:'"
                ))
                .await,
        );
    }
    out
}

async fn manual_issue_to_segments_and_refusals(app: TestApp) {
    let admin = app.admin_login().await;
    let mut ids = Vec::new();
    let mut nos = Vec::new();
    for i in 0..5 {
        let m = app.sign_up(&phone(20 + i), "会员").await;
        ids.push(member_id(&app, &m.me.member_no).await);
        nos.push(m.me.member_no.clone());
    }
    let now = app.now();
    let day = 86_400;
    // 0: normal, never bought; 1: silver, bought today; 2: gold, bought 100 days ago;
    // 3: normal, bought 40 days ago; 4: diamond, never bought.
    let setup = [
        (ids[1], "silver", Some(now)),
        (ids[2], "gold", Some(now - 100 * day)),
        (ids[3], "normal", Some(now - 40 * day)),
        (ids[4], "diamond", None),
    ];
    for (id, tier, last) in setup {
        let last = last.map_or_else(|| "NULL".to_string(), |t| t.to_string());
        app.db
            .execute(&format!(
                "UPDATE members SET tier_code = '{tier}', last_purchase_at = {last} WHERE id = {id}"
            ))
            .await;
    }
    let got = |r: &IssueCouponsResult| r.campaign_id;
    let t = template(&app, "券", 100).await;
    let seg = |s: Value| json!({ "template_id": t, "segment": s, "reason": "人群发放" });

    let r = issued(issue(&admin, &seg(json!({ "min_tier": "silver" })), &idem()).await).await;
    assert_eq!(holders(&app, &ids, got(&r)).await, vec![0, 1, 1, 0, 1]);
    assert_eq!((r.members, r.issued_members, r.skipped_count), (3, 3, 0));

    let r = issued(issue(&admin, &seg(json!({ "lapsing_days": 30 })), &idem()).await).await;
    assert_eq!(holders(&app, &ids, got(&r)).await, vec![0, 0, 1, 1, 0]);

    let r = issued(
        issue(
            &admin,
            &seg(json!({ "min_tier": "gold", "lapsing_days": 30 })),
            &idem(),
        )
        .await,
    )
    .await;
    assert_eq!(holders(&app, &ids, got(&r)).await, vec![0, 0, 1, 0, 0]);

    let r = issued(issue(&admin, &seg(json!({ "all": true })), &idem()).await).await;
    assert!(r.members >= 5);
    assert_eq!(holders(&app, &ids, got(&r)).await, vec![1, 1, 1, 1, 1]);

    // Refusals are reported per member and keep nothing.
    let gold_only = template_with(
        &app,
        "金卡券",
        100,
        crate::campaigns::Tpl {
            required_tier: Some("gold"),
            ..Default::default()
        },
    )
    .await;
    let body = json!({ "template_id": gold_only, "segment": { "all": true }, "reason": "金卡" });
    let r = issued(issue(&admin, &body, &idem()).await).await;
    assert_eq!(holders(&app, &ids, got(&r)).await, vec![0, 0, 1, 0, 1]);
    assert_eq!(r.skipped_count, r.members - 2);
    assert!(
        r.skipped.iter().all(|s| s.reason == "tier_required"),
        "{r:?}"
    );
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM campaign_grants WHERE campaign_id = {}",
                r.campaign_id
            ))
            .await,
        2,
        "refused members have no grant"
    );

    let limited = template_with(
        &app,
        "限一张",
        100,
        crate::campaigns::Tpl {
            per_member_limit: Some(1),
            ..Default::default()
        },
    )
    .await;
    let body = json!({ "template_id": limited, "quantity": 2,
                       "member_nos": [nos[0]],
                       "reason": "限量" });
    let r = issued(issue(&admin, &body, &idem()).await).await;
    assert_eq!((r.members, r.issued_members, r.skipped_count), (1, 0, 1));
    assert_eq!(r.skipped[0].reason, "limit_reached");

    let scarce = template_with(
        &app,
        "只有两张",
        100,
        crate::campaigns::Tpl {
            total_limit: Some(2),
            ..Default::default()
        },
    )
    .await;
    let body = json!({ "template_id": scarce, "segment": { "all": true }, "reason": "抢券" });
    let r = issued(issue(&admin, &body, &idem()).await).await;
    assert_eq!((r.issued_members, r.coupons_issued), (2, 2));
    assert_eq!(r.skipped_count, r.members - 2);
    assert!(
        r.skipped.iter().all(|s| s.reason == "coupons_exhausted"),
        "{r:?}"
    );
}

async fn manual_issue_validation(app: TestApp) {
    let admin = app.admin_login().await;
    let t = template(&app, "券", 100).await;
    let m = app.sign_up(&phone(30), "会员").await;
    let no = m.me.member_no.clone();
    let off = template(&app, "停用", 100).await;
    app.db
        .execute(&format!(
            "UPDATE coupon_templates SET active = 0 WHERE id = {off}"
        ))
        .await;
    let many: Vec<String> = (0..1001).map(|i| format!("{i}")).collect();
    let cases = [
        json!({ "template_id": t, "reason": "x" }),
        json!({ "template_id": t, "reason": "x", "member_nos": [no], "segment": { "all": true } }),
        json!({ "template_id": t, "reason": "x", "segment": {} }),
        json!({ "template_id": t, "reason": "x", "segment": { "all": true, "min_tier": "gold" } }),
        json!({ "template_id": t, "reason": "x", "segment": { "min_tier": "platinum" } }),
        json!({ "template_id": t, "reason": "x", "segment": { "min_tier": "\u{0}" } }),
        json!({ "template_id": t, "reason": "x", "segment": { "lapsing_days": 0 } }),
        json!({ "template_id": t, "reason": "x", "member_nos": many }),
        json!({ "template_id": t, "reason": "", "member_nos": [no] }),
        json!({ "template_id": t, "reason": "a\u{0}", "member_nos": [no] }),
        json!({ "template_id": t, "quantity": 0, "reason": "x", "member_nos": [no] }),
        json!({ "template_id": t, "quantity": 11, "reason": "x", "member_nos": [no] }),
        json!({ "template_id": 999_999, "reason": "x", "member_nos": [no] }),
        json!({ "template_id": off, "reason": "x", "member_nos": [no] }),
        json!({ "template_id": "t", "reason": "x", "member_nos": [no] }),
        json!({ "reason": "x", "member_nos": [no] }),
    ];
    for body in &cases {
        let code = assert_any_error(
            issue(&admin, body, &idem()).await,
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
            .scalar_i64("SELECT COUNT(*) FROM campaigns WHERE kind = 'manual'")
            .await,
        0
    );
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM coupons WHERE source = 'manual'")
            .await,
        0
    );
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
