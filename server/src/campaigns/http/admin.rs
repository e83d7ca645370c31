//! Admin console: campaigns (list, create, read, edit) and manual coupon issues to
//! listed members or a segment. Every change is audit-logged.

use std::collections::{HashMap, HashSet};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use member_core::coupons::MemberDay;
use member_core::dto::{
    codes, AdminCampaign, CampaignCoupon, CampaignPatch, CampaignStats, ErrorBody,
    IssueCouponsRequest, IssueCouponsResult, IssueSkip, NewCampaign,
};

use crate::mall::http::admin::parse_time;

use crate::campaigns::store as campaigns;
use crate::campaigns::store::issue::{IssueStart, ManualIssue, OneGrant, Period, SegmentFilter};
use crate::campaigns::store::{CampaignFull, Editable, NewCampaignRow};
use crate::clock::rfc3339;
use crate::coupons::store::coupons::Campaign;
use crate::db::Db;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{AdminSession, IdempotencyKey, Json, Path};
use crate::http::idempotent;
use crate::mall::http::admin::text;
use crate::points::http::reason;
use crate::state::AppState;

const MAX_NAME_CHARS: usize = 40;
/// Templates in one pack, and coupons of one template per grant.
const MAX_PACK: usize = 10;
const MAX_QUANTITY: i64 = 10;
const MAX_LAPSE_DAYS: i64 = 3660;
const MAX_TOTAL_CAP: i64 = 10_000_000;
/// Member numbers in one manual issue (larger groups go by segment).
const MAX_MEMBER_NOS: usize = 1000;
/// Skipped members listed in the answer (all are counted).
const MAX_SKIPS_SHOWN: usize = 100;
const KINDS: [&str; 6] = [
    "signup",
    "upgrade",
    "birthday",
    "member_day",
    "winback",
    "claim",
];

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::invalid_input(message)
}

pub fn view(c: CampaignFull) -> AdminCampaign {
    let r = c.row;
    AdminCampaign {
        id: r.id,
        kind: r.kind,
        name: r.name,
        active: r.active != 0,
        coupons: c
            .pack
            .into_iter()
            .map(|(template_id, quantity)| CampaignCoupon {
                template_id,
                quantity,
            })
            .collect(),
        tier_code: r.tier_code,
        birthday_window: r.birthday_window,
        member_day: r.member_day,
        lapse_days: r.lapse_days,
        claim_path: r.claim_token.as_ref().map(|t| format!("/claim/{t}")),
        claim_token: r.claim_token,
        total_cap: r.total_cap,
        starts_at: r.starts_at.map(rfc3339),
        ends_at: r.ends_at.map(rfc3339),
        created_at: rfc3339(r.created_at),
        stats: CampaignStats {
            members: c.stats.members,
            coupons_issued: c.stats.coupons_issued,
            coupons_used: c.stats.coupons_used,
            discount_cents: c.stats.discount_cents,
            returned: c.stats.returned,
        },
    }
}

/// A tier code that exists (Postgres refuses NUL in text, so odd input never reaches it).
async fn tier(state: &AppState, field: &str, code: &str) -> ApiResult<String> {
    let code = code.trim();
    if code.is_empty()
        || code.len() > 64
        || code.chars().any(char::is_control)
        || !crate::mall::store::mall::tier_exists(&state.db, code).await?
    {
        return Err(bad(format!(
            "{field} 不是已有的等级：{code} / {field} is not a tier code: {code}"
        )));
    }
    Ok(code.to_string())
}

fn quantity(q: i64) -> ApiResult<i64> {
    if (1..=MAX_QUANTITY).contains(&q) {
        Ok(q)
    } else {
        Err(ApiError::BadRequest(
            codes::INVALID_QUANTITY,
            format!("数量须为 1–{MAX_QUANTITY} / Quantity must be 1–{MAX_QUANTITY}"),
        ))
    }
}

