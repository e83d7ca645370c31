//! Claim links: the public view, claiming once per member, closed and exhausted links,
//! refusals that keep nothing, and members racing for a capped link.

use member_core::dto::{ClaimResult, ClaimView};
use reqwest::StatusCode;
use serde_json::json;

use crate::campaigns::{
    campaign_coupons, campaign_grants, create_campaign, get_campaign, only_my_campaigns, patch,
    template, template_with, Tpl,
};
use crate::common::{assert_error, json_ok, phone, Member, TestApp};
use crate::ledger::member_id;

both_backends!(
    claim_link_view_and_claim_once,
    closed_links_refuse_but_keep_what_was_claimed,
    claim_refusals_keep_nothing,
    members_racing_for_a_capped_link_get_exactly_the_cap,
    one_member_claiming_concurrently_gets_one_pack,
    a_cap_added_later_counts_earlier_claims,
);

async fn claim(m: &Member, token: &str) -> reqwest::Response {
    m.client
        .post_empty(&format!("/api/v1/me/claims/{token}"))
        .await
}

async fn claimed(m: &Member, token: &str) -> ClaimResult {
    serde_json::from_value(json_ok(claim(m, token).await, StatusCode::OK).await)
        .expect("ClaimResult")
}

async fn view(client: &crate::common::Client, token: &str) -> ClaimView {
    serde_json::from_value(
        json_ok(
            client.get(&format!("/api/v1/claims/{token}")).await,
            StatusCode::OK,
        )
        .await,
    )
    .expect("ClaimView")
}

