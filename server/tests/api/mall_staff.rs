//! Staff and mall orders: look-up, collect once, cancel and refund (points back into the
//! batches they came from), what a cashier may not do.

use member_core::dto::{CancelOrderResult, MallOrder, StaffMallOrder};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{assert_error, idem, json_ok, phone, TestApp};

use crate::mall::*;

both_backends!(
    collect_once,
    cancel_returns_points_to_their_batches,
    cashier_cannot_refund_collected_order,
);

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
