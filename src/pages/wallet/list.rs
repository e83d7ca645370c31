//! The coupon wallet: tabs usable / used / expired with their counts, each coupon as a
//! ticket (benefit, minimum spend, validity, "expires soon", "new"). Opening it clears
//! the "new" marks (the card's red dot) once the list has been shown.

use leptos::{prelude::*, task::spawn_local};
use member_core::dto::{CouponCounts, CouponView};

use super::{Ticket, WalletBar};
use crate::api;
use crate::clock;
use crate::components::error_text::ErrorText;
use crate::i18n::{coupons, errors, fill, wallet::W, I18n};
use crate::nav::Link;
use crate::screens::mall::{code_of, MallScreen, MallState, Tab};
use crate::session;

#[component]
pub fn WalletPage(tab: Tab) -> impl IntoView {
    let i18n = I18n::get();
    let state = MallState::get();
    let list = RwSignal::new(None::<Vec<CouponView>>);
    let counts = RwSignal::new(None::<CouponCounts>);
    let error = RwSignal::new(None::<String>);
    let seen_sent = RwSignal::new(false);

    let load = move || {
        error.set(None);
        spawn_local(async move {
            match api::my_coupons(tab.status()).await {
                Ok(v) => list.set(Some(v)),
                Err(e) => error.set(code_of(e)),
            }
        });
        spawn_local(async move {
            if let Ok(c) = api::coupon_counts().await {
                counts.set(Some(c));
            }
        });
    };
    load();

    // Once the member has seen the list with its "new" badges, the server may forget
    // them; the card's cached member loses its red dot too.
    Effect::new(move |_| {
        let has_new = counts.with(|c| c.as_ref().is_some_and(|c| c.new > 0))
            || list.with(|l| l.as_ref().is_some_and(|l| l.iter().any(|c| c.new)));
        if has_new && list.with(Option::is_some) && !seen_sent.get_untracked() {
            seen_sent.set(true);
            spawn_local(async move {
                if api::coupons_seen().await.is_ok() {
                    state.me.update(|m| {
                        if let Some(m) = m {
                            m.coupons_new = 0;
                            session::save_me(m);
                        }
                    });
                }
            });
        }
    });

    let now = clock::device_unix();
    let tab_link = move |t: Tab| {
        let (id, label) = match t {
            Tab::Usable => ("tab-usable", W::TabUsable),
            Tab::Used => ("tab-used", W::TabUsed),
            Tab::Expired => ("tab-expired", W::TabExpired),
        };
        let count = move || {
            counts.with(|c| {
                c.as_ref().map(|c| match t {
                    Tab::Usable => c.usable,
                    Tab::Used => c.used,
                    Tab::Expired => c.expired,
                })
            })
        };
        view! {
            <Link
                to=MallScreen::Wallet(t)
                id=id
                class=if t == tab { "wallet-tab active" } else { "wallet-tab" }
                attr:aria-current=(t == tab).then_some("page")
            >
                <span>{i18n.tr(label)}</span>
                <span class="tab-count">{move || count().map(|n| n.to_string())}</span>
            </Link>
        }
    };

    let card = move |c: CouponView| {
        let lang = i18n.lang();
        let dim = tab != Tab::Usable;
        let valid = coupons::validity_text(lang, c.valid_from_ts, c.expires_ts, now);
        let mark = (c.status == "usable")
            .then(|| coupons::expiry_mark(lang, c.expires_ts, now))
            .flatten();
        let used = (c.status == "used").then(|| {
            let time = c
                .used_at
                .as_deref()
                .map(clock::local_time)
                .unwrap_or_default();
            let at = match c.used_store_name.as_deref() {
                Some(store) => fill(i18n.t(W::UsedAtStore), &[("time", &time), ("store", store)]),
                None => fill(i18n.t(W::UsedAt), &[("time", &time)]),
            };
            let saved = c
                .discount_cents
                .filter(|d| *d > 0)
                .map(|d| fill(i18n.t(W::Saved), &[("amount", &coupons::yuan(d))]));
            view! {
                <div class="coupon-used small">
                    {at}
                    {saved.map(|s| view! { <strong class="coupon-saved">{s}</strong> })}
                </div>
            }
        });
        let status_tag = (tab == Tab::Expired || c.status == "upcoming")
            .then(|| coupons::status_text(lang, &c.status));
        view! {
            <li class=format!("coupon status-{}", c.status) data-coupon-id=c.id.to_string() data-status=c.status.clone()>
                <Link to=MallScreen::Coupon(c.id) class="coupon-link">
                    <Ticket benefit=c.benefit.clone() min_spend_cents=c.min_spend_cents dim=dim>
                        <div class="coupon-name">
                            <span>{c.name.clone()}</span>
                            {c.new.then(|| view! { <span class="badge-new">{i18n.t(W::New)}</span> })}
                        </div>
                        <div class="coupon-valid small subtle">{valid}</div>
                        <div class="coupon-tags">
                            {mark.map(|m| view! { <span class="tag warn expiring-mark">{m}</span> })}
                            {status_tag.map(|s| view! { <span class="tag">{s}</span> })}
                            <span class="tag">{coupons::source_text(lang, &c.source)}</span>
                        </div>
                        {used}
                    </Ticket>
                </Link>
            </li>
        }
    };

    let body = move || {
        let Some(items) = list.get() else {
            return view! {
                <p class="subtle center pad" hidden=move || error.with(Option::is_some)>
                    {i18n.tr(W::Loading)}
                </p>
            }
            .into_any();
        };
        if items.is_empty() {
            let text = match tab {
                Tab::Usable => W::EmptyUsable,
                Tab::Used => W::EmptyUsed,
                Tab::Expired => W::EmptyExpired,
            };
            return view! {
                <div id="coupons-empty" class="empty">
                    <p>{i18n.tr(text)}</p>
                    <Show when=move || tab == Tab::Usable>
                        <Link to=MallScreen::List id="go-mall" class="button primary">
                            {i18n.tr(W::GoMall)}
                        </Link>
                    </Show>
                </div>
            }
            .into_any();
        }
        view! {
            <ul id="coupon-list" class="coupon-list">
                {items.into_iter().map(card).collect_view()}
            </ul>
        }
        .into_any()
    };

    view! {
        <div class="page mall-page wallet-page">
            <WalletBar title=W::Title back=None />
            // Links to three screens, not tabs of one: no tablist role (it would need
            // tab children and arrow-key handling).
            <nav class="wallet-tabs" aria-label=i18n.tr(W::Coupons)>
                {Tab::ALL.into_iter().map(tab_link).collect_view()}
            </nav>
            <main class="mall-main">
                <ErrorText error=error texts=errors::mall_error_text />
                <button
                    type="button"
                    class="button secondary block"
                    hidden=move || error.with(Option::is_none)
                    on:click=move |_| load()
                >
                    {i18n.tr(W::Retry)}
                </button>
                {body}
                <Link to=MallScreen::Profile id="profile-link" class="profile-hint">
                    <span>{i18n.tr(W::BirthdayHint)}</span>
                    <span aria-hidden="true">"›"</span>
                </Link>
            </main>
        </div>
    }
}
