//! Sign-up: signed poster and badge links, attribution, referrals, the brand's settings.

pub mod http;
pub mod store;

/// The routes of this feature.
pub fn routes() -> axum::Router<crate::state::AppState> {
    axum::Router::new()
        .merge(http::signup::routes())
        .merge(http::qr::routes())
}
