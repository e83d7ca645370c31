//! Typed client for the v1 wire contract. Bodies are `member_core::dto` types, the same
//! structs the server serialises, so the two sides cannot drift apart silently.

use js_sys::{Promise, Reflect};
use member_core::dto::{
    codes, CancelOrderRequest, CancelOrderResult, CardKeyView, CheckInResult, CheckoutPreview,
    CheckoutPreviewRequest, ClaimResult, ClaimView, CouponCounts, CouponView, ErrorBody, MallItem,
    MallOrder, MallOrderPage, MallOrderRequest, MallOrderResult, MeView, MemberSummary, OtpRequest,
    OtpSent, PointsHistory, ProfileUpdate, ProfileView, PurchaseRequest, PurchaseResult,
    StaffLoginRequest, StaffMallOrder, StaffVerifyRequest, StaffView, TierView, VerifyOtpRequest,
};
use member_core::dto::{
    GrowthHistoryPage, NotificationsPage, ReadNotificationsRequest, ReferralView, SignupLinkView,
    TierStatusView, UnreadCount, WelcomeView,
};
use member_core::dto::{
    MemberLookupRequest, MemberLookupResult, RefundRequest, RefundResult, StaffPurchasePage,
};
use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestInit, Response};

use crate::i18n::{errors, Lang};
use crate::json;

const BASE: &str = "/api/v1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The server answered `{"error":{"code","message"}}`.
    Server {
        status: u16,
        code: String,
        message: String,
    },
    /// No answer at all (offline, server down): safe to retry.
    Network,
    /// An answer outside the contract.
    Unexpected { status: u16 },
}

impl ApiError {
    pub fn code(&self) -> &str {
        match self {
            ApiError::Server { code, .. } => code,
            ApiError::Network => errors::NETWORK,
            ApiError::Unexpected { .. } => errors::UNEXPECTED,
        }
    }

    /// The session cookie is missing or expired: the app goes back to its sign-in screen.
    pub fn is_unauthenticated(&self) -> bool {
        matches!(self, ApiError::Server { status: 401, .. })
    }

    pub fn is_network(&self) -> bool {
        matches!(self, ApiError::Network)
    }

    /// Whether a failed request that moves points, stock or money may still have taken
    /// effect, so a retry must send the same attempt (Idempotency-Key and body). Only a
    /// definite 4xx refusal ends the attempt: after no answer, a 5xx (`internal`,
    /// `timeout`, a proxy's 502/504) or an answer we cannot read, the server may already
    /// have committed, and a new key would do it twice.
    pub fn may_have_taken_effect(&self) -> bool {
        match self {
            ApiError::Server { status, code, .. } => {
                !(400..500).contains(status)
                    || [codes::REQUEST_IN_PROGRESS, codes::TIMEOUT, codes::INTERNAL]
                        .contains(&code.as_str())
            }
            ApiError::Network | ApiError::Unexpected { .. } => true,
        }
    }

    /// What the person sees.
    pub fn text(&self, lang: Lang) -> &'static str {
        errors::error_text(lang, self.code())
    }
}

/// One HTTP exchange, straight over `fetch`. (gloo-net would do the same, but it exports
/// stream classes that cannot be stripped and cost the member bundle several KB.)
async fn exchange(
    method: &str,
    path: &str,
    body: Option<String>,
    idempotency_key: Option<&str>,
) -> Result<(u16, String), ApiError> {
    let init = RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().map_err(|_| ApiError::Network)?;
    let _ = headers.set("Accept", "application/json");
    if let Some(body) = body {
        let _ = headers.set("Content-Type", "application/json");
        init.set_body(&JsValue::from_str(&body));
    }
    if let Some(key) = idempotency_key {
        let _ = headers.set("Idempotency-Key", key);
    }
    init.set_headers(&headers);
    let window = web_sys::window().ok_or(ApiError::Network)?;
    let url = format!("{BASE}{path}");
    read(window.fetch_with_str_and_init(&url, &init)).await
}

/// Waits for a `fetch` promise and reads its status and body.
async fn read(fetch: Promise) -> Result<(u16, String), ApiError> {
    read_body(response_of(fetch).await?).await
}

/// Waits for a `fetch` promise's response (headers in, body not yet read).
async fn response_of(fetch: Promise) -> Result<Response, ApiError> {
    JsFuture::from(fetch)
        .await
        .map_err(|_| ApiError::Network)?
        .dyn_into()
        .map_err(|_| ApiError::Network)
}

/// Reads a response's status and body.
async fn read_body(response: Response) -> Result<(u16, String), ApiError> {
    let status = response.status();
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .map_err(|_| ApiError::Network)?
            .as_string()
            .unwrap_or_default(),
        Err(_) => return Err(ApiError::Network),
    };
    Ok((status, text))
}

