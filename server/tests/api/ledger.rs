//! The points account as a member sees it: every ledger kind in the history with its
//! reason, store and expiry; the "expiring soon" notice; spending soonest-expiry first.
//! Also the helpers the expiry, refund and adjust tests share.

use member_core::card_code;
use member_core::civil;
use member_core::points::{last_valid_day, ExpiryRule};
use member_server::db::{batch, Db as ServerDb};
use member_server::points::store::ledger::{self, Entry};
use member_server::staff::store as staff_db;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{idem, json_ok, phone, Client, Member, TestApp};

both_backends!(
    history_shows_every_kind_with_reason_store_and_expiry,
    me_shows_points_expiring_within_sixty_days,
    spending_takes_the_soonest_expiring_batch_first,
    restore_into_an_expired_batch_expires_again,
);

// ---------------------------------------------------------------------------------------
// Shared helpers

/// A second handle on the server's database, like another server instance would have.
pub async fn server_db(app: &TestApp) -> ServerDb {
    ServerDb::connect(&app.database_url)
        .await
        .expect("connect to the server's database")
}

/// Runs the expiry job as of `now` on its own database handle.
pub async fn run_expiry(app: &TestApp, now: i64) -> ledger::ExpiryRun {
    let db = server_db(app).await;
    let run = member_server::points::jobs::run_once(&db, now)
        .await
        .expect("expiry run");
    db.close().await;
    run
}

/// Creates (once) a store manager for `store_code` and signs them in.
pub async fn manager(app: &TestApp, store_code: &str) -> Client {
    let username = format!("mgr-{}", store_code.to_lowercase());
    staff_of(app, store_code, &username, "manager").await
}

