//! A claim link (`/claim/{token}`, printed as a QR on a poster or shared in a chat):
//! what it gives, how many are left, and "立即领取". Visitors see the offer too; they
//! sign in on the member app, which brings them back here.

use leptos::{prelude::*, task::spawn_local};
use member_core::dto::{codes, ClaimView};

use super::{Ticket, WalletBar};
use crate::api;
use crate::components::error_text::ErrorText;
use crate::i18n::{errors, fill, wallet::W, I18n};
use crate::nav::Link;
use crate::screens::mall::{sign_in_url, ClaimToken, MallScreen, MallState, Tab};

/// Where the claim stands for this visitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Just claimed, or claimed before (`true`).
    Claimed {
        before: bool,
    },
    Closed,
    Exhausted,
}

#[component]
pub fn ClaimPage(token: ClaimToken) -> impl IntoView {
    let i18n = I18n::get();
    let state = MallState::get();
    let offer = RwSignal::new(None::<ClaimView>);
    let outcome = RwSignal::new(None::<Outcome>);
    let error = RwSignal::new(None::<String>);
    let invalid = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let signed_out = RwSignal::new(false);

    let load = move || {
        spawn_local(async move {
            match api::claim_view(token.as_str()).await {
                Ok(v) => {
                    if v.claimed {
                        if outcome.get_untracked().is_none() {
                            outcome.set(Some(Outcome::Claimed { before: true }));
                        }
                    } else if !v.open {
                        outcome.set(Some(Outcome::Closed));
                    } else if v.remaining == Some(0) {
                        outcome.set(Some(Outcome::Exhausted));
                    }
                    offer.set(Some(v));
                }
                Err(e) if e.code() == codes::NOT_FOUND => invalid.set(true),
                Err(e) => error.set(Some(e.code().to_string())),
            }
        });
    };
    load();

    let claim = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::claim(token.as_str()).await {
                Ok(r) => {
                    outcome.set(Some(Outcome::Claimed {
                        before: r.already_claimed,
                    }));
                    state.refresh_me();
                    // The count left has moved.
                    load();
                }
                Err(e) if e.is_unauthenticated() => signed_out.set(true),
                Err(e) if e.code() == codes::CAMPAIGN_CLOSED => outcome.set(Some(Outcome::Closed)),
                Err(e) if e.code() == codes::COUPONS_EXHAUSTED => {
                    outcome.set(Some(Outcome::Exhausted))
                }
                Err(e) if e.code() == codes::NOT_FOUND => invalid.set(true),
                Err(e) => error.set(Some(e.code().to_string())),
            }
            busy.set(false);
        });
    };

    let needs_sign_in = move || signed_out.get() || state.signed_in.get() == Some(false);
    let here = MallScreen::Claim(token);
    let login_href = sign_in_url(&crate::nav::Screens::path(here));

    let offer_view = move || {
        let v = offer.get()?;
        let remaining = v
            .remaining
            .filter(|n| *n > 0)
            .map(|n| fill(i18n.t(W::Remaining), &[("n", &n.to_string())]));
        let coupons = v
            .coupons
            .into_iter()
            .map(|c| {
                let times = (c.quantity > 1)
                    .then(|| fill(i18n.t(W::Times), &[("n", &c.quantity.to_string())]));
                view! {
                    <li class="coupon">
                        <Ticket benefit=c.benefit.clone() min_spend_cents=c.min_spend_cents>
                            <div class="coupon-name">
                                <span>{c.name.clone()}</span>
                                {times.map(|t| view! { <span class="coupon-times">{t}</span> })}
                            </div>
                        </Ticket>
                    </li>
                }
            })
            .collect_view();
        Some(view! {
            <h1 id="claim-name" class="claim-name">{v.name.clone()}</h1>
            <ul id="claim-coupons" class="coupon-list">{coupons}</ul>
            <p id="claim-remaining" class="claim-remaining" hidden=remaining.is_none()>
                {remaining.clone()}
            </p>
        })
    };

    let action = move || {
        let done = |text: W| {
            view! {
                <div id="claim-done" class="notice success" role="status">
                    <strong>{i18n.t(text)}</strong>
                </div>
                <Link to=MallScreen::Wallet(Tab::Usable) id="view-wallet" class="button primary block big">
                    {i18n.t(W::ViewWallet)}
                </Link>
            }
            .into_any()
        };
        match outcome.get() {
            Some(Outcome::Claimed { before: false }) => return done(W::ClaimedNow),
            Some(Outcome::Claimed { before: true }) => return done(W::AlreadyClaimed),
            Some(Outcome::Closed) => {
                return view! { <p id="claim-closed" class="claim-state">{i18n.t(W::Closed)}</p> }
                    .into_any()
            }
            Some(Outcome::Exhausted) => {
                return view! { <p id="claim-closed" class="claim-state">{i18n.t(W::Exhausted)}</p> }
                    .into_any()
            }
            None => {}
        }
        if offer.with(Option::is_none) {
            return ().into_any();
        }
        if needs_sign_in() {
            return view! {
                <p class="subtle small">{i18n.t(W::SignInHint)}</p>
                <a id="claim-login" href=login_href.clone() class="button primary block big">
                    {i18n.t(W::SignInToClaim)}
                </a>
            }
            .into_any();
        }
        view! {
            <button
                id="claim-button"
                type="button"
                class="button primary block big"
                disabled=move || busy.get()
                on:click=claim
            >
                {move || if busy.get() { i18n.t(W::Claiming) } else { i18n.t(W::ClaimNow) }}
            </button>
        }
        .into_any()
    };

    view! {
        <div class="page mall-page claim-page">
            <WalletBar title=W::ClaimTitle back=None />
            <main class="panel claim">
                <p class="empty" hidden=move || !invalid.get()>{i18n.tr(W::NoSuchLink)}</p>
                <p
                    class="subtle center"
                    hidden=move || offer.with(Option::is_some) || invalid.get() || error.with(Option::is_some)
                >
                    {i18n.tr(W::Loading)}
                </p>
                {offer_view}
                <ErrorText error=error texts=errors::mall_error_text />
                <div class="claim-action">{action}</div>
            </main>
        </div>
    }
}
