//! Time and randomness from the browser (member-core takes both as parameters).

/// The device's unix time in seconds.
pub fn device_unix() -> i64 {
    unix_of_ms(js_sys::Date::now())
}

/// A `Date.now()` reading (ms) in unix seconds.
pub fn unix_of_ms(ms: f64) -> i64 {
    (ms / 1000.0).floor() as i64
}

/// Milliseconds since page start, for time-to-card measurements.
pub fn perf_now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// Random bytes from the platform CSPRNG. `getRandomValues` works on plain http too
/// (unlike `randomUUID`), which matters for a store tablet on the LAN.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .and_then(|c| c.get_random_values_with_u8_array(&mut out).ok())
        .is_some();
    if !filled {
        // Only uniqueness matters for the ids this feeds (idempotency keys, order
        // references), so Math.random is an acceptable last resort.
        for b in &mut out {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    out
}

pub fn random_hex<const N: usize>() -> String {
    random_bytes::<N>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// China has no daylight saving time, so Asia/Shanghai is always UTC+8.
const SHANGHAI_OFFSET_MS: f64 = 8.0 * 3600.0 * 1000.0;

/// An RFC 3339 time as a JS date shifted to Asia/Shanghai (read it with the UTC getters),
/// `shift_ms` added first; `None` if it does not parse.
fn shanghai(at: &str, shift_ms: f64) -> Option<js_sys::Date> {
    let ms = js_sys::Date::parse(at);
    (!ms.is_nan()).then(|| {
        js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
            ms + shift_ms + SHANGHAI_OFFSET_MS,
        ))
    })
}

/// `2025-03-01T04:05:06Z` -> `2025-03-01 12:05` (Asia/Shanghai).
pub fn local_time(at: &str) -> String {
    let Some(d) = shanghai(at, 0.0) else {
        return at.to_string();
    };
    format!(
        "{}-{:02}-{:02} {:02}:{:02}",
        d.get_utc_full_year(),
        d.get_utc_month() + 1,
        d.get_utc_date(),
        d.get_utc_hours(),
        d.get_utc_minutes()
    )
}

/// The last local day before an expiry instant, `YYYY-MM-DD`: points that expire at
/// 2027-01-01 00:00 (Asia/Shanghai) are good through 2026-12-31.
pub fn last_day_before(at: &str) -> String {
    let Some(d) = shanghai(at, -1000.0) else {
        return at.to_string();
    };
    format!(
        "{}-{:02}-{:02}",
        d.get_utc_full_year(),
        d.get_utc_month() + 1,
        d.get_utc_date()
    )
}

/// Unix seconds of an RFC 3339 time, `None` if it does not parse.
pub fn unix_of(at: &str) -> Option<i64> {
    let ms = js_sys::Date::parse(at);
    (!ms.is_nan()).then(|| unix_of_ms(ms))
}
