//! The tier program: versions, earning growth, upgrades, evaluation periods, tasks.

pub mod http;
pub mod jobs;
pub mod store;

/// The routes of this feature.
pub fn routes() -> axum::Router<crate::state::AppState> {
    axum::Router::new()
        .merge(http::admin::routes())
        .merge(http::me::routes())
        .merge(http::tasks::routes())
}
