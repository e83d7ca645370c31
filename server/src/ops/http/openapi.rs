//! The OpenAPI 3 document, generated from the handlers' `#[utoipa::path]` annotations
//! and member-core's DTO schemas.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use member_core::dto;
use utoipa::OpenApi;

use crate::auth::http::admin;

use crate::campaigns::http::admin as admin_campaigns;

use crate::coupons::http::admin as admin_coupons;

use crate::mall::http::admin as admin_mall;

use crate::points::http as admin_points;

use crate::auth::http::member as auth;

use crate::till::http::preview as checkout;

use crate::campaigns::http::claims;
use crate::messages::http::dev;

use crate::imports::http as imports;

use crate::messages::http::inbox;
use crate::till::http::lookup;

use crate::mall::http::member as mall;

use crate::mall::http::staff as mall_staff;

use crate::members::http::me;
use crate::ops::http::ops;
use crate::till::http::refunds;

use crate::reports::http as reports;

use crate::signup::http::signup;

use crate::signup::http::qr as signup_qr;

use crate::members::http::profile;
use crate::staff::http as staff;
use crate::tiers::http::tasks;
use crate::till::http::purchase;

use crate::tiers::http::admin as tier_admin;

use crate::tiers::http::me as tier_me;

use crate::coupons::http::wallet;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Member Center API",
        version = "1",
        description = "会员中心 API. Errors are `{\"error\":{\"code\",\"message\"}}`; clients branch on `code`. \
                       Member routes use the `mc_member` cookie, staff and admin routes the `mc_staff` cookie."
    ),
    paths(
        ops::healthz,
        ops::metrics,
        ops::tiers,
        auth::send_otp,
        auth::verify,
        auth::logout,
        me::me,
        me::card_key_view,
        me::card_code,
        me::points_history,
        staff::staff_login,
        staff::staff_logout,
        staff::staff_me,
        purchase::verify,
        purchase::record_purchase,
        staff::unlock,
        admin::admin_login,
        refunds::refund,
        refunds::purchases,
        lookup::lookup,
        admin_points::get_points_rules,
        admin_points::put_points_rules,
        admin_points::adjust_points,
        dev::outbox,
        mall::items,
        mall::item,
        mall::redeem,
        mall::my_orders,
        mall::my_order,
        mall_staff::lookup,
        mall_staff::collect,
        mall_staff::cancel,
        admin_mall::list,
        admin_mall::create,
        admin_mall::update,
        admin_coupons::list,
        admin_coupons::create,
        admin_coupons::update,
        admin_campaigns::list,
        admin_campaigns::create,
        admin_campaigns::get,
        admin_campaigns::update,
        admin_campaigns::issue,
        claims::view,
        claims::claim,
        wallet::list,
        wallet::summary,
        wallet::one,
        wallet::seen,
        profile::get_profile,
        profile::put_profile,
        tier_admin::versions,
        tier_admin::create,
        tier_me::status,
        tier_me::growth,
        inbox::list,
        inbox::read,
        tasks::check_in,
        checkout::preview,
        signup::welcome,
        signup::my_referral,
        signup::personal_link,
        signup::create_link,
        signup::list_links,
        signup::revoke_link,
        signup::get_settings,
        signup::put_settings,
        signup_qr::svg,
        signup_qr::png_image,
        reports::signups,
        reports::referrals,
        imports::start,
        imports::progress,
    ),
    components(schemas(
        dto::ErrorBody,
        dto::ErrorDetail,
        dto::SignupFields,
        dto::ReferralRules,
        dto::SignupSettings,
        dto::SignupLinkRequest,
        dto::SignupLinkView,
        dto::SignupLinkList,
        dto::WelcomeView,
        dto::WelcomeGift,
        dto::ReferralReward,
        dto::ReferralView,
        dto::SignupReport,
        dto::SignupReportRow,
        dto::ReferralFunnel,
        dto::ImportReport,
        dto::ImportProblem,
        dto::ImportJobView,
        dto::Health,
        dto::OtpRequest,
        dto::OtpSent,
        dto::VerifyOtpRequest,
        dto::TierRef,
        dto::NextTierView,
        dto::MeView,
        dto::CardCodeView,
        dto::CardKeyView,
        dto::StaffLoginRequest,
        dto::StaffView,
        dto::StaffVerifyRequest,
        dto::MemberSummary,
        dto::PurchaseRequest,
        dto::PurchaseResult,
        dto::PointsHistory,
        dto::LedgerItem,
        dto::TierView,
        dto::OutboxMessage,
        dto::ExpiringPoints,
        dto::RefundRequest,
        dto::RefundResult,
        dto::StaffPurchaseView,
        dto::StaffPurchasePage,
        dto::MemberLookupRequest,
        dto::MemberLookupResult,
        dto::CouponBenefit,
        dto::CouponView,
        dto::CouponCounts,
        dto::ProfileView,
        dto::ProfileUpdate,
        dto::CheckoutPreviewRequest,
        dto::CheckoutCoupon,
        dto::QuoteLineView,
        dto::QuoteView,
        dto::CheckoutPreview,
        dto::EarnRates,
        dto::PointsAdjustRequest,
        dto::PointsAdjustResult,
        dto::PointsRules,
        dto::MallItem,
        dto::MallOrderRequest,
        dto::MallOrderResult,
        dto::MallOrder,
        dto::MallOrderPage,
        dto::StaffMallOrder,
        dto::CancelOrderRequest,
        dto::CancelOrderResult,
        dto::NewMallItem,
        dto::MallItemPatch,
        dto::AdminMallItem,
        dto::Created,
        dto::CampaignCoupon,
        dto::NewCampaign,
        dto::CampaignPatch,
        dto::CampaignStats,
        dto::AdminCampaign,
        dto::ClaimView,
        dto::ClaimCoupon,
        dto::ClaimResult,
        dto::IssueCouponsRequest,
        dto::Segment,
        dto::IssueSkip,
        dto::TierProgram,
        dto::TierDef,
        dto::TierBenefit,
        dto::GrowthRules,
        dto::DowngradeRules,
        dto::MemberDayRule,
        dto::NewTierProgramVersion,
        dto::TierProgramVersionView,
        dto::TierProgramVersions,
        dto::KeepTierView,
        dto::TierInfoView,
        dto::MemberDayView,
        dto::TierStatusView,
        dto::GrowthTaskView,
        dto::GrowthEventView,
        dto::GrowthHistoryPage,
        dto::NotificationView,
        dto::NotificationData,
        dto::NotificationsPage,
        dto::ReadNotificationsRequest,
        dto::UnreadCount,
        dto::CheckInResult,
        dto::IssueCouponsResult,
        dto::NewCouponTemplate,
        dto::CouponTemplatePatch,
        dto::AdminCouponTemplate,
    )),
    tags(
        (name = "auth", description = "Member sign-in by SMS code"),
        (name = "member", description = "The signed-in member's card and points"),
        (name = "staff", description = "Checkout: verify a card, record a purchase"),
        (name = "admin", description = "Admin console"),
        (name = "program", description = "Public program information"),
        (name = "mall", description = "Points mall: browse, redeem, the member's orders"),
        (name = "dev", description = "Only with --dev"),
        (name = "ops", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_else(|_| "{}".into()))
}

