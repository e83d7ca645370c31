//! Scheduled work. Every instance runs it; each job is safe to run on several instances
//! at once (idempotent deletes, conditional updates).

use std::time::Duration;

use crate::state::AppState;

const CLEANUP_EVERY: Duration = Duration::from_secs(600);

pub async fn run(state: AppState) {
    tokio::join!(
        cleanup(state.clone()),
        crate::points::jobs::run(state.clone()),
        crate::campaigns::jobs::run(state.clone()),
        crate::tiers::jobs::run(state)
    );
}

async fn cleanup(state: AppState) {
    let mut tick = tokio::time::interval(CLEANUP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match crate::ops::store::cleanup::run(&state.db, state.clock.now()).await {
            Ok(removed) => tracing::debug!(?removed, "cleanup done"),
            Err(e) => tracing::warn!(error = %e, "cleanup failed; will retry"),
        }
    }
}
