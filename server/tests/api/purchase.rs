//! Checkout: verify a card code, record a purchase, tiers and upgrades, the card-code
//! rules (one purchase per code, expiry, foreign keys) and amounts.

use member_core::card_code;
use member_core::dto::{MemberSummary, PurchaseResult};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{assert_error, idem, json_ok, phone, TestApp};

both_backends!(
    staff_verify_shows_summary_without_side_effect,
    purchase_credits_points_and_growth,
    upgrade_applies_at_once_and_next_purchase_earns_more,
    invalid_amounts_change_nothing,
    missing_idempotency_key_is_refused,
    card_code_spent_once,
    foreign_random_and_malformed_codes,
    old_code_is_expired,
    duplicate_order_ref_at_same_store,
    points_history_pages,
);

async fn result(resp: reqwest::Response) -> PurchaseResult {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    assert!(status.is_success(), "purchase: {status} {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("PurchaseResult ({e}): {text}"))
}

async fn staff_verify_shows_summary_without_side_effect(app: TestApp) {
    let m = app.sign_up(&phone(1), "张三").await;
    let staff = app.staff_login().await;
    let code = m.card_code().await;
    for _ in 0..2 {
        let resp = staff
            .post("/api/v1/staff/verify", &json!({ "code": code }))
            .await;
        let raw = json_ok(resp, StatusCode::OK).await;
        assert!(
            !raw.to_string().contains(&m.phone),
            "verify shows the full phone: {raw}"
        );
        let s: MemberSummary = serde_json::from_value(raw).expect("MemberSummary");
        assert_eq!(s.member_no, m.me.member_no);
        assert_eq!(s.name, "张三");
        assert_eq!(s.phone_masked, "139****0001");
        assert_eq!(s.tier.code, "normal");
        assert_eq!((s.points, s.growth), (0, 0));
    }
    // The display grouping a person reads out is accepted as well.
    let shown = card_code::display_code(&code);
    json_ok(
        staff
            .post("/api/v1/staff/verify", &json!({ "code": shown }))
            .await,
        StatusCode::OK,
    )
    .await;
    // Verifying spent nothing: the same code still buys.
    let r = result(staff.purchase(&code, 1000, "V-1", &idem()).await).await;
    assert_eq!(r.points_earned, 10);
    let me = m.me().await;
    assert_eq!(me.points, 10);
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM points_ledger")
            .await,
        1
    );
}

async fn purchase_credits_points_and_growth(app: TestApp) {
    let m = app.sign_up(&phone(2), "李四").await;
    let staff = app.staff_login().await;
    let code = m.card_code().await;
    let r = result(staff.purchase(&code, 10_000, "ORD-100", &idem()).await).await;
    assert_eq!(r.member_no, m.me.member_no);
    assert_eq!(r.points_earned, 100);
    assert_eq!(r.growth_earned, 100);
    assert_eq!(r.points, 100);
    assert_eq!(r.growth, 100);
    assert_eq!(r.tier.code, "normal");
    assert!(!r.upgraded);
    assert_eq!(r.discount_cents, 0);

    let me = m.me().await;
    assert_eq!((me.points, me.growth), (100, 100));
    assert_eq!(me.tier.code, "normal");
    let next = me.next_tier.expect("next tier");
    assert_eq!((next.code.as_str(), next.growth_needed), ("silver", 400));
    assert_eq!(me.progress_permille, 200);

    let h = m.points_history().await;
    let items = h["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{h}");
    assert_eq!(items[0]["kind"], "earn");
    assert_eq!(items[0]["points"], 100);
    assert!(
        items[0]["reason"].as_str().is_some_and(|s| !s.is_empty()),
        "{h}"
    );
    assert!(
        items[0]["at"].as_str().is_some_and(|s| s.ends_with('Z')),
        "{h}"
    );
    assert_eq!(items[0]["store_name"], "旗舰店");
    assert!(h["next"].is_null(), "one page: {h}");

    // Fractions floor: 0.99 yuan gives no point and no growth.
    let code2 = m.card_code_at(app.now() + card_code::STEP_SECS).await;
    let r = result(staff.purchase(&code2, 99, "ORD-101", &idem()).await).await;
    assert_eq!((r.points_earned, r.growth_earned), (0, 0));
    assert_eq!((r.points, r.growth), (100, 100));
}

