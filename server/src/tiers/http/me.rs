//! The member's tier: status with every tier side by side, the growth history, and the
//! card's keep line and bell (shared with GET /me and sign-in).

use axum::extract::{Query, State};
use member_core::civil;
use member_core::dto::{
    ErrorBody, GrowthEventView, GrowthHistoryPage, GrowthTaskView, KeepTierView, MeView,
    MemberDayView, NextTierView, TierInfoView, TierProgram, TierRef, TierStatusView,
};
use member_core::tier_program::{self as rules, Standing, Task};
use serde::Deserialize;

use crate::clock::rfc3339;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, MemberSession};
use crate::members::store::members::{self, MemberRow};
use crate::state::AppState;
use crate::tiers::store::{tier_program, tier_status};

const PAGE: i64 = 20;

fn tier_ref(program: &TierProgram, i: usize) -> TierRef {
    program.tiers.get(i).map_or(
        TierRef {
            code: String::new(),
            name: String::new(),
        },
        |t| TierRef {
            code: t.code.clone(),
            name: t.name.clone(),
        },
    )
}

/// "to keep 金卡 until …, earn N more": `rules::keep` on the period so far.
async fn keep_view(
    state: &AppState,
    m: &MemberRow,
    program: &TierProgram,
    now: i64,
) -> ApiResult<Option<KeepTierView>> {
    let Some(tier) = rules::index_of(program, &m.tier_code) else {
        return Ok(None);
    };
    let (Some(start), Some(end)) = (m.period_start, m.period_end) else {
        return Ok(None);
    };
    if !rules::has_periods(program, tier) {
        return Ok(None);
    }
    let sums = tier_status::period_sums(&state.db, m.id, start, now.saturating_add(1)).await?;
    let last = tier_status::last_change(&state.db, m.id).await?;
    let upgraded =
        rules::upgraded_this_period(last.as_ref().map(|(k, at)| (k.as_str(), *at)), start);
    Ok(
        rules::keep(program, tier, sums, Some(end)).map(|k| KeepTierView {
            tier: tier_ref(program, k.tier),
            until: civil::iso(k.until),
            period_growth: sums.growth,
            growth_needed: k.growth_needed,
            upgraded,
        }),
    )
}

/// The next tier above `current` and the growth still missing (spend alternative met =
/// not missing).
fn next_view(program: &TierProgram, current: usize, standing: Standing) -> Option<NextTierView> {
    rules::next_tier(program, current, standing).map(|(t, needed)| NextTierView {
        code: t.code.clone(),
        name: t.name.clone(),
        growth_needed: needed,
    })
}

/// Fills the card's tier parts of `view` from the program in effect: next tier and
/// progress (spend alternative included), the keep line and the unread count.
pub async fn card_tier(
    state: &AppState,
    m: &MemberRow,
    view: &mut MeView,
    now: i64,
) -> ApiResult<()> {
    let version = tier_program::in_effect(&state.db, now).await?;
    let program = &version.program;
    let standing = Standing {
        growth: m.growth,
        spend_cents: m.window_spend_cents,
    };
    let current = rules::index_of(program, &m.tier_code).unwrap_or(0);
    view.next_tier = next_view(program, current, standing);
    if view.next_tier.is_none() {
        view.progress_permille = 1000;
    }
    view.keep = keep_view(state, m, program, now).await?;
    view.notifications_unread = tier_status::unread(&state.db, m.id).await?;
    Ok(())
}

#[utoipa::path(get, path = "/api/v1/me/tier", tag = "member",
    responses((status = 200, body = TierStatusView), (status = 401, body = ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    session: MemberSession,
) -> ApiResult<Json<TierStatusView>> {
    let now = state.clock.now();
    let m = members::by_id(&state.db, session.member_id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let version = tier_program::in_effect(&state.db, now).await?;
    let program = &version.program;
    let standing = Standing {
        growth: m.growth,
        spend_cents: m.window_spend_cents,
    };
    let current = rules::index_of(program, &m.tier_code).unwrap_or(0);
    let next = rules::next_tier(program, current, standing);
    let floor = program.tiers.get(current).map_or(0, |t| t.growth_threshold);
    let progress_permille = next.map_or(1000, |(t, _)| {
        let span = (t.growth_threshold - floor).max(1);
        ((m.growth - floor).clamp(0, span) * 1000 / span).clamp(0, 1000)
    });
    let today = civil::local_date(now);
    let done = tier_status::tasks_done(&state.db, m.id, &civil::iso(today)).await?;
    Ok(Json(TierStatusView {
        tier: tier_ref(program, current),
        growth: m.growth,
        next_tier: next_view(program, current, standing),
        progress_permille,
        keep: keep_view(&state, &m, program, now).await?,
        tiers: program
            .tiers
            .iter()
            .map(|t| TierInfoView {
                code: t.code.clone(),
                name: t.name.clone(),
                color: t.color.clone(),
                icon: t.icon.clone(),
                growth_threshold: t.growth_threshold,
                spend_threshold_cents: t.spend_threshold_cents,
                points_per_yuan_pct: t.points_per_yuan_pct,
                benefits: t.benefits.clone(),
                upgrade_points: t.upgrade_points,
            })
            .collect(),
        member_day: program.member_day.as_ref().map(|md| MemberDayView {
            day: md.day.clone(),
            points_multiplier_pct: md.points_multiplier_pct,
            growth_multiplier_pct: md.growth_multiplier_pct,
            today: rules::member_day_on(program, today).is_some(),
        }),
        window: program.growth.window.clone(),
        window_months: program.growth.window_months,
        downgrade_policy: program.downgrade.policy.clone(),
        period_months: program.downgrade.period_months,
        tasks: Task::ALL
            .iter()
            .map(|t| GrowthTaskView {
                task: t.as_str().into(),
                growth: t.growth(program),
                done: done.iter().any(|d| d == t.as_str()),
            })
            .collect(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// Entries older than this id (`next_before` of the previous page).
    before: Option<i64>,
}

/// Reads `?before=` or answers 400 (never a 500 for a bad number).
pub fn before_of(
    q: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Option<i64>> {
    let Query(q) = q.map_err(|e| ApiError::invalid_input(e.body_text()))?;
    Ok(q.before)
}

#[utoipa::path(get, path = "/api/v1/me/growth", tag = "member",
    params(PageQuery),
    responses((status = 200, description = "Newest first, 20 per page", body = GrowthHistoryPage),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn growth(
    State(state): State<AppState>,
    session: MemberSession,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<GrowthHistoryPage>> {
    let before = before_of(query)?;
    let rows = tier_status::growth_page(&state.db, session.member_id, before, PAGE + 1).await?;
    let more = rows.len() > PAGE as usize;
    let items: Vec<GrowthEventView> = rows
        .into_iter()
        .take(PAGE as usize)
        .map(|r| GrowthEventView {
            id: r.id,
            // A purchase's or refund's note is its order reference: for staff only.
            note: if matches!(r.kind.as_str(), "purchase" | "refund") {
                String::new()
            } else {
                r.note
            },
            kind: r.kind,
            growth: r.growth,
            at: rfc3339(r.at),
            counts_until: r.counts_until.map(rfc3339),
        })
        .collect();
    Ok(Json(GrowthHistoryPage {
        next_before: if more {
            items.last().map(|i| i.id)
        } else {
            None
        },
        items,
    }))
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/api/v1/me/tier", get(status))
        .route("/api/v1/me/growth", get(growth))
}