/// Creates (once) a staff account of `role` at `store_code` and signs it in.
pub async fn staff_of(app: &TestApp, store_code: &str, username: &str, role: &str) -> Client {
    let password = format!("{username}-pass");
    let db = server_db(app).await;
    let mut tx = db.begin_write().await.expect("tx");
    let store_id = staff_db::ensure_store(&mut tx, store_code, &format!("门店{store_code}"), 0)
        .await
        .expect("store");
    tx.commit().await.expect("commit");
    let name = if role == "manager" {
        "店长"
    } else {
        "收银员"
    };
    staff_db::create_staff_if_missing(&db, username, &password, name, role, Some(store_id), 0)
        .await
        .expect("staff account");
    db.close().await;
    let client = app.client();
    let resp = client
        .post(
            "/api/v1/staff/login",
            &json!({ "username": username, "password": password }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK, "{role} login");
    client
}

/// A purchase at the till, on a fresh card-code step (so several in a row are fine).
pub async fn buy(app: &TestApp, till: &Client, m: &Member, cents: i64, order_ref: &str) -> Value {
    app.advance_clock(card_code::STEP_SECS);
    let code = m.card_code().await;
    json_ok(
        till.purchase(&code, cents, order_ref, &idem()).await,
        StatusCode::OK,
    )
    .await
}

pub async fn post_idem(client: &Client, path: &str, body: &Value, key: &str) -> reqwest::Response {
    client
        .http
        .post(format!("{}{path}", client.base))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("POST")
}

pub async fn refund(till: &Client, order_ref: &str, reason: &str, key: &str) -> reqwest::Response {
    post_idem(
        till,
        "/api/v1/staff/refunds",
        &json!({ "order_ref": order_ref, "reason": reason }),
        key,
    )
    .await
}

pub async fn set_rule(admin: &Client, expiry: &str, n: i64) {
    let resp = admin
        .http
        .put(format!("{}/api/v1/admin/points-rules", admin.base))
        .json(&json!({ "expiry": expiry, "n": n }))
        .send()
        .await
        .expect("PUT rules");
    let v = json_ok(resp, StatusCode::OK).await;
    assert_eq!(v, json!({ "expiry": expiry, "n": n }));
}

pub async fn adjust(
    admin: &Client,
    member_no: &str,
    points: i64,
    reason: &str,
    key: &str,
) -> reqwest::Response {
    admin
        .http
        .post(format!(
            "{}/api/v1/admin/members/{member_no}/points",
            admin.base
        ))
        .header("Idempotency-Key", key)
        .json(&json!({ "points": points, "reason": reason }))
        .send()
        .await
        .expect("POST adjust")
}

/// The member's batches, oldest first: (points, remaining, expires_at).
pub async fn batches(app: &TestApp, member_no: &str) -> Vec<(i64, i64, Option<i64>)> {
    let db = server_db(app).await;
    let rows: Vec<(i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT b.points, b.remaining, b.expires_at FROM points_batches b \
         JOIN members m ON m.id = b.member_id WHERE m.member_no = $1 ORDER BY b.id",
    )
    .bind(member_no)
    .fetch_all(db.reader())
    .await
    .expect("batches");
    db.close().await;
    rows
}

pub async fn member_id(app: &TestApp, member_no: &str) -> i64 {
    app.db
        .scalar_i64(&format!(
            "SELECT id FROM members WHERE member_no = '{member_no}'"
        ))
        .await
}

pub async fn count(app: &TestApp, sql: &str) -> i64 {
    app.db.scalar_i64(sql).await
}

fn items(h: &Value) -> Vec<Value> {
    h["items"].as_array().cloned().unwrap_or_default()
}

/// Spends `points` the way a mall redemption does (the mall has its own tests; this
/// keeps the ledger tests independent of it). Returns the debit's ledger id.
async fn redeem_directly(app: &TestApp, member_no: &str, points: i64, now: i64) -> i64 {
    let id = member_id(app, member_no).await;
    let db = server_db(app).await;
    let mut tx = db.begin_write().await.expect("tx");
    ledger::lock_member(&mut tx, db.backend(), id)
        .await
        .expect("lock")
        .expect("member");
    let entry = Entry {
        member_id: id,
        kind: member_core::points::LedgerKind::Redeem,
        reason: "兑换 帆布袋".into(),
        source_ref: Some("order:TEST".into()),
        actor: format!("member:{member_no}"),
        store_id: None,
        now,
        event: None,
    };
    let stmts = ledger::plan_debit(&mut tx, &entry, points, None)
        .await
        .expect("plan debit");
    batch::execute(&mut tx, db.backend(), stmts)
        .await
        .expect("debit");
    let ledger_id = ledger::last_entry_id(&mut tx, id).await.expect("ledger id");
    tx.commit().await.expect("commit");
    db.close().await;
    ledger_id
}

// ---------------------------------------------------------------------------------------
// Tests

async fn history_shows_every_kind_with_reason_store_and_expiry(app: TestApp) {
    let m = app.sign_up(&phone(1), "张三").await;
    let no = m.me.member_no.clone();
    let admin = app.admin_login().await;
    let till = app.staff_login().await;
    let boss = manager(&app, "S001").await;
    set_rule(&admin, "days", 30).await;

    buy(&app, &till, &m, 20_000, "H-1").await; // earn 200
    buy(&app, &till, &m, 5_000, "H-2").await; // earn 50
                                              // Credited under a longer rule, so it is still there after the 30-day batches go.
    set_rule(&admin, "days", 365).await;
    json_ok(
        adjust(&admin, &no, 30, "补偿 / goodwill", &idem()).await,
        StatusCode::OK,
    )
    .await;
    redeem_directly(&app, &no, 40, app.now()).await;
    json_ok(
        adjust(&admin, &no, -10, "更正 / correction", &idem()).await,
        StatusCode::OK,
    )
    .await;
    let r = json_ok(
        refund(&boss, "H-2", "顾客退货", &idem()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["points_clawed_back"], 50, "{r}");
    // The first purchase's batch: 200 - 40 redeemed - 10 adjusted = 150 left, expiring.
    let due = batches(&app, &no).await[0].2.expect("expires");
    run_expiry(&app, due).await;

    let h = m.points_history().await;
    let rows = items(&h);
    let kinds: Vec<&str> = rows.iter().filter_map(|i| i["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        vec!["expire", "refund", "adjust", "redeem", "adjust", "earn", "earn"],
        "{h}"
    );
    let pts: Vec<i64> = rows.iter().filter_map(|i| i["points"].as_i64()).collect();
    assert_eq!(pts, vec![-150, -50, -10, -40, 30, 50, 200], "{h}");
    for row in &rows {
        assert!(
            row["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "{row}"
        );
        assert!(
            row["at"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{row}"
        );
        let credit = row["points"].as_i64().unwrap_or(0) > 0;
        assert_eq!(
            row["expires_at"].is_string(),
            credit,
            "credits (all under expiring rules here), and only they, carry expires_at: {row}"
        );
    }
    // Till rows keep the store; the expiry, the redemption and admin rows have none.
    assert_eq!(rows[1]["store_name"], "旗舰店", "{h}");
    assert_eq!(rows[5]["store_name"], "旗舰店", "{h}");
    assert!(rows[0]["store_name"].is_null(), "{h}");
    assert!(rows[1]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("顾客退货")));
    assert!(rows[2]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("correction")));
    let day = civil::iso(last_valid_day(due));
    assert!(
        rows[0]["reason"].as_str().is_some_and(|r| r.contains(&day)),
        "expiry reason names the last day {day}: {h}"
    );
    // The earn row's expiry is what the 30-day rule gives for its time.
    let earned_at = chrono::DateTime::parse_from_rfc3339(rows[6]["at"].as_str().unwrap_or(""))
        .expect("at")
        .timestamp();
    let want = ExpiryRule::Days(30).expires_at(earned_at).expect("expires");
    assert_eq!(
        rows[6]["expires_at"].as_str(),
        Some(member_server::clock::rfc3339(want).as_str()),
        "{h}"
    );
    // Every row has its actor.
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM points_ledger WHERE actor = ''").await,
        0
    );
    for (kind, actor) in [
        ("earn", "staff:cashier"),
        ("adjust", "staff:admin"),
        ("refund", "staff:mgr-s001"),
        ("expire", "system"),
    ] {
        assert!(
            count(
                &app,
                &format!(
                    "SELECT COUNT(*) FROM points_ledger WHERE kind = '{kind}' AND actor = '{actor}'"
                )
            )
            .await
                >= 1,
            "{kind} by {actor}"
        );
    }
    // 200 + 50 + 30 - 40 - 10 - 50 - 150
    assert_eq!(m.me().await.points, 30);
}

async fn me_shows_points_expiring_within_sixty_days(app: TestApp) {
    let m = app.sign_up(&phone(2), "李四").await;
    let no = m.me.member_no.clone();
    let admin = app.admin_login().await;
    let till = app.staff_login().await;
    // The default rule (through the end of next year) is too far away to mention.
    buy(&app, &till, &m, 10_000, "E-1").await;
    let me = m.me().await;
    assert_eq!(me.points, 100);
    assert!(me.expiring.is_none(), "{:?}", me.expiring);

    set_rule(&admin, "days", 30).await;
    buy(&app, &till, &m, 7_000, "E-2").await;
    buy(&app, &till, &m, 5_000, "E-3").await;
    let rows = batches(&app, &no).await;
    let at = rows[1].2.expect("30-day batch expires");
    let me = m.me().await;
    let exp = me.expiring.clone().expect("expiring shown");
    // Both 30-day purchases expire the same midnight (the test's clock stands still).
    assert_eq!(rows[2].2, Some(at));
    assert_eq!(exp.points, 120, "{exp:?}");
    assert_eq!(exp.at, member_server::clock::rfc3339(at));
    assert_eq!(exp.last_day, civil::iso(last_valid_day(at)));
    // Local midnight in Shanghai is 16:00 UTC.
    assert!(exp.at.ends_with("T16:00:00Z"), "{exp:?}");

    // Spent down to the never-mentioned batch: nothing to announce any more.
    json_ok(
        adjust(&admin, &no, -120, "用完 / spent", &idem()).await,
        StatusCode::OK,
    )
    .await;
    let me = m.me().await;
    assert_eq!(me.points, 100);
    assert!(me.expiring.is_none(), "{:?}", me.expiring);
}

async fn spending_takes_the_soonest_expiring_batch_first(app: TestApp) {
    let m = app.sign_up(&phone(3), "王五").await;
    let no = m.me.member_no.clone();
    let admin = app.admin_login().await;
    let till = app.staff_login().await;
    // Older batch lasts a year, the newer one 30 days: the newer one is spent first.
    set_rule(&admin, "days", 365).await;
    buy(&app, &till, &m, 10_000, "S-1").await;
    set_rule(&admin, "days", 30).await;
    buy(&app, &till, &m, 10_000, "S-2").await;
    json_ok(
        adjust(&admin, &no, -50, "抵扣 / spend", &idem()).await,
        StatusCode::OK,
    )
    .await;
    let rows = batches(&app, &no).await;
    assert_eq!((rows[0].0, rows[0].1), (100, 100), "{rows:?}");
    assert_eq!((rows[1].0, rows[1].1), (100, 50), "{rows:?}");
    let short = rows[1].2.expect("30-day expiry");
    let long = rows[0].2.expect("365-day expiry");
    assert!(short < long);

    // At the short batch's expiry only what is left of it goes.
    let run = run_expiry(&app, short).await;
    assert_eq!(run.points, 50);
    let rows = batches(&app, &no).await;
    assert_eq!((rows[0].1, rows[1].1), (100, 0), "{rows:?}");
    assert_eq!(m.me().await.points, 100);
    let h = m.points_history().await;
    assert_eq!(items(&h)[0]["kind"], "expire", "{h}");
    assert_eq!(items(&h)[0]["points"], -50, "{h}");

    // A bigger spend crosses batches in order, and never touches a due one.
    set_rule(&admin, "never", 0).await;
    buy(&app, &till, &m, 3_000, "S-3").await;
    json_ok(
        adjust(&admin, &no, -110, "抵扣 / spend", &idem()).await,
        StatusCode::OK,
    )
    .await;
    let rows = batches(&app, &no).await;
    let left: Vec<i64> = rows.iter().map(|r| r.1).collect();
    assert_eq!(
        left,
        vec![0, 0, 20],
        "365-day batch first, never-expiring last"
    );
    let allocations = count(
        &app,
        "SELECT COUNT(*) FROM points_allocations a JOIN points_ledger l ON l.id = a.ledger_id \
         WHERE l.kind = 'adjust'",
    )
    .await;
    // -50 from one batch, -110 from two.
    assert_eq!(allocations, 3);
}

async fn restore_into_an_expired_batch_expires_again(app: TestApp) {
    let m = app.sign_up(&phone(4), "赵六").await;
    let no = m.me.member_no.clone();
    let admin = app.admin_login().await;
    let till = app.staff_login().await;
    set_rule(&admin, "days", 1).await;
    buy(&app, &till, &m, 10_000, "R-1").await;
    let debit = redeem_directly(&app, &no, 30, app.now()).await;
    let due = batches(&app, &no).await[0].2.expect("expires");
    assert_eq!(run_expiry(&app, due).await.points, 70);

    // A cancellation after the expiry: the 30 points come back and leave at once.
    let id = member_id(&app, &no).await;
    let db = server_db(&app).await;
    let mut tx = db.begin_write().await.expect("tx");
    ledger::lock_member(&mut tx, db.backend(), id)
        .await
        .expect("lock")
        .expect("member");
    let entry = Entry {
        member_id: id,
        kind: member_core::points::LedgerKind::Refund,
        reason: "取消兑换".into(),
        source_ref: Some("order:TEST".into()),
        actor: "staff:cashier".into(),
        store_id: None,
        now: due + 60,
        event: None,
    };
    let (stmts, back) = ledger::plan_restore(&mut tx, &entry, debit)
        .await
        .expect("plan restore");
    assert_eq!(back, 30);
    batch::execute(&mut tx, db.backend(), stmts)
        .await
        .expect("restore");
    tx.commit().await.expect("commit");
    db.close().await;

    assert_eq!(batches(&app, &no).await[0].1, 0);
    let h = m.points_history().await;
    let pts: Vec<i64> = items(&h)
        .iter()
        .filter_map(|i| i["points"].as_i64())
        .collect();
    assert_eq!(pts, vec![-30, 30, -70, -30, 100], "{h}");
    assert_eq!(m.me().await.points, 0);
    // Nothing left for the job.
    assert_eq!(run_expiry(&app, due + 120).await.points, 0);
}