/// The pack: 1–10 distinct templates that exist, 1–10 of each.
async fn pack(state: &AppState, coupons: &[CampaignCoupon]) -> ApiResult<Vec<(i64, i64)>> {
    if coupons.is_empty() || coupons.len() > MAX_PACK {
        return Err(bad(format!(
            "coupons 须有 1–{MAX_PACK} 种券 / coupons must list 1–{MAX_PACK} templates"
        )));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(coupons.len());
    for c in coupons {
        if !seen.insert(c.template_id) {
            return Err(bad(format!(
                "券模板 {} 重复，请合并数量 / template {} is listed twice; give one quantity",
                c.template_id, c.template_id
            )));
        }
        out.push((c.template_id, quantity(c.quantity)?));
    }
    let ids: Vec<i64> = out.iter().map(|p| p.0).collect();
    if let Some(id) = campaigns::missing_templates(&state.db, &ids).await?.first() {
        return Err(bad(format!("券模板不存在：{id} / no coupon template {id}")));
    }
    Ok(out)
}

/// Fields that belong to one kind only must not come with another.
fn only_for(kind: &str, field: &str, given: bool, allowed: &[&str]) -> ApiResult<()> {
    if given && !allowed.contains(&kind) {
        return Err(bad(format!(
            "{field} 只适用于 {} 活动 / {field} is only for {} campaigns",
            allowed.join("/"),
            allowed.join("/")
        )));
    }
    Ok(())
}

async fn check_new(state: &AppState, req: &NewCampaign) -> ApiResult<NewCampaignRow> {
    let kind = req.kind.trim();
    if !KINDS.contains(&kind) {
        return Err(bad(format!(
            "kind 须为 {} 之一 / kind must be one of {}",
            KINDS.join("、"),
            KINDS.join(", ")
        )));
    }
    only_for(kind, "tier_code", req.tier_code.is_some(), &["upgrade"])?;
    only_for(
        kind,
        "birthday_window",
        req.birthday_window.is_some(),
        &["birthday"],
    )?;
    only_for(
        kind,
        "member_day",
        req.member_day.is_some(),
        &["member_day"],
    )?;
    only_for(kind, "lapse_days", req.lapse_days.is_some(), &["winback"])?;
    // A cap makes claims queue on the campaign row; only links are capped (a capped
    // sign-up pack would refuse sign-ups once full).
    only_for(kind, "total_cap", req.total_cap.is_some(), &["claim"])?;
    let mut row = NewCampaignRow {
        kind: kind.to_string(),
        name: text("name", &req.name, 1, MAX_NAME_CHARS)?,
        pack: Vec::new(),
        tier_code: None,
        birthday_window: None,
        member_day: None,
        lapse_days: None,
        total_cap: None,
        starts_at: req
            .starts_at
            .as_deref()
            .map(|t| parse_time("starts_at", t))
            .transpose()?,
        ends_at: req
            .ends_at
            .as_deref()
            .map(|t| parse_time("ends_at", t))
            .transpose()?,
    };
    if let (Some(s), Some(e)) = (row.starts_at, row.ends_at) {
        if s >= e {
            return Err(bad(
                "starts_at 须早于 ends_at / starts_at must be before ends_at",
            ));
        }
    }
    match kind {
        "upgrade" => {
            let code = req
                .tier_code
                .as_deref()
                .ok_or_else(|| bad("升级礼需要 tier_code / upgrade campaigns need tier_code"))?;
            row.tier_code = Some(tier(state, "tier_code", code).await?);
        }
        "birthday" => {
            let w = req.birthday_window.as_deref().map(str::trim);
            if !matches!(w, Some("month" | "week")) {
                return Err(bad(
                    "birthday_window 须为 month 或 week / birthday_window must be month or week",
                ));
            }
            row.birthday_window = w.map(str::to_string);
        }
        "member_day" => {
            let day = req
                .member_day
                .as_deref()
                .and_then(|d| MemberDay::parse(d.trim()))
                .ok_or_else(|| {
                    bad("member_day 须为 weekday:1..7 或 monthday:1..31 / \
                         member_day must be weekday:1..7 or monthday:1..31")
                })?;
            row.member_day = Some(day.as_string());
        }
        "winback" => {
            let days = req
                .lapse_days
                .filter(|d| (1..=MAX_LAPSE_DAYS).contains(d))
                .ok_or_else(|| {
                    bad(format!(
                        "lapse_days 须为 1–{MAX_LAPSE_DAYS} / lapse_days must be 1–{MAX_LAPSE_DAYS}"
                    ))
                })?;
            row.lapse_days = Some(days);
        }
        "claim" => {
            if let Some(cap) = req.total_cap {
                row.total_cap = Some(total_cap(cap)?);
            }
        }
        _ => {}
    }
    row.pack = pack(state, &req.coupons).await?;
    Ok(row)
}

fn total_cap(cap: i64) -> ApiResult<i64> {
    if (1..=MAX_TOTAL_CAP).contains(&cap) {
        Ok(cap)
    } else {
        Err(bad(format!(
            "total_cap 须为 1–{MAX_TOTAL_CAP} / total_cap must be 1–{MAX_TOTAL_CAP}"
        )))
    }
}

fn campaign_id(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(get, path = "/api/v1/admin/campaigns", tag = "admin",
    responses(
        (status = 200, description = "Campaigns newest first (at most 500), with their packs \
                                      and stats", body = [AdminCampaign]),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden (not an admin)", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminSession,
) -> ApiResult<Json<Vec<AdminCampaign>>> {
    let rows = campaigns::list(&state.db).await?;
    Ok(Json(rows.into_iter().map(view).collect()))
}

#[utoipa::path(post, path = "/api/v1/admin/campaigns", tag = "admin",
    request_body = NewCampaign,
    responses(
        (status = 201, description = "Created (audit-logged); a claim campaign comes with its \
                                      token and path", body = AdminCampaign),
        (status = 400, description = "invalid_input / invalid_quantity", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden (not an admin)", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    session: AdminSession,
    Json(req): Json<NewCampaign>,
) -> ApiResult<Response> {
    let row = check_new(&state, &req).await?;
    let actor = format!("admin:{}", session.staff.username);
    let now = state.clock.now();
    let id = campaigns::create(&state.db, &actor, &session.staff.username, &row, now).await?;
    let full = campaigns::get(&state.db, id)
        .await?
        .ok_or(ApiError::Internal)?;
    Ok((StatusCode::CREATED, Json(view(full))).into_response())
}

#[utoipa::path(get, path = "/api/v1/admin/campaigns/{id}", tag = "admin",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 200, body = AdminCampaign),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden (not an admin)", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn get(
    State(state): State<AppState>,
    _admin: AdminSession,
    Path(id): Path<String>,
) -> ApiResult<Json<AdminCampaign>> {
    let id = campaign_id(&id)?;
    let full = campaigns::get(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(view(full)))
}

#[utoipa::path(patch, path = "/api/v1/admin/campaigns/{id}", tag = "admin",
    request_body = CampaignPatch,
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The campaign after the change (audit-logged)",
         body = AdminCampaign),
        (status = 400, description = "invalid_input", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden (not an admin)", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "invalid_input (total_cap below the members who already \
                                      claimed)", body = ErrorBody),
    ))]
