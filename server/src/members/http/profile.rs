//! The member's own profile: name, birthday (locked for a year once set) and marketing
//! consent.

use axum::extract::State;
use member_core::civil;
use member_core::coupons::Birthday;
use member_core::dto::{ErrorBody, ProfileUpdate, ProfileView};

use crate::clock::rfc3339;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, MemberSession};
use crate::members::store::profile::{self, BirthdayInput, Profile};
use crate::members::views::masked_phone;
use crate::state::AppState;

const NAME_MAX_CHARS: usize = 40;
const FIRST_BIRTH_YEAR: i64 = 1900;

fn profile_view(p: &Profile, now: i64) -> ProfileView {
    let birthday = match (p.birth_month, p.birth_day) {
        (Some(m), Some(d)) => Some(profile::format_birthday(p.birth_year, m, d)),
        _ => None,
    };
    ProfileView {
        name: p.name.clone(),
        phone_masked: masked_phone(&p.phone),
        birthday,
        birthday_locked_until: p
            .birthday_set_at
            .and_then(|at| member_core::coupons::birthday_change_allowed(Some(at), now).err())
            .map(rfc3339),
        marketing_consent: p.marketing_consent != 0,
    }
}

#[utoipa::path(get, path = "/api/v1/me/profile", tag = "member",
    responses((status = 200, body = ProfileView), (status = 401, body = ErrorBody)))]
pub async fn get_profile(
    State(state): State<AppState>,
    session: MemberSession,
) -> ApiResult<Json<ProfileView>> {
    let p = profile::get(&state.db, session.member_id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    Ok(Json(profile_view(&p, state.clock.now())))
}

fn bad_birthday() -> ApiError {
    ApiError::invalid_input("生日格式为 YYYY-MM-DD 或 MM-DD / Birthday must be YYYY-MM-DD or MM-DD")
}

fn number(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `YYYY-MM-DD` (a real date, year 1900 up to today) or `MM-DD` (29 February allowed).
pub fn parse_birthday(input: &str, now: i64) -> ApiResult<BirthdayInput> {
    let parts: Vec<&str> = input.trim().split('-').collect();
    let (year, month, day) = match parts.as_slice() {
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            (Some(number(y).ok_or_else(bad_birthday)?), *m, *d)
        }
        [m, d] if m.len() == 2 && d.len() == 2 => (None, *m, *d),
        _ => return Err(bad_birthday()),
    };
    let month =
        u32::try_from(number(month).ok_or_else(bad_birthday)?).map_err(|_| bad_birthday())?;
    let day = u32::try_from(number(day).ok_or_else(bad_birthday)?).map_err(|_| bad_birthday())?;
    let b = Birthday::new(month, day).ok_or_else(bad_birthday)?;
    if let Some(y) = year {
        let today = civil::local_date(now);
        if !(FIRST_BIRTH_YEAR..=today.year).contains(&y) {
            return Err(ApiError::invalid_input(format!(
                "出生年份须在 {FIRST_BIRTH_YEAR}–{} 之间 / Birth year must be {FIRST_BIRTH_YEAR}–{}",
                today.year, today.year
            )));
        }
        // 29 February only in leap years, and no birthdays in the future.
        let date = civil::Date {
            year: y,
            month,
            day,
        };
        if b.in_year(y) != date || civil::days_from_date(date) > civil::days_from_date(today) {
            return Err(bad_birthday());
        }
    }
    Ok(BirthdayInput {
        year,
        month: i64::from(month),
        day: i64::from(day),
    })
}

#[utoipa::path(put, path = "/api/v1/me/profile", tag = "member",
    request_body = ProfileUpdate,
    responses(
        (status = 200, description = "The profile after the change (only the fields given change)", body = ProfileView),
        (status = 400, description = "invalid_input", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 422, description = "birthday_locked: changed less than a year ago", body = ErrorBody),
    ))]
pub async fn put_profile(
    State(state): State<AppState>,
    session: MemberSession,
    Json(req): Json<ProfileUpdate>,
) -> ApiResult<Json<ProfileView>> {
    let now = state.clock.now();
    let name = match req.name.as_deref().map(str::trim) {
        None => None,
        Some(n) => {
            let chars = n.chars().count();
            // Postgres refuses NUL in text (a 500 otherwise): control characters are bad input.
            if chars == 0 || chars > NAME_MAX_CHARS || n.chars().any(char::is_control) {
                return Err(ApiError::invalid_input(format!(
                    "姓名须为 1–{NAME_MAX_CHARS} 个字且不含控制字符 / \
                     The name must be 1–{NAME_MAX_CHARS} characters without control characters"
                )));
            }
            Some(n)
        }
    };
    let birthday = req
        .birthday
        .as_deref()
        .map(|b| parse_birthday(b, now))
        .transpose()?;
    let p = profile::update(
        &state.db,
        profile::Update {
            member_id: session.member_id,
            name,
            birthday,
            marketing_consent: req.marketing_consent,
            now,
        },
    )
    .await
    .map_err(|e| match e {
        crate::db::DbError::NotFound => ApiError::Unauthenticated,
        other => other.into(),
    })?;
    Ok(Json(profile_view(&p, now)))
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::get;
    axum::Router::new().route("/api/v1/me/profile", get(get_profile).put(put_profile))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    // 2026-11-23 12:00 Shanghai.
    const NOW: i64 = 1_795_406_400;

    #[test]
    fn birthdays() {
        let ok = |s: &str| parse_birthday(s, NOW).ok();
        assert_eq!(
            ok("1990-02-28"),
            Some(BirthdayInput {
                year: Some(1990),
                month: 2,
                day: 28
            })
        );
        assert_eq!(
            ok("02-29"),
            Some(BirthdayInput {
                year: None,
                month: 2,
                day: 29
            })
        );
        assert!(ok("2000-02-29").is_some());
        for bad in [
            "1990-02-29",
            "1899-12-31",
            "2099-01-01",
            "2026-12-01",
            "13-01",
            "00-10",
            "02-30",
            "1990-1-01",
            "+1-01-01",
            "",
            "1990/01/01",
            "19900101",
            "١٢-٠١",
        ] {
            assert!(ok(bad).is_none(), "{bad}");
        }
        assert!(ok("2026-11-23").is_some());
    }
}
