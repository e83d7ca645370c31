//! Admin mall items (create, patch, validation, stock edits that keep redemptions) and who
//! may call which mall route.

use member_core::dto::{AdminMallItem, MallItem};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, idem, json_ok, phone, Client, TestApp};

use crate::mall::*;

both_backends!(
    admin_items_create_patch_and_validate,
    mall_routes_authz,
    seeded_mall_has_cheap_items,
    nul_in_admin_inputs_is_refused_not_a_500,
    stock_changes_keep_redemptions_made_meanwhile,
    bad_path_segments_are_json_errors,
);

async fn admin_items_create_patch_and_validate(app: TestApp) {
    let admin = app.admin_login().await;
    let id = new_item(
        &admin,
        "联名马克杯",
        200,
        8,
        json!({
            "description": "350 ml\n陶瓷", "per_member_limit": 1, "min_tier": "silver",
            "cash_cents": 990, "available_from": "2026-01-01T00:00:00+08:00",
            "available_until": "2030-01-01T00:00:00Z", "sort": 5, "hidden": true,
        }),
    )
    .await;
    let list = |admin: Client| async move {
        let v = json_ok(admin.get("/api/v1/admin/mall/items").await, StatusCode::OK).await;
        serde_json::from_value::<Vec<AdminMallItem>>(v).expect("admin items")
    };
    let item = list(admin.clone())
        .await
        .into_iter()
        .find(|i| i.id == id)
        .expect("hidden item listed for admin");
    assert!(item.hidden);
    assert_eq!(item.min_tier.as_deref(), Some("silver"));
    assert_eq!(item.per_member_limit, Some(1));
    assert_eq!(item.cash_cents, 990);
    assert_eq!(item.description, "350 ml\n陶瓷");
    assert_eq!(item.available_from.as_deref(), Some("2025-12-31T16:00:00Z"));
    assert_eq!(item.redeemed, 0);

    let patch = |body: Value| {
        let admin = admin.clone();
        async move {
            admin
                .http
                .patch(format!("{}/api/v1/admin/mall/items/{id}", admin.base))
                .json(&body)
                .send()
                .await
                .expect("PATCH")
        }
    };
    // Absent keeps, null clears, stock is set as given.
    let v = json_ok(
        patch(
            json!({ "stock": 3, "per_member_limit": null, "min_tier": null,
                      "image_url": null, "available_until": null, "hidden": false }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let after: AdminMallItem = serde_json::from_value(v).expect("AdminMallItem");
    assert_eq!(after.stock, 3);
    assert_eq!(after.per_member_limit, None);
    assert_eq!(after.min_tier, None);
    assert_eq!(after.image_url, None);
    assert_eq!(after.available_until, None);
    assert!(!after.hidden);
    assert_eq!(after.name, "联名马克杯");
    assert_eq!(after.points_price, 200);
    assert_eq!(after.cash_cents, 990);
    assert_eq!(
        after.available_from.as_deref(),
        Some("2025-12-31T16:00:00Z")
    );
    let v = json_ok(
        patch(
            json!({ "name": " 新名字 ", "points_price": 150, "min_tier": "gold",
                      "image_url": "https://cdn.example.com/a.png" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let renamed: AdminMallItem = serde_json::from_value(v).expect("AdminMallItem");
    assert_eq!(renamed.name, "新名字");
    assert_eq!(renamed.points_price, 150);
    assert_eq!(renamed.min_tier.as_deref(), Some("gold"));
    assert_eq!(
        renamed.image_url.as_deref(),
        Some("https://cdn.example.com/a.png")
    );
    assert_eq!(renamed.stock, 3);
    let audits = app
        .db
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE target = 'mall_item:{id}' \
             AND ((action = 'mall_item.create' AND detail LIKE 'after=%') \
               OR (action = 'mall_item.update' AND detail LIKE 'before=%after=%'))"
        ))
        .await;
    assert_eq!(audits, 3);

    // Invalid input on create and patch: 400 invalid_input, nothing stored.
    let n_items = app.db.scalar_i64("SELECT COUNT(*) FROM mall_items").await;
    let bad_fields = [
        json!({ "name": "" }),
        json!({ "name": "   " }),
        json!({ "name": "长".repeat(61) }),
        json!({ "name": "a\u{7}b" }),
        json!({ "points_price": 0 }),
        json!({ "points_price": 10_000_001 }),
        json!({ "stock": -1 }),
        json!({ "stock": 10_000_001 }),
        json!({ "per_member_limit": 0 }),
        json!({ "cash_cents": -1 }),
        json!({ "cash_cents": 100_000_001 }),
        json!({ "kind": "service" }),
        json!({ "min_tier": "platinum" }),
        json!({ "available_from": "tomorrow" }),
        json!({ "available_from": "2030-01-01T00:00:00Z", "available_until": "2030-01-01T00:00:00Z" }),
        json!({ "image_url": "javascript:alert(1)" }),
        json!({ "image_url": "http://example.com/a.png" }),
        json!({ "image_url": "//evil.example/a.png" }),
        json!({ "image_url": format!("/{}", "a".repeat(500)) }),
        json!({ "image_url": "/a b.png" }),
        json!({ "category": "类".repeat(21) }),
        json!({ "description": "d".repeat(501) }),
    ];
    for extra in &bad_fields {
        let mut body = json!({ "name": "合法", "points_price": 10, "stock": 1 });
        for (k, v) in extra.as_object().expect("object") {
            body[k] = v.clone();
        }
        assert_error(
            admin.post("/api/v1/admin/mall/items", &body).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        )
        .await;
        assert_error(
            patch(extra.clone()).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        )
        .await;
    }
    // A patch that makes the dates cross is refused as well.
    assert_error(
        patch(json!({ "available_until": "2020-01-01T00:00:00Z" })).await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
    assert_eq!(
        app.db.scalar_i64("SELECT COUNT(*) FROM mall_items").await,
        n_items
    );
    let unchanged = list(admin.clone())
        .await
        .into_iter()
        .find(|i| i.id == id)
        .expect("item");
    assert_eq!(unchanged, renamed);
    for path in [
        "/api/v1/admin/mall/items/999999",
        "/api/v1/admin/mall/items/x",
    ] {
        let resp = admin
            .http
            .patch(format!("{}{path}", admin.base))
            .json(&json!({ "stock": 1 }))
            .send()
            .await
            .expect("PATCH");
        assert_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    }
}

async fn mall_routes_authz(app: TestApp) {
    let admin = app.admin_login().await;
    let item = new_item(&admin, "权限测试", 10, 10, json!({})).await;
    let m = app.sign_up(&phone(12), "权限").await;
    grant(&app, &m, 100).await;
    let order = redeemed(&m.client, item, 1).await;
    let code = order.order_code.as_str();
    let cashier = app.staff_login().await;
    let manager = manager_login(&app).await;
    let anonymous = app.client();

    let member_routes = [
        ("GET", "/api/v1/mall/items".to_string()),
        ("GET", format!("/api/v1/mall/items/{item}")),
        ("POST", "/api/v1/mall/orders".to_string()),
        ("GET", "/api/v1/me/mall/orders".to_string()),
        ("GET", format!("/api/v1/me/mall/orders/{code}")),
    ];
    let staff_routes = [
        ("GET", format!("/api/v1/staff/mall/orders/{code}")),
        ("POST", format!("/api/v1/staff/mall/orders/{code}/collect")),
        ("POST", format!("/api/v1/staff/mall/orders/{code}/cancel")),
    ];
    let admin_routes = [
        ("GET", "/api/v1/admin/mall/items".to_string()),
        ("POST", "/api/v1/admin/mall/items".to_string()),
        ("PATCH", format!("/api/v1/admin/mall/items/{item}")),
    ];
    let send = |c: &Client, method: &str, path: &str| {
        let req = match method {
            "GET" => c.http.get(format!("{}{path}", c.base)),
            "PATCH" => c
                .http
                .patch(format!("{}{path}", c.base))
                .json(&json!({ "stock": 1 })),
            _ => c
                .http
                .post(format!("{}{path}", c.base))
                .header("Idempotency-Key", idem())
                .json(&json!({ "item_id": item, "reason": "x", "name": "x",
                               "points_price": 1, "stock": 1 })),
        };
        req.send()
    };
    // Staff cookies are no member session, and the other way round.
    for (method, path) in &member_routes {
        for c in [&anonymous, &cashier, &admin] {
            let resp = send(c, method, path).await.expect("send");
            assert_error(resp, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        }
    }
    for (method, path) in staff_routes.iter().chain(admin_routes.iter()) {
        for c in [&anonymous, &m.client] {
            let resp = send(c, method, path).await.expect("send");
            assert_error(resp, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        }
    }
    for (method, path) in &admin_routes {
        for c in [&cashier, &manager] {
            let resp = send(c, method, path).await.expect("send");
            assert_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
        }
    }
    // Nothing was redeemed, collected or changed by the refused calls.
    assert_eq!(m.me().await.points, 90);
    assert_eq!(stock_of(&app, item).await, 9);
    let staff_view = json_ok(
        cashier
            .get(&format!("/api/v1/staff/mall/orders/{code}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(staff_view["order"]["status"], "pending");
}

async fn seeded_mall_has_cheap_items(app: TestApp) {
    let m = app.sign_up(&phone(13), "新会员").await;
    let all = items(&m, "").await;
    let cheap: Vec<&MallItem> = all.iter().filter(|i| i.points_price <= 50).collect();
    assert!(cheap.len() >= 3, "low-threshold items: {all:?}");
    // They come first in the listing, so a new member finds them without scrolling.
    assert!(all.iter().take(3).all(|i| i.points_price <= 50), "{all:?}");
    assert!(all.iter().any(|i| i.cash_cents > 0));
    assert!(all.iter().any(|i| i.locked));
    assert!(all.iter().any(|i| i.per_member_limit == Some(1)));
    assert!(all.iter().all(|i| i
        .image_url
        .as_deref()
        .is_some_and(|u| u.starts_with("/mall/img/"))));
    // A new member has 0 points: nothing is affordable yet.
    assert!(items(&m, "?affordable=true").await.is_empty());
    // The seeded manager signs in.
    manager_login(&app).await;
}

/// Postgres can't store NUL in text: such input must be refused before it gets there.
async fn nul_in_admin_inputs_is_refused_not_a_500(app: TestApp) {
    let admin = app.admin_login().await;
    let item = new_item(&admin, "测试品", 10, 5, json!({})).await;
    let patch = admin
        .http
        .patch(format!("{}/api/v1/admin/mall/items/{item}", admin.base))
        .json(&json!({ "min_tier": "\u{0}" }))
        .send()
        .await
        .expect("PATCH");
    assert_error(patch, StatusCode::BAD_REQUEST, "invalid_input").await;
    let create = admin
        .post(
            "/api/v1/admin/mall/items",
            &json!({ "name": "x", "points_price": 10, "stock": 1, "min_tier": "a\u{0}" }),
        )
        .await;
    assert_error(create, StatusCode::BAD_REQUEST, "invalid_input").await;
    let adjust = admin
        .http
        .post(format!("{}/api/v1/admin/members/ab%00c/points", admin.base))
        .header("Idempotency-Key", idem())
        .json(&json!({ "points": 5, "reason": "测试" }))
        .send()
        .await
        .expect("POST adjust");
    assert_error(adjust, StatusCode::NOT_FOUND, "not_found").await;
    for date in ["9999-12-31T23:59:59-23:59", "1969-12-31T23:59:59Z"] {
        let r = admin
            .post(
                "/api/v1/admin/mall/items",
                &json!({ "name": "x", "points_price": 10, "stock": 1, "available_from": date }),
            )
            .await;
        assert_error(r, StatusCode::BAD_REQUEST, "invalid_input").await;
    }
    // Path segments that can't be an id or aren't UTF-8: our JSON 404, not plain text.
    for path in [
        "/api/v1/admin/mall/items/abc",
        "/api/v1/admin/mall/items/%FF",
        "/api/v1/admin/mall/items/99999999999999999999",
    ] {
        let r = admin
            .http
            .patch(format!("{}{path}", admin.base))
            .json(&json!({ "hidden": true }))
            .send()
            .await
            .expect("PATCH");
        assert_error(r, StatusCode::NOT_FOUND, "not_found").await;
    }
    let r = admin
        .http
        .post(format!("{}/api/v1/admin/members/%FF/points", admin.base))
        .header("Idempotency-Key", idem())
        .json(&json!({ "points": 5, "reason": "测试" }))
        .send()
        .await
        .expect("POST adjust");
    assert_error(r, StatusCode::NOT_FOUND, "not_found").await;
}

/// An admin who read stock 5 and saves after a member redeemed one must not put the
/// redeemed unit back on the shelf.
async fn stock_changes_keep_redemptions_made_meanwhile(app: TestApp) {
    let admin = app.admin_login().await;
    let item = new_item(&admin, "限量杯", 10, 5, json!({})).await;
    let m = app.sign_up(&phone(30), "买家").await;
    grant(&app, &m, 100).await;
    redeemed(&m.client, item, 1).await;
    let patch = |body: Value| {
        let admin = admin.clone();
        async move {
            admin
                .http
                .patch(format!("{}/api/v1/admin/mall/items/{item}", admin.base))
                .json(&body)
                .send()
                .await
                .expect("PATCH")
        }
    };
    // Based on the stale count: refused, nothing changed.
    assert_error(
        patch(json!({ "stock": 15, "expected_stock": 5 })).await,
        StatusCode::CONFLICT,
        "stock_changed",
    )
    .await;
    assert_eq!(stock_of(&app, item).await, 4);
    // Relative: 10 more on top of what is left.
    let v = json_ok(patch(json!({ "stock_delta": 10 })).await, StatusCode::OK).await;
    assert_eq!(v["stock"], 14, "{v}");
    assert_error(
        patch(json!({ "stock_delta": -15 })).await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
    assert_error(
        patch(json!({ "stock": 3, "stock_delta": 1 })).await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
    let v = json_ok(
        patch(json!({ "stock": 20, "expected_stock": 14 })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["stock"], 20, "{v}");
}

/// Segments that aren't UTF-8 or can't be the wanted id: our JSON error, never axum's
/// plain-text 400, on member and staff routes alike.
async fn bad_path_segments_are_json_errors(app: TestApp) {
    let m = app.sign_up(&phone(32), "路径").await;
    let till = app.staff_login().await;
    let get = |c: &Client, path: &'static str| {
        let c = c.clone();
        async move {
            c.http
                .get(format!("{}{path}", c.base))
                .send()
                .await
                .expect("GET")
        }
    };
    for path in [
        "/api/v1/mall/items/abc",
        "/api/v1/mall/items/%FF",
        "/api/v1/me/mall/orders/%FF",
    ] {
        assert_error(
            get(&m.client, path).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    assert_error(
        get(&till, "/api/v1/staff/mall/orders/%FF").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let r = till
        .http
        .post(format!("{}/api/v1/staff/mall/orders/%FF/cancel", till.base))
        .header("Idempotency-Key", idem())
        .json(&json!({ "reason": "测试" }))
        .send()
        .await
        .expect("POST cancel");
    assert_error(r, StatusCode::NOT_FOUND, "not_found").await;
}
