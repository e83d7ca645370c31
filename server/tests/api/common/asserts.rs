//! Asserts on answers: exact JSON errors, JSON bodies, throttled guesses; small makers
//! of test input (phones, idempotency keys).

use reqwest::{Response, StatusCode};
use serde_json::Value;

use super::*;

/// Asserts a JSON error: the status and exactly `{"error":{"code","message"}}`.
pub async fn assert_error(resp: Response, status: StatusCode, code: &str) -> Value {
    let got_status = resp.status();
    let url = resp.url().clone();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = resp.text().await.unwrap_or_default();
    assert_eq!(
        got_status, status,
        "{url}: expected {status} {code}, got {got_status} body {text:?}"
    );
    assert!(
        ct.starts_with("application/json"),
        "{url}: error content-type {ct:?}, body {text:?}"
    );
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{url}: error body is not JSON ({e}): {text:?}"));
    let obj = v.as_object().expect("error body is an object");
    assert_eq!(obj.len(), 1, "{url}: only `error` at top level: {text}");
    let err = obj
        .get("error")
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("{url}: no `error` object: {text}"));
    assert_eq!(
        err.len(),
        2,
        "{url}: error has exactly code+message: {text}"
    );
    assert_eq!(
        err.get("code").and_then(Value::as_str),
        Some(code),
        "{url}: error code; body {text}"
    );
    let msg = err.get("message").and_then(Value::as_str).unwrap_or("");
    assert!(!msg.is_empty(), "{url}: empty error message: {text}");
    v
}

/// Asserts a JSON error with any code, for answers where only "not a 500, a JSON error"
/// is specified. Returns the code.
pub async fn assert_any_error(resp: Response, allowed: &[StatusCode]) -> String {
    let status = resp.status();
    let url = resp.url().clone();
    let text = resp.text().await.unwrap_or_default();
    assert!(
        allowed.contains(&status),
        "{url}: expected one of {allowed:?}, got {status} body {text:?}"
    );
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{url}: error body is not JSON ({e}): {text:?}"));
    v.pointer("/error/code")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{url}: no error.code: {text}"))
        .to_string()
}

pub async fn json_ok(resp: Response, status: StatusCode) -> Value {
    let got = resp.status();
    let url = resp.url().clone();
    let text = resp.text().await.unwrap_or_default();
    assert_eq!(got, status, "{url}: body {text:?}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {text:?}"))
}

/// Distinct phones for a test: 139 0000 NNNN.
/// Waits for parallel guesses (tasks answering a status) and asserts each was either
/// checked and refused (`checked_as`) or turned away unchecked (429), with at most
/// `budget` checked; `what` names the guesses in the failure.
pub async fn assert_guesses_throttled(
    guesses: impl IntoIterator<Item = tokio::task::JoinHandle<StatusCode>>,
    checked_as: StatusCode,
    budget: usize,
    what: &str,
) {
    let statuses: Vec<StatusCode> = futures::future::join_all(guesses)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    assert!(
        statuses
            .iter()
            .all(|s| *s == checked_as || *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let checked = statuses.iter().filter(|s| **s == checked_as).count();
    assert!(
        checked <= budget,
        "{checked} of {} parallel {what} were checked (budget {budget}): {statuses:?}",
        statuses.len()
    );
}

pub fn phone(n: u32) -> String {
    format!("1390000{:04}", n % 10_000)
}

pub fn idem() -> String {
    format!("test-{}", random_suffix())
}

pub fn set_cookie_headers(resp: &Response) -> Vec<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect()
}