fn error_of(status: u16, text: &str) -> ApiError {
    match json::decode::<ErrorBody>(text) {
        Some(body) => ApiError::Server {
            status,
            code: body.error.code,
            message: body.error.message,
        },
        // A proxy's HTML 401 still means "sign in again".
        None if status == 401 => ApiError::Server {
            status,
            code: member_core::dto::codes::UNAUTHENTICATED.to_string(),
            message: String::new(),
        },
        None => ApiError::Unexpected { status },
    }
}

fn parse<T: DeserializeOwned>((status, text): (u16, String)) -> Result<T, ApiError> {
    if (200..300).contains(&status) {
        json::decode(&text).ok_or(ApiError::Unexpected { status })
    } else {
        Err(error_of(status, &text))
    }
}

fn encode<B: Serialize>(body: &B) -> Result<String, ApiError> {
    json::encode(body).ok_or(ApiError::Unexpected { status: 0 })
}

async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    parse(exchange("GET", path, None, None).await?)
}

async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiError> {
    parse(exchange("POST", path, Some(encode(body)?), None).await?)
}

/// A POST that must be sent again with the same `idempotency_key` when retried.
async fn post_keyed<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
    idempotency_key: &str,
) -> Result<T, ApiError> {
    parse(exchange("POST", path, Some(encode(body)?), Some(idempotency_key)).await?)
}

async fn post_empty(path: &str) -> Result<(), ApiError> {
    let (status, text) = exchange("POST", path, None, None).await?;
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(error_of(status, &text))
    }
}

/// Cursors are opaque; keep them intact in the query string.
fn query_escape(value: &str) -> String {
    js_sys::encode_uri_component(value).into()
}

// ---- member ----

/// `lang`: the language the SMS is written in (the app's current one).
pub async fn request_otp(phone: &str, lang: &str) -> Result<OtpSent, ApiError> {
    post(
        "/auth/otp",
        &OtpRequest {
            phone: phone.to_string(),
            lang: Some(lang.to_string()),
        },
    )
    .await
}

pub async fn verify_otp(body: &VerifyOtpRequest) -> Result<MeView, ApiError> {
    post("/auth/verify", body).await
}

/// `query`: the page's own query string (`c=…&ref=…`), passed on as it is.
pub async fn signup_welcome(query: &str) -> Result<WelcomeView, ApiError> {
    get(&format!("/signup/welcome?{query}")).await
}

pub async fn my_referral() -> Result<ReferralView, ApiError> {
    get("/me/referral").await
}

pub async fn me() -> Result<MeView, ApiError> {
    get("/me").await
}

pub async fn card_key() -> Result<CardKeyView, ApiError> {
    get("/me/card-key").await
}

// ---- prefetched at start ----

/// Where `index.html` keeps the `fetch` promises it starts before the wasm has loaded.
const PREFETCH: &str = "__mc_prefetch";

/// A GET that `index.html` started for the card page (`me` or `key`), not yet read.
pub struct Prefetch(Promise);

/// Takes the prefetched GET `name` out of `window`: each one is used at most once, so
/// every later load goes to the network.
pub fn take_prefetch(name: &str) -> Option<Prefetch> {
    let held = Reflect::get(&web_sys::window()?.into(), &PREFETCH.into()).ok()?;
    if !held.is_object() {
        return None;
    }
    let name = JsValue::from_str(name);
    let promise = Reflect::get(&held, &name).ok()?;
    let _ = Reflect::delete_property(held.unchecked_ref::<js_sys::Object>(), &name);
    promise.dyn_into().ok().map(Prefetch)
}

/// Forgets whatever the app did not take at start (it opened another screen first): an
/// old response must never stand in for a fresh one later.
pub fn drop_prefetches() {
    if let Some(window) = web_sys::window() {
        let _ = Reflect::delete_property(&window, &PREFETCH.into());
    }
}

/// `/me`, from the prefetched response when there is one.
pub async fn me_with(prefetch: Option<Prefetch>) -> Result<MeView, ApiError> {
    match prefetch {
        Some(Prefetch(fetch)) => parse(read(fetch).await?),
        None => me().await,
    }
}

/// `/me/card-key`, from the prefetched response when there is one, with the device time
/// (ms) that response arrived at as index.html recorded it (`__at`): the app reads it
/// only after the wasm has loaded, too late to measure the clock offset with.
pub async fn card_key_with(
    prefetch: Option<Prefetch>,
) -> Result<(CardKeyView, Option<f64>), ApiError> {
    match prefetch {
        Some(Prefetch(fetch)) => {
            let response = response_of(fetch).await?;
            let arrived_ms = Reflect::get(&response, &JsValue::from_str("__at"))
                .ok()
                .and_then(|v| v.as_f64());
            Ok((parse(read_body(response).await?)?, arrived_ms))
        }
        None => Ok((card_key().await?, None)),
    }
}

