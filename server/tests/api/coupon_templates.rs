//! Admin coupon templates: create / list / patch with their counts and audit rows,
//! validation (every bad field a 400 with a message, never a 500), the total never
//! below what was issued, switching a template off, and who may call the routes.

use member_core::dto::AdminCouponTemplate;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, idem, json_ok, phone, Client, TestApp};
use crate::mall::{grant, manager_login, new_item, redeem, redeemed};

both_backends!(
    template_create_list_patch,
    template_validation_is_400_never_500,
    template_total_never_below_issued,
    deactivated_template_stops_issuing,
    template_routes_need_admin,
);

// ---------------------------------------------------------------------------------------
// Shared helpers (also used by mall_vouchers.rs)

/// Creates a template through the admin API; returns its id.
pub async fn create_template(admin: &Client, body: Value) -> i64 {
    let v = json_ok(
        admin.post("/api/v1/admin/coupon-templates", &body).await,
        StatusCode::CREATED,
    )
    .await;
    v["id"].as_i64().expect("created id")
}

/// ¥`off_cents` off with a ¥30 minimum, valid 7 days from issue; `extra` overrides.
pub async fn amount_template(admin: &Client, name: &str, off_cents: i64, extra: Value) -> i64 {
    let mut body = json!({
        "name": name, "valid_days": 7, "min_spend_cents": 3000,
        "benefit": { "kind": "amount", "amount_off_cents": off_cents },
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    create_template(admin, body).await
}

pub async fn templates(admin: &Client) -> Vec<AdminCouponTemplate> {
    let v = json_ok(
        admin.get("/api/v1/admin/coupon-templates").await,
        StatusCode::OK,
    )
    .await;
    serde_json::from_value(v).expect("[AdminCouponTemplate]")
}

pub async fn template_of(admin: &Client, id: i64) -> AdminCouponTemplate {
    templates(admin)
        .await
        .into_iter()
        .find(|t| t.id == id)
        .unwrap_or_else(|| panic!("template {id} not listed"))
}

pub async fn patch_template(admin: &Client, id: &str, body: &Value) -> reqwest::Response {
    admin
        .http
        .patch(format!("{}/api/v1/admin/coupon-templates/{id}", admin.base))
        .json(body)
        .send()
        .await
        .expect("PATCH template")
}

async fn template_count(app: &TestApp) -> i64 {
    app.db
        .scalar_i64("SELECT COUNT(*) FROM coupon_templates")
        .await
}

// ---------------------------------------------------------------------------------------

async fn template_create_list_patch(app: TestApp) {
    let admin = app.admin_login().await;
    let amount = amount_template(
        &admin,
        " 满30减5 ",
        500,
        json!({ "description": "第一行\n第二行", "store_codes": ["S001", " S001 "],
                "total_limit": 100, "per_member_limit": 2, "required_tier": "silver" }),
    )
    .await;
    let percent = create_template(
        &admin,
        json!({ "name": "9折券", "stackable": true,
                "valid_from": "2030-01-01T00:00:00+08:00", "valid_until": "2030-02-01T00:00:00+08:00",
                "benefit": { "kind": "percent", "percent_off": 10, "cap_cents": 3000,
                             "amount_off_cents": 777 } }),
    )
    .await;
    let gift = create_template(
        &admin,
        json!({ "name": "免费加料", "valid_until": "2031-01-01T00:00:00Z",
                "benefit": { "kind": "gift", "gift_name": " 加料 " } }),
    )
    .await;

    let all = templates(&admin).await;
    let a = all.iter().find(|t| t.id == amount).expect("amount listed");
    assert_eq!(a.name, "满30减5", "trimmed");
    assert_eq!(a.description, "第一行\n第二行");
    assert_eq!(a.benefit.kind, "amount");
    assert_eq!(a.benefit.amount_off_cents, 500);
    assert_eq!(a.min_spend_cents, 3000);
    assert!(!a.stackable);
    assert_eq!(a.store_codes, vec!["S001".to_string()], "deduplicated");
    assert_eq!(a.valid_days, Some(7));
    assert_eq!(
        (a.valid_from.as_deref(), a.valid_until.as_deref()),
        (None, None)
    );
    assert_eq!(a.total_limit, Some(100));
    assert_eq!(a.per_member_limit, Some(2));
    assert_eq!(a.required_tier.as_deref(), Some("silver"));
    assert!(a.active);
    assert_eq!((a.issued, a.used), (0, 0));

    let p = all
        .iter()
        .find(|t| t.id == percent)
        .expect("percent listed");
    assert_eq!(p.benefit.kind, "percent");
    assert_eq!(p.benefit.percent_off, 10);
    assert_eq!(p.benefit.cap_cents, Some(3000));
    // Fields of another kind are not kept.
    assert_eq!(p.benefit.amount_off_cents, 0);
    assert!(p.stackable);
    assert!(p.store_codes.is_empty());
    assert_eq!(p.valid_days, None);
    assert_eq!(p.valid_from.as_deref(), Some("2029-12-31T16:00:00Z"));
    assert_eq!(p.valid_until.as_deref(), Some("2030-01-31T16:00:00Z"));

    let g = all.iter().find(|t| t.id == gift).expect("gift listed");
    assert_eq!(g.benefit.kind, "gift");
    assert_eq!(g.benefit.gift_name.as_deref(), Some("加料"));
    assert_eq!(g.valid_from, None);
    // Newest first.
    let pos = |id: i64| all.iter().position(|t| t.id == id).expect("listed");
    assert!(pos(gift) < pos(percent) && pos(percent) < pos(amount));

    // Patch: only the fields given change; `null` removes a limit.
    let v = json_ok(
        patch_template(
            &admin,
            &amount.to_string(),
            &json!({ "name": "满30减5（新）", "description": "", "active": false,
                     "total_limit": null, "per_member_limit": 3 }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let after: AdminCouponTemplate = serde_json::from_value(v).expect("AdminCouponTemplate");
    assert_eq!(after.name, "满30减5（新）");
    assert_eq!(after.description, "");
    assert!(!after.active);
    assert_eq!(after.total_limit, None);
    assert_eq!(after.per_member_limit, Some(3));
    // The rules are untouched.
    assert_eq!(after.benefit, a.benefit);
    assert_eq!(after.min_spend_cents, 3000);
    assert_eq!(after.required_tier.as_deref(), Some("silver"));
    let v = json_ok(
        patch_template(&admin, &amount.to_string(), &json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["name"], "满30减5（新）");
    assert_eq!(template_of(&admin, amount).await, after);

    // Every change has an audit row naming the admin.
    assert_eq!(
        app.db
            .scalar_i64(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'coupon_template.create' \
                 AND actor = 'admin:admin'"
            )
            .await,
        3
    );
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'coupon_template.update' \
                 AND target = 'coupon_template:{amount}' AND detail LIKE '%before=%after=%'"
            ))
            .await,
        2
    );
}

async fn template_validation_is_400_never_500(app: TestApp) {
    let admin = app.admin_login().await;
    let ok = json!({ "name": "ok", "valid_days": 7,
                     "benefit": { "kind": "amount", "amount_off_cents": 100 } });
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = ok.clone();
        b.as_object_mut().expect("object").remove(k);
        b
    };
    let before = template_count(&app).await;
    let bad_bodies = vec![
        with("name", json!("")),
        with("name", json!("   ")),
        with("name", json!("字".repeat(41))),
        with("name", json!("a\u{0}b")),
        with("name", json!(12)),
        without("name"),
        with("description", json!("x\u{0}")),
        with("description", json!("长".repeat(501))),
        without("benefit"),
        with("benefit", json!({ "kind": "free" })),
        with(
            "benefit",
            json!({ "kind": "amount\u{0}", "amount_off_cents": 100 }),
        ),
        with("benefit", json!({ "kind": "amount" })),
        with(
            "benefit",
            json!({ "kind": "amount", "amount_off_cents": 0 }),
        ),
        with(
            "benefit",
            json!({ "kind": "amount", "amount_off_cents": -5 }),
        ),
        with(
            "benefit",
            json!({ "kind": "amount", "amount_off_cents": 100_000_001 }),
        ),
        with(
            "benefit",
            json!({ "kind": "amount", "amount_off_cents": "100" }),
        ),
        with("benefit", json!({ "kind": "percent", "percent_off": 0 })),
        with("benefit", json!({ "kind": "percent", "percent_off": 100 })),
        with(
            "benefit",
            json!({ "kind": "percent", "percent_off": 10, "cap_cents": 0 }),
        ),
        with(
            "benefit",
            json!({ "kind": "percent", "percent_off": 10, "cap_cents": -1 }),
        ),
        with("benefit", json!({ "kind": "gift" })),
        with("benefit", json!({ "kind": "gift", "gift_name": "  " })),
        with("benefit", json!({ "kind": "gift", "gift_name": "a\u{0}" })),
        with(
            "benefit",
            json!({ "kind": "gift", "gift_name": "礼".repeat(41) }),
        ),
        with("min_spend_cents", json!(-1)),
        with("min_spend_cents", json!(100_000_001)),
        with("store_codes", json!(["S999"])),
        with("store_codes", json!([""])),
        with("store_codes", json!(["S001\u{0}"])),
        with("store_codes", json!("S001")),
        with("required_tier", json!("platinum")),
        with("required_tier", json!("g\u{0}")),
        with("total_limit", json!(0)),
        with("total_limit", json!(-3)),
        with("per_member_limit", json!(0)),
        with("per_member_limit", json!(i64::MAX)),
        with("valid_days", json!(0)),
        with("valid_days", json!(3661)),
        // Validity: exactly one of valid_days or valid_until.
        without("valid_days"),
        with("valid_until", json!("2030-01-01T00:00:00Z")),
        with("valid_from", json!("2030-01-01T00:00:00Z")),
        {
            let mut b = without("valid_days");
            b["valid_from"] = json!("2030-01-01T00:00:00Z");
            b
        },
        {
            let mut b = without("valid_days");
            b["valid_from"] = json!("2030-02-01T00:00:00Z");
            b["valid_until"] = json!("2030-01-01T00:00:00Z");
            b
        },
        {
            let mut b = without("valid_days");
            b["valid_from"] = json!("2030-01-01T00:00:00Z");
            b["valid_until"] = json!("2030-01-01T00:00:00Z");
            b
        },
        {
            // Already over: a template nobody could ever use.
            let mut b = without("valid_days");
            b["valid_until"] = json!("2020-01-01T00:00:00Z");
            b
        },
        {
            let mut b = without("valid_days");
            b["valid_until"] = json!("1999-12-31T00:00:00Z");
            b
        },
        {
            let mut b = without("valid_days");
            b["valid_until"] = json!("+10000-01-01T00:00:00Z");
            b
        },
        {
            let mut b = without("valid_days");
            b["valid_until"] = json!("next week");
            b
        },
        {
            let mut b = without("valid_days");
            b["valid_until"] = json!("2030-01-01");
            b
        },
    ];
    for body in &bad_bodies {
        let v = assert_error(
            admin.post("/api/v1/admin/coupon-templates", body).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        )
        .await;
        assert!(
            v["error"]["message"].as_str().is_some_and(|m| m.len() > 5),
            "{body}: {v}"
        );
    }
    for raw in ["", "{", "[]", "null", "{\"name\":\"x\"}"] {
        assert_error(
            admin
                .post_raw(
                    "/api/v1/admin/coupon-templates",
                    Some("application/json"),
                    raw,
                )
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        )
        .await;
    }
    assert_eq!(template_count(&app).await, before, "nothing was created");
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'coupon_template.%'")
            .await,
        0
    );

    // The good ones for contrast (an existing store and tier; a fixed window).
    create_template(&admin, with("store_codes", json!(["S001"]))).await;
    create_template(&admin, with("required_tier", json!(" gold "))).await;
    let mut fixed = without("valid_days");
    fixed["valid_until"] = json!("2099-12-31T23:59:59+08:00");
    create_template(&admin, fixed).await;

    // Patches.
    let id = create_template(&admin, ok.clone()).await;
    let unchanged = template_of(&admin, id).await;
    for body in [
        json!({ "name": "" }),
        json!({ "name": "a\u{0}" }),
        json!({ "name": "字".repeat(41) }),
        json!({ "description": "\u{7}" }),
        json!({ "total_limit": 0 }),
        json!({ "total_limit": -1 }),
        json!({ "per_member_limit": 0 }),
        json!({ "active": "yes" }),
        json!({ "total_limit": "5" }),
    ] {
        assert_error(
            patch_template(&admin, &id.to_string(), &body).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        )
        .await;
    }
    assert_eq!(template_of(&admin, id).await, unchanged);
    for bad_id in ["999999", "0", "-1", "abc", "1.5", "99999999999999999999"] {
        assert_error(
            patch_template(&admin, bad_id, &json!({ "name": "x" })).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
}

async fn template_total_never_below_issued(app: TestApp) {
    let admin = app.admin_login().await;
    let t = amount_template(&admin, "满30减5", 500, json!({ "total_limit": 10 })).await;
    let item = new_item(
        &admin,
        "满30减5券",
        10,
        100,
        json!({ "coupon_template_id": t, "kind": "voucher" }),
    )
    .await;
    let m = app.sign_up(&phone(40), "钱多多").await;
    grant(&app, &m, 100).await;
    redeemed(&m.client, item, 3).await;
    assert_eq!(template_of(&admin, t).await.issued, 3);

    let v = assert_error(
        patch_template(
            &admin,
            &t.to_string(),
            &json!({ "total_limit": 2, "name": "改名" }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    )
    .await;
    assert!(
        v["error"]["message"].as_str().unwrap_or("").contains('3'),
        "names what was issued: {v}"
    );
    // Nothing of the refused patch was applied.
    let now = template_of(&admin, t).await;
    assert_eq!((now.name.as_str(), now.total_limit), ("满30减5", Some(10)));
    // Down to exactly what was issued is fine, and then it is exhausted.
    let v = json_ok(
        patch_template(&admin, &t.to_string(), &json!({ "total_limit": 3 })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["total_limit"], 3);
    assert_error(
        redeem(&m.client, item, 1, &idem()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "coupons_exhausted",
    )
    .await;
    // No limit at all: issuing goes on.
    json_ok(
        patch_template(&admin, &t.to_string(), &json!({ "total_limit": null })).await,
        StatusCode::OK,
    )
    .await;
    redeemed(&m.client, item, 1).await;
    assert_eq!(template_of(&admin, t).await.issued, 4);
}

async fn deactivated_template_stops_issuing(app: TestApp) {
    let admin = app.admin_login().await;
    let t = amount_template(&admin, "满30减5", 500, json!({})).await;
    let item = new_item(
        &admin,
        "满30减5券",
        10,
        100,
        json!({ "coupon_template_id": t, "kind": "voucher" }),
    )
    .await;
    let m = app.sign_up(&phone(41), "孙悟空").await;
    grant(&app, &m, 100).await;
    redeemed(&m.client, item, 1).await;

    json_ok(
        patch_template(&admin, &t.to_string(), &json!({ "active": false })).await,
        StatusCode::OK,
    )
    .await;
    let coupons = |app: TestApp| async move {
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM coupons WHERE template_id = {t}"
            ))
            .await
    };
    assert_error(
        redeem(&m.client, item, 1, &idem()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "item_unavailable",
    )
    .await;
    assert_eq!(m.me().await.points, 90);
    assert_eq!(coupons(app.clone()).await, 1);
    assert_eq!(template_of(&admin, t).await.issued, 1);
    // Switched on again: it issues again.
    json_ok(
        patch_template(&admin, &t.to_string(), &json!({ "active": true })).await,
        StatusCode::OK,
    )
    .await;
    redeemed(&m.client, item, 1).await;
    assert_eq!(coupons(app.clone()).await, 2);
}

async fn template_routes_need_admin(app: TestApp) {
    let admin = app.admin_login().await;
    let t = amount_template(&admin, "满30减5", 500, json!({})).await;
    let cashier = app.staff_login().await;
    let manager = manager_login(&app).await;
    let member = app.sign_up(&phone(42), "猪八戒").await;
    let anonymous = app.client();
    let body = json!({ "name": "x", "valid_days": 7,
                       "benefit": { "kind": "amount", "amount_off_cents": 100 } });
    let before = template_count(&app).await;
    for (client, status, code) in [
        (&cashier, StatusCode::FORBIDDEN, "forbidden"),
        (&manager, StatusCode::FORBIDDEN, "forbidden"),
        (&member.client, StatusCode::UNAUTHORIZED, "unauthenticated"),
        (&anonymous, StatusCode::UNAUTHORIZED, "unauthenticated"),
    ] {
        assert_error(
            client.get("/api/v1/admin/coupon-templates").await,
            status,
            code,
        )
        .await;
        assert_error(
            client.post("/api/v1/admin/coupon-templates", &body).await,
            status,
            code,
        )
        .await;
        assert_error(
            patch_template(client, &t.to_string(), &json!({ "active": false })).await,
            status,
            code,
        )
        .await;
    }
    assert_eq!(template_count(&app).await, before);
    assert!(template_of(&admin, t).await.active);
}
