//! Points expiry: every instance runs it; each member's due batches expire in their own
//! transaction with conditional updates, so concurrent runs, repeated runs and a run
//! cut off by a restart each expire a point exactly once.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::points::store::ledger;

use crate::db::{Db, DbError};
use crate::points::store::ledger::ExpiryRun;
use crate::state::AppState;

pub const EVERY: Duration = Duration::from_secs(60);
/// Members per query; a run keeps going until no member is left.
pub const MEMBERS_PER_BATCH: i64 = 200;

/// Expires everything due at `now`. Public so tests (and an operator's one-off) can run
/// it deterministically.
pub async fn run_once(db: &Db, now: i64) -> Result<ExpiryRun, DbError> {
    let mut total = ExpiryRun::default();
    loop {
        // Pages by member id, so members that fail (or that another instance is doing)
        // are passed over instead of being selected again and again.
        let run = ledger::expire_due(db, now, total.last_member, MEMBERS_PER_BATCH).await?;
        total.selected += run.selected;
        total.members += run.members;
        total.points += run.points;
        total.failed += run.failed;
        total.last_member = run.last_member;
        if run.selected < MEMBERS_PER_BATCH.unsigned_abs() {
            return Ok(total);
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
                if run.points > 0 {
                    tracing::info!(members = run.members, points = run.points, "points expired");
                }
                if run.failed > 0 {
                    tracing::warn!(failed = run.failed, "points expiry skipped failing members");
                }
                state
                    .metrics
                    .points_expired
                    .fetch_add(run.points.unsigned_abs(), Ordering::Relaxed);
            }
            Err(e) => tracing::warn!(error = %e, "points expiry failed; will retry"),
        }
    }
}