async fn claim_link_view_and_claim_once(app: TestApp) {
    only_my_campaigns(&app).await;
    let admin = app.admin_login().await;
    let a = template(&app, "满30减5", 500).await;
    let b = template(&app, "满60减10", 1000).await;
    let c = create_campaign(
        &admin,
        json!({ "kind": "claim", "name": "开业领券", "total_cap": 3,
                "coupons": [{ "template_id": a, "quantity": 2 }, { "template_id": b }] }),
    )
    .await;
    let token = c.claim_token.clone().expect("token");

    let anonymous = app.client();
    let v = view(&anonymous, &token).await;
    assert_eq!(v.name, "开业领券");
    assert!(v.open);
    assert!(!v.claimed);
    assert_eq!(v.remaining, Some(3));
    assert_eq!(v.coupons.len(), 2);
    assert_eq!(v.coupons[0].name, "满30减5");
    assert_eq!(v.coupons[0].quantity, 2);
    assert_eq!(v.coupons[0].benefit.kind, "amount");
    assert_eq!(v.coupons[0].benefit.amount_off_cents, 500);
    assert_eq!(v.coupons[1].quantity, 1);

    // Claiming needs a member session.
    assert_error(
        anonymous
            .post_empty(&format!("/api/v1/me/claims/{token}"))
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let till = app.staff_login().await;
    assert_error(
        till.post_empty(&format!("/api/v1/me/claims/{token}")).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;

    let m = app.sign_up(&phone(1), "张三").await;
    assert!(!view(&m.client, &token).await.claimed);
    let first = claimed(&m, &token).await;
    assert!(!first.already_claimed);
    assert_eq!(first.coupons.len(), 3);
    assert!(first.coupons.iter().all(|c| c.source == "claim"));
    assert!(first.coupons.iter().all(|c| c.status == "usable"));
    let names: Vec<&str> = first.coupons.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.iter().filter(|n| **n == "满30减5").count(), 2);
    // Again (the token in any case): the same coupons, nothing new.
    let again = claimed(&m, &token.to_lowercase()).await;
    assert!(again.already_claimed);
    let ids = |r: &ClaimResult| {
        let mut v: Vec<i64> = r.coupons.iter().map(|c| c.id).collect();
        v.sort_unstable();
        v
    };
    assert_eq!(ids(&again), ids(&first));
    assert_eq!(campaign_coupons(&app, c.id).await, 3);
    let v = view(&m.client, &token).await;
    assert!(v.claimed);
    assert_eq!(v.remaining, Some(2));
    assert!(!view(&anonymous, &token).await.claimed);
    let s = get_campaign(&admin, c.id).await.stats;
    assert_eq!((s.members, s.coupons_issued), (1, 3));

    // Unknown or impossible tokens are JSON 404s.
    let other = app.sign_up(&phone(2), "李四").await;
    for t in [
        "ABCDEFGHJKMNPQRS",
        "x",
        "%00",
        "a%20b",
        &"A".repeat(65),
        "ABC-DEF",
        "%E4%BD%A0",
    ] {
        assert_error(
            anonymous.get(&format!("/api/v1/claims/{t}")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        assert_error(claim(&other, t).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    // Only claim campaigns have links.
    assert_eq!(campaign_grants(&app, c.id).await, 1);
}

async fn closed_links_refuse_but_keep_what_was_claimed(app: TestApp) {
    let admin = app.admin_login().await;
    let t = template(&app, "券", 500).await;
    let pack = json!([{ "template_id": t }]);
    let m = app.sign_up(&phone(3), "王五").await;
    let early = app.sign_up(&phone(4), "赵六").await;

    // Switched off after one member claimed.
    let c = create_campaign(
        &admin,
        json!({ "kind": "claim", "name": "停", "coupons": pack }),
    )
    .await;
    let token = c.claim_token.clone().expect("token");
    assert_eq!(claimed(&early, &token).await.coupons.len(), 1);
    let path = format!("/api/v1/admin/campaigns/{}", c.id);
    json_ok(
        patch(&admin, &path, &json!({ "active": false })).await,
        StatusCode::OK,
    )
    .await;
    let v = view(&m.client, &token).await;
    assert!(!v.open);
    assert_eq!(v.remaining, None);
    assert_error(claim(&m, &token).await, StatusCode::GONE, "campaign_closed").await;
    let kept = claimed(&early, &token).await;
    assert!(kept.already_claimed);
    assert_eq!(kept.coupons.len(), 1);

    // Not started yet, then open, then ended (by the server's clock).
    let now = app.now();
    let starts = member_server::clock::rfc3339(now + 3_600);
    let ends = member_server::clock::rfc3339(now + 7_200);
    let c = create_campaign(
        &admin,
        json!({ "kind": "claim", "name": "限时", "coupons": pack,
                "starts_at": starts, "ends_at": ends }),
    )
    .await;
    let token = c.claim_token.clone().expect("token");
    assert!(!view(&m.client, &token).await.open);
    assert_error(claim(&m, &token).await, StatusCode::GONE, "campaign_closed").await;
    app.advance_clock(3_700);
    assert!(view(&m.client, &token).await.open);
    assert_eq!(claimed(&early, &token).await.coupons.len(), 1);
    app.advance_clock(3_600);
    assert!(!view(&m.client, &token).await.open);
    assert_error(claim(&m, &token).await, StatusCode::GONE, "campaign_closed").await;
    assert!(claimed(&early, &token).await.already_claimed);
    let m_id = member_id(&app, &m.me.member_no).await;
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM campaign_grants g JOIN campaigns c ON c.id = g.campaign_id \
                 WHERE g.member_id = {m_id} AND c.kind = 'claim'"
            ))
            .await,
        0
    );
}

async fn claim_refusals_keep_nothing(app: TestApp) {
    let admin = app.admin_login().await;
    let m = app.sign_up(&phone(5), "孙七").await;
    let m_id = member_id(&app, &m.me.member_no).await;

    // The only template is for gold members.
    let gold = template_with(
        &app,
        "金卡专享",
        500,
        Tpl {
            required_tier: Some("gold"),
            ..Tpl::default()
        },
    )
    .await;
    let c = create_campaign(
        &admin,
        json!({ "kind": "claim", "name": "金卡", "total_cap": 5,
                "coupons": [{ "template_id": gold }] }),
    )
    .await;
    let token = c.claim_token.clone().expect("token");
    assert_error(
        claim(&m, &token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "tier_required",
    )
    .await;
    assert_eq!(campaign_grants(&app, c.id).await, 0);
    assert_eq!(get_campaign(&admin, c.id).await.total_cap, Some(5));
    assert_eq!(view(&m.client, &token).await.remaining, Some(5));
    // Once the member is gold, the same link works.
    app.db
        .execute(&format!(
            "UPDATE members SET tier_code = 'gold' WHERE id = {m_id}"
        ))
        .await;
    assert_eq!(claimed(&m, &token).await.coupons.len(), 1);

    // The template's stock is gone.
    let scarce = template_with(
        &app,
        "售罄",
        500,
        Tpl {
            total_limit: Some(0),
            ..Tpl::default()
        },
    )
    .await;
    let c = create_campaign(
        &admin,
        json!({ "kind": "claim", "name": "售罄", "coupons": [{ "template_id": scarce }] }),
    )
    .await;
    assert_error(
        claim(&m, c.claim_token.as_deref().expect("token")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "coupons_exhausted",
    )
    .await;
    assert_eq!(campaign_grants(&app, c.id).await, 0);

    // The link's cap is reached.
    let t = template(&app, "券", 100).await;
    let c = create_campaign(
        &admin,
        json!({ "kind": "claim", "name": "一人", "total_cap": 1, "coupons": [{ "template_id": t }] }),
    )
    .await;
    let token = c.claim_token.clone().expect("token");
    let first = app.sign_up(&phone(6), "周八").await;
    claimed(&first, &token).await;
    assert_eq!(view(&m.client, &token).await.remaining, Some(0));
    assert_error(
        claim(&m, &token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "coupons_exhausted",
    )
    .await;
    assert_eq!(campaign_grants(&app, c.id).await, 1);
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT granted_count FROM campaigns WHERE id = {}",
                c.id
            ))
            .await,
        1
    );
}

async fn members_racing_for_a_capped_link_get_exactly_the_cap(app: TestApp) {
    const MEMBERS: u32 = 16;
    const CAP: i64 = 5;
    let admin = app.admin_login().await;
    let a = template(&app, "满30减5", 500).await;
    let b = template(&app, "满60减10", 1000).await;
    let c = create_campaign(
        &admin,
        json!({ "kind": "claim", "name": "限量", "total_cap": CAP,
                "coupons": [{ "template_id": a, "quantity": 2 }, { "template_id": b }] }),
    )
    .await;
    let token = c.claim_token.clone().expect("token");
    let mut members = Vec::new();
    for i in 0..MEMBERS {
        members.push(app.sign_up(&phone(100 + i), "抢券").await);
    }
    let mut calls = Vec::new();
    for m in members {
        let token = token.clone();
        calls.push(tokio::spawn(async move {
            let resp = claim(&m, &token).await;
            let status = resp.status();
            let body: serde_json::Value = resp.json().await.expect("json");
            (status, body)
        }));
    }
    let mut ok = 0;
    for call in calls {
        let (status, body) = call.await.expect("join");
        match status {
            StatusCode::OK => {
                ok += 1;
                assert_eq!(body["already_claimed"], false, "{body}");
                assert_eq!(body["coupons"].as_array().map(Vec::len), Some(3), "{body}");
            }
            StatusCode::UNPROCESSABLE_ENTITY => {
                assert_eq!(body["error"]["code"], "coupons_exhausted", "{body}");
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(ok, CAP);
    assert_eq!(campaign_grants(&app, c.id).await, CAP);
    assert_eq!(campaign_coupons(&app, c.id).await, CAP * 3);
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT granted_count FROM campaigns WHERE id = {}",
                c.id
            ))
            .await,
        CAP
    );
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT issued_count FROM coupon_templates WHERE id = {a}"
            ))
            .await,
        CAP * 2
    );
    assert_eq!(get_campaign(&admin, c.id).await.stats.members, CAP);
}