async fn upgrade_applies_at_once_and_next_purchase_earns_more(app: TestApp) {
    let m = app.sign_up(&phone(3), "王五").await;
    let staff = app.staff_login().await;
    let [c1, c2, c3] = m.three_codes().await;

    let r = result(staff.purchase(&c1, 45_000, "UP-1", &idem()).await).await;
    assert_eq!((r.points, r.growth, r.upgraded), (450, 450, false));
    assert_eq!(r.tier.code, "normal");

    // 450 + 100 crosses 500: silver at once, this purchase still earns at normal's rate.
    let r = result(staff.purchase(&c2, 10_000, "UP-2", &idem()).await).await;
    assert!(r.upgraded, "{r:?}");
    assert_eq!(r.tier.code, "silver");
    assert_eq!(r.tier.name, "银卡");
    assert_eq!((r.points_earned, r.points, r.growth), (100, 550, 550));

    let me = m.me().await;
    assert_eq!(me.tier.code, "silver");
    assert_eq!(me.tier.name, "银卡");
    let next = me.next_tier.clone().expect("gold next");
    assert_eq!((next.code.as_str(), next.growth_needed), ("gold", 1450));
    // (550 - 500) / (2000 - 500)
    assert_eq!(me.progress_permille, 33);

    // Silver earns 1.2 points per yuan.
    let r = result(staff.purchase(&c3, 10_000, "UP-3", &idem()).await).await;
    assert!(!r.upgraded);
    assert_eq!(r.points_earned, 120);
    assert_eq!((r.points, r.growth), (670, 650));
    let me = m.me().await;
    assert_eq!((me.points, me.growth), (670, 650));

    let h = m.points_history().await;
    let pts: Vec<i64> = h["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["points"].as_i64().unwrap_or(0))
        .collect();
    let mut sorted = pts.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![100, 120, 450], "history {h}");
    // Newest first.
    assert_eq!(pts.first(), Some(&120), "history newest first: {h}");
}

async fn invalid_amounts_change_nothing(app: TestApp) {
    let m = app.sign_up(&phone(4), "赵六").await;
    let staff = app.staff_login().await;
    let code = m.card_code().await;
    for (i, amount) in [
        0,
        -100,
        -1,
        member_core::money::MAX_PURCHASE_CENTS + 1,
        i64::MAX,
    ]
    .into_iter()
    .enumerate()
    {
        assert_error(
            staff
                .purchase(&code, amount, &format!("BAD-{i}"), &idem())
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_amount",
        )
        .await;
    }
    // Not an integer number of fen.
    let resp = staff
        .http
        .post(app.url("/api/v1/staff/purchases"))
        .header("Idempotency-Key", idem())
        .json(&json!({ "code": code, "amount_cents": 12.5, "order_ref": "BAD-F" }))
        .send()
        .await
        .expect("POST");
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_input").await;
    let resp = staff
        .http
        .post(app.url("/api/v1/staff/purchases"))
        .header("Idempotency-Key", idem())
        .json(&json!({ "code": code, "amount_cents": "100", "order_ref": "BAD-S" }))
        .send()
        .await
        .expect("POST");
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_input").await;

    let me = m.me().await;
    assert_eq!((me.points, me.growth), (0, 0));
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM points_ledger")
            .await,
        0
    );
    assert_eq!(app.db.scalar_i64("SELECT COUNT(*) FROM purchases").await, 0);
    // The refused attempts did not spend the code.
    let r = result(staff.purchase(&code, 100, "GOOD-1", &idem()).await).await;
    assert_eq!(r.points, 1);
    // The largest allowed amount is fine: 1,000,000 yuan at 1.0.
    let next = m.card_code_at(app.now() + card_code::STEP_SECS).await;
    let r = result(
        staff
            .purchase(
                &next,
                member_core::money::MAX_PURCHASE_CENTS,
                "GOOD-2",
                &idem(),
            )
            .await,
    )
    .await;
    assert_eq!(r.points_earned, 1_000_000);
    assert_eq!(r.tier.code, "diamond");
}

async fn missing_idempotency_key_is_refused(app: TestApp) {
    let m = app.sign_up(&phone(5), "钱七").await;
    let staff = app.staff_login().await;
    let code = m.card_code().await;
    let body = json!({ "code": code, "amount_cents": 10_000, "order_ref": "NK-1" });
    let resp = staff
        .http
        .post(app.url("/api/v1/staff/purchases"))
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert_error(resp, StatusCode::BAD_REQUEST, "idempotency_key_required").await;
    for bad in ["", "   "] {
        let resp = staff
            .http
            .post(app.url("/api/v1/staff/purchases"))
            .header("Idempotency-Key", bad)
            .json(&body)
            .send()
            .await
            .expect("POST");
        assert_error(resp, StatusCode::BAD_REQUEST, "idempotency_key_required").await;
    }
    assert_eq!(m.me().await.points, 0);
    // With a key the same request goes through: the code was not spent.
    result(staff.purchase(&code, 10_000, "NK-1", &idem()).await).await;
    assert_eq!(m.me().await.points, 100);
}

