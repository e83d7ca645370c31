//! Purchase refunds: points and growth taken back (not below zero, the shortfall
//! recorded), once per purchase, idempotent, store managers and admins of the store only.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, idem, json_ok, phone, TestApp};
use crate::ledger::{
    adjust, batches, buy, count, manager, post_idem, refund, run_expiry, set_rule,
};
use crate::mall::{cancel, grant_all, new_item, redeemed};

both_backends!(
    full_refund_takes_back_points_and_growth,
    refund_after_spending_records_the_shortfall,
    refund_takes_from_the_purchase_batch_first,
    refund_replays_and_refuses_a_second_refund,
    refund_is_for_managers_of_the_store,
    concurrent_refunds_of_one_purchase_refund_once,
    expired_purchase_points_are_not_taken_twice,
    shortfall_is_settled_by_a_cancelled_order_and_later_credits,
    debt_is_not_settled_with_points_that_expire_on_return,
);

async fn full_refund_takes_back_points_and_growth(app: TestApp) {
    let m = app.sign_up(&phone(1), "张三").await;
    let till = app.staff_login().await;
    let boss = manager(&app, "S001").await;
    buy(&app, &till, &m, 10_000, "F-1").await;
    buy(&app, &till, &m, 2_000, "F-2").await;
    let r = json_ok(
        refund(&boss, " F-1 ", "顾客退货", &idem()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        r,
        json!({
            "order_ref": "F-1", "points_clawed_back": 100, "shortfall": 0,
            "growth_clawed_back": 100, "points": 20, "coupons_restored": 0,
            "amount_cents": 10_000, "paid_cents": 10_000, "refunded_cents": 10_000,
            "fully_refunded": true
        })
    );
    let me = m.me().await;
    assert_eq!((me.points, me.growth), (20, 20));
    // Downgrades are a policy of their own (issue 6): the tier stays as it was.
    assert_eq!(me.tier.code, "normal");
    let h = m.points_history().await;
    assert_eq!(h["items"][0]["kind"], "refund", "{h}");
    assert_eq!(h["items"][0]["points"], -100, "{h}");
    assert_eq!(h["items"][0]["store_name"], "旗舰店", "{h}");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM purchases WHERE order_ref = 'F-1' AND refunded_at IS NOT NULL \
             AND refund_points = 100 AND refund_shortfall = 0"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM purchases WHERE refunded_at IS NOT NULL"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'purchase.refund' \
                 AND actor = 'staff:mgr-s001' AND target = 'member:{}'",
                m.me.member_no
            )
        )
        .await,
        1
    );
}

async fn refund_after_spending_records_the_shortfall(app: TestApp) {
    let m = app.sign_up(&phone(2), "李四").await;
    let no = m.me.member_no.clone();
    let till = app.staff_login().await;
    let admin = app.admin_login().await;
    let boss = manager(&app, "S001").await;
    buy(&app, &till, &m, 10_000, "P-1").await;
    json_ok(
        adjust(&admin, &no, -70, "抵扣 / spent", &idem()).await,
        StatusCode::OK,
    )
    .await;
    let r = json_ok(refund(&boss, "P-1", "退货", &idem()).await, StatusCode::OK).await;
    assert_eq!(r["points_clawed_back"], 30, "{r}");
    assert_eq!(r["shortfall"], 70, "{r}");
    assert_eq!(r["growth_clawed_back"], 100, "{r}");
    assert_eq!(r["points"], 0, "{r}");
    let me = m.me().await;
    assert_eq!((me.points, me.growth), (0, 0));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM purchases WHERE refund_points = 30 AND refund_shortfall = 70"
        )
        .await,
        1
    );

    // Nothing left at all: the refund is still recorded, with a zero row in the history.
    buy(&app, &till, &m, 5_000, "P-2").await;
    // The 50 points P-2 earned all went to the 70 the first refund could not take back.
    assert_eq!(m.me().await.points, 0);
    // Growth lower than the purchase earned (e.g. corrected by hand): stops at zero.
    app.db
        .execute(&format!(
            "UPDATE members SET growth = 10 WHERE member_no = '{no}'"
        ))
        .await;
    let r = json_ok(refund(&boss, "P-2", "退货", &idem()).await, StatusCode::OK).await;
    assert_eq!(
        (
            &r["points_clawed_back"],
            &r["shortfall"],
            &r["growth_clawed_back"]
        ),
        (&json!(0), &json!(50), &json!(10)),
        "{r}"
    );
    let me = m.me().await;
    assert_eq!((me.points, me.growth), (0, 0));
    let h = m.points_history().await;
    assert_eq!(h["items"][0]["kind"], "refund", "{h}");
    assert_eq!(h["items"][0]["points"], 0, "{h}");
}

