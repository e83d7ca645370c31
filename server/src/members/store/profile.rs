//! The member's own profile: name, birthday (for the birthday gift) and marketing
//! consent. A birthday's month and day can change once a year, so the gift can't be had
//! twice by moving the date; the check and the change happen under the member lock.

use member_core::coupons::birthday_change_allowed;

use member_core::tier_program::Task;

use crate::db::{audit, Backend, Db, DbError};
use crate::tiers::store::tasks;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Profile {
    pub member_no: String,
    pub name: String,
    pub phone: String,
    pub birth_year: Option<i64>,
    pub birth_month: Option<i64>,
    pub birth_day: Option<i64>,
    pub birthday_set_at: Option<i64>,
    pub marketing_consent: i64,
}

const SELECT: &str = "SELECT member_no, name, phone, birth_year, birth_month, birth_day, \
                      birthday_set_at, marketing_consent FROM members WHERE id = $1";

pub async fn get(db: &Db, member_id: i64) -> Result<Option<Profile>, DbError> {
    Ok(sqlx::query_as(SELECT)
        .bind(member_id)
        .fetch_optional(db.reader())
        .await?)
}

/// A validated birthday (`year` absent when the member gave only month and day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BirthdayInput {
    pub year: Option<i64>,
    pub month: i64,
    pub day: i64,
}

pub struct Update<'a> {
    pub member_id: i64,
    pub name: Option<&'a str>,
    pub birthday: Option<BirthdayInput>,
    pub marketing_consent: Option<bool>,
    pub now: i64,
}

/// Applies the fields given. A birthday whose month and day differ from the one set
/// less than a year ago is `BirthdayLocked`; the same month and day again (with or
/// without a year) does not count as a change and keeps the lock's start.
pub async fn update(db: &Db, u: Update<'_>) -> Result<Profile, DbError> {
    let mut tx = db.begin_write().await?;
    let select = match db.backend() {
        Backend::Sqlite => SELECT.to_string(),
        Backend::Postgres => format!("{SELECT} FOR NO KEY UPDATE"),
    };
    let before: Profile = sqlx::query_as(&select)
        .bind(u.member_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DbError::NotFound)?;
    let mut after = before.clone();
    if let Some(name) = u.name {
        after.name = name.to_string();
    }
    if let Some(consent) = u.marketing_consent {
        after.marketing_consent = i64::from(consent);
    }
    if let Some(b) = u.birthday {
        let same_day = before.birth_month == Some(b.month) && before.birth_day == Some(b.day);
        if !same_day {
            if before.birth_month.is_some() {
                birthday_change_allowed(before.birthday_set_at, u.now)
                    .map_err(|until| DbError::BirthdayLocked { until })?;
            }
            after.birthday_set_at = Some(u.now);
        }
        after.birth_year = b.year;
        after.birth_month = Some(b.month);
        after.birth_day = Some(b.day);
    }
    if after == before {
        return Ok(before);
    }
    sqlx::query(
        "UPDATE members SET name = $1, marketing_consent = $2, \
           marketing_consent_at = CASE WHEN marketing_consent = $2 THEN marketing_consent_at \
                                       ELSE $8 END, \
           birth_year = $3, birth_month = $4, birth_day = $5, birthday_set_at = $6 \
         WHERE id = $7",
    )
    .bind(&after.name)
    .bind(after.marketing_consent)
    .bind(after.birth_year)
    .bind(after.birth_month)
    .bind(after.birth_day)
    .bind(after.birthday_set_at)
    .bind(u.member_id)
    .bind(u.now)
    .execute(&mut *tx)
    .await?;
    let actor = format!("member:{}", before.member_no);
    let show = |p: &Profile| match (p.birth_year, p.birth_month, p.birth_day) {
        (_, Some(m), Some(d)) => format_birthday(p.birth_year, m, d),
        _ => "-".to_string(),
    };
    if (before.birth_year, before.birth_month, before.birth_day)
        != (after.birth_year, after.birth_month, after.birth_day)
    {
        audit::record(
            &mut tx,
            &actor,
            "member.birthday",
            &actor,
            &format!("from={} to={}", show(&before), show(&after)),
            u.now,
        )
        .await?;
    }
    if before.marketing_consent != after.marketing_consent {
        audit::record(
            &mut tx,
            &actor,
            "member.marketing_consent",
            &actor,
            &format!("marketing_consent={}", after.marketing_consent),
            u.now,
        )
        .await?;
    }
    // Name and birthday complete the profile: a growth task, once ever.
    if !after.name.trim().is_empty() && after.birth_month.is_some() && after.birth_day.is_some() {
        tasks::complete_in(
            &mut tx,
            db.backend(),
            u.member_id,
            Task::ProfileCompleted,
            &actor,
            u.now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(after)
}

/// `YYYY-MM-DD`, or `MM-DD` without a year.
pub fn format_birthday(year: Option<i64>, month: i64, day: i64) -> String {
    match year {
        Some(y) => format!("{y:04}-{month:02}-{day:02}"),
        None => format!("{month:02}-{day:02}"),
    }
}