async fn card_code_spent_once(app: TestApp) {
    let m = app.sign_up(&phone(6), "孙八").await;
    let staff = app.staff_login().await;
    let code = m.card_code().await;
    result(staff.purchase(&code, 5_000, "ONCE-1", &idem()).await).await;
    assert_error(
        staff.purchase(&code, 5_000, "ONCE-2", &idem()).await,
        StatusCode::CONFLICT,
        "card_code_used",
    )
    .await;
    // Verify has no side effect; on a spent code it may still show the member or say
    // "used" (409), but nothing else.
    let resp = staff
        .post("/api/v1/staff/verify", &json!({ "code": code }))
        .await;
    if resp.status() != StatusCode::OK {
        assert_error(resp, StatusCode::CONFLICT, "card_code_used").await;
    }
    // The previous step's code is older than the spent one: refused as well.
    let older = m.card_code_at(app.now() - card_code::STEP_SECS).await;
    if older != code {
        let resp = staff.purchase(&older, 5_000, "ONCE-3", &idem()).await;
        assert_error(resp, StatusCode::CONFLICT, "card_code_used").await;
    }
    let me = m.me().await;
    assert_eq!(me.points, 50);
    // The next step's code buys again.
    let next = m.card_code_at(app.now() + card_code::STEP_SECS).await;
    result(staff.purchase(&next, 5_000, "ONCE-4", &idem()).await).await;
    assert_eq!(m.me().await.points, 100);
}

/// A TOTP value that matches none of this key's steps around now.
fn unmatched_totp(key: &card_code::CardKey, now: i64) -> u32 {
    let step = card_code::step_at(now);
    let used: Vec<u32> = (step - 25..=step + 2)
        .map(|s| card_code::totp(key, s))
        .collect();
    (123_457u32..).find(|t| !used.contains(t)).unwrap_or(0)
}

