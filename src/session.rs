//! The member's card kept on the device: the last `MeView` and the card key, so a warm
//! start draws the card (and a valid code, even offline) before any request returns.
//! The HttpOnly cookie is the real session; this is only a cache of what it showed.

use member_core::card_code::CardKey;
use member_core::dto::{CardKeyView, MeView};
use serde::{Deserialize, Serialize};

use crate::{clock, storage};

const ME_KEY: &str = "mc.me";
const CARD_KEY: &str = "mc.card";

/// What the device needs to compute the member's code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceKey {
    pub member_no: String,
    pub key: CardKey,
    pub step_secs: i64,
    /// Server time minus device time, in seconds, measured when the key was fetched.
    pub clock_offset: i64,
}

impl DeviceKey {
    pub fn from_view(view: &CardKeyView, device_unix: i64) -> Option<Self> {
        Some(Self {
            member_no: view.member_no.clone(),
            key: CardKey::from_hex(&view.key_hex)?,
            step_secs: view.step_secs,
            clock_offset: view.server_unix - device_unix,
        })
    }

    /// The device clock corrected to the server's.
    pub fn server_unix(&self, device_unix: i64) -> i64 {
        device_unix + self.clock_offset
    }
}

#[derive(Serialize, Deserialize)]
struct StoredKey {
    member_no: String,
    key_hex: String,
    step_secs: i64,
    clock_offset: i64,
}

pub fn load_me() -> Option<MeView> {
    storage::get_json(ME_KEY)
}

pub fn save_me(me: &MeView) {
    storage::set_json(ME_KEY, me);
}

pub fn load_key() -> Option<DeviceKey> {
    let stored: StoredKey = storage::get_json(CARD_KEY)?;
    Some(DeviceKey {
        member_no: stored.member_no,
        key: CardKey::from_hex(&stored.key_hex)?,
        step_secs: stored.step_secs,
        clock_offset: stored.clock_offset,
    })
}

/// The device time the server's `server_unix` is compared with: when the response arrived
/// (`arrived_ms`, a `Date.now()` reading, if recorded), else `now`.
fn device_unix_at(arrived_ms: Option<f64>, now: impl FnOnce() -> i64) -> i64 {
    arrived_ms
        .filter(|ms| ms.is_finite() && *ms > 0.0)
        .map_or_else(now, clock::unix_of_ms)
}

/// Parses a fresh key from the server, stores it, and returns it. `arrived_ms`: when the
/// response arrived, if that was recorded (the prefetch in index.html), so the download
/// time of the wasm does not skew the clock offset.
pub fn accept_key(view: &CardKeyView, arrived_ms: Option<f64>) -> Option<DeviceKey> {
    let key = DeviceKey::from_view(view, device_unix_at(arrived_ms, clock::device_unix))?;
    storage::set_json(
        CARD_KEY,
        &StoredKey {
            member_no: key.member_no.clone(),
            key_hex: view.key_hex.clone(),
            step_secs: key.step_secs,
            clock_offset: key.clock_offset,
        },
    );
    Some(key)
}

/// Signed out (or the server said the session is gone): forget the card on this device.
pub fn clear() {
    storage::remove(ME_KEY);
    storage::remove(CARD_KEY);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn clock_offset_corrects_device_time() {
        let view = CardKeyView {
            member_no: "8600012345".into(),
            key_hex: "ab".repeat(32),
            step_secs: 30,
            server_unix: 1_700_000_100,
        };
        let key = DeviceKey::from_view(&view, 1_700_000_000).unwrap();
        assert_eq!(key.clock_offset, 100);
        assert_eq!(key.server_unix(1_700_000_010), 1_700_000_110);
        let bad = CardKeyView {
            key_hex: "zz".into(),
            ..view
        };
        assert!(DeviceKey::from_view(&bad, 0).is_none());
    }

    #[test]
    fn clock_offset_is_measured_when_the_response_arrived() {
        // Arrived at device time 1_700_000_000.9 s; read 4 s later, after the wasm loaded.
        assert_eq!(
            device_unix_at(Some(1_700_000_000_900.0), || 1_700_000_004),
            1_700_000_000
        );
        // Not recorded (a plain request) or nonsense: the time it is read.
        assert_eq!(device_unix_at(None, || 1_700_000_004), 1_700_000_004);
        assert_eq!(device_unix_at(Some(f64::NAN), || 7), 7);
        assert_eq!(device_unix_at(Some(0.0), || 7), 7);
    }
}
