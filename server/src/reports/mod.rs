//! Reports: sign-ups and referrals by store, channel, staff and day.

pub mod http;
pub mod store;

/// The routes of this feature.
pub fn routes() -> axum::Router<crate::state::AppState> {
    axum::Router::new().merge(http::routes())
}
