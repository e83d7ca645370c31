//! Root of the member bundle: sign-in and the e-card (the points history is in the mall
//! bundle, like the tier pages, to keep the card's first load small).

use leptos::prelude::*;

use crate::i18n::I18n;
use crate::nav::{Nav, Screens};
use crate::pages::{card::CardPage, login::LoginPage};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberScreen {
    Card,
    Login,
}

impl Screens for MemberScreen {
    fn from_path(path: &str) -> Self {
        match path.trim_end_matches('/') {
            "/login" => Self::Login,
            // Unknown paths show the card (which sends a signed-out visitor to sign in).
            _ => Self::Card,
        }
    }

    fn path(self) -> String {
        let path = match self {
            Self::Card => "/",
            Self::Login => "/login",
        };
        path.to_string()
    }
}

pub type MemberNav = Nav<MemberScreen>;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        for s in [MemberScreen::Card, MemberScreen::Login] {
            assert_eq!(MemberScreen::from_path(&s.path()), s);
        }
        assert_eq!(MemberScreen::from_path("/nope"), MemberScreen::Card);
    }
}
