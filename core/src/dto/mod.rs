//! The wire contract (v1): request and response bodies shared by the server and the app.
//! Times are RFC 3339 strings in UTC; money is integer fen; points and growth integers.

macro_rules! wire {
    ($($item:item)*) => {
        $(
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
            $item
        )*
    };
}

mod auth;
mod campaigns;
pub mod codes;
mod coupons;
mod defaults;
mod errors;
mod mall;
mod member;
mod nullable;
mod points;
mod signup;
mod tiers;
mod till;

pub use auth::*;
pub use campaigns::*;
pub use coupons::*;
pub use errors::*;
pub use mall::*;
pub use member::*;
pub use points::*;
pub use signup::*;
pub use tiers::*;
pub use till::*;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn error_body_shape() {
        let v = serde_json::to_value(ErrorBody::new("invalid_phone", "bad")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"error":{"code":"invalid_phone","message":"bad"}})
        );
    }

    #[test]
    fn verify_request_defaults_optional_fields() {
        let r: VerifyOtpRequest = serde_json::from_str(
            r#"{"phone":"13812345678","code":"123456","privacy_consent":true}"#,
        )
        .unwrap();
        assert!(!r.marketing_consent);
        assert_eq!(r.name, None);
    }
}
