//! Manual coupon issue to listed members and to segments: one grant per member, a retried
//! key never issues twice, every refusal named.

use member_core::dto::IssueCouponsResult;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_any_error, assert_error, idem, phone, TestApp};
use crate::ledger::member_id;

use crate::campaigns::*;

both_backends!(
    manual_issue_to_listed_members,
    manual_issue_retry_same_key_does_not_double_issue,
    manual_issue_to_segments_and_refusals,
    manual_issue_validation,
);

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
