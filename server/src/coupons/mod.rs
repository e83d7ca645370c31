//! Coupons: the wallet, issuing, templates.

pub mod http;
pub mod store;

/// The routes of this feature.
pub fn routes() -> axum::Router<crate::state::AppState> {
    axum::Router::new()
        .merge(http::wallet::routes())
        .merge(http::admin::routes())
}
