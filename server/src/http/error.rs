//! One error type for every handler: status + `{"error":{"code","message"}}`.
//! Messages are zh-CN first, then English; clients branch on `code`.

use axum::extract::rejection::JsonRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use member_core::card_code::CardCodeError;
use member_core::dto::{codes, ErrorBody};

use crate::db::DbError;

#[derive(Debug)]
pub enum ApiError {
    /// 400 with a specific code.
    BadRequest(&'static str, String),
    Unauthenticated,
    BadCredentials,
    /// 403 with a specific code.
    Forbidden(&'static str, String),
    NotFound,
    MethodNotAllowed,
    /// 409 with a specific code.
    Conflict(&'static str, String),
    /// 410 with a specific code.
    Gone(&'static str, String),
    PayloadTooLarge,
    /// 415 `unsupported_media_type`: a body of a type the route does not read.
    UnsupportedMediaType(String),
    /// 422 with a specific code.
    Unprocessable(&'static str, String),
    RateLimited {
        retry_after_secs: i64,
        message: String,
    },
    /// 429 `too_many_wrong_codes`: card checks refused until the guessing window ends.
    TooManyWrongCodes {
        retry_after_secs: i64,
    },
    Timeout,
    /// A concurrent change got in the way; the transaction rolled back, so the same
    /// request (same Idempotency-Key) can simply be sent again.
    RetryLater,
    Internal,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::BadRequest(codes::INVALID_INPUT, message.into())
    }

    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            Self::BadRequest(code, m) => (StatusCode::BAD_REQUEST, code, m.clone()),
            Self::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                codes::UNAUTHENTICATED,
                "请先登录 / Please sign in".into(),
            ),
            Self::BadCredentials => (
                StatusCode::UNAUTHORIZED,
                codes::BAD_CREDENTIALS,
                "用户名或密码错误 / Wrong username or password".into(),
            ),
            Self::Forbidden(code, m) => (StatusCode::FORBIDDEN, code, m.clone()),
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                codes::NOT_FOUND,
                "未找到 / Not found".into(),
            ),
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                codes::METHOD_NOT_ALLOWED,
                "不支持的请求方法 / Method not allowed".into(),
            ),
            Self::Conflict(code, m) => (StatusCode::CONFLICT, code, m.clone()),
            Self::Gone(code, m) => (StatusCode::GONE, code, m.clone()),
            Self::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::PAYLOAD_TOO_LARGE,
                "请求体过大 / Request body too large".into(),
            ),
            Self::UnsupportedMediaType(m) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                codes::UNSUPPORTED_MEDIA_TYPE,
                m.clone(),
            ),
            Self::Unprocessable(code, m) => (StatusCode::UNPROCESSABLE_ENTITY, code, m.clone()),
            Self::RateLimited { message, .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                codes::RATE_LIMITED,
                message.clone(),
            ),
            Self::TooManyWrongCodes { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                codes::TOO_MANY_WRONG_CODES,
                format!(
                    "错误会员码过多，暂停核验 / Too many wrong member codes, checks paused; {}",
                    wait_text(*retry_after_secs)
                ),
            ),
            Self::Timeout => (
                StatusCode::SERVICE_UNAVAILABLE,
                codes::TIMEOUT,
                "服务器繁忙，请重试 / Server busy, please retry".into(),
            ),
            Self::RetryLater => (
                StatusCode::SERVICE_UNAVAILABLE,
                codes::RETRY_LATER,
                "操作冲突，请稍后重试 / Conflicting change, please retry".into(),
            ),
            Self::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                codes::INTERNAL,
                "服务器内部错误 / Internal error".into(),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        let mut response = (status, axum::Json(ErrorBody::new(code, message))).into_response();
        if let Self::RateLimited {
            retry_after_secs, ..
        }
        | Self::TooManyWrongCodes { retry_after_secs } = self
        {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if let Self::RetryLater = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// Human wait time for rate-limit messages.
pub fn wait_text(secs: i64) -> String {
    if secs < 120 {
        format!("请 {secs} 秒后重试 / Retry in {secs} s")
    } else if secs < 7200 {
        let m = (secs + 59) / 60;
        format!("请 {m} 分钟后重试 / Retry in {m} min")
    } else {
        let h = (secs + 3599) / 3600;
        format!("请 {h} 小时后重试 / Retry in {h} h")
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::CardCode(c) => card_code(c),
            DbError::DuplicateOrder => Self::Conflict(
                codes::DUPLICATE_ORDER,
                "该门店已记录过这个订单号 / Order reference already recorded".into(),
            ),
            DbError::IdempotencyReused => Self::Unprocessable(
                codes::IDEMPOTENCY_KEY_REUSED,
                "Idempotency-Key 已用于另一个请求 / Idempotency-Key used for a different request"
                    .into(),
            ),
            DbError::RequestInProgress => Self::Conflict(
                codes::REQUEST_IN_PROGRESS,
                "相同请求正在处理 / The same request is still running".into(),
            ),
            DbError::OtpExpired => Self::Gone(
                codes::OTP_EXPIRED,
                "验证码已过期，请重新获取 / Code expired, request a new one".into(),
            ),
            DbError::OtpLocked => Self::Gone(
                codes::OTP_LOCKED,
                "错误次数过多，请重新获取验证码 / Too many wrong tries, request a new code".into(),
            ),
            DbError::OtpWrong => {
                Self::BadRequest(codes::INVALID_CODE, "验证码错误 / Wrong code".into())
            }
            DbError::NameRequired => name_required(),
            DbError::FieldRequired(field) => Self::BadRequest(
                codes::FIELD_REQUIRED,
                format!("请填写{} / {field} is required", field_zh(field)),
            ),
            DbError::RateLimited { retry_after_secs } => Self::RateLimited {
                retry_after_secs,
                message: format!("请求过于频繁，{}", wait_text(retry_after_secs)),
            },
            DbError::InsufficientPoints => Self::Unprocessable(
                codes::INSUFFICIENT_POINTS,
                "积分不足 / Not enough points".into(),
            ),
            DbError::OutOfStock => {
                Self::Unprocessable(codes::OUT_OF_STOCK, "已兑完 / Out of stock".into())
            }
            DbError::LimitReached => Self::Unprocessable(
                codes::LIMIT_REACHED,
                "已达每人兑换上限 / Redemption limit reached".into(),
            ),
            DbError::OrderClosed => Self::Conflict(
                codes::ORDER_CLOSED,
                "该订单已领取、取消或退还 / The order is already collected, cancelled or refunded"
                    .into(),
            ),
            DbError::Refund(refusal) => refund_refusal(refusal),
            DbError::NotFound => Self::NotFound,
            DbError::Coupon { refusal, .. } => coupon_refusal(refusal),
            DbError::CouponNotFound => Self::Unprocessable(
                codes::COUPON_NOT_FOUND,
                "会员没有这张券 / The member has no such coupon".into(),
            ),
            DbError::CouponsExhausted => Self::Unprocessable(
                codes::COUPONS_EXHAUSTED,
                "券已领完 / All coupons have been given out".into(),
            ),
            DbError::TierRequired => Self::Unprocessable(
                codes::TIER_REQUIRED,
                "会员等级不够 / A higher tier is needed".into(),
            ),
            DbError::BirthdayLocked { until } => Self::Unprocessable(
                codes::BIRTHDAY_LOCKED,
                format!(
                    "生日一年只能修改一次，{} 后可再改 / The birthday can change once a year, again from {}",
                    crate::clock::rfc3339(until).get(..10).unwrap_or_default(),
                    crate::clock::rfc3339(until)
                ),
            ),
            DbError::CampaignClosed => Self::Gone(
                codes::CAMPAIGN_CLOSED,
                "活动已结束 / This offer has ended".into(),
            ),
            DbError::InvalidProgram(why) => Self::BadRequest(
                codes::INVALID_PROGRAM,
                format!("等级规则无效 / Invalid tier program: {why}"),
            ),
            DbError::Sqlx(sqlx::Error::PoolTimedOut) => Self::Timeout,
            DbError::Conflict => {
                tracing::warn!("write refused by a concurrent change; client may retry");
                Self::RetryLater
            }
            // Postgres deadlock_detected / serialization_failure: rolled back, retryable.
            DbError::Sqlx(sqlx::Error::Database(d))
                if matches!(d.code().as_deref(), Some("40P01" | "40001")) =>
            {
                tracing::warn!(error = %d, "transaction aborted by Postgres; client may retry");
                Self::RetryLater
            }
            other => {
                tracing::error!(error = %other, "storage failure");
                Self::Internal
            }
        }
    }
}

