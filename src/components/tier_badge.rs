use leptos::prelude::*;

use crate::i18n::{tier_name, I18n};

/// Tier name on a colour keyed by the tier code (`.tier-gold`, ...; unknown codes get
/// the neutral style).
#[component]
pub fn TierBadge(
    #[prop(into)] code: Signal<String>,
    #[prop(into)] name: Signal<String>,
    #[prop(optional)] id: Option<&'static str>,
) -> impl IntoView {
    let i18n = I18n::get();
    view! {
        <span id=id class=move || format!("tier-badge tier-{}", code.get())>
            {move || tier_name(i18n.lang(), &code.get(), &name.get())}
        </span>
    }
}
