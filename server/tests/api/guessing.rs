//! Guessing: card codes at the till (limited per staff account, per store and per member
//! number at a store, never per card) and staff passwords (limited per account and client
//! address, never a lock the real owner can't get past), and the manager's unlock.

use std::net::IpAddr;
use std::time::Duration;

use member_core::card_code;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{
    assert_error, assert_guesses_throttled, idem, json_ok, phone, Client, Member, TestApp,
    STAFF_PASS, STAFF_USER,
};
use crate::ledger::{manager, staff_of};

both_backends!(
    wrong_codes_are_limited_on_verify,
    wrong_codes_are_limited_on_preview,
    wrong_codes_are_limited_on_purchase,
    right_codes_do_not_spend_the_budget,
    wrong_codes_for_one_number_hold_only_that_store,
    parallel_wrong_guesses_stay_within_the_budget,
    a_preview_right_after_a_look_up_is_answered,
    wrong_passwords_from_one_client_do_not_lock_out_another,
    the_wait_after_wrong_passwords_grows,
    a_manager_or_admin_unlocks_a_staff_account,
);

/// Wrong codes a staff account (and a store) may try per minute.
const BUDGET: usize = 10;

#[derive(Clone, Copy)]
enum Route {
    Verify,
    Preview,
    Purchase,
}

/// A card check on `route`; the answer's status and error code (if any).
async fn check(till: &Client, route: Route, code: &str) -> reqwest::Response {
    match route {
        Route::Verify => {
            till.post("/api/v1/staff/verify", &json!({ "code": code }))
                .await
        }
        Route::Preview => {
            till.post(
                "/api/v1/staff/checkout/preview",
                &json!({ "code": code, "amount_cents": 1_000 }),
            )
            .await
        }
        Route::Purchase => till.purchase(code, 1_000, &idem(), &idem()).await,
    }
}

/// A code of nobody's card (member number `n` is not taken): as wrong as a wrong TOTP.
fn nobodys_code(n: usize) -> String {
    format!("{:010}{:06}", 9_100_000_000usize + n, n % 1_000_000)
}

/// A wrong code for `m`'s card: the right member number with digits no step has now.
async fn wrong_code_for(app: &TestApp, m: &Member) -> String {
    let (no, key) = m.card_key().await;
    let now = card_code::step_at(app.now());
    let taken: Vec<u32> = (now - 25..=now + 2)
        .map(|s| card_code::totp(&key, s))
        .collect();
    let totp = (0..1_000_000u32)
        .find(|t| !taken.contains(t))
        .expect("a free TOTP value");
    format!("{no}{totp:06}")
}

/// A cashier account of `store_code` (made once), signed in.
async fn cashier_of(app: &TestApp, store_code: &str, username: &str) -> Client {
    staff_of(app, store_code, username, "cashier").await
}

async fn audits(app: &TestApp, action: &str) -> i64 {
    app.db
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"
        ))
        .await
}

async fn assert_too_many(resp: reqwest::Response) -> i64 {
    let retry: i64 = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After on a 429");
    assert_error(resp, StatusCode::TOO_MANY_REQUESTS, "too_many_wrong_codes").await;
    retry
}

