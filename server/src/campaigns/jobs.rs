//! Scheduled issuance: birthday gifts, member-day coupons and win-back offers. Every
//! instance runs it; the unique grant row per campaign, member and period makes
//! repeated runs, concurrent instances and a run cut off by a restart grant each member
//! exactly once per period. Members are paged by id with one transaction each, so a
//! failing member is logged and passed over while the run goes on.

use std::sync::atomic::Ordering;
use std::time::Duration;

use member_core::civil::{self, days_in_month, weekday, Date, DAY_SECS};
use member_core::coupons::{birthday_due, Birthday, BirthdayWindow, MemberDay};

use crate::campaigns::store as campaigns;
use crate::campaigns::store::issue::{OneGrant, Period};
use crate::campaigns::store::schedule::Candidates;
use crate::coupons::store::coupons::Campaign;
use crate::db::{Db, DbError};
use crate::state::AppState;

pub const EVERY: Duration = Duration::from_secs(300);
/// Members per query; a campaign's pages go on until no member is left.
pub const MEMBERS_PER_BATCH: i64 = 200;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CampaignRun {
    /// New grants (one per member and period).
    pub granted: u64,
    /// Coupons those grants put in wallets.
    pub coupons: u64,
    /// Members another instance granted between our look-up and our grant.
    pub already: u64,
    /// Members (or whole campaigns) that failed; logged, retried on the next run.
    pub failed: u64,
    /// Win-back grants newly marked as returned.
    pub returned: u64,
}

/// Everything due at `now` (local calendar: Asia/Shanghai). Public so tests and an
/// operator's one-off can run it deterministically.
pub async fn run_once(db: &Db, now: i64) -> Result<CampaignRun, DbError> {
    let today = civil::local_date(now);
    let mut run = CampaignRun::default();
    for s in campaigns::schedule::scheduled(db, now).await? {
        let outcome = match s.row.kind.as_str() {
            "birthday" => {
                let window = match s.row.birthday_window.as_deref() {
                    Some("week") => BirthdayWindow::Week,
                    _ => BirthdayWindow::Month,
                };
                let mut result = Ok(());
                for (month, day, year) in birthday_days(window, today) {
                    let period = year.to_string();
                    let who = Candidates::Birthday {
                        month,
                        day,
                        period: &period,
                    };
                    result = grant_pages(
                        db,
                        &s.campaign,
                        who,
                        &Period::Fixed(period.clone()),
                        now,
                        &mut run,
                    )
                    .await;
                    if result.is_err() {
                        break;
                    }
                }
                result
            }
            "member_day" => match s.row.member_day.as_deref().and_then(MemberDay::parse) {
                Some(day) if day.is_on(today) => {
                    let period = civil::iso(today);
                    let who = Candidates::Everyone { period: &period };
                    grant_pages(
                        db,
                        &s.campaign,
                        who,
                        &Period::Fixed(period.clone()),
                        now,
                        &mut run,
                    )
                    .await
                }
                _ => Ok(()),
            },
            "winback" => match s.row.lapse_days {
                Some(days) if days > 0 => {
                    let cutoff = now - days * DAY_SECS;
                    let who = Candidates::Lapsed { cutoff };
                    grant_pages(
                        db,
                        &s.campaign,
                        who,
                        &Period::LastPurchase { cutoff },
                        now,
                        &mut run,
                    )
                    .await
                }
                _ => Ok(()),
            },
            _ => Ok(()),
        };
        // One campaign's failing query must not keep the others from running.
        if let Err(e) = outcome {
            tracing::error!(campaign_id = s.campaign.id, error = %e, "scheduled campaign failed");
            run.failed += 1;
        }
    }
    run.returned = campaigns::schedule::mark_returns(db).await?;
    Ok(run)
}

