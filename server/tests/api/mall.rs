//! Points mall: browsing, redeeming (every refusal changes nothing), idempotency, the
//! member's orders, staff look-up / collect / cancel / refund, admin items, who may call
//! what.

use member_core::dto::{
    AdminMallItem, CancelOrderResult, MallItem, MallOrder, MallOrderPage, MallOrderResult,
    StaffMallOrder,
};
use member_server::db::batch;
use member_server::db::ledger::{self, Entry};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, idem, json_ok, phone, Client, Member, TestApp};

both_backends!(
    listing_shows_visible_items_with_flags,
    redeem_happy_path,
    refusals_change_nothing,
    idempotency_key_required_and_replayed,
    orders_are_private_and_staff_can_look_up,
    member_orders_page_newest_first,
    collect_once,
    cancel_returns_points_to_their_batches,
    cashier_cannot_refund_collected_order,
    admin_items_create_patch_and_validate,
    mall_routes_authz,
    seeded_mall_has_cheap_items,
    nul_in_admin_inputs_is_refused_not_a_500,
    stock_changes_keep_redemptions_made_meanwhile,
    affordable_counts_only_spendable_points,
    bad_path_segments_are_json_errors,
);

pub const MANAGER_USER: &str = "manager";
pub const MANAGER_PASS: &str = "manager-dev-pass";

