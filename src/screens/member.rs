//! The screens of the member bundle: sign-in and the e-card.

use crate::nav::{Nav, Screens};

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
