//! Coupons at the till: the checkout preview (no side effect), purchases with coupons
//! (amount off, percent with a cap, gifts, stacking; points on what was paid), every
//! refusal changing nothing, replays, the upgrade gift pack, and same-day refunds
//! putting coupons back.

use member_core::dto::{CheckoutPreview, PurchaseResult};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{assert_error, idem, json_ok, phone, Client, TestApp};
use crate::wallet::{buy_with, coupon_status, give, quiet_campaigns, template, wallet, Tpl, DAY};

both_backends!(
    preview_quotes_and_changes_nothing,
    preview_refuses_like_a_purchase,
    purchase_with_amount_percent_gift_and_stacked_coupons,
    coupons_covering_everything_earn_nothing,
    every_refusal_changes_nothing,
    replayed_key_uses_the_coupon_once,
);

async fn preview(
    till: &Client,
    code: &str,
    amount_cents: i64,
    coupon_ids: &[i64],
) -> reqwest::Response {
    till.post(
        "/api/v1/staff/checkout/preview",
        &json!({ "code": code, "amount_cents": amount_cents, "coupon_ids": coupon_ids }),
    )
    .await
}

pub async fn purchased(resp: reqwest::Response) -> PurchaseResult {
    serde_json::from_value(json_ok(resp, StatusCode::OK).await).expect("PurchaseResult")
}

pub async fn count(app: &TestApp, sql: &str) -> i64 {
    app.db.scalar_i64(sql).await
}

/// Amount off with a minimum, percent with a cap (stackable), a gift (stackable), one for
/// another store, one not valid yet.
pub struct Wallet {
    amount: i64,
    percent: i64,
    gift: i64,
    other_store: i64,
    upcoming: i64,
}

pub async fn fill_wallet(app: &TestApp, member_no: &str) -> Wallet {
    let now = app.now();
    let amount = template(
        app,
        &Tpl {
            name: "满100减20",
            off: 2000,
            min_spend: 10_000,
            ..Tpl::default()
        },
    )
    .await;
    let percent = template(
        app,
        &Tpl {
            name: "9折券",
            kind: "percent",
            off: 0,
            percent: 10,
            cap: Some(3000),
            stackable: true,
            ..Tpl::default()
        },
    )
    .await;
    let gift = template(
        app,
        &Tpl {
            name: "免费加料券",
            kind: "gift",
            off: 0,
            gift: Some("加料"),
            stackable: true,
            ..Tpl::default()
        },
    )
    .await;
    let other_store = template(
        app,
        &Tpl {
            name: "二店券",
            stores: "S002",
            ..Tpl::default()
        },
    )
    .await;
    let upcoming = template(
        app,
        &Tpl {
            name: "下周券",
            valid_days: None,
            valid_from: Some(now + 2 * DAY),
            valid_until: Some(now + 9 * DAY),
            ..Tpl::default()
        },
    )
    .await;
    Wallet {
        amount: give(app, member_no, amount, 1).await[0],
        percent: give(app, member_no, percent, 1).await[0],
        gift: give(app, member_no, gift, 1).await[0],
        other_store: give(app, member_no, other_store, 1).await[0],
        upcoming: give(app, member_no, upcoming, 1).await[0],
    }
}