fn refund_refusal(refusal: member_core::refund::Refusal) -> ApiError {
    use member_core::refund::Refusal;
    match refusal {
        Refusal::AlreadyRefunded => ApiError::Conflict(
            codes::ALREADY_REFUNDED,
            "该消费已退货 / This purchase was already refunded".into(),
        ),
        Refusal::TooLarge { left } => ApiError::Unprocessable(
            codes::REFUND_TOO_LARGE,
            format!(
                "退款金额超过可退金额 {} / The refund is more than the {} left to refund",
                yuan(left),
                yuan(left)
            ),
        ),
        Refusal::NotPositive => ApiError::BadRequest(
            codes::INVALID_AMOUNT,
            "退款金额须大于 0 / The refund amount must be positive".into(),
        ),
    }
}

/// The answer for a coupon the rules refuse: the same code in a preview and a purchase.
pub fn coupon_refusal(refusal: member_core::coupons::Refusal) -> ApiError {
    use member_core::coupons::Refusal;
    let code = refusal.code();
    match refusal {
        Refusal::Used => ApiError::Conflict(code, "券已使用 / Coupon already used".into()),
        Refusal::Duplicate | Refusal::TooMany => ApiError::BadRequest(
            code,
            "同一张券不能重复使用，每单最多 10 张 / A coupon once per purchase, at most 10".into(),
        ),
        Refusal::Expired => ApiError::Unprocessable(code, "券已过期 / Coupon expired".into()),
        Refusal::NotYetValid => {
            ApiError::Unprocessable(code, "券尚未生效 / Coupon not valid yet".into())
        }
        Refusal::MinSpend { min_spend_cents } => ApiError::Unprocessable(
            code,
            format!(
                "未达到最低消费 ¥{} / Minimum spend ¥{} not reached",
                yuan(min_spend_cents),
                yuan(min_spend_cents)
            ),
        ),
        Refusal::WrongStore => {
            ApiError::Unprocessable(code, "本店不可用 / Not valid in this store".into())
        }
        Refusal::NotStackable => ApiError::Unprocessable(
            code,
            "这些券不能同时使用 / These coupons can't be combined".into(),
        ),
    }
}

