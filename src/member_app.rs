//! Root of the member bundle: sign-in and the e-card (the points history is in the mall
//! bundle, like the tier pages, to keep the card's first load small).

use leptos::prelude::*;

use crate::i18n::I18n;
use crate::pages::{card::CardPage, login::LoginPage};

use crate::screens::member::{MemberNav, MemberScreen};

#[component]
pub fn MemberApp() -> impl IntoView {
    I18n::provide();
    let nav = MemberNav::provide();
    move || match nav.current() {
        MemberScreen::Card => view! { <CardPage /> }.into_any(),
        MemberScreen::Login => view! { <LoginPage /> }.into_any(),
    }
}

pub fn mount() {
    leptos::mount::mount_to_body(MemberApp);
    // The first screen has been built: a card page took its prefetched responses; any
    // left (another screen came first) must not serve a later card.
    crate::api::drop_prefetches();
}