pub async fn manager_login(app: &TestApp) -> Client {
    let client = app.client();
    let resp = client
        .post(
            "/api/v1/staff/login",
            &json!({ "username": MANAGER_USER, "password": MANAGER_PASS }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK, "manager login");
    client
}

/// Credits points through the server's own ledger code (a new batch per grant, with the
/// given expiry), so balance == ledger == batches holds as for any credit.
pub async fn grant_all(app: &TestApp, grants: &[(&str, i64, Option<i64>)]) {
    let db = member_server::db::Db::connect(&app.database_url)
        .await
        .expect("connect for grants");
    for (member_no, points, expires_at) in grants {
        let mut tx = db.begin_write().await.expect("begin");
        let id: i64 = sqlx::query_scalar("SELECT id FROM members WHERE member_no = $1")
            .bind(*member_no)
            .fetch_one(&mut *tx)
            .await
            .expect("member id");
        ledger::lock_member(&mut tx, db.backend(), id)
            .await
            .expect("lock member");
        let entry = Entry {
            member_id: id,
            kind: "adjust",
            reason: "测试赠送".into(),
            source_ref: None,
            actor: "test".into(),
            store_id: None,
            now: app.now(),
            event: None,
        };
        batch::execute(
            &mut tx,
            db.backend(),
            ledger::plan_credit(&entry, *points, *expires_at, &ledger::Debt::default()).0,
        )
        .await
        .expect("credit");
        tx.commit().await.expect("commit grant");
    }
    db.close().await;
}

pub async fn grant(app: &TestApp, m: &Member, points: i64) {
    grant_all(app, &[(m.me.member_no.as_str(), points, None)]).await;
}

/// Creates an item through the admin API; `extra` overrides the defaults.
pub async fn new_item(admin: &Client, name: &str, points: i64, stock: i64, extra: Value) -> i64 {
    let mut body = json!({
        "name": name, "points_price": points, "stock": stock, "category": "测试",
        "kind": "goods", "image_url": "/mall/img/test.svg",
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let v = json_ok(
        admin.post("/api/v1/admin/mall/items", &body).await,
        StatusCode::CREATED,
    )
    .await;
    v["id"].as_i64().expect("created id")
}

pub async fn redeem(client: &Client, item_id: i64, quantity: i64, key: &str) -> reqwest::Response {
    client
        .http
        .post(format!("{}/api/v1/mall/orders", client.base))
        .header("Idempotency-Key", key)
        .json(&json!({ "item_id": item_id, "quantity": quantity }))
        .send()
        .await
        .expect("POST /mall/orders")
}

pub async fn redeemed(client: &Client, item_id: i64, quantity: i64) -> MallOrderResult {
    let v = json_ok(
        redeem(client, item_id, quantity, &idem()).await,
        StatusCode::CREATED,
    )
    .await;
    serde_json::from_value(v).expect("MallOrderResult")
}

pub async fn cancel(client: &Client, code: &str, reason: &str, key: &str) -> reqwest::Response {
    client
        .http
        .post(format!(
            "{}/api/v1/staff/mall/orders/{code}/cancel",
            client.base
        ))
        .header("Idempotency-Key", key)
        .json(&json!({ "reason": reason }))
        .send()
        .await
        .expect("POST cancel")
}

pub async fn stock_of(app: &TestApp, item_id: i64) -> i64 {
    app.db
        .scalar_i64(&format!(
            "SELECT stock FROM mall_items WHERE id = {item_id}"
        ))
        .await
}

async fn items(m: &Member, query: &str) -> Vec<MallItem> {
    let v = json_ok(
        m.client.get(&format!("/api/v1/mall/items{query}")).await,
        StatusCode::OK,
    )
    .await;
    serde_json::from_value(v).expect("[MallItem]")
}

/// What a refusal must leave alone.
async fn footprint(app: &TestApp) -> [i64; 6] {
    let q = |sql: &'static str| async move { app.db.scalar_i64(sql).await };
    [
        q("SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM members").await,
        q("SELECT CAST(COALESCE(SUM(stock), 0) AS BIGINT) FROM mall_items").await,
        q("SELECT COUNT(*) FROM mall_orders").await,
        q("SELECT COUNT(*) FROM points_ledger").await,
        q("SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM mall_redemption_counts").await,
        q("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'mall.%'").await,
    ]
}

async fn listing_shows_visible_items_with_flags(app: TestApp) {
    let admin = app.admin_login().await;
    let shown = new_item(&admin, "可见商品", 30, 5, json!({ "category": "T1" })).await;
    let hidden = new_item(&admin, "隐藏商品", 10, 5, json!({ "hidden": true })).await;
    let gold = new_item(&admin, "金卡商品", 20, 5, json!({ "min_tier": "gold" })).await;
    let later = new_item(
        &admin,
        "未开售商品",
        10,
        5,
        json!({ "available_from": "2099-01-01T00:00:00+08:00" }),
    )
    .await;
    let ended = new_item(
        &admin,
        "已下架商品",
        10,
        5,
        json!({ "available_from": "2020-01-01T00:00:00Z", "available_until": "2021-01-01T00:00:00Z" }),
    )
    .await;
    let dear = new_item(&admin, "贵的商品", 5000, 5, json!({ "category": "T1" })).await;
    let m = app.sign_up(&phone(1), "张三").await;
    grant(&app, &m, 35).await;

    let all = items(&m, "").await;
    let ids: Vec<i64> = all.iter().map(|i| i.id).collect();
    for id in [shown, gold, dear] {
        assert!(ids.contains(&id), "{id} listed: {ids:?}");
    }
    for id in [hidden, later, ended] {
        assert!(!ids.contains(&id), "{id} not listed: {ids:?}");
    }
    let g = all.iter().find(|i| i.id == gold).expect("gold item");
    assert!(g.locked);
    assert_eq!(
        g.required_tier.as_ref().map(|t| t.name.as_str()),
        Some("金卡")
    );
    let s = all.iter().find(|i| i.id == shown).expect("shown item");
    assert!(!s.locked && s.required_tier.is_none());
    assert_eq!((s.points_price, s.stock, s.redeemed_by_me), (30, 5, 0));
    assert_eq!(s.image_url.as_deref(), Some("/mall/img/test.svg"));

    let t1: Vec<i64> = items(&m, "?category=T1")
        .await
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(t1, vec![shown, dear]);
    let affordable = items(&m, "?affordable=true").await;
    assert!(affordable.iter().any(|i| i.id == shown));
    assert!(
        affordable.iter().all(|i| i.points_price <= 35 && !i.locked),
        "{affordable:?}"
    );
    assert!(!affordable.iter().any(|i| i.id == gold || i.id == dear));
    let both: Vec<i64> = items(&m, "?category=T1&affordable=true")
        .await
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(both, vec![shown]);
    assert_error(
        m.client.get("/api/v1/mall/items?affordable=maybe").await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;

    // One item: hidden and unknown ones are not found; a not-yet-on-sale one is shown.
    let one: MallItem = serde_json::from_value(
        json_ok(
            m.client.get(&format!("/api/v1/mall/items/{shown}")).await,
            StatusCode::OK,
        )
        .await,
    )
    .expect("MallItem");
    assert_eq!(&one, s);
    json_ok(
        m.client.get(&format!("/api/v1/mall/items/{later}")).await,
        StatusCode::OK,
    )
    .await;
    for path in [
        format!("/api/v1/mall/items/{hidden}"),
        "/api/v1/mall/items/999999".into(),
        "/api/v1/mall/items/abc".into(),
    ] {
        assert_error(
            m.client.get(&path).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
}

async fn redeem_happy_path(app: TestApp) {
    let admin = app.admin_login().await;
    let item = new_item(
        &admin,
        "中杯咖啡券",
        30,
        5,
        json!({ "kind": "partner", "cash_cents": 100 }),
    )
    .await;
    let m = app.sign_up(&phone(2), "李四").await;
    grant(&app, &m, 100).await;

    let key = idem();
    let resp = redeem(&m.client, item, 2, &key).await;
    assert!(resp.headers().get("idempotent-replayed").is_none());
    let r: MallOrderResult =
        serde_json::from_value(json_ok(resp, StatusCode::CREATED).await).expect("result");
    assert_eq!(r.points_spent, 60);
    assert_eq!(r.points, 40);
    assert_eq!(r.cash_cents, 200);
    assert_eq!(r.quantity, 2);
    assert_eq!(r.item_name, "中杯咖啡券");
    assert_eq!(r.status, "pending");
    assert_eq!(
        member_core::mall::normalize_order_code(&r.order_code).as_deref(),
        Some(r.order_code.as_str())
    );

    assert_eq!(m.me().await.points, 40);
    assert_eq!(stock_of(&app, item).await, 3);
    let h = m.points_history().await;
    assert_eq!(h["items"][0]["kind"], "redeem", "{h}");
    assert_eq!(h["items"][0]["points"], -60, "{h}");
    assert_eq!(h["items"][0]["reason"], "兑换 中杯咖啡券 ×2", "{h}");

    let page: MallOrderPage = serde_json::from_value(
        json_ok(m.client.get("/api/v1/me/mall/orders").await, StatusCode::OK).await,
    )
    .expect("page");
    assert_eq!(page.items.len(), 1);
    assert!(page.next.is_none());
    let o = &page.items[0];
    assert_eq!(o.order_code, r.order_code);
    assert_eq!((o.item_id, o.quantity, o.points_spent), (item, 2, 60));
    assert_eq!(o.status, "pending");
    assert_eq!(o.image_url.as_deref(), Some("/mall/img/test.svg"));
    assert!(o.collected_at.is_none() && o.closed_at.is_none());
    // The code as a person reads it out (grouped, lower case) finds the same order.
    let spoken = member_core::mall::format_order_code(&r.order_code).to_lowercase();
    let one: MallOrder = serde_json::from_value(
        json_ok(
            m.client
                .get(&format!(
                    "/api/v1/me/mall/orders/{}",
                    spoken.replace(' ', "-")
                ))
                .await,
            StatusCode::OK,
        )
        .await,
    )
    .expect("order");
    assert_eq!(&one, o);

    let listed = items(&m, "").await;
    let it = listed.iter().find(|i| i.id == item).expect("item listed");
    assert_eq!((it.stock, it.redeemed_by_me), (3, 2));
    let admin_items: Vec<AdminMallItem> = serde_json::from_value(
        json_ok(admin.get("/api/v1/admin/mall/items").await, StatusCode::OK).await,
    )
    .expect("admin items");
    let a = admin_items
        .iter()
        .find(|i| i.id == item)
        .expect("admin item");
    assert_eq!((a.stock, a.redeemed), (3, 2));
    // The order points at its debit, and the audit log has the redemption.
    assert_eq!(
        app.db
            .scalar_i64(
                "SELECT l.points FROM mall_orders o JOIN points_ledger l ON l.id = o.ledger_id"
            )
            .await,
        -60
    );
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'mall.redeem'")
            .await,
        1
    );
}

async fn refusals_change_nothing(app: TestApp) {
    let admin = app.admin_login().await;
    let cheap = new_item(&admin, "便宜", 10, 100, json!({})).await;
    let dear = new_item(&admin, "贵", 500, 100, json!({})).await;
    let empty = new_item(&admin, "无货", 10, 0, json!({})).await;
    let once = new_item(&admin, "限一", 10, 100, json!({ "per_member_limit": 1 })).await;
    let gold = new_item(&admin, "金卡", 10, 100, json!({ "min_tier": "gold" })).await;
    let later = new_item(
        &admin,
        "未开售",
        10,
        100,
        json!({ "available_from": "2099-01-01T00:00:00Z" }),
    )
    .await;
    let ended = new_item(
        &admin,
        "已结束",
        10,
        100,
        json!({ "available_until": "2021-01-01T00:00:00Z" }),
    )
    .await;
    let hidden = new_item(&admin, "隐藏", 10, 100, json!({ "hidden": true })).await;
    let m = app.sign_up(&phone(3), "王五").await;
    grant(&app, &m, 100).await;
    redeemed(&m.client, once, 1).await;

    let cases: Vec<(i64, i64, StatusCode, &str)> = vec![
        (
            dear,
            1,
            StatusCode::UNPROCESSABLE_ENTITY,
            "insufficient_points",
        ),
        (
            cheap,
            11,
            StatusCode::UNPROCESSABLE_ENTITY,
            "insufficient_points",
        ),
        (empty, 1, StatusCode::UNPROCESSABLE_ENTITY, "out_of_stock"),
        (once, 1, StatusCode::UNPROCESSABLE_ENTITY, "limit_reached"),
        (gold, 1, StatusCode::UNPROCESSABLE_ENTITY, "tier_required"),
        (
            later,
            1,
            StatusCode::UNPROCESSABLE_ENTITY,
            "item_unavailable",
        ),
        (
            ended,
            1,
            StatusCode::UNPROCESSABLE_ENTITY,
            "item_unavailable",
        ),
        (cheap, 0, StatusCode::BAD_REQUEST, "invalid_quantity"),
        (cheap, -1, StatusCode::BAD_REQUEST, "invalid_quantity"),
        (cheap, 100, StatusCode::BAD_REQUEST, "invalid_quantity"),
        (hidden, 1, StatusCode::NOT_FOUND, "not_found"),
        (999_999, 1, StatusCode::NOT_FOUND, "not_found"),
    ];
    let before = footprint(&app).await;
    for (item, q, status, code) in cases {
        let key = idem();
        assert_error(redeem(&m.client, item, q, &key).await, status, code).await;
        assert_eq!(
            footprint(&app).await,
            before,
            "item {item} ×{q} changed something"
        );
    }
    // A malformed body is invalid input, not a 500.
    let resp = m
        .client
        .http
        .post(format!("{}/api/v1/mall/orders", m.client.base))
        .header("Idempotency-Key", idem())
        .json(&json!({ "item_id": "x" }))
        .send()
        .await
        .expect("POST");
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert_eq!(footprint(&app).await, before);
    // A refused key is not spent: once the member can afford it, the same key works.
    let key = idem();
    assert_error(
        redeem(&m.client, dear, 1, &key).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "insufficient_points",
    )
    .await;
    grant(&app, &m, 500).await;
    json_ok(redeem(&m.client, dear, 1, &key).await, StatusCode::CREATED).await;
    assert_eq!(m.me().await.points, 90);
}

async fn idempotency_key_required_and_replayed(app: TestApp) {
    let admin = app.admin_login().await;
    let item = new_item(&admin, "帆布袋", 50, 10, json!({})).await;
    let m = app.sign_up(&phone(4), "赵六").await;
    let other = app.sign_up(&phone(5), "孙七").await;
    grant(&app, &m, 200).await;
    grant(&app, &other, 200).await;

    for key in [None, Some(""), Some("has space"), Some(&*"k".repeat(101))] {
        let mut req = m
            .client
            .http
            .post(format!("{}/api/v1/mall/orders", m.client.base))
            .json(&json!({ "item_id": item, "quantity": 1 }));
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        assert_error(
            req.send().await.expect("POST"),
            StatusCode::BAD_REQUEST,
            "idempotency_key_required",
        )
        .await;
    }
    let key = idem();
    let first = redeem(&m.client, item, 1, &key).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first_body = first.text().await.expect("body");
    for _ in 0..2 {
        let again = redeem(&m.client, item, 1, &key).await;
        assert_eq!(again.status(), StatusCode::CREATED);
        assert_eq!(
            again
                .headers()
                .get("idempotent-replayed")
                .and_then(|v| v.to_str().ok()),
            Some("true")
        );
        assert_eq!(again.text().await.expect("body"), first_body);
    }
    assert_error(
        redeem(&m.client, item, 2, &key).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(m.me().await.points, 150);
    assert_eq!(stock_of(&app, item).await, 9);
    // Keys are per member: another member's identical key is their own order.
    let theirs = redeem(&other.client, item, 1, &key).await;
    assert!(theirs.headers().get("idempotent-replayed").is_none());
    let theirs: MallOrderResult =
        serde_json::from_value(json_ok(theirs, StatusCode::CREATED).await).expect("result");
    assert!(!first_body.contains(&theirs.order_code));
    assert_eq!(other.me().await.points, 150);
    assert_eq!(
        app.db.scalar_i64("SELECT COUNT(*) FROM mall_orders").await,
        2
    );
    // A day later the key still answers the same.
    app.advance_clock(25 * 3600);
    let later = redeem(&m.client, item, 1, &key).await;
    assert_eq!(later.text().await.expect("body"), first_body);
    assert_eq!(m.me().await.points, 150);
}

async fn orders_are_private_and_staff_can_look_up(app: TestApp) {
    let admin = app.admin_login().await;
    let item = new_item(&admin, "贴纸", 20, 10, json!({})).await;
    let a = app.sign_up(&phone(6), "周八").await;
    let b = app.sign_up(&phone(7), "吴九").await;
    grant(&app, &a, 100).await;
    let order = redeemed(&a.client, item, 1).await;

    assert_error(
        b.client
            .get(&format!("/api/v1/me/mall/orders/{}", order.order_code))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let page = json_ok(b.client.get("/api/v1/me/mall/orders").await, StatusCode::OK).await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(0), "{page}");
    assert_error(
        a.client.get("/api/v1/me/mall/orders/not-a-code").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let staff = app.staff_login().await;
    let spoken = member_core::mall::format_order_code(&order.order_code).to_lowercase();
    for code in [order.order_code.clone(), spoken.replace(' ', "-")] {
        let raw = json_ok(
            staff
                .get(&format!("/api/v1/staff/mall/orders/{code}"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(
            !raw.to_string().contains(&a.phone),
            "full phone shown: {raw}"
        );
        let s: StaffMallOrder = serde_json::from_value(raw).expect("StaffMallOrder");
        assert_eq!(s.member_no, a.me.member_no);
        assert_eq!(s.member_name, "周八");
        assert_eq!(s.phone_masked, "139****0006");
        assert_eq!(s.order.order_code, order.order_code);
        assert_eq!(s.order.status, "pending");
    }
    for code in ["ABC", "OOOOOOOOOO", "12345678901"] {
        assert_error(
            staff
                .get(&format!("/api/v1/staff/mall/orders/{code}"))
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        )
        .await;
    }
    let unknown = if order.order_code == "2222222222" {
        "3333333333"
    } else {
        "2222222222"
    };
    assert_error(
        staff
            .get(&format!("/api/v1/staff/mall/orders/{unknown}"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

async fn member_orders_page_newest_first(app: TestApp) {
    let admin = app.admin_login().await;
    let item = new_item(&admin, "加料券", 1, 100, json!({})).await;
    let m = app.sign_up(&phone(8), "郑十").await;
    grant(&app, &m, 100).await;
    let mut codes = Vec::new();
    for _ in 0..23 {
        codes.push(redeemed(&m.client, item, 1).await.order_code);
    }
    let first: MallOrderPage = serde_json::from_value(
        json_ok(m.client.get("/api/v1/me/mall/orders").await, StatusCode::OK).await,
    )
    .expect("page");
    assert_eq!(first.items.len(), 20);
    let next = first.next.clone().expect("a second page");
    let second: MallOrderPage = serde_json::from_value(
        json_ok(
            m.client
                .get(&format!("/api/v1/me/mall/orders?cursor={next}"))
                .await,
            StatusCode::OK,
        )
        .await,
    )
    .expect("page 2");
    assert_eq!(second.items.len(), 3);
    assert!(second.next.is_none());
    let got: Vec<String> = first
        .items
        .iter()
        .chain(second.items.iter())
        .map(|o| o.order_code.clone())
        .collect();
    codes.reverse();
    assert_eq!(got, codes);
    assert_error(
        m.client.get("/api/v1/me/mall/orders?cursor=x").await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
}

async fn collect_once(app: TestApp) {
    let admin = app.admin_login().await;
    let item = new_item(&admin, "帆布袋", 50, 10, json!({})).await;
    let m = app.sign_up(&phone(9), "钱一").await;
    grant(&app, &m, 200).await;
    let order = redeemed(&m.client, item, 1).await;
    let other = redeemed(&m.client, item, 1).await;
    let staff = app.staff_login().await;
    let path = format!("/api/v1/staff/mall/orders/{}/collect", order.order_code);

    let s: StaffMallOrder =
        serde_json::from_value(json_ok(staff.post_empty(&path).await, StatusCode::OK).await)
            .expect("StaffMallOrder");
    assert_eq!(s.order.status, "collected");
    assert_eq!(s.order.collected_store_name.as_deref(), Some("旗舰店"));
    assert!(s.order.collected_at.is_some());
    assert_error(
        staff.post_empty(&path).await,
        StatusCode::CONFLICT,
        "order_closed",
    )
    .await;
    // Collecting spends nothing more.
    assert_eq!(m.me().await.points, 100);
    assert_eq!(stock_of(&app, item).await, 8);
    let mine: MallOrder = serde_json::from_value(
        json_ok(
            m.client
                .get(&format!("/api/v1/me/mall/orders/{}", order.order_code))
                .await,
            StatusCode::OK,
        )
        .await,
    )
    .expect("order");
    assert_eq!(mine.status, "collected");
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'mall.collect'")
            .await,
        1
    );
    // The seeded admin has no store: a hand-over belongs to a store.
    assert_error(
        admin
            .post_empty(&format!(
                "/api/v1/staff/mall/orders/{}/collect",
                other.order_code
            ))
            .await,
        StatusCode::FORBIDDEN,
        "store_required",
    )
    .await;
    assert_error(
        staff
            .post_empty("/api/v1/staff/mall/orders/2222233333/collect")
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // A cancelled order can't be collected.
    json_ok(
        cancel(&staff, &other.order_code, "顾客不要了", &idem()).await,
        StatusCode::OK,
    )
    .await;
    assert_error(
        staff
            .post_empty(&format!(
                "/api/v1/staff/mall/orders/{}/collect",
                other.order_code
            ))
            .await,
        StatusCode::CONFLICT,
        "order_closed",
    )
    .await;
}

async fn batches(app: &TestApp, member_no: &str) -> Vec<i64> {
    let mut out = Vec::new();
    let n = app
        .db
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM points_batches b JOIN members m ON m.id = b.member_id \
             WHERE m.member_no = '{member_no}'"
        ))
        .await;
    for i in 0..n {
        out.push(
            app.db
                .scalar_i64(&format!(
                    "SELECT b.remaining FROM points_batches b JOIN members m ON m.id = b.member_id \
                     WHERE m.member_no = '{member_no}' ORDER BY b.id LIMIT 1 OFFSET {i}"
                ))
                .await,
        );
    }
    out
}

async fn cancel_returns_points_to_their_batches(app: TestApp) {
    let admin = app.admin_login().await;
    let item = new_item(
        &admin,
        "限量马克杯",
        50,
        10,
        json!({ "per_member_limit": 1 }),
    )
    .await;
    let m = app.sign_up(&phone(10), "孙二").await;
    let no = m.me.member_no.clone();
    // Never-expiring 100 first, then 20 that expire in ten days: the spend takes the
    // soonest-expiring batch first.
    grant_all(
        &app,
        &[(&no, 100, None), (&no, 20, Some(app.now() + 10 * 86_400))],
    )
    .await;
    let order = redeemed(&m.client, item, 1).await;
    assert_eq!(batches(&app, &no).await, vec![70, 0]);
    assert_eq!(stock_of(&app, item).await, 9);

    let staff = app.staff_login().await;
    let key = idem();
    let resp = cancel(&staff, &order.order_code, "顾客改主意", &key).await;
    let body_text = resp.text().await.expect("body");
    let r: CancelOrderResult = serde_json::from_str(&body_text).expect("CancelOrderResult");
    assert_eq!(r.points_returned, 50);
    assert_eq!(r.points, 120);
    assert_eq!(r.order.status, "cancelled");
    assert_eq!(r.order.close_reason.as_deref(), Some("顾客改主意"));
    assert!(r.order.closed_at.is_some());
    assert_eq!(batches(&app, &no).await, vec![100, 20]);
    assert_eq!(stock_of(&app, item).await, 10);
    assert_eq!(m.me().await.points, 120);
    let h = m.points_history().await;
    assert_eq!(h["items"][0]["kind"], "refund", "{h}");
    assert_eq!(h["items"][0]["points"], 50, "{h}");
    assert_eq!(h["items"][0]["reason"], "取消兑换 限量马克杯 ×1", "{h}");

    // Replays answer the stored result; another body under the key is refused.
    let again = cancel(&staff, &order.order_code, "顾客改主意", &key).await;
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.text().await.expect("body"), body_text);
    assert_error(
        cancel(&staff, &order.order_code, "别的原因", &key).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    // A new key on a closed order: closed.
    assert_error(
        cancel(&staff, &order.order_code, "再取消", &idem()).await,
        StatusCode::CONFLICT,
        "order_closed",
    )
    .await;
    assert_eq!(m.me().await.points, 120);
    // The per-member count came back too: the one-per-member item can be redeemed again.
    let listed = items(&m, "").await;
    assert_eq!(
        listed
            .iter()
            .find(|i| i.id == item)
            .map(|i| i.redeemed_by_me),
        Some(0)
    );
    redeemed(&m.client, item, 1).await;
    assert_eq!(m.me().await.points, 70);

    // Bad input.
    for reason in ["", "   ", &"长".repeat(201), "a\u{0}b"] {
        assert_error(
            cancel(&staff, &order.order_code, reason, &idem()).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        )
        .await;
    }
    let resp = staff
        .post(
            &format!("/api/v1/staff/mall/orders/{}/cancel", order.order_code),
            &json!({ "reason": "x" }),
        )
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "idempotency_key_required").await;
    assert_error(
        cancel(&staff, "2222233333", "x", &idem()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        cancel(&staff, "nope", "x", &idem()).await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
}

async fn cashier_cannot_refund_collected_order(app: TestApp) {
    let admin = app.admin_login().await;
    let item = new_item(&admin, "保温杯", 80, 3, json!({})).await;
    let m = app.sign_up(&phone(11), "李三").await;
    grant(&app, &m, 100).await;
    let order = redeemed(&m.client, item, 1).await;
    let cashier = app.staff_login().await;
    json_ok(
        cashier
            .post_empty(&format!(
                "/api/v1/staff/mall/orders/{}/collect",
                order.order_code
            ))
            .await,
        StatusCode::OK,
    )
    .await;
    let before = footprint(&app).await;
    assert_error(
        cancel(&cashier, &order.order_code, "退货", &idem()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(footprint(&app).await, before);
    assert_eq!(m.me().await.points, 20);
    // A manager of another store can't refund what was handed over in S001.
    let elsewhere = crate::ledger::manager(&app, "S002").await;
    assert_error(
        cancel(&elsewhere, &order.order_code, "退货", &idem()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(footprint(&app).await, before);

    let manager = manager_login(&app).await;
    let r: CancelOrderResult = serde_json::from_value(
        json_ok(
            cancel(&manager, &order.order_code, "商品有瑕疵，退货", &idem()).await,
            StatusCode::OK,
        )
        .await,
    )
    .expect("CancelOrderResult");
    assert_eq!(r.order.status, "refunded");
    assert_eq!((r.points_returned, r.points), (80, 100));
    assert_eq!(r.order.collected_store_name.as_deref(), Some("旗舰店"));
    assert_eq!(stock_of(&app, item).await, 3);
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'mall.refund'")
            .await,
        1
    );
    assert_error(
        cancel(&manager, &order.order_code, "再退", &idem()).await,
        StatusCode::CONFLICT,
        "order_closed",
    )
    .await;
}

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

/// Points due to expire can't pay for anything, even before the expiry job ran: the
/// "I can afford" filter must not offer what redeeming would refuse.
async fn affordable_counts_only_spendable_points(app: TestApp) {
    let admin = app.admin_login().await;
    let item = new_item(&admin, "贴纸", 50, 10, json!({})).await;
    let m = app.sign_up(&phone(31), "过期").await;
    grant_all(
        &app,
        &[(m.me.member_no.as_str(), 100, Some(app.now() + 60))],
    )
    .await;
    let listed = |v: Vec<MallItem>| v.iter().any(|i| i.id == item);
    assert!(listed(items(&m, "?affordable=true").await));
    app.advance_clock(120);
    assert!(!listed(items(&m, "?affordable=true").await));
    assert_error(
        redeem(&m.client, item, 1, &idem()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "insufficient_points",
    )
    .await;
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
