//! The mall under concurrent, real parallel HTTP: stock, per-member limits and balances
//! never go below zero, one key is one effect, one order is cancelled once — on SQLite,
//! on Postgres, and with two server instances on one Postgres.

use std::sync::Arc;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::Barrier;

use crate::common::{idem, phone, Client, Member, TestApp};
use crate::mall::{cancel, grant, grant_all, manager_login, new_item, redeem, stock_of};

both_backends!(
    points_for_exactly_three,
    per_member_limit_two_under_ten_requests,
    one_key_ten_times_is_one_order,
    ten_concurrent_cancels_restore_once,
);

postgres_only!(postgres_aborts_are_a_retryable_503);

/// The stock-50 race needs 220 sign-ups from one address: above the default per-IP
/// OTP budget.
macro_rules! many_members {
    ($($name:ident),* $(,)?) => {
        mod many_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    crate::common::run_with(
                        crate::common::Backend::Sqlite,
                        |cfg| cfg.otp_sends_per_ip_hour = 100_000,
                        super::$name,
                    )
                    .await;
                }
            )*
        }
        mod many_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    crate::common::run_with(
                        crate::common::Backend::Postgres,
                        |cfg| cfg.otp_sends_per_ip_hour = 100_000,
                        super::$name,
                    )
                    .await;
                }
            )*
        }
    };
}

many_members!(stock_50_redeemed_by_220_members);

/// Two server instances on one Postgres database (the SQLite file has one writer
/// process, so the variant is Postgres only).
mod two_instances {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres_two_instances_share_stock_50() {
        crate::common::run_with(
            crate::common::Backend::Postgres,
            |cfg| cfg.otp_sends_per_ip_hour = 100_000,
            super::two_instances_share_stock_50,
        )
        .await;
    }
}

async fn snapshot(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, body)
}

fn count(results: &[(StatusCode, Value)], status: StatusCode, code: Option<&str>) -> usize {
    results
        .iter()
        .filter(|(s, b)| *s == status && code.is_none_or(|c| b["error"]["code"] == c))
        .count()
}

async fn sign_up_many(app: &TestApp, n: u32, first_phone: u32) -> Vec<Member> {
    let mut members = Vec::new();
    let ids: Vec<u32> = (0..n).collect();
    for chunk in ids.chunks(55) {
        let batch = chunk.iter().map(|i| {
            let app = app.clone();
            let i = *i;
            async move {
                app.sign_up(&phone(first_phone + i), &format!("会员{i}"))
                    .await
            }
        });
        members.extend(join_all(batch).await);
    }
    members
}

/// Fires every request at once (after a barrier) and collects the answers.
async fn all_at_once<F, Fut>(n: usize, make: F) -> Vec<(StatusCode, Value)>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = reqwest::Response> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(n));
    let tasks = (0..n).map(|i| {
        let barrier = barrier.clone();
        let request = make(i);
        tokio::spawn(async move {
            barrier.wait().await;
            snapshot(request.await).await
        })
    });
    join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect()
}

async fn redeem_on(base: &str, client: &Client, item: i64, key: String) -> reqwest::Response {
    client
        .http
        .post(format!("{base}/api/v1/mall/orders"))
        .header("Idempotency-Key", key)
        .json(&json!({ "item_id": item, "quantity": 1 }))
        .send()
        .await
        .expect("POST /mall/orders")
}

