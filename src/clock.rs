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
