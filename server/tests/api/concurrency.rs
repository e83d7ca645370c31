//! Idempotency keys and concurrent tills: no double effect, ever.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{assert_error, idem, phone, Client, TestApp};

both_backends!(
    replay_with_same_key_returns_stored_response,
    same_key_different_body_is_refused,
    concurrent_retries_with_one_key_credit_once,
    fifty_members_buy_at_once,
    one_code_at_eight_tills,
);

async fn snapshot(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, body)
}

async fn replay_with_same_key_returns_stored_response(app: TestApp) {
    let m = app.sign_up(&phone(1), "张三").await;
    let staff = app.staff_login().await;
    let code = m.card_code().await;
    let key = idem();
    let first = snapshot(staff.purchase(&code, 12_345, "IDEM-1", &key).await).await;
    assert!(first.0.is_success(), "{first:?}");
    assert_eq!(first.1["points"], 123);
    // The till retries after a timeout: same key, same body.
    let second = snapshot(staff.purchase(&code, 12_345, "IDEM-1", &key).await).await;
    assert_eq!(second, first, "a replay returns the stored response");
    // Also from another till session of the same store (e.g. after a re-login).
    let staff2 = app.staff_login().await;
    let third = snapshot(staff2.purchase(&code, 12_345, "IDEM-1", &key).await).await;
    assert_eq!(third, first);

    let me = m.me().await;
    assert_eq!((me.points, me.growth), (123, 123));
    assert_eq!(app.db.scalar_i64("SELECT COUNT(*) FROM purchases").await, 1);
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM points_ledger")
            .await,
        1
    );
    // The key is still remembered well after the card code expired.
    app.advance_clock(2 * 60 * 60);
    let later = snapshot(staff.purchase(&code, 12_345, "IDEM-1", &key).await).await;
    assert_eq!(later, first, "keys live >= 24 h");
    assert_eq!(m.me().await.points, 123);
    // The retries' used and expired codes were not counted as wrong guesses.
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM rate_counters WHERE counter_key LIKE 'card-wrong-%'")
            .await,
        0
    );
}

async fn same_key_different_body_is_refused(app: TestApp) {
    let m = app.sign_up(&phone(2), "李四").await;
    let staff = app.staff_login().await;
    let [c1, c2, _] = m.three_codes().await;
    let key = idem();
    let first = staff.purchase(&c1, 10_000, "REUSE-1", &key).await;
    assert!(first.status().is_success());
    for (code, amount, order) in [
        (c1.as_str(), 20_000, "REUSE-1"),
        (c1.as_str(), 10_000, "REUSE-2"),
        (c2.as_str(), 10_000, "REUSE-1"),
    ] {
        assert_error(
            staff.purchase(code, amount, order, &key).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
        )
        .await;
    }
    assert_eq!(m.me().await.points, 100);
    // The refusals did not spend c2.
    let r = staff.purchase(&c2, 10_000, "REUSE-3", &idem()).await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(m.me().await.points, 200);
}

async fn concurrent_retries_with_one_key_credit_once(app: TestApp) {
    let m = app.sign_up(&phone(3), "王五").await;
    let staff = app.staff_login().await;
    let code = m.card_code().await;
    let key = idem();
    let tasks = (0..10).map(|_| {
        let staff = staff.clone();
        let code = code.clone();
        let key = key.clone();
        tokio::spawn(
            async move { snapshot(staff.purchase(&code, 8_800, "CONC-1", &key).await).await },
        )
    });
    let results: Vec<(StatusCode, Value)> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    let ok: Vec<_> = results.iter().filter(|(s, _)| s.is_success()).collect();
    assert!(
        !ok.is_empty(),
        "at least one answer is the result: {results:?}"
    );
    for (s, body) in &results {
        if s.is_success() {
            assert_eq!((*s, body), (ok[0].0, &ok[0].1), "{results:?}");
        } else {
            assert_eq!(*s, StatusCode::CONFLICT, "{results:?}");
            assert_eq!(body["error"]["code"], "request_in_progress", "{results:?}");
        }
    }
    assert_eq!(ok[0].1["points_earned"], 88);
    let me = m.me().await;
    assert_eq!((me.points, me.growth), (88, 88));
    assert_eq!(app.db.scalar_i64("SELECT COUNT(*) FROM purchases").await, 1);
    // Once settled, the key replays the stored answer.
    let again = snapshot(staff.purchase(&code, 8_800, "CONC-1", &key).await).await;
    assert_eq!(&again, ok[0]);
}

async fn fifty_members_buy_at_once(app: TestApp) {
    const N: u32 = 50;
    let signups = (0..N).map(|i| {
        let app = app.clone();
        async move { app.sign_up(&phone(100 + i), &format!("会员{i}")).await }
    });
    let members = join_all(signups).await;
    // Two tills in the store share the load.
    let tills = [app.staff_login().await, app.staff_login().await];
    let mut codes = Vec::new();
    for m in &members {
        codes.push(m.card_code().await);
    }
    // Member i spends (i + 1) * 10.01 yuan.
    let amount = |i: usize| (i as i64 + 1) * 1_001;
    let tasks = codes.iter().enumerate().map(|(i, code)| {
        let till: Client = tills[i % 2].clone();
        let code = code.clone();
        tokio::spawn(async move {
            let resp = till
                .purchase(&code, amount(i), &format!("P50-{i}"), &format!("k50-{i}"))
                .await;
            snapshot(resp).await
        })
    });
    let results: Vec<(StatusCode, Value)> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    for (i, (s, body)) in results.iter().enumerate() {
        assert!(s.is_success(), "member {i}: {s} {body}");
    }
    let mut total = 0;
    for (i, m) in members.iter().enumerate() {
        let expected = amount(i) / 100; // normal tier, 1 point per whole yuan
        let me = m.me().await;
        assert_eq!(me.points, expected, "member {i} points");
        assert_eq!(me.growth, expected, "member {i} growth");
        total += expected;
    }
    assert_eq!(
        app.db
            .scalar_i64("SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM points_ledger")
            .await,
        total
    );
    assert_eq!(
        app.db
            .scalar_i64("SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM members")
            .await,
        total
    );
    assert_eq!(
        app.db.scalar_i64("SELECT COUNT(*) FROM purchases").await,
        i64::from(N)
    );
}

async fn one_code_at_eight_tills(app: TestApp) {
    let m = app.sign_up(&phone(4), "赵六").await;
    let mut tills = Vec::new();
    for _ in 0..8 {
        tills.push(app.staff_login().await);
    }
    let code = m.card_code().await;
    let tasks = tills.into_iter().enumerate().map(|(i, till)| {
        let code = code.clone();
        tokio::spawn(async move {
            snapshot(
                till.purchase(&code, 10_000, &format!("TILL-{i}"), &format!("till-{i}"))
                    .await,
            )
            .await
        })
    });
    let results: Vec<(StatusCode, Value)> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    let ok = results.iter().filter(|(s, _)| s.is_success()).count();
    assert_eq!(ok, 1, "exactly one till wins: {results:?}");
    for (s, body) in results.iter().filter(|(s, _)| !s.is_success()) {
        assert_eq!(*s, StatusCode::CONFLICT, "{results:?}");
        assert_eq!(body["error"]["code"], "card_code_used", "{body}");
    }
    let me = m.me().await;
    assert_eq!((me.points, me.growth), (100, 100));
    assert_eq!(app.db.scalar_i64("SELECT COUNT(*) FROM purchases").await, 1);
}
