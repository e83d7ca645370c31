//! Admin reports on sign-ups and referrals (`from`/`to` are local dates, inclusive;
//! default: the last 30 days).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use member_core::civil::{self, Date};
use member_core::dto::{ErrorBody, ReferralFunnel, SignupReport, SignupReportRow};
use member_core::signup::parse_date;
use serde::Deserialize;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{AdminSession, Json};
use crate::reports::store as reports;
use crate::reports::store::By;
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ReportQuery {
    /// `store` (default), `channel`, `staff` or `day`.
    pub by: Option<String>,
    /// `YYYY-MM-DD`, local; default 29 days before `to`.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, local, inclusive; default today.
    pub to: Option<String>,
}

/// The local dates and unix bounds [from 00:00, day after `to` 00:00).
fn range(q: &ReportQuery, now: i64) -> ApiResult<(Date, Date, i64, i64)> {
    let date = |field: &str, raw: &str| {
        parse_date(raw).ok_or_else(|| {
            ApiError::invalid_input(format!(
                "{field} 须为 YYYY-MM-DD / {field} must be YYYY-MM-DD"
            ))
        })
    };
    let to = match q.to.as_deref() {
        Some(t) => date("to", t)?,
        None => civil::local_date(now),
    };
    let from = match q.from.as_deref() {
        Some(f) => date("from", f)?,
        None => civil::date_from_days(civil::days_from_date(to) - 29),
    };
    let (start, end) = (
        civil::local_midnight(from),
        civil::local_midnight(to) + civil::DAY_SECS,
    );
    if start >= end || end - start > 3700 * civil::DAY_SECS {
        return Err(ApiError::invalid_input(
            "from 须不晚于 to，且跨度不超过 10 年 / from must not be after to, at most 10 years",
        ));
    }
    Ok((from, to, start, end))
}

fn row(key: String, label: String, signups: i64, same_day: i64) -> SignupReportRow {
    SignupReportRow {
        key,
        label,
        signups,
        first_purchase_same_day: same_day,
        same_day_rate_permille: if signups > 0 {
            same_day * 1000 / signups
        } else {
            0
        },
    }
}

#[utoipa::path(get, path = "/api/v1/admin/reports/signups", tag = "admin",
    params(ReportQuery),
    responses((status = 200, body = SignupReport), (status = 400, description = "invalid_input", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn signups(
    State(state): State<AppState>,
    _admin: AdminSession,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> ApiResult<Json<SignupReport>> {
    let Query(q) = query.map_err(|e| ApiError::invalid_input(e.body_text()))?;
    let by_name = q.by.as_deref().unwrap_or("store");
    let by = By::parse(by_name).ok_or_else(|| {
        ApiError::invalid_input(
            "by 须为 store、channel、staff 或 day / by must be store, channel, staff or day",
        )
    })?;
    let (from, to, start, end) = range(&q, state.clock.now())?;
    let raw = reports::signups(&state.db, by, start, end).await?;
    let (mut total_signups, mut total_same_day) = (0, 0);
    let mut rows: Vec<SignupReportRow> = raw
        .into_iter()
        .map(|(k, l, n, same)| {
            total_signups += n;
            total_same_day += same;
            if by == By::Day {
                let day = k
                    .parse::<i64>()
                    .map(|d| civil::iso(civil::date_from_days(d)))
                    .unwrap_or(k);
                row(day.clone(), day, n, same)
            } else {
                row(k, l, n, same)
            }
        })
        .collect();
    if by == By::Day {
        rows.sort_by(|a, b| a.key.cmp(&b.key));
    }
    Ok(Json(SignupReport {
        by: by_name.into(),
        from: civil::iso(from),
        to: civil::iso(to),
        rows,
        total: row(
            String::new(),
            "合计 / Total".into(),
            total_signups,
            total_same_day,
        ),
    }))
}

#[utoipa::path(get, path = "/api/v1/admin/reports/referrals", tag = "admin",
    params(ReportQuery),
    responses((status = 200, body = ReferralFunnel), (status = 400, description = "invalid_input", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn referrals(
    State(state): State<AppState>,
    _admin: AdminSession,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> ApiResult<Json<ReferralFunnel>> {
    let Query(q) = query.map_err(|e| ApiError::invalid_input(e.body_text()))?;
    let (from, to, start, end) = range(&q, state.clock.now())?;
    let f = reports::referral_funnel(&state.db, start, end).await?;
    Ok(Json(reports::funnel(civil::iso(from), civil::iso(to), f)))
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/api/v1/admin/reports/signups", get(signups))
        .route("/api/v1/admin/reports/referrals", get(referrals))
}