pub async fn update(
    State(state): State<AppState>,
    session: AdminSession,
    Path(id): Path<String>,
    Json(patch): Json<CampaignPatch>,
) -> ApiResult<Json<AdminCampaign>> {
    let id = campaign_id(&id)?;
    let new_name = patch
        .name
        .as_deref()
        .map(|n| text("name", n, 1, MAX_NAME_CHARS))
        .transpose()?;
    let new_ends = patch
        .ends_at
        .as_ref()
        .map(|e| e.as_deref().map(|t| parse_time("ends_at", t)).transpose())
        .transpose()?;
    let new_cap = patch
        .total_cap
        .map(|c| c.map(total_cap).transpose())
        .transpose()?;
    let actor = format!("admin:{}", session.staff.username);
    campaigns::update(&state.db, &actor, id, state.clock.now(), |row| {
        let mut after = Editable {
            name: row.name.clone(),
            active: row.active != 0,
            ends_at: row.ends_at,
            total_cap: row.total_cap,
        };
        if let Some(n) = new_name {
            after.name = n;
        }
        if let Some(a) = patch.active {
            after.active = a;
        }
        if let Some(e) = new_ends {
            if let (Some(s), Some(e)) = (row.starts_at, e) {
                if s >= e {
                    return Err(bad(
                        "ends_at 须晚于 starts_at / ends_at must be after starts_at",
                    ));
                }
            }
            after.ends_at = e;
        }
        if let Some(cap) = new_cap {
            if row.kind != "claim" {
                return Err(bad(
                    "total_cap 只适用于 claim 活动 / total_cap is only for claim campaigns",
                ));
            }
            // Judged under the campaign's lock: claims wait, so the count is exact.
            if let Some(c) = cap {
                if c < row.granted_count {
                    return Err(ApiError::Unprocessable(
                        codes::INVALID_INPUT,
                        format!(
                            "已有 {n} 人领取，total_cap 不能小于 {n} / {n} members have \
                             claimed; total_cap can't be below {n}",
                            n = row.granted_count
                        ),
                    ));
                }
            }
            after.total_cap = cap;
        }
        Ok(after)
    })
    .await?;
    let full = campaigns::get(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(view(full)))
}

// --- manual issue ------------------------------------------------------------------

enum Targets {
    /// Distinct member numbers in the order given.
    Members(Vec<String>),
    Segment(SegmentFilter),
}

/// A member number as typed: trimmed; anything that can't be one (control characters,
/// too long) is kept to be reported `not_found` without reaching the database.
fn plausible_member_no(no: &str) -> bool {
    !no.is_empty() && no.len() <= 32 && no.chars().all(|c| c.is_ascii_alphanumeric())
}

