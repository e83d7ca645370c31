//! Answers of requests under an Idempotency-Key: the fresh result, or the stored answer
//! of the first request with the key (marked `idempotent-replayed: true`).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::idempotency::Outcome;
use crate::http::extract::Json;

/// The stored answer, byte for byte, with the replay marker.
pub fn replayed(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// `fresh` as JSON with `status`, or the replay.
pub fn respond<T: Serialize>(outcome: Outcome<T>, status: StatusCode) -> Response {
    match outcome {
        Outcome::Fresh(value) => (status, Json(value)).into_response(),
        Outcome::Replayed { status, body } => replayed(status, body),
    }
}

/// A request fingerprint from its fields: each length-prefixed, so no two different
/// field lists hash alike.
pub fn request_hash(fields: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for f in fields {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f);
    }
    crate::crypto::hex(&h.finalize())
}
