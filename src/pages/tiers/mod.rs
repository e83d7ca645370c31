//! The tier screens of the mall bundle: tiers and benefits side by side (`/tiers`), the
//! growth history (`/growth`) and the inbox (`/inbox`). The numbers (what keeping the
//! tier takes, what is still missing) come from the server, which computes them with
//! the same `member_core::tier_program` rules its evaluations use.

pub mod benefits;
pub mod growth;
pub mod inbox;

use leptos::prelude::*;
use member_core::dto::TierRef;

use crate::components::lang_toggle::LangToggle;
use crate::i18n::{fill, tier_name, tiers::T, I18n, Lang};

/// Back to the card (the member app: a page load), the title, the language toggle.
#[component]
pub fn TierBar(title: T) -> impl IntoView {
    let i18n = I18n::get();
    view! {
        <header class="brand-bar">
            <a href="/" class="back-link" id="back-to-card">
                {move || format!("‹ {}", i18n.t(T::BackToCard))}
            </a>
            <h1 class="brand mall-title">{i18n.tr(title)}</h1>
            <LangToggle />
        </header>
    }
}

/// A tier's name in `lang` (English names for the standard codes).
pub fn name_of(lang: Lang, t: &TierRef) -> String {
    tier_name(lang, &t.code, &t.name)
}

/// "保级金卡：2027-06-30 前再获得 320 成长值" or "已保级金卡至 2027-06-30".
pub fn keep_text(lang: Lang, k: &member_core::dto::KeepTierView) -> String {
    let tier = name_of(lang, &k.tier);
    if k.growth_needed > 0 {
        fill(
            T::KeepNeed.text(lang),
            &[
                ("tier", &tier),
                ("date", &k.until),
                ("n", &k.growth_needed.to_string()),
            ],
        )
    } else {
        fill(
            T::KeepDone.text(lang),
            &[("tier", &tier), ("date", &k.until)],
        )
    }
}

use crate::i18n::Text;