/// The birthdays (month, day or the whole month, birthday year) whose gift is due on
/// `today`. The week window lists the seven days of this Monday–Sunday week, plus
/// 29 February when 28 February is in the week of a year without a 29th (those members
/// celebrate on the 28th); each day's year comes from `birthday_due`, so a week around
/// New Year gives the birthday's own year.
pub fn birthday_days(window: BirthdayWindow, today: Date) -> Vec<(u32, Option<u32>, i64)> {
    match window {
        BirthdayWindow::Month => vec![(today.month, None, today.year)],
        BirthdayWindow::Week => {
            let monday = civil::days_from_date(today) - i64::from(weekday(today)) + 1;
            let mut days = Vec::with_capacity(8);
            for d in monday..monday + 7 {
                let date = civil::date_from_days(d);
                days.push((date.month, date.day));
                if date.month == 2 && date.day == 28 && days_in_month(date.year, 2) == 28 {
                    days.push((2, 29));
                }
            }
            days.into_iter()
                .filter_map(|(month, day)| {
                    let b = Birthday::new(month, day)?;
                    let year = birthday_due(b, BirthdayWindow::Week, today)?;
                    Some((month, Some(day), year))
                })
                .collect()
        }
    }
}

async fn grant_pages(
    db: &Db,
    campaign: &Campaign,
    who: Candidates<'_>,
    period: &Period,
    now: i64,
    run: &mut CampaignRun,
) -> Result<(), DbError> {
    let mut after = 0;
    loop {
        // Paged by id, so a member that fails is passed over instead of being selected
        // again and again.
        let ids =
            campaigns::schedule::candidates_page(db, campaign.id, who, after, MEMBERS_PER_BATCH)
                .await?;
        for id in &ids {
            match campaigns::issue::grant_one(db, campaign, *id, period, true, now).await {
                Ok(OneGrant::New(coupons)) => {
                    run.granted += 1;
                    run.coupons += coupons.unsigned_abs();
                }
                Ok(OneGrant::Already(_)) => run.already += 1,
                Ok(OneGrant::Refused(_)) => {}
                Err(e) => {
                    tracing::error!(campaign_id = campaign.id, member_id = id, error = %e,
                        "campaign grant failed for a member");
                    run.failed += 1;
                }
            }
        }
        match ids.last() {
            Some(last) if ids.len() >= usize::try_from(MEMBERS_PER_BATCH).unwrap_or(200) => {
                after = *last;
            }
            _ => return Ok(()),
        }
    }
}

pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match run_once(&state.db, state.clock.now()).await {
            Ok(run) => {
                if run.granted > 0 {
                    tracing::info!(
                        granted = run.granted,
                        coupons = run.coupons,
                        "campaign coupons issued"
                    );
                }
                if run.failed > 0 {
                    tracing::warn!(
                        failed = run.failed,
                        "campaign issuance skipped failing members"
                    );
                }
                state
                    .metrics
                    .campaign_grants
                    .fetch_add(run.granted, Ordering::Relaxed);
            }
            Err(e) => tracing::warn!(error = %e, "campaign issuance failed; will retry"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn d(year: i64, month: u32, day: u32) -> Date {
        Date { year, month, day }
    }

    #[test]
    fn week_lists_seven_days_with_their_birthday_year() {
        // 2027-01-02 is a Saturday: the week runs 28 Dec 2026 – 3 Jan 2027.
        let days = birthday_days(BirthdayWindow::Week, d(2027, 1, 2));
        assert_eq!(days.len(), 7);
        assert!(days.contains(&(12, Some(31), 2026)));
        assert!(days.contains(&(1, Some(3), 2027)));
    }

    #[test]
    fn leap_day_birthdays_celebrate_on_the_28th() {
        // 2027 has no 29 February; 2027-02-28 is a Sunday.
        let days = birthday_days(BirthdayWindow::Week, d(2027, 2, 24));
        assert!(days.contains(&(2, Some(28), 2027)));
        assert!(days.contains(&(2, Some(29), 2027)));
        assert_eq!(days.len(), 8);
        // 2028 has one: no extra day.
        let days = birthday_days(BirthdayWindow::Week, d(2028, 2, 28));
        assert_eq!(days.len(), 7);
    }

    #[test]
    fn month_window_is_the_month() {
        assert_eq!(
            birthday_days(BirthdayWindow::Month, d(2026, 11, 23)),
            vec![(11, None, 2026)]
        );
    }
}
