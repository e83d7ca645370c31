//! Member Center web app (placeholder until the app lands).
