use leptos::prelude::*;

use crate::i18n::{member::M, I18n};

/// `#lang-toggle`: switches zh-CN <-> en and remembers the choice.
#[component]
pub fn LangToggle() -> impl IntoView {
    let i18n = I18n::get();
    view! {
        <button
            id="lang-toggle"
            type="button"
            class="lang-toggle"
            aria-label=i18n.tr(M::LangToggleLabel)
            on:click=move |_| i18n.toggle()
        >
            {i18n.tr(M::LangToggle)}
        </button>
    }
}