pub async fn points_history(cursor: Option<&str>) -> Result<PointsHistory, ApiError> {
    let path = match cursor {
        Some(c) => format!("/me/points/history?cursor={}", query_escape(c)),
        None => "/me/points/history".to_string(),
    };
    get(&path).await
}

pub async fn logout() -> Result<(), ApiError> {
    post_empty("/auth/logout").await
}

// ---- staff ----

pub async fn staff_login(body: &StaffLoginRequest) -> Result<StaffView, ApiError> {
    post("/staff/login", body).await
}

/// The signed-in cashier's personal sign-up code (the same one every time).
pub async fn staff_signup_link() -> Result<SignupLinkView, ApiError> {
    post("/staff/signup-link", &()).await
}

pub async fn staff_me() -> Result<StaffView, ApiError> {
    get("/staff/me").await
}

pub async fn staff_logout() -> Result<(), ApiError> {
    post_empty("/staff/logout").await
}

pub async fn tiers() -> Result<Vec<TierView>, ApiError> {
    get("/tiers").await
}

pub async fn staff_verify(code: &str) -> Result<MemberSummary, ApiError> {
    post(
        "/staff/verify",
        &StaffVerifyRequest {
            code: code.to_string(),
        },
    )
    .await
}

/// The same `idempotency_key` must be sent again when retrying after a network error,
/// so the server credits the purchase once.
pub async fn record_purchase(
    body: &PurchaseRequest,
    idempotency_key: &str,
) -> Result<PurchaseResult, ApiError> {
    post_keyed("/staff/purchases", body, idempotency_key).await
}

/// Codes reach the paths already normalised (`OrderCode`): only `2-9A-Z`.
pub async fn staff_order(code: &str) -> Result<StaffMallOrder, ApiError> {
    get(&format!("/staff/mall/orders/{code}")).await
}

/// Not keyed: a second collect is refused (409 `order_closed`), never applied twice.
pub async fn collect_order(code: &str) -> Result<StaffMallOrder, ApiError> {
    parse(
        exchange(
            "POST",
            &format!("/staff/mall/orders/{code}/collect"),
            None,
            None,
        )
        .await?,
    )
}

pub async fn cancel_order(
    code: &str,
    body: &CancelOrderRequest,
    idempotency_key: &str,
) -> Result<CancelOrderResult, ApiError> {
    post_keyed(
        &format!("/staff/mall/orders/{code}/cancel"),
        body,
        idempotency_key,
    )
    .await
}

/// A member who can't show a card, by full phone number or member number.
pub async fn member_lookup(query: &str) -> Result<MemberLookupResult, ApiError> {
    post(
        "/staff/members/lookup",
        &MemberLookupRequest {
            query: query.to_string(),
        },
    )
    .await
}

/// The store's purchases, newest first (`before`: the page's `next`), or the one with
/// `order_ref`.
/// A store manager (or admin) forgets a colleague's wrong sign-ins: the wait is lifted.
pub async fn unlock_staff(username: &str) -> Result<(), ApiError> {
    post_empty(&format!("/admin/staff/{}/unlock", query_escape(username))).await
}

pub async fn store_purchases(
    order_ref: Option<&str>,
    before: Option<i64>,
) -> Result<StaffPurchasePage, ApiError> {
    let query = match (order_ref, before) {
        (Some(r), _) => format!("?order_ref={}", query_escape(r)),
        (None, Some(b)) => format!("?before={b}"),
        (None, None) => String::new(),
    };
    get(&format!("/staff/purchases{query}")).await
}

pub async fn refund_purchase(
    body: &RefundRequest,
    idempotency_key: &str,
) -> Result<RefundResult, ApiError> {
    post_keyed("/staff/refunds", body, idempotency_key).await
}

// ---- points mall (member) ----

pub async fn mall_items() -> Result<Vec<MallItem>, ApiError> {
    get("/mall/items").await
}

pub async fn mall_item(id: i64) -> Result<MallItem, ApiError> {
    get(&format!("/mall/items/{id}")).await
}

/// The same `idempotency_key` for every retry of one attempt: the points are spent once.
pub async fn redeem(
    body: &MallOrderRequest,
    idempotency_key: &str,
) -> Result<MallOrderResult, ApiError> {
    post_keyed("/mall/orders", body, idempotency_key).await
}