pub async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document())
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::get;
    axum::Router::new().route("/api/openapi.json", get(serve))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn every_route_is_documented() {
        let doc: serde_json::Value = serde_json::from_str(document()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        for p in [
            "/healthz",
            "/metrics",
            "/api/v1/tiers",
            "/api/v1/auth/otp",
            "/api/v1/auth/verify",
            "/api/v1/auth/logout",
            "/api/v1/me",
            "/api/v1/me/card-key",
            "/api/v1/me/card-code",
            "/api/v1/me/points/history",
            "/api/v1/staff/login",
            "/api/v1/staff/logout",
            "/api/v1/staff/me",
            "/api/v1/staff/verify",
            "/api/v1/staff/purchases",
            "/api/v1/admin/login",
            "/api/v1/dev/outbox",
            "/api/v1/mall/items",
            "/api/v1/mall/items/{id}",
            "/api/v1/mall/orders",
            "/api/v1/me/mall/orders",
            "/api/v1/me/mall/orders/{code}",
            "/api/v1/staff/mall/orders/{code}",
            "/api/v1/staff/mall/orders/{code}/collect",
            "/api/v1/staff/mall/orders/{code}/cancel",
            "/api/v1/admin/mall/items",
            "/api/v1/admin/mall/items/{id}",
            "/api/v1/admin/coupon-templates",
            "/api/v1/admin/coupon-templates/{id}",
            "/api/v1/staff/refunds",
            "/api/v1/admin/points-rules",
            "/api/v1/admin/members/{member_no}/points",
            "/api/v1/admin/campaigns",
            "/api/v1/admin/campaigns/{id}",
            "/api/v1/admin/coupons/issue",
            "/api/v1/claims/{token}",
            "/api/v1/me/claims/{token}",
            "/api/v1/me/coupons",
            "/api/v1/me/coupons/summary",
            "/api/v1/me/coupons/{id}",
            "/api/v1/me/coupons/seen",
            "/api/v1/me/profile",
            "/api/v1/staff/checkout/preview",
            "/api/v1/signup/welcome",
            "/api/v1/me/referral",
            "/api/v1/staff/signup-link",
            "/api/v1/admin/signup-links",
            "/api/v1/admin/signup-links/{id}/revoke",
            "/api/v1/admin/signup-links/{id}/qr.svg",
            "/api/v1/admin/signup-links/{id}/qr.png",
            "/api/v1/admin/signup-settings",
            "/api/v1/admin/reports/signups",
            "/api/v1/admin/reports/referrals",
            "/api/v1/admin/imports",
            "/api/v1/admin/imports/{id}",
        ] {
            assert!(
                paths.contains_key(p),
                "{p} missing from the OpenAPI document"
            );
        }
        assert!(doc["components"]["schemas"]["MeView"].is_object());
    }
}
