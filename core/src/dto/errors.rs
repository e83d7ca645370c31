//! Errors and health: the error body every refusal answers with.

use serde::{Deserialize, Serialize};

wire! {
    /// `{"error":{"code","message"}}`
    pub struct ErrorBody {
        pub error: ErrorDetail,
    }

    pub struct ErrorDetail {
        /// snake_case, stable: clients branch on it.
        pub code: String,
        /// Human text for logs and fallback display.
        pub message: String,
    }

    pub struct Health {
        pub status: String,
    }
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
            },
        }
    }
}
