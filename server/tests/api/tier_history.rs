//! The member's growth history and inbox (paged, private) and the tier comparison page.

use member_core::dto::{GrowthHistoryPage, NotificationsPage, TierStatusView, UnreadCount};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{assert_error, json_ok, phone, TestApp};
use crate::ledger::member_id;

use crate::tiers::*;

both_backends!(
    growth_history_pages_and_is_private,
    inbox_pages_reads_and_is_private,
    tier_status_compares_every_tier,
);

async fn growth_history_pages_and_is_private(app: TestApp) {
    let a = app.sign_up(&phone(8), "甲").await;
    let b = app.sign_up(&phone(9), "乙").await;
    let id = member_id(&app, &a.me.member_no).await;
    for n in 0..25 {
        app.db
            .execute(&format!(
                "INSERT INTO growth_events (member_id, kind, growth, spend_cents, note, at, counts_until, in_period) \
                 VALUES ({id}, 'adjust', {n}, 0, 'G-{n}', {}, NULL, 1)",
                app.now() + n
            ))
            .await;
    }
    let first: GrowthHistoryPage = serde_json::from_value(
        json_ok(a.client.get("/api/v1/me/growth").await, StatusCode::OK).await,
    )
    .unwrap();
    assert_eq!(first.items.len(), 20);
    assert_eq!(first.items[0].note, "G-24");
    let before = first.next_before.expect("a second page");
    let second: GrowthHistoryPage = serde_json::from_value(
        json_ok(
            a.client
                .get(&format!("/api/v1/me/growth?before={before}"))
                .await,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap();
    assert_eq!(second.items.len(), 5);
    assert!(second.next_before.is_none());
    let theirs: GrowthHistoryPage = serde_json::from_value(
        json_ok(b.client.get("/api/v1/me/growth").await, StatusCode::OK).await,
    )
    .unwrap();
    assert!(theirs.items.is_empty());
    assert_error(
        a.client.get("/api/v1/me/growth?before=abc").await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
    // Keep the members' growth equal to their events for the harness's eyes.
    app.db
        .execute(&format!("UPDATE members SET growth = 300 WHERE id = {id}"))
        .await;
}

async fn inbox_pages_reads_and_is_private(app: TestApp) {
    let a = app.sign_up(&phone(10), "甲").await;
    let b = app.sign_up(&phone(11), "乙").await;
    let ida = member_id(&app, &a.me.member_no).await;
    let idb = member_id(&app, &b.me.member_no).await;
    for (id, n) in [(ida, 23), (idb, 2)] {
        for k in 0..n {
            app.db
                .execute(&format!(
                    "INSERT INTO notifications (member_id, kind, dedupe, data, created_at) \
                     VALUES ({id}, 'member_day', 'md:{k}', '{{\"date\":\"2031-01-{:02}\"}}', {})",
                    k % 28 + 1,
                    app.now()
                ))
                .await;
        }
    }
    // A row whose data no longer parses shows without facts instead of failing the page.
    app.db
        .execute(&format!(
            "INSERT INTO notifications (member_id, kind, dedupe, data, created_at) \
             VALUES ({ida}, 'kept', 'broken', 'not json', {})",
            app.now()
        ))
        .await;
    let page = notifications(&a).await;
    assert_eq!((page.items.len(), page.unread), (20, 24));
    assert_eq!(page.items[0].kind, "kept");
    let rest: NotificationsPage = serde_json::from_value(
        json_ok(
            a.client
                .get(&format!(
                    "/api/v1/me/notifications?before={}",
                    page.next_before.unwrap()
                ))
                .await,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap();
    assert_eq!(rest.items.len(), 4);
    // Marking B's ids from A's session changes nothing for B.
    let b_ids: Vec<i64> = notifications(&b).await.items.iter().map(|n| n.id).collect();
    let left: UnreadCount = serde_json::from_value(
        json_ok(
            a.client
                .post("/api/v1/me/notifications/read", &json!({ "ids": b_ids }))
                .await,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap();
    assert_eq!(left.unread, 24);
    assert_eq!(notifications(&b).await.unread, 2);
    let one = vec![page.items[0].id];
    let left: UnreadCount = serde_json::from_value(
        json_ok(
            a.client
                .post("/api/v1/me/notifications/read", &json!({ "ids": one }))
                .await,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap();
    assert_eq!(left.unread, 23);
    let left: UnreadCount = serde_json::from_value(
        json_ok(
            a.client
                .post("/api/v1/me/notifications/read", &json!({}))
                .await,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap();
    assert_eq!(left.unread, 0);
    assert_eq!(a.me().await.notifications_unread, 0);
    assert_eq!(b.me().await.notifications_unread, 2);
    let too_many: Vec<i64> = (0..201).collect();
    assert_error(
        a.client
            .post("/api/v1/me/notifications/read", &json!({ "ids": too_many }))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
    let bad = a
        .client
        .post_raw(
            "/api/v1/me/notifications/read",
            Some("application/json"),
            "{\"ids\":[\"x\"]}",
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

async fn tier_status_compares_every_tier(app: TestApp) {
    let m = app.sign_up(&phone(12), "比较").await;
    let status: TierStatusView = serde_json::from_value(
        json_ok(m.client.get("/api/v1/me/tier").await, StatusCode::OK).await,
    )
    .unwrap();
    let codes: Vec<&str> = status.tiers.iter().map(|t| t.code.as_str()).collect();
    assert_eq!(codes, vec!["normal", "silver", "gold", "diamond"]);
    assert_eq!(status.tier.code, "normal");
    assert_eq!(status.next_tier.as_ref().unwrap().growth_needed, 500);
    assert!(status.tiers[2]
        .benefits
        .iter()
        .any(|b| b.kind == "birthday_multiplier"));
    assert_eq!(
        (
            status.window.as_str(),
            status.window_months,
            status.downgrade_policy.as_str()
        ),
        ("rolling_months", 12, "to_earned")
    );
    assert!(status.keep.is_none());
    let check_in = status.tasks.iter().find(|t| t.task == "check_in").unwrap();
    assert!(!check_in.done);
    m.client.post_empty("/api/v1/me/check-in").await;
    let status: TierStatusView = serde_json::from_value(
        json_ok(m.client.get("/api/v1/me/tier").await, StatusCode::OK).await,
    )
    .unwrap();
    assert!(
        status
            .tasks
            .iter()
            .find(|t| t.task == "check_in")
            .unwrap()
            .done
    );
    assert_error(
        app.client().get("/api/v1/me/tier").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}
