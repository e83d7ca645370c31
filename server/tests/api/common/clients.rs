//! Clients of a test server: a browser or till with its own cookie jar, a signed-in
//! member, and what `TestApp` makes of them.

use member_core::card_code::{self, CardKey};
use member_core::dto::{CardKeyView, MeView, OutboxMessage, PurchaseRequest};
use member_server::Clock;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

use super::*;

/// One browser or till: its own cookie jar.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

impl TestApp {
    pub fn client(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .timeout(Duration::from_secs(30))
                .build()
                .expect("reqwest client"),
            base: self.base.clone(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// OTP → code from the dev outbox → verify. Returns the signed-in member.
    pub async fn sign_up(&self, phone: &str, name: &str) -> Member {
        let client = self.client();
        let resp = client
            .post("/api/v1/auth/otp", &json!({ "phone": phone }))
            .await;
        assert_eq!(resp.status(), StatusCode::ACCEPTED, "send otp for {phone}");
        let code = self.otp_for(phone).await;
        let resp = client
            .post(
                "/api/v1/auth/verify",
                &json!({
                    "phone": phone, "code": code, "name": name,
                    "privacy_consent": true, "marketing_consent": false
                }),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK, "verify otp for {phone}");
        let me: MeView = resp.json().await.expect("MeView from verify");
        Member {
            client,
            phone: phone.to_string(),
            me,
            clock: self.clock.clone(),
        }
    }

    /// The newest OTP the dev outbox holds for this phone (11-digit national form).
    pub async fn otp_for(&self, phone: &str) -> String {
        let e164 = format!("+86{phone}");
        let msgs: Vec<OutboxMessage> = self
            .client()
            .get("/api/v1/dev/outbox")
            .await
            .json()
            .await
            .expect("outbox json");
        msgs.iter()
            .rev()
            .find(|m| m.to == e164)
            .map(|m| m.code.clone())
            .unwrap_or_else(|| panic!("no outbox message for {e164}"))
    }

    async fn login(&self, path: &str, user: &str, pass: &str) -> Client {
        let client = self.client();
        let resp = client
            .post(path, &json!({ "username": user, "password": pass }))
            .await;
        assert_eq!(resp.status(), StatusCode::OK, "{path} as {user}");
        client
    }

    pub async fn staff_login(&self) -> Client {
        self.login("/api/v1/staff/login", STAFF_USER, STAFF_PASS)
            .await
    }

    pub async fn admin_login(&self) -> Client {
        self.login("/api/v1/admin/login", ADMIN_USER, ADMIN_PASS)
            .await
    }

    /// Lets `secs` pass on the server's clock. Card codes follow (they use `now`).
    pub fn advance_clock(&self, secs: i64) {
        self.clock.advance(secs);
    }

    /// Moves the server's clock forward to the next `month`/`day`, 10:00 in Shanghai: a
    /// test of calendar rules (month end, year end) then sees the same calendar whatever
    /// day it runs on. Call it first, before anything is stamped.
    pub fn move_clock_to_next(&self, month: u32, day: u32) -> i64 {
        use member_core::civil;
        let now = self.now();
        let mut year = civil::local_date(now).year;
        let target = loop {
            let at = civil::local_midnight(civil::Date { year, month, day }) + 10 * 3600;
            if at > now {
                break at;
            }
            year += 1;
        };
        self.clock.advance(target - now);
        target
    }

    /// `GET /metrics` with the harness's token.
    pub async fn metrics(&self) -> Response {
        reqwest::Client::new()
            .get(self.url("/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .expect("GET /metrics")
    }

    /// The server's "now".
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

impl Client {
    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    pub async fn post_empty(&self, path: &str) -> Response {
        self.http
            .post(format!("{}{path}", self.base))
            .send()
            .await
            .expect("POST")
    }

    /// POST with a raw body and content type, for malformed-input tests.
    pub async fn post_raw(&self, path: &str, content_type: Option<&str>, body: &str) -> Response {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .body(body.to_string());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.send().await.expect("POST raw")
    }

    pub async fn purchase(
        &self,
        code: &str,
        amount_cents: i64,
        order_ref: &str,
        idem_key: &str,
    ) -> Response {
        let body = PurchaseRequest {
            code: code.to_string(),
            member_no: None,
            lookup_token: None,
            amount_cents,
            order_ref: order_ref.to_string(),
            coupon_ids: None,
        };
        self.http
            .post(format!("{}/api/v1/staff/purchases", self.base))
            .header("Idempotency-Key", idem_key)
            .json(&body)
            .send()
            .await
            .expect("POST purchase")
    }
}

/// A signed-in member with their own cookie jar.
#[derive(Clone)]
pub struct Member {
    pub client: Client,
    pub phone: String,
    pub me: MeView,
    pub clock: Clock,
}

impl Member {
    pub async fn me(&self) -> MeView {
        let resp = self.client.get("/api/v1/me").await;
        assert_eq!(resp.status(), StatusCode::OK, "GET /me");
        resp.json().await.expect("MeView")
    }

    pub async fn card_key(&self) -> (String, CardKey) {
        let resp = self.client.get("/api/v1/me/card-key").await;
        assert_eq!(resp.status(), StatusCode::OK, "GET /me/card-key");
        let view: CardKeyView = resp.json().await.expect("CardKeyView");
        assert_eq!(view.step_secs, card_code::STEP_SECS);
        let key = CardKey::from_hex(&view.key_hex).expect("64 hex chars");
        (view.member_no, key)
    }

    /// The code the card shows right now (by the server's clock, which tests may move).
    pub async fn card_code(&self) -> String {
        self.card_code_at(self.clock.now()).await
    }

    pub async fn card_code_at(&self, unix: i64) -> String {
        let (no, key) = self.card_key().await;
        card_code::code_at(&no, &key, unix)
    }

    /// Codes for up to three purchases in a row: the previous, current and next step
    /// (the server accepts +-1 step and refuses a step at or before the last one spent).
    /// Waits for a fresh step when the current one is about to end, so all three stay
    /// acceptable for at least a few seconds.
    pub async fn three_codes(&self) -> [String; 3] {
        let (no, key) = self.card_key().await;
        let left = card_code::secs_left_in_step(self.clock.now());
        if left < 6 && !self.clock.is_frozen() {
            tokio::time::sleep(Duration::from_secs(left as u64 + 1)).await;
        }
        let now = self.clock.now();
        let step = card_code::STEP_SECS;
        [
            card_code::code_at(&no, &key, now - step),
            card_code::code_at(&no, &key, now),
            card_code::code_at(&no, &key, now + step),
        ]
    }

    pub async fn points_history(&self) -> Value {
        let resp = self.client.get("/api/v1/me/points/history").await;
        assert_eq!(resp.status(), StatusCode::OK, "GET /me/points/history");
        resp.json().await.expect("history json")
    }
}