/// 220 members with 100 points each race for 50 units at 10 points; `bases` are the
/// server instances the requests are spread over.
async fn race_for_stock_50(app: &TestApp, bases: &[String]) {
    const MEMBERS: usize = 220;
    let admin = app.admin_login().await;
    let item = new_item(&admin, "限量帆布袋", 10, 50, json!({})).await;
    let members = sign_up_many(app, MEMBERS as u32, 1000).await;
    let grants: Vec<(&str, i64, Option<i64>)> = members
        .iter()
        .map(|m| (m.me.member_no.as_str(), 100, None))
        .collect();
    grant_all(app, &grants).await;

    let results = all_at_once(MEMBERS, |i| {
        let client = members[i].client.clone();
        let base = bases[i % bases.len()].clone();
        async move { redeem_on(&base, &client, item, format!("race-{i}")).await }
    })
    .await;
    let ok = count(&results, StatusCode::CREATED, None);
    let sold_out = count(
        &results,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("out_of_stock"),
    );
    assert_eq!(ok, 50, "exactly the stock succeeds: {results:?}");
    assert_eq!(
        ok + sold_out,
        MEMBERS,
        "the rest are out_of_stock: {results:?}"
    );
    for (s, body) in results.iter().filter(|(s, _)| *s == StatusCode::CREATED) {
        assert_eq!(
            (*s, body["points"].as_i64()),
            (StatusCode::CREATED, Some(90))
        );
    }
    assert_eq!(stock_of(app, item).await, 0);
    let q = |sql: &'static str| async move { app.db.scalar_i64(sql).await };
    assert_eq!(q("SELECT COUNT(*) FROM mall_orders").await, 50);
    assert_eq!(
        q("SELECT CAST(SUM(points_spent) AS BIGINT) FROM mall_orders").await,
        500
    );
    assert_eq!(
        q("SELECT CAST(SUM(points) AS BIGINT) FROM members").await,
        MEMBERS as i64 * 100 - 500
    );
    assert_eq!(
        q("SELECT COUNT(*) FROM points_ledger WHERE kind = 'redeem'").await,
        50
    );
    assert_eq!(
        q("SELECT CAST(SUM(quantity) AS BIGINT) FROM mall_redemption_counts").await,
        50
    );
    let winners = q("SELECT COUNT(*) FROM members WHERE points = 90").await;
    assert_eq!(winners, 50);
    // The harness then checks balance == ledger == batches for every member.
}

async fn stock_50_redeemed_by_220_members(app: TestApp) {
    let base = app.base.clone();
    race_for_stock_50(&app, &[base]).await;
}

/// Two server instances on one Postgres database sell the same 50 units.
async fn two_instances_share_stock_50(app: TestApp) {
    let dir = tempfile::tempdir().expect("temp dir");
    let other = member_server::start(member_server::Config {
        database_url: app.database_url.clone(),
        bind: "127.0.0.1:0".parse().expect("bind addr"),
        static_dir: dir.path().join("dist"),
        dev: false,
        // Same key as the first instance, so member sessions work on both.
        member_secret: Some("test-member-secret-0123456789abcdef".to_string()),
        data_dir: dir.path().join("data"),
        // The first instance's instant: both stamp and judge by the same "now".
        clock_frozen_at: Some(app.now()),
        ..member_server::Config::default()
    })
    .await
    .expect("second instance starts");
    let bases = [app.base.clone(), other.base_url()];
    race_for_stock_50(&app, &bases).await;
    other.shutdown().await;
}

async fn points_for_exactly_three(app: TestApp) {
    let admin = app.admin_login().await;
    let item = new_item(&admin, "加料券", 10, 100, json!({})).await;
    let m = app.sign_up(&phone(20), "三次").await;
    grant(&app, &m, 30).await;
    let results = all_at_once(20, |i| {
        let client = m.client.clone();
        async move { redeem(&client, item, 1, &format!("three-{i}")).await }
    })
    .await;
    assert_eq!(count(&results, StatusCode::CREATED, None), 3, "{results:?}");
    assert_eq!(
        count(
            &results,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("insufficient_points")
        ),
        17,
        "{results:?}"
    );
    assert_eq!(m.me().await.points, 0);
    assert_eq!(stock_of(&app, item).await, 97);
    assert_eq!(
        app.db.scalar_i64("SELECT COUNT(*) FROM mall_orders").await,
        3
    );
}

