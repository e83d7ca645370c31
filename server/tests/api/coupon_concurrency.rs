//! Double redemption: one coupon named by parallel purchases (the member's three valid
//! codes at three tills, different keys and orders) is used exactly once.

use futures::future::join_all;
use member_core::card_code;
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{phone, Client, TestApp};
use crate::wallet::{buy_with, give, quiet_campaigns, template, Tpl};

both_backends!(
    one_coupon_at_three_tills,
    two_members_race_for_their_own_coupons,
);

const ROUNDS: usize = 4;

async fn snapshot(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")),
    )
}

async fn one_coupon_at_three_tills(app: TestApp) {
    quiet_campaigns(&app).await;
    let m = app.sign_up(&phone(1), "张三").await;
    let t = template(
        &app,
        &Tpl {
            name: "立减10元",
            off: 1000,
            ..Tpl::default()
        },
    )
    .await;
    let mut tills: Vec<Client> = Vec::new();
    for _ in 0..3 {
        tills.push(app.staff_login().await);
    }
    let mut expected_points = 0;
    for round in 0..ROUNDS {
        let coupon = give(&app, &m.me.member_no, t, 1).await[0];
        let codes = m.three_codes().await;
        let tasks = tills
            .iter()
            .zip(codes)
            .enumerate()
            .map(|(i, (till, code))| {
                let till = till.clone();
                tokio::spawn(async move {
                    snapshot(
                        buy_with(
                            &till,
                            &code,
                            5_000,
                            &format!("C-{round}-{i}"),
                            &format!("k-{round}-{i}"),
                            &[coupon],
                        )
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
        let ok: Vec<&Value> = results
            .iter()
            .filter(|(s, _)| s.is_success())
            .map(|(_, b)| b)
            .collect();
        assert_eq!(
            ok.len(),
            1,
            "round {round}: exactly one purchase uses it: {results:?}"
        );
        assert_eq!(ok[0]["discount_cents"], 1000);
        for (s, body) in results.iter().filter(|(s, _)| !s.is_success()) {
            assert_eq!(*s, StatusCode::CONFLICT, "round {round}: {results:?}");
            let code = body["error"]["code"].as_str().unwrap_or("");
            assert!(
                code == "coupon_used" || code == "card_code_used",
                "round {round}: {body}"
            );
        }
        expected_points += 40;
        assert_eq!(
            app.db
                .scalar_i64(&format!(
                    "SELECT COUNT(*) FROM coupons c JOIN purchases p ON p.id = c.used_purchase_id \
                     WHERE c.id = {coupon} AND c.status = 'used' AND p.discount_cents = 1000"
                ))
                .await,
            1
        );
        // Every code of this round is spent or older than the next round's.
        app.advance_clock(3 * card_code::STEP_SECS);
    }
    let rounds = i64::try_from(ROUNDS).unwrap();
    assert_eq!(
        app.db.scalar_i64("SELECT COUNT(*) FROM purchases").await,
        rounds
    );
    assert_eq!(
        app.db
            .scalar_i64("SELECT CAST(SUM(discount_cents) AS BIGINT) FROM purchases")
            .await,
        1000 * rounds
    );
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM coupons WHERE status = 'used'")
            .await,
        rounds
    );
    let me = m.me().await;
    assert_eq!((me.points, me.growth), (expected_points, expected_points));
}

/// Members buying at once, each with their own coupon, don't get in each other's way.
async fn two_members_race_for_their_own_coupons(app: TestApp) {
    quiet_campaigns(&app).await;
    let t = template(&app, &Tpl::default()).await;
    let mut members = Vec::new();
    for i in 0..6 {
        let m = app.sign_up(&phone(10 + i), "会员").await;
        let c = give(&app, &m.me.member_no, t, 1).await[0];
        members.push((m, c));
    }
    let till = app.staff_login().await;
    let mut tasks = Vec::new();
    for (i, (m, c)) in members.iter().enumerate() {
        let code = m.card_code().await;
        let till = till.clone();
        let c = *c;
        tasks.push(tokio::spawn(async move {
            snapshot(
                buy_with(
                    &till,
                    &code,
                    3_000,
                    &format!("M-{i}"),
                    &format!("m-{i}"),
                    &[c],
                )
                .await,
            )
            .await
        }));
    }
    for r in join_all(tasks).await {
        let (s, body) = r.expect("task");
        assert!(s.is_success(), "{body}");
        assert_eq!(body["payable_cents"], 2000);
    }
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM coupons WHERE status = 'used'")
            .await,
        6
    );
}