pub async fn my_orders(cursor: Option<&str>) -> Result<MallOrderPage, ApiError> {
    let path = match cursor {
        Some(c) => format!("/me/mall/orders?cursor={}", query_escape(c)),
        None => "/me/mall/orders".to_string(),
    };
    get(&path).await
}

pub async fn my_order(code: &str) -> Result<MallOrder, ApiError> {
    get(&format!("/me/mall/orders/{code}")).await
}

// ---- coupons, claim links, profile (member; mall bundle) ----

/// `status`: `usable` (with the not-yet-valid ones), `used` or `expired`.
pub async fn my_coupons(status: &str) -> Result<Vec<CouponView>, ApiError> {
    get(&format!("/me/coupons?status={status}")).await
}

pub async fn coupon_counts() -> Result<CouponCounts, ApiError> {
    get("/me/coupons/summary").await
}

pub async fn my_coupon(id: i64) -> Result<CouponView, ApiError> {
    get(&format!("/me/coupons/{id}")).await
}

/// Clears the "new" marks (the card's red dot).
pub async fn coupons_seen() -> Result<(), ApiError> {
    post_empty("/me/coupons/seen").await
}

/// Tokens reach the path already checked (`ClaimToken`): ASCII letters and digits only.
pub async fn claim_view(token: &str) -> Result<ClaimView, ApiError> {
    get(&format!("/claims/{token}")).await
}

/// Not keyed: the server grants a claim link once per member and answers a second
/// claim with the same coupons (`already_claimed`).
pub async fn claim(token: &str) -> Result<ClaimResult, ApiError> {
    parse(exchange("POST", &format!("/me/claims/{token}"), None, None).await?)
}

pub async fn profile() -> Result<ProfileView, ApiError> {
    get("/me/profile").await
}

pub async fn update_profile(body: &ProfileUpdate) -> Result<ProfileView, ApiError> {
    parse(exchange("PUT", "/me/profile", Some(encode(body)?), None).await?)
}

// ---- tiers: status and benefits, growth history, inbox, check-in (mall bundle) ----

pub async fn my_tier() -> Result<TierStatusView, ApiError> {
    get("/me/tier").await
}

pub async fn my_growth(before: Option<i64>) -> Result<GrowthHistoryPage, ApiError> {
    match before {
        Some(b) => get(&format!("/me/growth?before={b}")).await,
        None => get("/me/growth").await,
    }
}

pub async fn notifications(before: Option<i64>) -> Result<NotificationsPage, ApiError> {
    match before {
        Some(b) => get(&format!("/me/notifications?before={b}")).await,
        None => get("/me/notifications").await,
    }
}

/// Marks every message read (the card's bell goes quiet).
pub async fn read_all_notifications() -> Result<UnreadCount, ApiError> {
    post(
        "/me/notifications/read",
        &ReadNotificationsRequest { ids: None },
    )
    .await
}

/// Once a day; a second check-in answers `checked_in: false`.
pub async fn check_in() -> Result<CheckInResult, ApiError> {
    parse(exchange("POST", "/me/check-in", None, None).await?)
}

// ---- staff checkout with coupons ----

/// The member's coupons and the server's quote; no side effect (the code is not spent).
pub async fn checkout_preview(body: &CheckoutPreviewRequest) -> Result<CheckoutPreview, ApiError> {
    post("/staff/checkout/preview", body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(status: u16, code: &str) -> ApiError {
        ApiError::Server {
            status,
            code: code.into(),
            message: String::new(),
        }
    }

    #[test]
    fn only_a_definite_refusal_ends_the_attempt() {
        // The server may have committed: retry with the same key and body.
        for e in [
            ApiError::Network,
            ApiError::Unexpected { status: 502 },
            ApiError::Unexpected { status: 504 },
            ApiError::Unexpected { status: 200 },
            ApiError::Unexpected { status: 400 },
            server(409, codes::REQUEST_IN_PROGRESS),
            server(503, codes::TIMEOUT),
            server(500, codes::INTERNAL),
            server(502, "bad_gateway"),
            server(504, codes::TIMEOUT),
        ] {
            assert!(e.may_have_taken_effect(), "{e:?} must keep the attempt");
        }
        // A definite refusal: the next try is a new attempt.
        for e in [
            server(400, codes::INVALID_AMOUNT),
            server(409, codes::DUPLICATE_ORDER),
            server(422, codes::CARD_CODE_EXPIRED),
            server(409, codes::CARD_CODE_USED),
            server(401, codes::UNAUTHENTICATED),
            server(429, codes::RATE_LIMITED),
            server(422, codes::OUT_OF_STOCK),
            server(409, codes::ORDER_CLOSED),
        ] {
            assert!(!e.may_have_taken_effect(), "{e:?} must end the attempt");
        }
    }
}
