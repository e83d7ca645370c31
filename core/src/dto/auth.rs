//! Signing in: members by SMS code, staff by password.

use serde::{Deserialize, Serialize};

wire! {
    /// POST /api/v1/auth/otp
    pub struct OtpRequest {
        pub phone: String,
        /// The language of the SMS text: `zh-CN` (default) or `en`.
        #[serde(default)]
        pub lang: Option<String>,
    }

    /// 202 from POST /api/v1/auth/otp
    pub struct OtpSent {
        /// Seconds until another code may be requested for this phone.
        pub resend_after_secs: i64,
        /// Seconds the code stays valid.
        pub expires_in_secs: i64,
    }

    /// POST /api/v1/auth/verify
    pub struct VerifyOtpRequest {
        pub phone: String,
        pub code: String,
        /// Needed only when the phone is not a member yet.
        #[serde(default)]
        pub name: Option<String>,
        pub privacy_consent: bool,
        #[serde(default)]
        pub marketing_consent: bool,
        /// The signed sign-up link (`/join?c=…`) that brought the customer: store,
        /// channel and staff are recorded for a new member. An expired, revoked or
        /// altered link signs up without attribution.
        #[serde(default)]
        pub link: Option<String>,
        /// A friend's referral code (`/join?ref=…`).
        #[serde(default)]
        pub referral_code: Option<String>,
        /// `YYYY-MM-DD`, when the brand asks for it.
        #[serde(default)]
        pub birthday: Option<String>,
        /// `female`, `male` or `other`, when the brand asks for it.
        #[serde(default)]
        pub gender: Option<String>,
        #[serde(default)]
        pub city: Option<String>,
    }

    /// POST /api/v1/staff/login and /api/v1/admin/login
    pub struct StaffLoginRequest {
        pub username: String,
        pub password: String,
    }

    pub struct StaffView {
        pub username: String,
        pub display_name: String,
        /// `cashier`, `manager` or `admin`.
        pub role: String,
        pub store_code: Option<String>,
        pub store_name: Option<String>,
    }
}
