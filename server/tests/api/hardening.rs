//! Hardening: no OTP in clear outside dev, control characters in free text, concurrent
//! first sign-ins, the cleanup of old outbox rows.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{assert_error, idem, phone, Backend, Db, TestApp};

both_backends!(
    cleanup_drops_outbox_rows_after_a_day,
    control_characters_are_400_not_500,
    concurrent_first_sign_in_signs_in_the_existing_member,
);

/// Without `--dev` the outbox (which would hold the code in clear) is never written.
mod no_dev {
    mod sqlite {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn otp_send_without_dev_keeps_no_code_in_clear() {
            crate::common::run_with(
                crate::common::Backend::Sqlite,
                |cfg| cfg.dev = false,
                super::otp_send_without_dev_keeps_no_code_in_clear,
            )
            .await;
        }
    }
    mod postgres {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn otp_send_without_dev_keeps_no_code_in_clear() {
            crate::common::run_with(
                crate::common::Backend::Postgres,
                |cfg| cfg.dev = false,
                super::otp_send_without_dev_keeps_no_code_in_clear,
            )
            .await;
        }
    }

    async fn otp_send_without_dev_keeps_no_code_in_clear(app: crate::common::TestApp) {
        let p = crate::common::phone(701);
        let resp = app
            .client()
            .post("/api/v1/auth/otp", &serde_json::json!({ "phone": p }))
            .await;
        assert_eq!(resp.status(), reqwest::StatusCode::ACCEPTED);
        // The code was made (its keyed hash is stored) ...
        assert_eq!(app.db.scalar_i64("SELECT COUNT(*) FROM otp_codes").await, 1);
        // ... but no row anywhere in the outbox holds it (nor anything else).
        assert_eq!(app.db.scalar_i64("SELECT COUNT(*) FROM outbox").await, 0);
        // And the dev outbox route does not exist.
        let resp = app.client().get("/api/v1/dev/outbox").await;
        assert_ne!(resp.status(), reqwest::StatusCode::OK);
    }
}

async fn cleanup_drops_outbox_rows_after_a_day(app: TestApp) {
    let now = app.now();
    let old = now - 86_400 - 10;
    let fresh = now - 3_600;
    app.db
        .execute(&format!(
            "INSERT INTO outbox (to_phone, text, code, created_at) VALUES \
             ('+8613900000001', 'old', '111111', {old}), \
             ('+8613900000002', 'fresh', '222222', {fresh})"
        ))
        .await;
    let db = member_server::db::Db::connect(&app.database_url)
        .await
        .expect("connect");
    // (The server's own cleanup job may get there first: check the table, not the count.)
    member_server::ops::store::cleanup::run(&db, now)
        .await
        .expect("cleanup");
    db.close().await;
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM outbox WHERE code = '111111'")
            .await,
        0
    );
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM outbox WHERE code = '222222'")
            .await,
        1
    );
}