#[utoipa::path(post, path = "/api/v1/admin/coupons/issue", tag = "admin",
    request_body = IssueCouponsRequest,
    params(("Idempotency-Key" = String, Header, description = "Required. The same key finds \
            the same manual campaign: a retry completes what a cut-off first run missed, and \
            a finished run's answer is replayed")),
    responses(
        (status = 200, description = "Issued (audit-logged); members that got nothing are \
                                      listed with the reason", body = IssueCouponsResult),
        (status = 400, description = "invalid_input / invalid_quantity / \
                                      idempotency_key_required", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden (not an admin)", body = ErrorBody),
        (status = 409, description = "request_in_progress", body = ErrorBody),
        (status = 422, description = "idempotency_key_reused", body = ErrorBody),
    ))]
pub async fn issue(
    State(state): State<AppState>,
    session: AdminSession,
    IdempotencyKey(key): IdempotencyKey,
    Json(req): Json<IssueCouponsRequest>,
) -> ApiResult<Response> {
    let why = reason(&req.reason)?.to_string();
    let qty = quantity(req.quantity)?;
    let now = state.clock.now();
    let mut hash_fields: Vec<Vec<u8>> = vec![
        req.template_id.to_be_bytes().to_vec(),
        qty.to_be_bytes().to_vec(),
        why.as_bytes().to_vec(),
    ];
    let (targets, described) =
        match (req.member_nos.is_empty(), &req.segment) {
            (false, None) => {
                if req.member_nos.len() > MAX_MEMBER_NOS {
                    return Err(bad(format!(
                        "member_nos 最多 {MAX_MEMBER_NOS} 个，更多请按人群发放 / at most \
                     {MAX_MEMBER_NOS} member_nos; use a segment for more"
                    )));
                }
                let mut seen = HashSet::new();
                let nos: Vec<String> = req
                    .member_nos
                    .iter()
                    .map(|n| n.trim().to_string())
                    .filter(|n| seen.insert(n.clone()))
                    .collect();
                hash_fields.push(b"members".to_vec());
                hash_fields.extend(nos.iter().map(|n| n.as_bytes().to_vec()));
                let described = format!("{} members", nos.len());
                (Targets::Members(nos), described)
            }
            (true, Some(seg)) => {
                let filtered = seg.min_tier.is_some() || seg.lapsing_days.is_some();
                if seg.all == filtered {
                    return Err(bad(
                    "segment 须为 all，或 min_tier / lapsing_days 之一或两者 / segment must be \
                     all, or min_tier and/or lapsing_days",
                ));
                }
                let min_tier = match seg.min_tier.as_deref() {
                    Some(t) => Some(tier(&state, "min_tier", t).await?),
                    None => None,
                };
                let lapsing = match seg.lapsing_days {
                    Some(d) if (1..=MAX_LAPSE_DAYS).contains(&d) => Some(d),
                    Some(_) => {
                        return Err(bad(format!(
                            "lapsing_days 须为 1–{MAX_LAPSE_DAYS} / lapsing_days must be \
                         1–{MAX_LAPSE_DAYS}"
                        )))
                    }
                    None => None,
                };
                hash_fields.push(b"segment".to_vec());
                hash_fields.push(min_tier.clone().unwrap_or_default().into_bytes());
                hash_fields.push(lapsing.unwrap_or(0).to_be_bytes().to_vec());
                let described = format!(
                    "segment all={} min_tier={} lapsing_days={}",
                    seg.all,
                    min_tier.as_deref().unwrap_or("-"),
                    lapsing.map_or_else(|| "-".to_string(), |d| d.to_string())
                );
                // Members whose last purchase is at least `lapsing_days` ago when issued.
                let filter = SegmentFilter {
                    min_tier,
                    purchased_before: lapsing.map(|d| now - d * member_core::civil::DAY_SECS),
                };
                (Targets::Segment(filter), described)
            }
            _ => return Err(bad(
                "请给出 member_nos 或 segment（二选一）/ give member_nos or segment (one of them)",
            )),
        };
    match campaigns::template_state(&state.db, req.template_id).await? {
        None => {
            return Err(bad(format!(
                "券模板不存在：{id} / no coupon template {id}",
                id = req.template_id
            )))
        }
        Some(t) if t.active == 0 || t.valid_until.is_some_and(|u| now >= u) => {
            return Err(bad(
                "券模板已停用或已过期 / the coupon template is switched off or has ended",
            ))
        }
        Some(_) => {}
    }
    let fields: Vec<&[u8]> = hash_fields.iter().map(Vec::as_slice).collect();
    let hash = idempotent::request_hash(&fields);
    let actor = format!("admin:{}", session.staff.username);
    let start = campaigns::issue::start_issue(
        &state.db,
        &ManualIssue {
            key: &key,
            request_hash: &hash,
            template_id: req.template_id,
            quantity: qty,
            reason: &why,
            actor: &actor,
            created_by: &session.staff.username,
            targets: &described,
            now,
        },
    )
    .await?;
    let campaign = match start {
        IssueStart::Done { status, body } => return Ok(idempotent::replayed(status, body)),
        IssueStart::Run(c) => c,
    };
    // In a task of its own: a large segment may outlive the request's timeout, and what
    // it finishes stays done (a retry with the key continues or replays it).
    let task = tokio::spawn(run_issue(state.db.clone(), campaign, targets, key, now));
    let result = task.await.map_err(|e| {
        tracing::error!(error = %e, "manual issue task failed");
        ApiError::Internal
    })??;
    Ok((StatusCode::OK, Json(result)).into_response())
}