async fn preview_quotes_and_changes_nothing(app: TestApp) {
    quiet_campaigns(&app).await;
    let m = app.sign_up(&phone(1), "张三").await;
    let w = fill_wallet(&app, &m.me.member_no).await;
    let till = app.staff_login().await;
    let code = m.card_code().await;
    let p: CheckoutPreview = serde_json::from_value(
        json_ok(
            preview(&till, &code, 12_000, &[w.gift, w.percent]).await,
            StatusCode::OK,
        )
        .await,
    )
    .expect("CheckoutPreview");
    assert_eq!(p.member.member_no, m.me.member_no);
    assert_eq!(p.store_code, "S001");
    assert!((p.server_unix - app.now()).abs() <= 2);
    assert_eq!(
        (
            p.quote.basket_cents,
            p.quote.discount_cents,
            p.quote.payable_cents
        ),
        (12_000, 1200, 10_800)
    );
    assert_eq!(p.quote.points_earned, 108, "points on what is paid");
    let lines: Vec<(i64, i64, Option<&str>)> = p
        .quote
        .lines
        .iter()
        .map(|l| (l.coupon_id, l.discount_cents, l.gift.as_deref()))
        .collect();
    assert_eq!(
        lines,
        vec![(w.percent, 1200, None), (w.gift, 0, Some("加料"))],
        "percent before gift, whatever the order ticked"
    );
    assert_eq!(p.quote.lines[0].name, "9折券");
    // Usable ones first, then the others with the reason.
    let listed: Vec<(i64, bool, Option<&str>)> = p
        .coupons
        .iter()
        .map(|c| (c.coupon.id, c.usable, c.refusal.as_deref()))
        .collect();
    assert_eq!(listed.len(), 5, "{listed:?}");
    let usable: Vec<i64> = listed.iter().filter(|c| c.1).map(|c| c.0).collect();
    assert_eq!(usable.len(), 3);
    for id in [w.amount, w.percent, w.gift] {
        assert!(usable.contains(&id), "{listed:?}");
    }
    assert!(listed[..3].iter().all(|c| c.1), "usable first: {listed:?}");
    assert!(listed.contains(&(w.other_store, false, Some("coupon_wrong_store"))));
    assert!(listed.contains(&(w.upcoming, false, Some("coupon_not_yet_valid"))));
    // A smaller basket: the amount-off coupon's minimum isn't met.
    let small: CheckoutPreview = serde_json::from_value(
        json_ok(preview(&till, &code, 5_000, &[]).await, StatusCode::OK).await,
    )
    .unwrap();
    let a = small
        .coupons
        .iter()
        .find(|c| c.coupon.id == w.amount)
        .unwrap();
    assert_eq!(
        (a.usable, a.refusal.as_deref()),
        (false, Some("coupon_min_spend"))
    );
    assert_eq!(
        (
            small.quote.discount_cents,
            small.quote.payable_cents,
            small.quote.points_earned
        ),
        (0, 5_000, 50)
    );

    // Nothing changed: the coupons are still in the wallet, the code still buys.
    for id in [w.amount, w.percent, w.gift] {
        assert_eq!(coupon_status(&app, id).await, "issued");
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM purchases").await, 0);
    let r =
        purchased(buy_with(&till, &code, 12_000, "P-1", &idem(), &[w.percent, w.gift]).await).await;
    assert_eq!(
        (r.discount_cents, r.payable_cents, r.points_earned),
        (1200, 10_800, 108)
    );
    // Once spent, the code is spent for the preview too.
    assert_error(
        preview(&till, &code, 12_000, &[]).await,
        StatusCode::CONFLICT,
        "card_code_used",
    )
    .await;
}

async fn preview_refuses_like_a_purchase(app: TestApp) {
    quiet_campaigns(&app).await;
    let m = app.sign_up(&phone(2), "李四").await;
    let other = app.sign_up(&phone(3), "王五").await;
    let w = fill_wallet(&app, &m.me.member_no).await;
    let t = template(&app, &Tpl::default()).await;
    let theirs = give(&app, &other.me.member_no, t, 1).await[0];
    let till = app.staff_login().await;
    let code = m.card_code().await;
    let cases: Vec<(i64, Vec<i64>, StatusCode, &str)> = vec![
        (
            12_000,
            vec![theirs],
            StatusCode::UNPROCESSABLE_ENTITY,
            "coupon_not_found",
        ),
        (
            12_000,
            vec![w.amount, 987_654],
            StatusCode::UNPROCESSABLE_ENTITY,
            "coupon_not_found",
        ),
        (
            5_000,
            vec![w.amount],
            StatusCode::UNPROCESSABLE_ENTITY,
            "coupon_min_spend",
        ),
        (
            12_000,
            vec![w.other_store],
            StatusCode::UNPROCESSABLE_ENTITY,
            "coupon_wrong_store",
        ),
        (
            12_000,
            vec![w.upcoming],
            StatusCode::UNPROCESSABLE_ENTITY,
            "coupon_not_yet_valid",
        ),
        (
            12_000,
            vec![w.amount, w.percent],
            StatusCode::UNPROCESSABLE_ENTITY,
            "coupons_not_stackable",
        ),
        (
            12_000,
            vec![w.percent, w.percent],
            StatusCode::BAD_REQUEST,
            "coupon_duplicate",
        ),
        (
            12_000,
            (1..=11).collect(),
            StatusCode::BAD_REQUEST,
            "coupon_duplicate",
        ),
        // An empty basket is a fair question (the till asks before an amount is typed:
        // guessing.rs), a negative one is not.
        (-1, vec![], StatusCode::BAD_REQUEST, "invalid_amount"),
    ];
    for (amount, coupon_ids, status, err) in cases {
        assert_error(
            preview(&till, &code, amount, &coupon_ids).await,
            status,
            err,
        )
        .await;
    }
    assert_error(
        preview(&till, "nonsense", 1000, &[]).await,
        StatusCode::BAD_REQUEST,
        "card_code_malformed",
    )
    .await;
    // Staff only; a staff account without a store can't check out.
    assert_error(
        preview(&m.client, &code, 1000, &[]).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let admin = app.admin_login().await;
    assert_error(
        preview(&admin, &code, 1000, &[]).await,
        StatusCode::FORBIDDEN,
        "store_required",
    )
    .await;
    // The refused previews spent nothing.
    purchased(buy_with(&till, &code, 12_000, "P-2", &idem(), &[w.amount]).await).await;
}

async fn purchase_with_amount_percent_gift_and_stacked_coupons(app: TestApp) {
    quiet_campaigns(&app).await;
    let m = app.sign_up(&phone(4), "赵六").await;
    let no = m.me.member_no.clone();
    let w = fill_wallet(&app, &no).await;
    let till = app.staff_login().await;
    let store_id = count(&app, "SELECT id FROM stores WHERE code = 'S001'").await;

    // Amount off: 120 - 20 = 100 paid, points and growth on 100.
    let [c1, c2, c3] = m.three_codes().await;
    let r = purchased(buy_with(&till, &c1, 12_000, "A-1", &idem(), &[w.amount]).await).await;
    assert_eq!((r.discount_cents, r.payable_cents), (2000, 10_000));
    assert_eq!(
        (r.points_earned, r.growth_earned, r.points, r.growth),
        (100, 100, 100, 100)
    );
    assert_eq!(r.coupons_used.len(), 1);
    assert_eq!(r.coupons_used[0].coupon_id, w.amount);
    assert_eq!(r.coupons_used[0].name, "满100减20");
    assert_eq!(r.coupons_used[0].discount_cents, 2000);
    assert!(r.gift_pack.is_empty());
    let purchase_id = count(&app, "SELECT id FROM purchases WHERE order_ref = 'A-1'").await;
    assert_eq!(
        count(
            &app,
            "SELECT amount_cents * 1000000 + discount_cents FROM purchases WHERE order_ref = 'A-1'"
        )
        .await,
        12_000 * 1_000_000 + 2000,
        "the basket and the discount are kept"
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM coupons WHERE id = {} AND status = 'used' AND used_at IS NOT NULL \
                 AND used_purchase_id = {purchase_id} AND used_store_id = {store_id} \
                 AND discount_cents = 2000",
                w.amount
            )
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'purchase.record' \
                 AND detail LIKE '%coupons={}%'",
                w.amount
            )
        )
        .await,
        1
    );
    assert!(
        count(
            &app,
            "SELECT COUNT(*) FROM members WHERE last_purchase_at IS NOT NULL"
        )
        .await
            == 1
    );

    // Percent with a cap: 10 % of 400 is 40, capped at 30.
    let r = purchased(buy_with(&till, &c2, 40_000, "A-2", &idem(), &[w.percent]).await).await;
    assert_eq!(
        (r.discount_cents, r.payable_cents, r.points_earned),
        (3000, 37_000, 370)
    );

    // Stacked: 10 off, then 10 % of the 90 left, then the gift.
    let t_amount = template(
        &app,
        &Tpl {
            name: "立减10元",
            off: 1000,
            stackable: true,
            ..Tpl::default()
        },
    )
    .await;
    let t_pct = template(
        &app,
        &Tpl {
            name: "9折",
            kind: "percent",
            off: 0,
            percent: 10,
            stackable: true,
            ..Tpl::default()
        },
    )
    .await;
    let s_amount = give(&app, &no, t_amount, 1).await[0];
    let s_pct = give(&app, &no, t_pct, 1).await[0];
    let r = purchased(
        buy_with(
            &till,
            &c3,
            10_000,
            "A-3",
            &idem(),
            &[w.gift, s_pct, s_amount],
        )
        .await,
    )
    .await;
    assert_eq!(
        (r.discount_cents, r.payable_cents, r.points_earned),
        (1900, 8100, 81)
    );
    let lines: Vec<(i64, i64, Option<String>)> = r
        .coupons_used
        .iter()
        .map(|l| (l.coupon_id, l.discount_cents, l.gift.clone()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (s_amount, 1000, None),
            (s_pct, 900, None),
            (w.gift, 0, Some("加料".to_string()))
        ]
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM coupons c JOIN purchases p ON p.id = c.used_purchase_id \
             WHERE p.order_ref = 'A-3' AND c.status = 'used'"
        )
        .await,
        3
    );
    assert_eq!(
        count(
            &app,
            "SELECT CAST(SUM(discount_cents) AS BIGINT) FROM purchases"
        )
        .await,
        2000 + 3000 + 1900
    );
    let me = m.me().await;
    assert_eq!((me.points, me.growth), (100 + 370 + 81, 100 + 370 + 81));
    // Used coupons are in the used tab with what they took off.
    let used = wallet(&m.client, "?status=used").await;
    assert_eq!(used.len(), 5);
    assert_eq!(
        me.coupons_usable, 2,
        "the other-store and the upcoming coupon are left"
    );
    let h = m.points_history().await;
    assert!(
        h["items"][0]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("81.00"),
        "the history shows what was paid: {h}"
    );
}