async fn control_characters_are_400_not_500(app: TestApp) {
    // Staff login: a NUL in the username is refused before it reaches the database.
    for username in ["a\u{0}", "cash\u{0}ier", "x\u{7}y"] {
        for path in ["/api/v1/staff/login", "/api/v1/admin/login"] {
            assert_error(
                app.client()
                    .post(
                        path,
                        &json!({ "username": username, "password": "whatever-pass" }),
                    )
                    .await,
                StatusCode::BAD_REQUEST,
                "invalid_input",
            )
            .await;
        }
    }

    // Sign-up: a NUL in the name.
    let p = phone(702);
    let c = app.client();
    assert_eq!(
        c.post("/api/v1/auth/otp", &json!({ "phone": p }))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    let code = app.otp_for(&p).await;
    assert_error(
        c.post(
            "/api/v1/auth/verify",
            &json!({
                "phone": p, "code": code, "name": "张\u{0}三",
                "privacy_consent": true, "marketing_consent": false
            }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
    assert_eq!(app.db.scalar_i64("SELECT COUNT(*) FROM members").await, 0);

    // Purchases: a NUL in order_ref.
    let member = app.sign_up(&phone(703), "李四").await;
    let staff = app.staff_login().await;
    let card = member.card_code().await;
    for order_ref in ["A\u{0}", "\u{0}", "OR\u{0}D-1"] {
        assert_error(
            staff.purchase(&card, 1000, order_ref, &idem()).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        )
        .await;
    }
    // A control character in the Idempotency-Key (tab is the one HTTP lets through).
    let resp = staff
        .http
        .post(format!("{}/api/v1/staff/purchases", staff.base))
        .header("Idempotency-Key", "ab\tcd")
        .json(&json!({ "code": card, "amount_cents": 1000, "order_ref": "ORD-1" }))
        .send()
        .await
        .expect("POST");
    assert_error(resp, StatusCode::BAD_REQUEST, "idempotency_key_required").await;
}

/// Another sign-in for the same new phone inserts the member while ours is between
/// "no member with this phone" and its own insert (held open here by an outside
/// transaction): ours must sign in that member, not fail on the phone's unique index.
async fn concurrent_first_sign_in_signs_in_the_existing_member(app: TestApp) {
    let p = phone(704);
    let e164 = format!("+86{p}");
    let c = app.client();
    assert_eq!(
        c.post("/api/v1/auth/otp", &json!({ "phone": p }))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    let code = app.otp_for(&p).await;
    let now = app.now();
    let insert = format!(
        "INSERT INTO members (member_no, phone, name, tier_code, card_key, privacy_consent_at, \
                              marketing_consent, created_at) \
         VALUES ('9999999999', '{e164}', '先到', \
                 (SELECT code FROM tiers ORDER BY growth_threshold LIMIT 1), \
                 {blob}, {now}, 0, {now})",
        blob = match app.backend {
            Backend::Sqlite =>
                "X'00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'",
            Backend::Postgres =>
                "'\\x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'::bytea",
        }
    );
    let body = json!({
        "phone": p, "code": code, "name": "后到",
        "privacy_consent": true, "marketing_consent": false
    });
    let resp = match &app.db {
        Db::Pg(pool) => {
            let mut tx = pool.begin().await.expect("begin");
            sqlx::query(&insert)
                .execute(&mut *tx)
                .await
                .expect("insert");
            let verify = tokio::spawn({
                let c = c.clone();
                async move { c.post("/api/v1/auth/verify", &body).await }
            });
            // Wait until the server's insert waits on our uncommitted row.
            let mut waiting = false;
            for _ in 0..100 {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM pg_stat_activity \
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
                )
                .fetch_one(pool)
                .await
                .expect("pg_stat_activity");
                if n > 0 {
                    waiting = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert!(waiting, "the server's sign-in never waited on the phone");
            tx.commit().await.expect("commit");
            verify.await.expect("join")
        }
        Db::Sqlite(pool) => {
            // SQLite has one writer: the outside insert simply goes first.
            let mut tx = pool.begin().await.expect("begin");
            sqlx::query(&insert)
                .execute(&mut *tx)
                .await
                .expect("insert");
            let verify = tokio::spawn({
                let c = c.clone();
                async move { c.post("/api/v1/auth/verify", &body).await }
            });
            tokio::time::sleep(Duration::from_millis(300)).await;
            tx.commit().await.expect("commit");
            verify.await.expect("join")
        }
    };
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::OK, "verify: {text}");
    let me: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(me["member_no"], "9999999999", "{text}");
    assert_eq!(me["name"], "先到", "{text}");
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM members WHERE phone = '{e164}'"
            ))
            .await,
        1
    );
    // The session works.
    assert_eq!(c.get("/api/v1/me").await.status(), StatusCode::OK);
}

/// Without MEMBER_SECRET, instances sharing one Postgres database share the generated
/// secret (kept in the database), so a session made on one works on the other.
mod shared_secret {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn instances_on_one_postgres_share_the_generated_secret() {
        crate::common::run_with(
            crate::common::Backend::Postgres,
            |cfg| cfg.member_secret = None,
            body,
        )
        .await;
    }

    async fn body(app: crate::common::TestApp) {
        let member = app.sign_up(&crate::common::phone(705), "王五").await;
        let dir = tempfile::tempdir().expect("temp dir");
        let other = member_server::start(member_server::Config {
            database_url: app.database_url.clone(),
            bind: "127.0.0.1:0".parse().expect("bind addr"),
            static_dir: dir.path().join("dist"),
            dev: false,
            member_secret: None,
            data_dir: dir.path().join("data"),
            clock_frozen_at: Some(app.now()),
            ..member_server::Config::default()
        })
        .await
        .expect("second instance starts");
        let resp = member
            .client
            .http
            .get(format!("{}/api/v1/me", other.base_url()))
            .send()
            .await
            .expect("GET /me on the other instance");
        let status = resp.status();
        other.shutdown().await;
        assert_eq!(status, reqwest::StatusCode::OK);
        // Nothing was written next to the second instance.
        assert!(!dir.path().join("data").join("member-secret").exists());
    }
}
