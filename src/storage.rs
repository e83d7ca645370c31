//! localStorage, best effort: private modes and some in-app browsers refuse it, and the
//! app must still work then (just without the warm start).

use serde::{de::DeserializeOwned, Serialize};

fn local() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

pub fn get(key: &str) -> Option<String> {
    local()?.get_item(key).ok().flatten()
}

pub fn set(key: &str, value: &str) {
    if let Some(s) = local() {
        let _ = s.set_item(key, value);
    }
}

pub fn remove(key: &str) {
    if let Some(s) = local() {
        let _ = s.remove_item(key);
    }
}

pub fn get_json<T: DeserializeOwned>(key: &str) -> Option<T> {
    crate::json::decode(&get(key)?)
}

pub fn set_json<T: Serialize>(key: &str, value: &T) {
    if let Some(text) = crate::json::encode(value) {
        set(key, &text);
    }
}
