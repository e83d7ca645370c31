//! The member's own account: the card, its key and code, the points history, the profile.

pub mod http;
pub mod store;
pub mod views;

/// The routes of this feature.
pub fn routes() -> axum::Router<crate::state::AppState> {
    axum::Router::new()
        .merge(http::me::routes())
        .merge(http::profile::routes())
}
