//! Points mall: browsing, redeeming (every refusal changes nothing), idempotency, the
//! member's orders, staff look-up / collect / cancel / refund, admin items, who may call
//! what.

use member_core::dto::{
    AdminMallItem, MallItem, MallOrder, MallOrderPage, MallOrderResult, StaffMallOrder,
};
use member_server::db::batch;
use member_server::points::store::ledger::{self, Entry};
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
    affordable_counts_only_spendable_points,
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
            kind: member_core::points::LedgerKind::Adjust,
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

pub async fn items(m: &Member, query: &str) -> Vec<MallItem> {
    let v = json_ok(
        m.client.get(&format!("/api/v1/mall/items{query}")).await,
        StatusCode::OK,
    )
    .await;
    serde_json::from_value(v).expect("[MallItem]")
}

/// What a refusal must leave alone.
pub async fn footprint(app: &TestApp) -> [i64; 6] {
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