async fn foreign_random_and_malformed_codes(app: TestApp) {
    let a = app.sign_up(&phone(7), "周九").await;
    let b = app.sign_up(&phone(8), "吴十").await;
    let staff = app.staff_login().await;
    let (a_no, a_key) = a.card_key().await;
    let (_, b_key) = b.card_key().await;
    let now = app.now();

    // A's number with a TOTP from B's key.
    let b_totp = card_code::totp(&b_key, card_code::step_at(now));
    let collides =
        (-25..=2).any(|d| card_code::totp(&a_key, card_code::step_at(now) + d) == b_totp);
    if !collides {
        let forged = format!("{a_no}{b_totp:06}");
        for resp in [
            staff
                .post("/api/v1/staff/verify", &json!({ "code": forged }))
                .await,
            staff.purchase(&forged, 1_000, "F-1", &idem()).await,
        ] {
            assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "card_code_invalid").await;
        }
    }
    // A's number with random digits.
    let random = format!("{a_no}{:06}", unmatched_totp(&a_key, now));
    assert_error(
        staff.purchase(&random, 1_000, "F-2", &idem()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "card_code_invalid",
    )
    .await;
    // A member number nobody has: same answer, nothing tells which numbers exist.
    let nobody = (1u64..)
        .map(card_code::member_no_from_random)
        .find(|n| *n != a_no && *n != b.me.member_no)
        .unwrap_or_default();
    let unknown = format!("{nobody}{}", &random[10..]);
    assert_error(
        staff
            .post("/api/v1/staff/verify", &json!({ "code": unknown }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "card_code_invalid",
    )
    .await;
    // Malformed.
    for bad in [
        "",
        "123",
        "abcdefghijklmnop",
        "12345678901234567",
        "１２３４",
    ] {
        assert_error(
            staff
                .post("/api/v1/staff/verify", &json!({ "code": bad }))
                .await,
            StatusCode::BAD_REQUEST,
            "card_code_malformed",
        )
        .await;
        assert_error(
            staff.purchase(bad, 1_000, "F-3", &idem()).await,
            StatusCode::BAD_REQUEST,
            "card_code_malformed",
        )
        .await;
    }
    assert_eq!(a.me().await.points, 0);
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM points_ledger")
            .await,
        0
    );
    // None of that spent A's real code.
    result(
        staff
            .purchase(&a.card_code().await, 1_000, "F-4", &idem())
            .await,
    )
    .await;
}

async fn old_code_is_expired(app: TestApp) {
    let m = app.sign_up(&phone(9), "郑一").await;
    let staff = app.staff_login().await;
    let (no, key) = m.card_key().await;
    let now = app.now();
    let current = card_code::code_at(&no, &key, now);
    let old = card_code::code_at(&no, &key, now - 300);
    // Skip in the one-in-a-million case where the old digits equal a current one.
    let step = card_code::step_at(now);
    let old_totp = card_code::totp(&key, step - 10);
    if (-1..=1).any(|d| card_code::totp(&key, step + d) == old_totp) {
        return;
    }
    assert_ne!(old, current);
    assert_error(
        staff.purchase(&old, 1_000, "OLD-1", &idem()).await,
        StatusCode::GONE,
        "card_code_expired",
    )
    .await;
    assert_error(
        staff
            .post("/api/v1/staff/verify", &json!({ "code": old }))
            .await,
        StatusCode::GONE,
        "card_code_expired",
    )
    .await;
    // A screenshot: the code shown now is refused five minutes later.
    app.advance_clock(300);
    assert_error(
        staff.purchase(&current, 1_000, "OLD-2", &idem()).await,
        StatusCode::GONE,
        "card_code_expired",
    )
    .await;
    assert_eq!(m.me().await.points, 0);
}

async fn duplicate_order_ref_at_same_store(app: TestApp) {
    let a = app.sign_up(&phone(10), "冯二").await;
    let b = app.sign_up(&phone(11), "陈三").await;
    let staff = app.staff_login().await;
    result(
        staff
            .purchase(&a.card_code().await, 2_000, "DUP-1", &idem())
            .await,
    )
    .await;
    let b_code = b.card_code().await;
    assert_error(
        staff.purchase(&b_code, 3_000, "DUP-1", &idem()).await,
        StatusCode::CONFLICT,
        "duplicate_order",
    )
    .await;
    assert_eq!(b.me().await.points, 0);
    // The refused order did not spend B's code.
    result(staff.purchase(&b_code, 3_000, "DUP-2", &idem()).await).await;
    assert_eq!(b.me().await.points, 30);
    assert_eq!(a.me().await.points, 20);
    // Empty order refs are not all "the same order": either generated or refused.
    let resp = staff
        .purchase(&a.card_code_at(app.now() + 30).await, 1_000, "", &idem())
        .await;
    assert!(
        resp.status().is_success() || resp.status() == StatusCode::BAD_REQUEST,
        "empty order_ref: {}",
        resp.status()
    );
}

async fn points_history_pages(app: TestApp) {
    let m = app.sign_up(&phone(12), "褚四").await;
    let other = app.sign_up(&phone(13), "卫五").await;
    let staff = app.staff_login().await;
    const N: i64 = 23;
    for i in 1..=N {
        let code = m.card_code().await;
        result(
            staff
                .purchase(&code, i * 100, &format!("PG-{i}"), &idem())
                .await,
        )
        .await;
        // The next code needs the next 30 s step.
        app.advance_clock(card_code::STEP_SECS);
    }
    result(
        staff
            .purchase(&other.card_code().await, 9_900, "PG-OTHER", &idem())
            .await,
    )
    .await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/me/points/history?cursor={c}"),
            None => "/api/v1/me/points/history".to_string(),
        };
        let page = json_ok(m.client.get(&path).await, StatusCode::OK).await;
        pages += 1;
        let items = page["items"].as_array().expect("items");
        assert!(
            !items.is_empty() && items.len() <= 50,
            "page size {}",
            items.len()
        );
        seen.extend(items.iter().map(|i| i["points"].as_i64().unwrap_or(-1)));
        // Someone else's cursor position still only shows their own rows.
        if let Some(next) = page["next"].as_str() {
            let theirs = json_ok(
                other
                    .client
                    .get(&format!("/api/v1/me/points/history?cursor={next}"))
                    .await,
                StatusCode::OK,
            )
            .await;
            for item in theirs["items"].as_array().expect("items") {
                assert_eq!(item["points"], 99, "{theirs}");
            }
            cursor = Some(next.to_string());
        } else {
            break;
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert!(pages >= 2, "23 rows fit one page? pages={pages}");
    let expected: Vec<i64> = (1..=N).rev().collect();
    assert_eq!(seen, expected, "every row once, newest first");
    assert_eq!(m.me().await.points, N * (N + 1) / 2);

    for bad in ["abc", "-1", "%00", "99999999999999999999999"] {
        let resp = m
            .client
            .get(&format!("/api/v1/me/points/history?cursor={bad}"))
            .await;
        assert_error(resp, StatusCode::BAD_REQUEST, "invalid_input").await;
    }
}
