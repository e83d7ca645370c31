//! Periodic housekeeping. Every instance runs it; the work is idempotent deletes.

use std::time::Duration;

use crate::state::AppState;

const EVERY: Duration = Duration::from_secs(600);

pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match crate::db::cleanup::run(&state.db, state.clock.now()).await {
            Ok(removed) => tracing::debug!(?removed, "cleanup done"),
            Err(e) => tracing::warn!(error = %e, "cleanup failed; will retry"),
        }
    }
}
