use leptos::prelude::*;

use crate::i18n::{member::M, I18n};

/// `#lang-toggle`: switches zh-CN <-> en and remembers the choice.
///
/// Its spoken name starts with the text it shows ("EN, Switch to English"): someone
/// using voice control says what they see.
#[component]
pub fn LangToggle() -> impl IntoView {
    let i18n = I18n::get();
    view! {
        <button
            id="lang-toggle"
            type="button"
            class="lang-toggle"
            aria-label=move || format!("{}, {}", i18n.t(M::LangToggle), i18n.t(M::LangToggleLabel))
            on:click=move |_| i18n.toggle()
        >
            {i18n.tr(M::LangToggle)}
        </button>
    }
}
