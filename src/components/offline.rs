use leptos::prelude::*;

use crate::i18n::{member::M, I18n};

/// `#offline`: what a screen shows instead of its content when the network is gone, with
/// a retry that runs the screen's own load again.
#[component]
pub fn Offline(on_retry: Callback<()>) -> impl IntoView {
    let i18n = I18n::get();
    view! {
        <div id="offline" class="offline-state empty" role="status">
            <p><strong>{i18n.tr(M::Offline)}</strong></p>
            <p class="subtle small">{i18n.tr(M::OfflineHint)}</p>
            <button
                id="offline-retry"
                type="button"
                class="button secondary"
                on:click=move |_| on_retry.run(())
            >
                {i18n.tr(M::Retry)}
            </button>
        </div>
    }
}
