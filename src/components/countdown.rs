use leptos::prelude::*;

use crate::components::progress::percent;
use crate::i18n::{member::M, I18n};

/// Seconds until the member code changes, as a number and a draining bar.
#[component]
pub fn Countdown(#[prop(into)] secs_left: Signal<i64>, step_secs: i64) -> impl IntoView {
    let i18n = I18n::get();
    let step = step_secs.max(1);
    view! {
        <div class="countdown">
            <span class="countdown-text">
                <span id="countdown">{move || secs_left.get()}</span>
                " "
                {i18n.tr(M::RefreshIn)}
            </span>
            <div class="countdown-bar" aria-hidden="true">
                <div
                    class="countdown-fill"
                    style:width=move || percent(secs_left.get() * 1000 / step)
                ></div>
            </div>
        </div>
    }
}
