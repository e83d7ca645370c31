//! Growth tasks: the daily check-in (once a day, even when raced) and the profile
//! completion reward (once).

use member_core::dto::{CheckInResult, TierStatusView};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{assert_error, json_ok, phone, TestApp};
use crate::ledger::member_id;

use crate::tiers::*;

both_backends!(
    check_in_once_a_day_even_when_raced,
    profile_completion_gives_growth_once,
);

async fn check_in_once_a_day_even_when_raced(app: TestApp) {
    let m = app.sign_up(&phone(5), "签到").await;
    let id = member_id(&app, &m.me.member_no).await;
    let mut handles = Vec::new();
    for _ in 0..10 {
        let c = m.client.clone();
        handles.push(tokio::spawn(async move {
            let r = c.post_empty("/api/v1/me/check-in").await;
            let status = r.status();
            (status, r.json::<CheckInResult>().await.ok())
        }));
    }
    let mut yes = 0;
    for h in handles {
        let (status, body) = h.await.unwrap();
        assert!(
            status == StatusCode::OK || status == StatusCode::SERVICE_UNAVAILABLE,
            "{status}"
        );
        if body.is_some_and(|b| b.checked_in) {
            yes += 1;
        }
    }
    assert_eq!(yes, 1, "exactly one check-in counts today");
    assert_eq!(member_growth(&app, id).await, 1);
    let again: CheckInResult = serde_json::from_value(
        json_ok(
            m.client.post_empty("/api/v1/me/check-in").await,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap();
    assert!(!again.checked_in);
    app.advance_clock(86_400);
    let next: CheckInResult = serde_json::from_value(
        json_ok(
            m.client.post_empty("/api/v1/me/check-in").await,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap();
    assert!(next.checked_in);
    assert_eq!((next.growth_earned, next.growth), (1, 2));
    assert_eq!(growth_events_sum(&app, id).await, 2);
    let anon = app.client().post_empty("/api/v1/me/check-in").await;
    assert_error(anon, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

async fn profile_completion_gives_growth_once(app: TestApp) {
    let m = app.sign_up(&phone(6), "资料").await;
    let id = member_id(&app, &m.me.member_no).await;
    let put = |body: serde_json::Value| {
        let c = m.client.clone();
        async move {
            c.http
                .put(format!("{}/api/v1/me/profile", c.base))
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        put(json!({ "name": "资料完整" })).await.status(),
        StatusCode::OK
    );
    assert_eq!(member_growth(&app, id).await, 0, "no birthday yet");
    assert_eq!(
        put(json!({ "birthday": "1990-05-02" })).await.status(),
        StatusCode::OK
    );
    assert_eq!(member_growth(&app, id).await, 20);
    assert_eq!(
        put(json!({ "name": "再改名" })).await.status(),
        StatusCode::OK
    );
    assert_eq!(member_growth(&app, id).await, 20, "once ever");
    // A task that upgrades gives the upgrade's gift pack, as a purchase would (a review
    // found task upgrades gave none).
    set_program(&app, |p| p.growth.check_in = 500).await;
    let r: CheckInResult = serde_json::from_value(
        json_ok(
            m.client.post_empty("/api/v1/me/check-in").await,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap();
    assert!(r.upgraded);
    assert_eq!(r.tier.code, "silver");
    let gifts = app
        .db
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM coupons WHERE member_id = {id} AND source = 'upgrade'"
        ))
        .await;
    assert!(gifts >= 1, "the dev seed's silver upgrade pack");
    let status: TierStatusView = serde_json::from_value(
        json_ok(m.client.get("/api/v1/me/tier").await, StatusCode::OK).await,
    )
    .unwrap();
    let task = status
        .tasks
        .iter()
        .find(|t| t.task == "profile_completed")
        .unwrap();
    assert!(task.done);
    assert_eq!(task.growth, 20);
}