async fn per_member_limit_two_under_ten_requests(app: TestApp) {
    let admin = app.admin_login().await;
    let item = new_item(
        &admin,
        "每人两个",
        10,
        100,
        json!({ "per_member_limit": 2 }),
    )
    .await;
    let m = app.sign_up(&phone(21), "限购").await;
    grant(&app, &m, 1000).await;
    let results = all_at_once(10, |i| {
        let client = m.client.clone();
        async move { redeem(&client, item, 1, &format!("limit-{i}")).await }
    })
    .await;
    assert_eq!(count(&results, StatusCode::CREATED, None), 2, "{results:?}");
    assert_eq!(
        count(
            &results,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("limit_reached")
        ),
        8,
        "{results:?}"
    );
    assert_eq!(m.me().await.points, 980);
    assert_eq!(stock_of(&app, item).await, 98);
    assert_eq!(
        app.db
            .scalar_i64("SELECT quantity FROM mall_redemption_counts")
            .await,
        2
    );
}

async fn one_key_ten_times_is_one_order(app: TestApp) {
    let admin = app.admin_login().await;
    let item = new_item(&admin, "中杯咖啡券", 30, 100, json!({})).await;
    let m = app.sign_up(&phone(22), "重试").await;
    grant(&app, &m, 100).await;
    let key = idem();
    let results = all_at_once(10, |_| {
        let client = m.client.clone();
        let key = key.clone();
        async move { redeem(&client, item, 1, &key).await }
    })
    .await;
    let ok: Vec<&(StatusCode, Value)> = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .collect();
    assert!(!ok.is_empty(), "{results:?}");
    for (s, body) in &results {
        if *s == StatusCode::CREATED {
            assert_eq!(body, &ok[0].1, "every answer is the one order: {results:?}");
        } else {
            assert_eq!(*s, StatusCode::CONFLICT, "{results:?}");
            assert_eq!(body["error"]["code"], "request_in_progress");
        }
    }
    assert_eq!(
        app.db.scalar_i64("SELECT COUNT(*) FROM mall_orders").await,
        1
    );
    assert_eq!(m.me().await.points, 70);
    assert_eq!(stock_of(&app, item).await, 99);
}

async fn ten_concurrent_cancels_restore_once(app: TestApp) {
    let admin = app.admin_login().await;
    let item = new_item(&admin, "保温杯", 80, 10, json!({})).await;
    let m = app.sign_up(&phone(23), "取消").await;
    grant(&app, &m, 100).await;
    let order = crate::mall::redeemed(&m.client, item, 1).await;
    assert_eq!(m.me().await.points, 20);
    let tills = [app.staff_login().await, manager_login(&app).await];
    let results = all_at_once(10, |i| {
        let till = tills[i % 2].clone();
        let code = order.order_code.clone();
        async move { cancel(&till, &code, "顾客取消", &format!("cancel-{i}")).await }
    })
    .await;
    assert_eq!(count(&results, StatusCode::OK, None), 1, "{results:?}");
    assert_eq!(
        count(&results, StatusCode::CONFLICT, Some("order_closed")),
        9,
        "{results:?}"
    );
    assert_eq!(m.me().await.points, 100);
    assert_eq!(stock_of(&app, item).await, 10);
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM points_ledger WHERE kind = 'refund'")
            .await,
        1
    );
    assert_eq!(
        app.db
            .scalar_i64("SELECT quantity FROM mall_redemption_counts")
            .await,
        0
    );
}

/// Postgres aborts a transaction on a deadlock (40P01) or a serialization failure
/// (40001); it rolled back, so the client gets 503 retry_later instead of a 500. The
/// errors come through the Any driver as raised, SQLSTATE intact.
async fn postgres_aborts_are_a_retryable_503(app: TestApp) {
    use axum::response::IntoResponse;
    use member_server::db::DbError;
    use member_server::http::error::ApiError;

    let db = crate::ledger::server_db(&app).await;
    for state in ["40P01", "40001"] {
        let e = sqlx::query(&format!(
            "DO $$ BEGIN RAISE EXCEPTION 'test' USING ERRCODE = '{state}'; END $$"
        ))
        .execute(db.reader())
        .await
        .expect_err("raised");
        let response = ApiError::from(DbError::from(e)).into_response();
        assert_eq!(
            response.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "{state}"
        );
        assert_eq!(response.headers()["retry-after"], "1");
    }
}
