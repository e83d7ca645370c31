//! The signed-in member's own data. Every query is keyed by the session's member id.

use axum::extract::{Query, State};
use member_core::card_code::{code_at, step_at, step_end, CardKey, STEP_SECS};
use member_core::dto::{
    CardCodeView, CardKeyView, ErrorBody, LedgerEvent, LedgerItem, MeView, PointsHistory,
};
use serde::Deserialize;

use crate::clock::rfc3339;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, MemberSession};
use crate::members::store::members::{self, MemberRow};
use crate::members::views::{apply_batches, me_view};
use crate::state::AppState;

const PAGE: i64 = 20;

async fn load(state: &AppState, session: &MemberSession) -> ApiResult<MemberRow> {
    // A session whose member is gone is no session.
    members::by_id(&state.db, session.member_id)
        .await?
        .ok_or(ApiError::Unauthenticated)
}

fn card_key(m: &MemberRow) -> ApiResult<CardKey> {
    CardKey::from_slice(&m.card_key).ok_or_else(|| {
        tracing::error!(member_id = m.id, "card key has the wrong length");
        ApiError::Internal
    })
}

#[utoipa::path(get, path = "/api/v1/me", tag = "member",
    responses((status = 200, body = MeView), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, session: MemberSession) -> ApiResult<Json<MeView>> {
    let member = load(&state, &session).await?;
    let tiers = crate::tiers::store::tiers::all(&state.db, state.clock.now()).await?;
    let batches = crate::points::store::ledger::batches(&state.db, member.id).await?;
    let now = state.clock.now();
    let mut view = me_view(&member, &tiers, false);
    apply_batches(&mut view, &batches, now);
    (view.coupons_usable, view.coupons_new) =
        crate::coupons::store::wallet::card_counts(&state.db, member.id, now).await?;
    crate::tiers::http::me::card_tier(&state, &member, &mut view, now).await?;
    Ok(Json(view))
}

#[utoipa::path(get, path = "/api/v1/me/card-key", tag = "member",
    responses((status = 200, description = "What the device needs to show codes offline", body = CardKeyView),
              (status = 401, body = ErrorBody)))]
pub async fn card_key_view(
    State(state): State<AppState>,
    session: MemberSession,
) -> ApiResult<Json<CardKeyView>> {
    let member = load(&state, &session).await?;
    Ok(Json(CardKeyView {
        member_no: member.member_no.clone(),
        key_hex: card_key(&member)?.to_hex(),
        step_secs: STEP_SECS,
        server_unix: state.clock.now(),
    }))
}

#[utoipa::path(get, path = "/api/v1/me/card-code", tag = "member",
    responses((status = 200, body = CardCodeView), (status = 401, body = ErrorBody)))]
pub async fn card_code(
    State(state): State<AppState>,
    session: MemberSession,
) -> ApiResult<Json<CardCodeView>> {
    let member = load(&state, &session).await?;
    let now = state.clock.now();
    Ok(Json(CardCodeView {
        code: code_at(&member.member_no, &card_key(&member)?, now),
        expires_at: rfc3339(step_end(step_at(now))),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct HistoryQuery {
    /// `next` from the previous page.
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/me/points/history", tag = "member",
    params(HistoryQuery),
    responses((status = 200, description = "20 per page, newest first", body = PointsHistory),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn points_history(
    State(state): State<AppState>,
    session: MemberSession,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<PointsHistory>> {
    let Query(query) = query.map_err(|e| ApiError::invalid_input(e.body_text()))?;
    let before = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            c.parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| ApiError::invalid_input("无效的分页游标 / Invalid cursor"))?,
        ),
    };
    let mut rows = members::ledger_page(&state.db, session.member_id, before, PAGE + 1).await?;
    let more = rows.len() > usize::try_from(PAGE).unwrap_or(20);
    rows.truncate(usize::try_from(PAGE).unwrap_or(20));
    let next = if more {
        rows.last().map(|r| r.id.to_string())
    } else {
        None
    };
    Ok(Json(PointsHistory {
        items: rows
            .into_iter()
            .map(|r| {
                let event = r
                    .event
                    .as_deref()
                    .and_then(|e| serde_json::from_str::<LedgerEvent>(e).ok())
                    .map(|e| LedgerEvent {
                        store: r.store_name.clone(),
                        ..e
                    });
                LedgerItem {
                    kind: r.kind,
                    points: r.points,
                    reason: member_core::points::without_ref(&r.reason, r.source_ref.as_deref()),
                    at: rfc3339(r.created_at),
                    store_name: r.store_name,
                    expires_at: r.expires_at.map(rfc3339),
                    event,
                }
            })
            .collect(),
        next,
    }))
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/card-key", get(card_key_view))
        .route("/api/v1/me/card-code", get(card_code))
        .route("/api/v1/me/points/history", get(points_history))
}