async fn coupons_covering_everything_earn_nothing(app: TestApp) {
    quiet_campaigns(&app).await;
    let m = app.sign_up(&phone(5), "钱七").await;
    let t = template(
        &app,
        &Tpl {
            name: "50元券",
            off: 5000,
            ..Tpl::default()
        },
    )
    .await;
    let c = give(&app, &m.me.member_no, t, 1).await[0];
    let till = app.staff_login().await;
    let code = m.card_code().await;
    let r = purchased(buy_with(&till, &code, 3_000, "Z-1", &idem(), &[c]).await).await;
    assert_eq!(
        (
            r.discount_cents,
            r.payable_cents,
            r.points_earned,
            r.growth_earned
        ),
        (3000, 0, 0, 0)
    );
    assert_eq!(
        count(
            &app,
            "SELECT amount_cents - discount_cents FROM purchases WHERE order_ref = 'Z-1'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT discount_cents FROM coupons WHERE status = 'used'"
        )
        .await,
        3000,
        "a coupon takes off at most the basket"
    );
    let me = m.me().await;
    assert_eq!((me.points, me.growth), (0, 0));
}

async fn every_refusal_changes_nothing(app: TestApp) {
    quiet_campaigns(&app).await;
    let m = app.sign_up(&phone(6), "孙八").await;
    let other = app.sign_up(&phone(7), "周九").await;
    let no = m.me.member_no.clone();
    let w = fill_wallet(&app, &no).await;
    let t = template(&app, &Tpl::default()).await;
    let theirs = give(&app, &other.me.member_no, t, 1).await[0];
    let expired = give(&app, &no, t, 1).await[0];
    let used = give(&app, &no, t, 1).await[0];
    app.db
        .execute(&format!(
            "UPDATE coupons SET expires_at = {} WHERE id = {expired}",
            app.now() - 1
        ))
        .await;
    let till = app.staff_login().await;
    let [c1, c2, _] = m.three_codes().await;
    purchased(buy_with(&till, &c1, 2_000, "R-0", &idem(), &[used]).await).await;
    let points_before = m.me().await.points;
    let issued_before = count(&app, "SELECT COUNT(*) FROM coupons WHERE status = 'issued'").await;

    let cases: Vec<(i64, Vec<i64>, StatusCode, &str)> = vec![
        (12_000, vec![used], StatusCode::CONFLICT, "coupon_used"),
        (
            12_000,
            vec![w.percent, used],
            StatusCode::CONFLICT,
            "coupon_used",
        ),
        (
            12_000,
            vec![expired],
            StatusCode::UNPROCESSABLE_ENTITY,
            "coupon_expired",
        ),
        (
            12_000,
            vec![w.upcoming],
            StatusCode::UNPROCESSABLE_ENTITY,
            "coupon_not_yet_valid",
        ),
        (
            9_999,
            vec![w.amount],
            StatusCode::UNPROCESSABLE_ENTITY,
            "coupon_min_spend",
        ),
        (
            12_000,
            vec![w.other_store],
            StatusCode::UNPROCESSABLE_ENTITY,
            "coupon_wrong_store",
        ),
        (
            12_000,
            vec![w.percent, w.amount],
            StatusCode::UNPROCESSABLE_ENTITY,
            "coupons_not_stackable",
        ),
        (
            12_000,
            vec![w.gift, w.gift],
            StatusCode::BAD_REQUEST,
            "coupon_duplicate",
        ),
        (
            12_000,
            vec![w.gift; 11],
            StatusCode::BAD_REQUEST,
            "coupon_duplicate",
        ),
        (
            12_000,
            vec![theirs],
            StatusCode::UNPROCESSABLE_ENTITY,
            "coupon_not_found",
        ),
        (
            12_000,
            vec![w.percent, 0],
            StatusCode::UNPROCESSABLE_ENTITY,
            "coupon_not_found",
        ),
        (
            12_000,
            vec![-5],
            StatusCode::UNPROCESSABLE_ENTITY,
            "coupon_not_found",
        ),
    ];
    for (amount, coupon_ids, status, err) in cases {
        // Same code and order each time: a refusal spends neither.
        assert_error(
            buy_with(&till, &c2, amount, "R-1", &idem(), &coupon_ids).await,
            status,
            err,
        )
        .await;
    }
    assert_eq!(m.me().await.points, points_before);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM coupons WHERE status = 'issued'").await,
        issued_before
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM purchases").await, 1);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'purchase.record'"
        )
        .await,
        1
    );
    // The other member's coupon is untouched, and no error told whose it was.
    assert_eq!(coupon_status(&app, theirs).await, "issued");
    // The request fixed: the same code and order now go through.
    let r = purchased(buy_with(&till, &c2, 12_000, "R-1", &idem(), &[w.amount]).await).await;
    assert_eq!(r.discount_cents, 2000);
    // Non-numeric ids are bad input, not a 500.
    let resp = till
        .http
        .post(format!("{}/api/v1/staff/purchases", till.base))
        .header("Idempotency-Key", idem())
        .json(&json!({ "code": c2, "amount_cents": 100, "order_ref": "R-9", "coupon_ids": ["x"] }))
        .send()
        .await
        .unwrap();
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_input").await;
}

async fn replayed_key_uses_the_coupon_once(app: TestApp) {
    quiet_campaigns(&app).await;
    let m = app.sign_up(&phone(8), "吴十").await;
    let w = fill_wallet(&app, &m.me.member_no).await;
    let till = app.staff_login().await;
    let code = m.card_code().await;
    let key = idem();
    let first = json_ok(
        buy_with(&till, &code, 20_000, "K-1", &key, &[w.amount]).await,
        StatusCode::OK,
    )
    .await;
    for _ in 0..2 {
        let again = json_ok(
            buy_with(&till, &code, 20_000, "K-1", &key, &[w.amount]).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(again, first, "the stored answer");
    }
    // Same key, other coupons: a different request.
    assert_error(
        buy_with(&till, &code, 20_000, "K-1", &key, &[w.percent]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    assert_error(
        buy_with(&till, &code, 20_000, "K-1", &key, &[]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(first["discount_cents"], 2000);
    assert_eq!(m.me().await.points, 180);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM purchases").await, 1);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM coupons WHERE status = 'used'").await,
        1
    );
    assert_eq!(coupon_status(&app, w.percent).await, "issued");
}
