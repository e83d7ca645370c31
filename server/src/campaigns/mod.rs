//! Campaigns: claim links, manual issues, scheduled gifts (birthday, member day, win-back).

pub mod http;
pub mod jobs;
pub mod store;

/// The routes of this feature.
pub fn routes() -> axum::Router<crate::state::AppState> {
    axum::Router::new()
        .merge(http::admin::routes())
        .merge(http::claims::routes())
}