async fn refund_takes_from_the_purchase_batch_first(app: TestApp) {
    let m = app.sign_up(&phone(3), "王五").await;
    let no = m.me.member_no.clone();
    let till = app.staff_login().await;
    let admin = app.admin_login().await;
    let boss = manager(&app, "S001").await;
    buy(&app, &till, &m, 10_000, "B-1").await;
    buy(&app, &till, &m, 5_000, "B-2").await;
    json_ok(
        adjust(&admin, &no, -20, "抵扣 / spent", &idem()).await,
        StatusCode::OK,
    )
    .await;
    let left: Vec<i64> = batches(&app, &no).await.iter().map(|b| b.1).collect();
    assert_eq!(left, vec![80, 50]);
    let r = json_ok(refund(&boss, "B-2", "退货", &idem()).await, StatusCode::OK).await;
    assert_eq!(r["points_clawed_back"], 50, "{r}");
    let left: Vec<i64> = batches(&app, &no).await.iter().map(|b| b.1).collect();
    assert_eq!(
        left,
        vec![80, 0],
        "the refunded purchase's own batch goes first"
    );
}

async fn refund_replays_and_refuses_a_second_refund(app: TestApp) {
    let m = app.sign_up(&phone(4), "赵六").await;
    let till = app.staff_login().await;
    let boss = manager(&app, "S001").await;
    buy(&app, &till, &m, 8_800, "Q-1").await;
    let key = idem();
    let first = refund(&boss, "Q-1", "退货", &key).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.expect("json");
    // The till retries: the stored answer, marked as a replay.
    let again = refund(&boss, "Q-1", "退货", &key).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(again.json::<Value>().await.expect("json"), first);
    // Same key, different request.
    assert_error(
        refund(&boss, "Q-1", "另一个原因", &key).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    // A new key: the purchase is already refunded.
    assert_error(
        refund(&boss, "Q-1", "退货", &idem()).await,
        StatusCode::CONFLICT,
        "already_refunded",
    )
    .await;
    let me = m.me().await;
    assert_eq!((me.points, me.growth), (0, 0));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM points_ledger WHERE kind = 'refund'"
        )
        .await,
        1
    );
    // Bad input changes nothing.
    for body in [
        json!({ "order_ref": "", "reason": "x" }),
        json!({ "order_ref": "Q-1", "reason": "" }),
        json!({ "order_ref": "Q-1", "reason": "a\nb" }),
        json!({ "order_ref": "Q-1", "reason": "长".repeat(201) }),
        json!({ "order_ref": "Q".repeat(65), "reason": "x" }),
        json!({ "order_ref": "Q-1" }),
    ] {
        assert_error(
            post_idem(&boss, "/api/v1/staff/refunds", &body, &idem()).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        )
        .await;
    }
    assert_error(
        boss.post(
            "/api/v1/staff/refunds",
            &json!({ "order_ref": "Q-1", "reason": "x" }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "idempotency_key_required",
    )
    .await;
}

async fn refund_is_for_managers_of_the_store(app: TestApp) {
    let m = app.sign_up(&phone(5), "孙七").await;
    let till = app.staff_login().await;
    let admin = app.admin_login().await;
    let boss = manager(&app, "S001").await;
    let other_store = manager(&app, "S002").await;
    buy(&app, &till, &m, 10_000, "A-1").await;
    // A cashier may not refund.
    assert_error(
        refund(&till, "A-1", "退货", &idem()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // Another store's manager doesn't see this store's orders.
    assert_error(
        refund(&other_store, "A-1", "退货", &idem()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        refund(&boss, "NO-SUCH", "退货", &idem()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // The seeded admin has no store, and order references are per store.
    assert_error(
        refund(&admin, "A-1", "退货", &idem()).await,
        StatusCode::FORBIDDEN,
        "store_required",
    )
    .await;
    // A member, or nobody, is not signed in as staff.
    for client in [&m.client, &app.client()] {
        assert_error(
            refund(client, "A-1", "退货", &idem()).await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await;
    }
    assert_eq!(m.me().await.points, 100);
    // An admin attached to the store may.
    app.db
        .execute(
            "UPDATE staff_users SET store_id = (SELECT id FROM stores WHERE code = 'S001') \
             WHERE username = 'admin'",
        )
        .await;
    let admin = app.admin_login().await;
    json_ok(refund(&admin, "A-1", "退货", &idem()).await, StatusCode::OK).await;
    assert_eq!(m.me().await.points, 0);
}

async fn concurrent_refunds_of_one_purchase_refund_once(app: TestApp) {
    let m = app.sign_up(&phone(6), "周八").await;
    let till = app.staff_login().await;
    let boss = manager(&app, "S001").await;
    buy(&app, &till, &m, 30_000, "C-1").await;
    buy(&app, &till, &m, 1_000, "C-2").await;
    let answers = join_all((0..12).map(|_| {
        let boss = boss.clone();
        async move {
            let resp = refund(&boss, "C-1", "退货", &idem()).await;
            let status = resp.status();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            (status, body)
        }
    }))
    .await;
    let ok = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let refused = answers
        .iter()
        .filter(|(s, b)| *s == StatusCode::CONFLICT && b["error"]["code"] == "already_refunded")
        .count();
    assert_eq!((ok, refused), (1, 11), "{answers:?}");
    let me = m.me().await;
    assert_eq!((me.points, me.growth), (10, 10));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM points_ledger WHERE kind = 'refund'"
        )
        .await,
        1
    );
}

async fn expired_purchase_points_are_not_taken_twice(app: TestApp) {
    let m = app.sign_up(&phone(7), "吴九").await;
    let no = m.me.member_no.clone();
    let till = app.staff_login().await;
    let admin = app.admin_login().await;
    let boss = manager(&app, "S001").await;
    set_rule(&admin, "days", 1).await;
    buy(&app, &till, &m, 10_000, "X-1").await;
    set_rule(&admin, "never", 0).await;
    buy(&app, &till, &m, 6_000, "X-2").await;
    json_ok(
        adjust(&admin, &no, -30, "抵扣 / spent", &idem()).await,
        StatusCode::OK,
    )
    .await;
    // X-1's batch: 100 - 30 spent; the other 70 expire unused.
    let due = batches(&app, &no).await[0].2.expect("expires");
    assert_eq!(run_expiry(&app, due).await.points, 70);
    assert_eq!(m.me().await.points, 60);
    // Refunding X-1: the 70 are gone already and are not taken again from X-2's points;
    // the 30 the member did spend are taken back from what is left.
    let r = json_ok(refund(&boss, "X-1", "退货", &idem()).await, StatusCode::OK).await;
    assert_eq!(
        (&r["points_clawed_back"], &r["shortfall"], &r["points"]),
        (&json!(30), &json!(0), &json!(30)),
        "{r}"
    );
    assert_eq!(m.me().await.points, 30);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'purchase.refund' \
             AND detail LIKE '%expired_before=70%'"
        )
        .await,
        1
    );
}

/// A refund after the points were spent leaves a debt; points that come back later (a
/// cancelled order, a new purchase) settle it first, so the order of refund and cancel
/// can't decide how many points a member keeps.
async fn shortfall_is_settled_by_a_cancelled_order_and_later_credits(app: TestApp) {
    let till = app.staff_login().await;
    let admin = app.admin_login().await;
    let boss = manager(&app, "S001").await;
    let item = new_item(&admin, "毛巾", 100, 10, json!({})).await;
    let mut finals = Vec::new();
    for (n, refund_first) in [(20u32, true), (21, false)] {
        let m = app.sign_up(&phone(n), "欠分").await;
        let order_ref = format!("D-{n}");
        buy(&app, &till, &m, 10_000, &order_ref).await;
        let order = redeemed(&m.client, item, 1).await;
        if refund_first {
            let r = json_ok(
                refund(&boss, &order_ref, "退货", &idem()).await,
                StatusCode::OK,
            )
            .await;
            assert_eq!(
                (r["points_clawed_back"].clone(), r["shortfall"].clone()),
                (json!(0), json!(100)),
                "{r}"
            );
            json_ok(
                cancel(&till, &order.order_code, "不要了", &idem()).await,
                StatusCode::OK,
            )
            .await;
        } else {
            json_ok(
                cancel(&till, &order.order_code, "不要了", &idem()).await,
                StatusCode::OK,
            )
            .await;
            json_ok(
                refund(&boss, &order_ref, "退货", &idem()).await,
                StatusCode::OK,
            )
            .await;
        }
        finals.push(m.me().await.points);
        if refund_first {
            // Debt settled: a new purchase earns in full.
            buy(&app, &till, &m, 3_000, &format!("E-{n}")).await;
            assert_eq!(m.me().await.points, 30);
            let h = m.points_history().await;
            assert!(
                h["items"]
                    .as_array()
                    .is_some_and(|rows| rows.iter().any(|r| r["points"] == -100
                        && r["kind"] == "refund"
                        && r["reason"].as_str().is_some_and(|t| t.contains("欠分")))),
                "{h}"
            );
        }
    }
    assert_eq!(
        finals,
        vec![0, 0],
        "refund-then-cancel and cancel-then-refund must agree"
    );

    // A debt larger than a later credit: the credit pays part of it, the rest stays.
    let m = app.sign_up(&phone(22), "大欠").await;
    buy(&app, &till, &m, 30_000, "G-1").await;
    let o1 = redeemed(&m.client, item, 3).await;
    assert_eq!(o1.points, 0);
    json_ok(refund(&boss, "G-1", "退货", &idem()).await, StatusCode::OK).await;
    buy(&app, &till, &m, 10_000, "G-2").await;
    assert_eq!(
        m.me().await.points,
        0,
        "100 earned, all of it settles the 300 debt"
    );
    json_ok(
        adjust(&admin, &m.me.member_no, 250, "补偿", &idem()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(m.me().await.points, 50, "200 debt left, 250 credited");
    // Each settlement row names the refund whose shortfall it pays.
    for order_ref in ["D-20", "G-1"] {
        let settled = count(
            &app,
            &format!(
                "SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM points_ledger \
                 WHERE kind = 'refund' AND source_ref = '{order_ref}' AND reason LIKE '%欠分%'"
            ),
        )
        .await;
        assert_eq!(
            settled,
            if order_ref == "G-1" { -300 } else { -100 },
            "{order_ref}"
        );
    }
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM members WHERE points_debt > 0").await,
        0
    );
}

/// Points a cancellation puts back into a batch that has expired meanwhile expire again
/// at once; they must not pay off refund debt either, or refund-then-cancel would leave
/// the member with points that cancel-then-refund takes back.
async fn debt_is_not_settled_with_points_that_expire_on_return(app: TestApp) {
    let till = app.staff_login().await;
    let admin = app.admin_login().await;
    let boss = manager(&app, "S001").await;
    set_rule(&admin, "never", 0).await;
    let item = new_item(&admin, "台灯", 200, 10, json!({})).await;
    let mut finals = Vec::new();
    for (n, refund_first) in [(23u32, true), (24, false)] {
        let m = app.sign_up(&phone(n), "欠分过期").await;
        let no = m.me.member_no.clone();
        // 100 points that expire in a minute, 100 earned by a purchase that never expire.
        grant_all(&app, &[(no.as_str(), 100, Some(app.now() + 60))]).await;
        let order_ref = format!("X-{n}");
        buy(&app, &till, &m, 10_000, &order_ref).await;
        let order = redeemed(&m.client, item, 1).await;
        assert_eq!(order.points, 0);
        app.advance_clock(120);
        let steps: [bool; 2] = if refund_first {
            [true, false]
        } else {
            [false, true]
        };
        for is_refund in steps {
            let r = if is_refund {
                refund(&boss, &order_ref, "退货", &idem()).await
            } else {
                cancel(&till, &order.order_code, "不要了", &idem()).await
            };
            json_ok(r, StatusCode::OK).await;
        }
        let debt = count(
            &app,
            &format!("SELECT points_debt FROM members WHERE member_no = '{no}'"),
        )
        .await;
        finals.push((m.me().await.points, debt));
    }
    assert_eq!(
        finals,
        vec![(0, 0), (0, 0)],
        "(points, debt) after refund-then-cancel and cancel-then-refund"
    );
}