async fn wrong_codes_are_limited(app: TestApp, route: Route) {
    let m = app.sign_up(&phone(1), "张三").await;
    let till = app.staff_login().await;
    for n in 0..BUDGET {
        assert_error(
            check(&till, route, &nobodys_code(n)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "card_code_invalid",
        )
        .await;
    }
    let retry = assert_too_many(check(&till, route, &nobodys_code(BUDGET)).await).await;
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    // Spent for this account: even the member's right code waits.
    let code = m.card_code().await;
    assert_too_many(check(&till, route, &code).await).await;
    assert_eq!(
        audits(&app, "card_code.too_many_wrong").await,
        1,
        "the first refusal is audited, once"
    );
    // Another cashier of the same store: the store's budget is spent too.
    let colleague = cashier_of(&app, "S001", "cashier-b").await;
    assert_too_many(check(&colleague, Route::Verify, &code).await).await;
    // A cashier of another store still checks the member: the card is not locked.
    let elsewhere = cashier_of(&app, "S002", "cashier-c").await;
    let v = json_ok(
        check(&elsewhere, Route::Verify, &code).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["member_no"], m.me.member_no.as_str(), "{v}");
    // After the window the till works again.
    app.advance_clock(61);
    let code = m.card_code().await;
    json_ok(check(&till, Route::Verify, &code).await, StatusCode::OK).await;
}

async fn wrong_codes_are_limited_on_verify(app: TestApp) {
    wrong_codes_are_limited(app, Route::Verify).await;
}

async fn wrong_codes_are_limited_on_preview(app: TestApp) {
    wrong_codes_are_limited(app, Route::Preview).await;
}

async fn wrong_codes_are_limited_on_purchase(app: TestApp) {
    wrong_codes_are_limited(app, Route::Purchase).await;
}

async fn right_codes_do_not_spend_the_budget(app: TestApp) {
    let m = app.sign_up(&phone(2), "李四").await;
    let till = app.staff_login().await;
    let code = m.card_code().await;
    for _ in 0..2 * BUDGET {
        json_ok(check(&till, Route::Verify, &code).await, StatusCode::OK).await;
        json_ok(check(&till, Route::Preview, &code).await, StatusCode::OK).await;
    }
    for n in 0..BUDGET {
        assert_error(
            check(&till, Route::Verify, &nobodys_code(n)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "card_code_invalid",
        )
        .await;
    }
    assert_too_many(check(&till, Route::Verify, &code).await).await;
}

async fn wrong_codes_for_one_number_hold_only_that_store(app: TestApp) {
    let m = app.sign_up(&phone(3), "王五").await;
    let other = app.sign_up(&phone(4), "赵六").await;
    let till = app.staff_login().await;
    for _ in 0..5 {
        let wrong = wrong_code_for(&app, &m).await;
        assert_error(
            check(&till, Route::Verify, &wrong).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "card_code_invalid",
        )
        .await;
    }
    // This number is paused at this store (the till's own budget is not spent yet) ...
    let code = m.card_code().await;
    assert_too_many(check(&till, Route::Verify, &code).await).await;
    // ... another member is not ...
    let theirs = other.card_code().await;
    json_ok(check(&till, Route::Verify, &theirs).await, StatusCode::OK).await;
    // ... and another store checks this member as usual.
    let elsewhere = cashier_of(&app, "S002", "cashier-d").await;
    json_ok(
        check(&elsewhere, Route::Verify, &code).await,
        StatusCode::OK,
    )
    .await;
    // Later the number works here again.
    app.advance_clock(5 * 60 + 1);
    let code = m.card_code().await;
    json_ok(check(&till, Route::Verify, &code).await, StatusCode::OK).await;
}

async fn parallel_wrong_guesses_stay_within_the_budget(app: TestApp) {
    let till = app.staff_login().await;
    let guesses = (0..50).map(|n| {
        let till = till.clone();
        let route = match n % 3 {
            0 => Route::Verify,
            1 => Route::Preview,
            _ => Route::Purchase,
        };
        tokio::spawn(async move { check(&till, route, &nobodys_code(n)).await.status() })
    });
    assert_guesses_throttled(
        guesses,
        StatusCode::UNPROCESSABLE_ENTITY,
        BUDGET,
        "wrong codes",
    )
    .await;
    assert_eq!(audits(&app, "card_code.too_many_wrong").await, 1);
}

/// What the staff app sends right after a look-up, before an amount is typed: the
/// member's coupons for an empty basket.
async fn a_preview_right_after_a_look_up_is_answered(app: TestApp) {
    let m = app.sign_up(&phone(5), "孙七").await;
    let till = app.staff_login().await;
    let code = m.card_code().await;
    json_ok(
        till.post("/api/v1/staff/verify", &json!({ "code": code }))
            .await,
        StatusCode::OK,
    )
    .await;
    let v = json_ok(
        till.post(
            "/api/v1/staff/checkout/preview",
            &json!({ "code": code, "amount_cents": 0, "coupon_ids": [] }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["member"]["member_no"], m.me.member_no.as_str(), "{v}");
    assert_eq!(v["quote"]["payable_cents"], 0, "{v}");
    // A negative basket is still refused.
    assert_error(
        till.post(
            "/api/v1/staff/checkout/preview",
            &json!({ "code": code, "amount_cents": -1 }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_amount",
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// Staff passwords

/// A till at its own client address (the whole of 127/8 is this machine).
fn client_at(app: &TestApp, ip: &str) -> Client {
    Client {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .local_address(ip.parse::<IpAddr>().expect("ip"))
            .timeout(Duration::from_secs(30))
            .build()
            .expect("reqwest client"),
        base: app.base.clone(),
    }
}

async fn sign_in(c: &Client, password: &str) -> reqwest::Response {
    c.post(
        "/api/v1/staff/login",
        &json!({ "username": STAFF_USER, "password": password }),
    )
    .await
}

fn retry_after(resp: &reqwest::Response) -> i64 {
    resp.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After")
}

async fn wrong_passwords_from_one_client_do_not_lock_out_another(app: TestApp) {
    let attacker = client_at(&app, "127.0.0.2");
    for _ in 0..5 {
        assert_error(
            sign_in(&attacker, "guess").await,
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
        )
        .await;
    }
    let resp = sign_in(&attacker, "guess").await;
    assert!(retry_after(&resp) >= 1);
    assert_error(resp, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // The real cashier at the till signs in.
    let till = client_at(&app, "127.0.0.3");
    let resp = sign_in(&till, STAFF_PASS).await;
    assert_eq!(resp.status(), StatusCode::OK, "the till is not locked out");
    // Many more guesses from many addresses only slow the account down.
    for host in 4..10 {
        let c = client_at(&app, &format!("127.0.0.{host}"));
        for _ in 0..2 {
            let _ = sign_in(&c, "guess").await;
        }
    }
    let started = std::time::Instant::now();
    let till = client_at(&app, "127.0.0.3");
    assert_eq!(sign_in(&till, STAFF_PASS).await.status(), StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a small delay at most: {:?}",
        started.elapsed()
    );
}

async fn the_wait_after_wrong_passwords_grows(app: TestApp) {
    let c = client_at(&app, "127.0.0.2");
    for _ in 0..5 {
        assert_eq!(
            sign_in(&c, "guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let first = sign_in(&c, "guess").await;
    assert_eq!(first.status(), StatusCode::TOO_MANY_REQUESTS);
    let first = retry_after(&first);
    app.advance_clock(first);
    assert_eq!(
        sign_in(&c, "guess").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let second = sign_in(&c, "guess").await;
    assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
    let second = retry_after(&second);
    assert!(
        second > first,
        "the wait grows with every failure: {first} s then {second} s"
    );
    // The right password from this client too waits, then works.
    assert_eq!(
        sign_in(&c, STAFF_PASS).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    app.advance_clock(second);
    assert_eq!(sign_in(&c, STAFF_PASS).await.status(), StatusCode::OK);
}

/// Typos until this till has to wait.
async fn lock_out(till: &Client) {
    for _ in 0..6 {
        let _ = sign_in(till, "typo").await;
    }
    assert_eq!(
        sign_in(till, STAFF_PASS).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

async fn a_manager_or_admin_unlocks_a_staff_account(app: TestApp) {
    let till = client_at(&app, "127.0.0.2");
    lock_out(&till).await;
    let unlock = "/api/v1/admin/staff/cashier/unlock";
    // Not a cashier's to do (not even their own), nor another store's manager's.
    let colleague = cashier_of(&app, "S001", "cashier-e").await;
    assert_error(
        colleague.post_empty(unlock).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let other_manager = manager(&app, "S002").await;
    assert_error(
        other_manager.post_empty(unlock).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(
        sign_in(&till, STAFF_PASS).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "refused unlocks change nothing"
    );
    // The store's manager.
    let own_manager = manager(&app, "S001").await;
    assert_eq!(
        own_manager.post_empty(unlock).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(sign_in(&till, STAFF_PASS).await.status(), StatusCode::OK);
    // An admin.
    lock_out(&till).await;
    let admin = app.admin_login().await;
    assert_eq!(
        admin.post_empty(unlock).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(sign_in(&till, STAFF_PASS).await.status(), StatusCode::OK);
    assert_error(
        admin
            .post_empty("/api/v1/admin/staff/nobody-here/unlock")
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(
        app.db
            .scalar_i64(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'staff.unlock' \
                 AND target = 'staff:cashier'"
            )
            .await,
        2,
        "each unlock is audited"
    );
}
