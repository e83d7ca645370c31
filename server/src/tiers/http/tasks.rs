//! Growth tasks the member does in the app (daily check-in).

use axum::extract::State;
use member_core::dto::{CheckInResult, ErrorBody, TierRef};

use crate::http::error::ApiResult;
use crate::http::extract::{Json, MemberSession};
use crate::state::AppState;
use crate::tiers::store::tasks;

/// Once per local day; a second check-in the same day answers `checked_in: false` and
/// gives nothing (also when the program gives no growth for check-ins).
#[utoipa::path(post, path = "/api/v1/me/check-in", tag = "member",
    responses((status = 200, description = "Checked in (or already today: checked_in false)", body = CheckInResult),
              (status = 401, body = ErrorBody)))]
pub async fn check_in(
    State(state): State<AppState>,
    session: MemberSession,
) -> ApiResult<Json<CheckInResult>> {
    let actor = format!("member_id:{}", session.member_id);
    let done = tasks::check_in(&state.db, session.member_id, &actor, state.clock.now()).await?;
    Ok(Json(CheckInResult {
        checked_in: done.first_time && done.growth_earned > 0,
        growth_earned: done.growth_earned,
        growth: done.growth,
        tier: TierRef {
            code: done.tier_code,
            name: done.tier_name,
        },
        upgraded: done.upgraded,
    }))
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::post;
    axum::Router::new().route("/api/v1/me/check-in", post(check_in))
}