/// What one member got, folded into the answer.
fn tally(res: &mut IssueCouponsResult, member_no: &str, outcome: OneGrant) {
    res.members += 1;
    let reason = match outcome {
        OneGrant::New(n) | OneGrant::Already(n) if n > 0 => {
            res.issued_members += 1;
            res.coupons_issued += n;
            return;
        }
        // Not expected: a manual grant that issued nothing is never kept. Counted as a
        // skip so the totals still add up.
        OneGrant::New(_) | OneGrant::Already(_) => codes::COUPONS_EXHAUSTED,
        OneGrant::Refused(Some(why)) => why.code(),
        // The member is gone (or never was).
        OneGrant::Refused(None) => codes::NOT_FOUND,
    };
    skip(res, member_no, reason);
}

fn skip(res: &mut IssueCouponsResult, member_no: &str, reason: &str) {
    res.skipped_count += 1;
    if res.skipped.len() < MAX_SKIPS_SHOWN {
        res.skipped.push(IssueSkip {
            member_no: member_no.to_string(),
            reason: reason.to_string(),
        });
    }
}

/// Members per page of a segment.
const SEGMENT_PAGE: i64 = 200;

async fn run_issue(
    db: Db,
    campaign: Campaign,
    targets: Targets,
    key: String,
    now: i64,
) -> Result<IssueCouponsResult, ApiError> {
    let mut res = IssueCouponsResult {
        campaign_id: campaign.id,
        members: 0,
        issued_members: 0,
        coupons_issued: 0,
        skipped_count: 0,
        skipped: Vec::new(),
    };
    // Manual grants keep nothing when every template refused, so a retry judges those
    // members again and reports the same reasons.
    let once = Period::Fixed(String::new());
    match targets {
        Targets::Members(nos) => {
            let asked: Vec<String> = nos
                .iter()
                .filter(|n| plausible_member_no(n))
                .cloned()
                .collect();
            let found: HashMap<String, i64> = campaigns::issue::members_by_no(&db, &asked)
                .await?
                .into_iter()
                .map(|t| (t.member_no, t.id))
                .collect();
            for no in &nos {
                match found.get(no) {
                    Some(id) => {
                        let outcome =
                            campaigns::issue::grant_one(&db, &campaign, *id, &once, false, now)
                                .await?;
                        tally(&mut res, no, outcome);
                    }
                    None => skip(&mut res, no, codes::NOT_FOUND),
                }
            }
        }
        Targets::Segment(filter) => {
            let mut after = 0;
            loop {
                let page =
                    campaigns::issue::segment_page(&db, &filter, after, SEGMENT_PAGE).await?;
                for t in &page {
                    let outcome =
                        campaigns::issue::grant_one(&db, &campaign, t.id, &once, false, now)
                            .await?;
                    tally(&mut res, &t.member_no, outcome);
                }
                match page.last() {
                    Some(last) if page.len() >= usize::try_from(SEGMENT_PAGE).unwrap_or(200) => {
                        after = last.id;
                    }
                    _ => break,
                }
            }
        }
    }
    let body = serde_json::to_string(&res).map_err(|_| ApiError::Internal)?;
    campaigns::issue::finish_issue(&db, &key, &body).await?;
    Ok(res)
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/v1/admin/campaigns", get(list).post(create))
        .route("/api/v1/admin/campaigns/{id}", get(self::get).patch(update))
        .route("/api/v1/admin/coupons/issue", post(issue))
}