fn yuan(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn field_zh(field: &str) -> &'static str {
    match field {
        "birthday" => "生日",
        "gender" => "性别",
        "city" => "城市",
        _ => "必填项",
    }
}

pub fn name_required() -> ApiError {
    ApiError::BadRequest(
        codes::NAME_REQUIRED,
        "新会员请填写姓名（1–40 个字）/ New members need a name (1–40 characters)".into(),
    )
}

pub fn card_code(e: CardCodeError) -> ApiError {
    match e {
        CardCodeError::Malformed => ApiError::BadRequest(
            codes::CARD_CODE_MALFORMED,
            "会员码应为 16 位数字 / A member code has 16 digits".into(),
        ),
        CardCodeError::Invalid => ApiError::Unprocessable(
            codes::CARD_CODE_INVALID,
            "会员码无效 / Invalid member code".into(),
        ),
        CardCodeError::Expired => ApiError::Gone(
            codes::CARD_CODE_EXPIRED,
            "会员码已过期，请刷新 / Member code expired, refresh it".into(),
        ),
        CardCodeError::Replayed => ApiError::Conflict(
            codes::CARD_CODE_USED,
            "会员码已使用，请刷新 / Member code already used, refresh it".into(),
        ),
    }
}

/// An edit whose refusals are already HTTP errors.
impl From<crate::db::Changed<ApiError>> for ApiError {
    fn from(c: crate::db::Changed<ApiError>) -> Self {
        match c {
            crate::db::Changed::NotFound => Self::NotFound,
            crate::db::Changed::Refused(e) => e,
            crate::db::Changed::Db(e) => e.into(),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::PayloadTooLarge;
        }
        let detail = match &rejection {
            JsonRejection::MissingJsonContentType(_) => {
                "需要 Content-Type: application/json / Expected Content-Type: application/json"
                    .to_string()
            }
            other => other.body_text(),
        };
        Self::invalid_input(detail)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn concurrent_change_is_a_retryable_503_not_a_500() {
        let response = ApiError::from(DbError::Conflict).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let (_, code, _) = ApiError::RetryLater.parts();
        assert_eq!(code, codes::RETRY_LATER);
    }

    /// A database error with a given SQLSTATE, as the Postgres driver reports it.
    #[derive(Debug)]
    struct Sqlstate(&'static str);

    impl std::fmt::Display for Sqlstate {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "sqlstate {}", self.0)
        }
    }

    impl std::error::Error for Sqlstate {}

    impl sqlx::error::DatabaseError for Sqlstate {
        fn message(&self) -> &str {
            "test"
        }
        fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
            Some(self.0.into())
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn status_of(state: &'static str) -> (StatusCode, Option<String>) {
        let e = DbError::Sqlx(sqlx::Error::Database(Box::new(Sqlstate(state))));
        let response = ApiError::from(e).into_response();
        let retry = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (response.status(), retry)
    }

    #[test]
    fn postgres_deadlock_and_serialization_failure_are_retryable() {
        for state in ["40P01", "40001"] {
            assert_eq!(
                status_of(state),
                (StatusCode::SERVICE_UNAVAILABLE, Some("1".into())),
                "{state}"
            );
        }
        // Anything else stays an internal error (e.g. a unique violation).
        assert_eq!(
            status_of("23505"),
            (StatusCode::INTERNAL_SERVER_ERROR, None)
        );
    }
}
