//! The tier job: adopt members into evaluation periods, recount windows, decay idle
//! growth, evaluate the periods that ended, warn before ends, and send member-day
//! messages. One instance at a time holds the lease "tiers"; every step is idempotent on
//! its own too (see `crate::tiers::store::tier_eval`), so a lease that runs out mid-run costs time only.

use std::time::Duration;

use crate::db::{leases, Db, DbError};
use crate::messages::store::notifications;
use crate::state::AppState;
use crate::tiers::store::tier_eval::{self, program_at};
use crate::tiers::store::tier_program;

pub const EVERY: Duration = Duration::from_secs(600);
const LEASE: &str = "tiers";
/// Long enough for a large run's step; renewed between steps.
const LEASE_SECS: i64 = 900;
/// Passes over due members: a job down for years still catches up, one period a pass.
const MAX_PASSES: usize = 120;

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TierRun {
    /// False when another instance holds the lease (nothing was done).
    pub leased: bool,
    pub adopted: u64,
    pub recounted: u64,
    pub decayed: u64,
    pub evaluated: u64,
    pub kept: u64,
    pub downgraded: u64,
    pub raised: u64,
    pub warned: u64,
    pub member_day_notices: u64,
    /// Members passed over because their update failed (logged).
    pub skipped: u64,
}

/// Everything due at `now`. `holder` names this instance for the lease.
pub async fn run_once(db: &Db, now: i64, holder: &str) -> Result<TierRun, DbError> {
    let mut run = TierRun::default();
    if !leases::acquire(db, LEASE, holder, now, now + LEASE_SECS).await? {
        return Ok(run);
    }
    run.leased = true;
    let result = steps(db, now, holder, &mut run).await;
    if let Err(e) = leases::release(db, LEASE, holder).await {
        tracing::warn!(error = %e, "tier job could not release its lease; it runs out");
    }
    result.map(|()| run)
}

async fn steps(db: &Db, now: i64, holder: &str, run: &mut TierRun) -> Result<(), DbError> {
    let versions = tier_program::all(db).await?;
    let current = program_at(&versions, now).ok_or(DbError::NoTiers)?.clone();
    let renew = || leases::acquire(db, LEASE, holder, now, now + LEASE_SECS);

    let adopted = tier_eval::adopt(db, &current, now).await?;
    run.adopted = adopted.changed;
    run.skipped += adopted.skipped;
    let recounted = tier_eval::recount(db, now).await?;
    run.recounted = recounted.changed;
    run.skipped += recounted.skipped;
    renew().await?;
    let decayed = tier_eval::decay(db, &current.program, now).await?;
    run.decayed = decayed.changed;
    run.skipped += decayed.skipped;
    for _ in 0..MAX_PASSES {
        renew().await?;
        let pass = tier_eval::evaluate_due(db, &versions, now).await?;
        run.evaluated += pass.changed;
        run.kept += pass.kept;
        run.downgraded += pass.downgraded;
        run.raised += pass.raised;
        run.skipped += pass.skipped;
        if pass.changed == 0 {
            break;
        }
    }
    renew().await?;
    let (warned, w) = tier_eval::warn(db, &current.program, now).await?;
    run.warned = warned;
    run.skipped += w.skipped;
    run.member_day_notices = notifications::member_day(db, &current.program, now).await?;
    Ok(())
}

pub async fn run(state: AppState) {
    let holder = format!("instance-{:016x}", rand::random::<u64>());
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match run_once(&state.db, state.clock.now(), &holder).await {
            Ok(run) if run.leased => {
                if run.evaluated + run.warned + run.recounted + run.decayed > 0 {
                    tracing::info!(?run, "tier job done");
                }
                if run.skipped > 0 {
                    tracing::warn!(skipped = run.skipped, "tier job skipped failing members");
                }
            }
            Ok(_) => tracing::debug!("tier job: another instance holds the lease"),
            Err(e) => tracing::warn!(error = %e, "tier job failed; will retry"),
        }
    }
}