async fn one_member_claiming_concurrently_gets_one_pack(app: TestApp) {
    let admin = app.admin_login().await;
    let t = template(&app, "券", 500).await;
    let c = create_campaign(
        &admin,
        json!({ "kind": "claim", "name": "连点", "total_cap": 100,
                "coupons": [{ "template_id": t, "quantity": 2 }] }),
    )
    .await;
    let token = c.claim_token.clone().expect("token");
    let m = app.sign_up(&phone(7), "吴九").await;
    let mut calls = Vec::new();
    for _ in 0..6 {
        let m = m.clone();
        let token = token.clone();
        calls.push(tokio::spawn(async move { claimed(&m, &token).await }));
    }
    let mut fresh = 0;
    let mut seen = Vec::new();
    for call in calls {
        let r = call.await.expect("join");
        if !r.already_claimed {
            fresh += 1;
        }
        let mut ids: Vec<i64> = r.coupons.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        assert_eq!(ids.len(), 2);
        seen.push(ids);
    }
    assert_eq!(fresh, 1);
    seen.dedup();
    assert_eq!(seen.len(), 1, "every answer names the same coupons");
    assert_eq!(campaign_coupons(&app, c.id).await, 2);
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT granted_count FROM campaigns WHERE id = {}",
                c.id
            ))
            .await,
        1
    );
}

/// A link without a cap still counts its claims, so a cap set later holds (a review found
/// that uncapped links counted nothing: 50 claims, then a cap of 10, let 10 more in).
async fn a_cap_added_later_counts_earlier_claims(app: TestApp) {
    only_my_campaigns(&app).await;
    let admin = app.admin_login().await;
    let a = template(&app, "满30减5", 500).await;
    let c = create_campaign(
        &admin,
        json!({ "kind": "claim", "name": "不限量", "coupons": [{ "template_id": a }] }),
    )
    .await;
    let token = c.claim_token.clone().expect("token");
    for i in 0..3 {
        let m = app.sign_up(&phone(400 + i), "先领").await;
        claimed(&m, &token).await;
    }
    let path = format!("/api/v1/admin/campaigns/{}", c.id);
    assert_eq!(
        patch(&admin, &path, &json!({ "total_cap": 2 }))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "three have claimed: a cap of two can't be"
    );
    assert_eq!(
        patch(&admin, &path, &json!({ "total_cap": 4 }))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(view(&app.client(), &token).await.remaining, Some(1));
    let fourth = app.sign_up(&phone(410), "第四").await;
    claimed(&fourth, &token).await;
    let fifth = app.sign_up(&phone(411), "第五").await;
    assert_error(
        claim(&fifth, &token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "coupons_exhausted",
    )
    .await;
    assert_eq!(campaign_grants(&app, c.id).await, 4);
}
