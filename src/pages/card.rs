//! The member e-card: dynamic QR code, tier, points, growth and progress to the next tier.
//!
//! A warm start draws the card from the device cache with no request at all; `/me` and
//! `/me/card-key` are then fetched concurrently and replace it. The code itself is
//! computed on the device from the card key, so it keeps working offline.

use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};
use member_core::card_code;
use member_core::dto::{KeepTierView, MeView};

use crate::api;
use crate::clock;
use crate::components::error_text::ErrorText;
use crate::components::{
    countdown::Countdown, lang_toggle::LangToggle, progress::ProgressBar, qr::qr_svg,
    tier_badge::TierBadge,
};
use crate::i18n::{fill, member::M, tier_name, I18n, Lang};
use crate::screens::member::{MemberNav, MemberScreen};
use crate::session;

/// Records when the QR code first appeared (read by the time-to-card benchmark).
fn mark_card_drawn() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let prop = wasm_bindgen::JsValue::from_str("__mc_card_ms");
    let unset = js_sys::Reflect::get(&window, &prop).is_ok_and(|v| v.is_undefined());
    if unset {
        let _ = js_sys::Reflect::set(&window, &prop, &clock::perf_now().into());
    }
}

/// Whether a key (by its member number) may draw the code for the member shown (if known
/// yet): a key cached for another member (shared device, another tab) must not.
fn key_is_usable(key_member_no: Option<&str>, member_no: Option<&str>) -> bool {
    key_member_no.is_some_and(|k| member_no.is_none_or(|m| m == k))
}

/// `2026-12-31` -> `2026年12月31日` / `Dec 31, 2026`; anything else as it came.
fn expiry_date(lang: Lang, last_day: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = last_day.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return last_day.to_string();
    };
    let (Ok(m), Ok(d)) = (m.parse::<usize>(), d.parse::<u32>()) else {
        return last_day.to_string();
    };
    match (lang, MONTHS.get(m.wrapping_sub(1))) {
        (Lang::ZhCn, _) => format!("{y}年{m}月{d}日"),
        (Lang::En, Some(month)) => format!("{month} {d}, {y}"),
        (Lang::En, None) => last_day.to_string(),
    }
}

/// The keep line as the member reads it: right after an upgrade it says so, and what
/// keeps the tier by when; otherwise what is still missing, or that it is kept.
fn keep_text(lang: Lang, k: &KeepTierView) -> String {
    use crate::i18n::Text;
    let key = match (k.upgraded, k.growth_needed > 0) {
        (true, true) => M::UpgradedKeepNeed,
        (true, false) => M::UpgradedKeepDone,
        (false, true) => M::KeepNeed,
        (false, false) => M::KeepDone,
    };
    fill(
        key.text(lang),
        &[
            ("tier", &tier_name(lang, &k.tier.code, &k.tier.name)),
            ("date", &expiry_date(lang, &k.until)),
            ("n", &k.growth_needed.to_string()),
        ],
    )
}

fn page_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

#[component]
pub fn CardPage() -> impl IntoView {
    let i18n = I18n::get();
    let nav = MemberNav::get();

    let me = RwSignal::new(session::load_me());
    let key = RwSignal::new(session::load_key());
    let offline = RwSignal::new(false);
    let load_error = RwSignal::new(None::<String>);
    let action_error = RwSignal::new(None::<String>);
    let now = RwSignal::new(clock::device_unix());

    let tick = set_interval_with_handle(
        move || {
            let t = clock::device_unix();
            if t != now.get_untracked() {
                now.set(t);
            }
        },
        Duration::from_millis(250),
    )
    .ok();
    on_cleanup(move || {
        if let Some(t) = tick {
            t.clear();
        }
    });

    let signed_out = move || {
        session::clear();
        nav.replace(MemberScreen::Login);
    };

    // `prefetch`: the response index.html started for the first load (see api.rs).
    let refresh_me = move |prefetch: Option<api::Prefetch>| {
        spawn_local(async move {
            match api::me_with(prefetch).await {
                Ok(view) => {
                    session::save_me(&view);
                    me.set(Some(view));
                    offline.set(false);
                    load_error.set(None);
                }
                Err(e) if e.is_unauthenticated() => signed_out(),
                Err(e) => {
                    if me.with_untracked(Option::is_some) {
                        offline.set(e.is_network());
                    } else {
                        load_error.set(Some(e.code().to_string()));
                    }
                }
            }
        });
    };
    let refresh_key = move |prefetch: Option<api::Prefetch>| {
        spawn_local(async move {
            match api::card_key_with(prefetch).await {
                Ok((view, arrived_ms)) => {
                    if let Some(k) = session::accept_key(&view, arrived_ms) {
                        key.set(Some(k));
                    }
                }
                Err(e) if e.is_unauthenticated() => signed_out(),
                // Keep the cached key: the card still shows valid codes offline.
                Err(_) => {}
            }
        });
    };
    // Concurrently, not one after the other; on the first card of a visit, from the
    // requests index.html already started (taken now, synchronously, before `mount`
    // drops whatever is left).
    refresh_me(api::take_prefetch("me"));
    refresh_key(api::take_prefetch("key"));

    // A key cached for another member (shared device) must not draw a code.
    let active_key = Memo::new(move |_| {
        let k = key.get()?;
        let usable = me
            .with(|m| key_is_usable(Some(&k.member_no), m.as_ref().map(|m| m.member_no.as_str())));
        usable.then_some(k)
    });
    let server_now = move || {
        let offset = active_key.with(|k| k.as_ref().map_or(0, |k| k.clock_offset));
        now.get() + offset
    };
    let code = Memo::new(move |_| {
        let t = server_now();
        active_key.with(|k| {
            k.as_ref()
                .map(|k| card_code::code_at(&k.member_no, &k.key, t))
        })
    });
    let secs_left = Memo::new(move |_| card_code::secs_left_in_step(server_now()));
    let step = Memo::new(move |_| card_code::step_at(server_now()));
    let qr = Memo::new(move |_| {
        let label = i18n.t(M::QrLabel);
        code.with(|c| c.as_deref().map(|c| qr_svg(c, label)).unwrap_or_default())
    });

    Effect::new(move |_| {
        if qr.with(|s| !s.is_empty()) {
            mark_card_drawn();
        }
    });
    // Each new code is also a cheap moment to pick up points credited at the till, and
    // to try again for a key if there is no usable one (the first `/me/card-key` failed,
    // or the cached key is another member's after a sign-in in another tab).
    Effect::new(move |prev: Option<i64>| {
        let s = step.get();
        if prev.is_some_and(|p| p != s) && !page_hidden() {
            refresh_me(None);
            if active_key.with_untracked(Option::is_none) {
                refresh_key(None);
            }
        }
        s
    });

    // Sign-out asks first: the button sits among the links a thumb reaches for.
    let asking = RwSignal::new(false);
    let logout = move |_| {
        asking.set(false);
        action_error.set(None);
        spawn_local(async move {
            match api::logout().await {
                Ok(()) => signed_out(),
                Err(e) if e.is_unauthenticated() => signed_out(),
                Err(e) => action_error.set(Some(e.code().to_string())),
            }
        });
    };

    let text =
        move |f: fn(&MeView) -> String| move || me.with(|m| m.as_ref().map(f).unwrap_or_default());
    let tier_code = Signal::derive(text(|m| m.tier.code.clone()));
    let tier_label = Signal::derive(text(|m| m.tier.name.clone()));
    let permille =
        Signal::derive(move || me.with(|m| m.as_ref().map_or(0, |m| m.progress_permille)));
    let hint = move || {
        let lang = i18n.lang();
        me.with(|m| match m.as_ref().and_then(|m| m.next_tier.as_ref()) {
            Some(next) => fill(
                i18n.t(M::NextTierHint),
                &[
                    ("n", &next.growth_needed.to_string()),
                    ("tier", &tier_name(lang, &next.code, &next.name)),
                ],
            ),
            None => i18n.t(M::TopTier).to_string(),
        })
    };
    // Both numbers come from the server's own keep rule (member_core::tier_program::keep).
    let keep = move || {
        let lang = i18n.lang();
        me.with(|m| Some(keep_text(lang, m.as_ref()?.keep.as_ref()?)))
    };
    let unread = move || me.with(|m| m.as_ref().map_or(0, |m| m.notifications_unread));
    let expiring = move || {
        let lang = i18n.lang();
        me.with(|m| {
            let e = m.as_ref()?.expiring.as_ref()?;
            Some(fill(
                i18n.t(M::Expiring),
                &[
                    ("n", &e.points.to_string()),
                    ("date", &expiry_date(lang, &e.last_day)),
                ],
            ))
        })
    };
    let has_me = Memo::new(move |_| me.with(Option::is_some));
    let retry = move || {
        load_error.set(None);
        refresh_me(None);
        refresh_key(None);
    };

    let card = move || {
        if !has_me.get() {
            return view! {
                <main class="panel center">
                    <ErrorText error=load_error />
                    <button
                        class="button primary"
                        hidden=move || load_error.with(Option::is_none)
                        on:click=move |_| retry()
                    >
                        {i18n.tr(M::Retry)}
                    </button>
                    <p class="subtle" hidden=move || load_error.with(Option::is_some)>
                        {i18n.tr(M::Loading)}
                    </p>
                </main>
            }
            .into_any();
        }
        view! {
            <main class="card-wrap">
                <p class="notice offline" role="status" hidden=move || !offline.get()>
                    {i18n.tr(M::OfflineCard)}
                </p>
                <section class=move || format!("card tier-bg-{}", tier_code.get())>
                    <div class="card-head">
                        <div>
                            <div class="member-name">{text(|m| m.name.clone())}</div>
                            <div class="member-no-line">
                                {i18n.tr(M::MemberNo)} " "
                                <span id="member-no">{text(|m| m.member_no.clone())}</span>
                            </div>
                        </div>
                        // Benefits of every tier: a screen of the mall bundle.
                        <a href="/tiers" id="tiers-link" class="tap">
                            <TierBadge id="tier-name" code=tier_code name=tier_label />
                        </a>
                    </div>
                    <div class="qr-box">
                        {move || {
                            if qr.with(String::is_empty) {
                                view! {
                                    <div class="qr-placeholder">{i18n.tr(M::KeyMissing)}</div>
                                }
                                    .into_any()
                            } else {
                                view! {
                                    <div id="card-qr" class="qr" inner_html=move || qr.get()></div>
                                    <div id="card-code" class="card-code">
                                        {move || code.get().map(|c| card_code::display_code(&c))}
                                    </div>
                                    <Countdown secs_left=secs_left step_secs=card_code::STEP_SECS />
                                }
                                    .into_any()
                            }
                        }}
                        <p class="subtle small">{i18n.tr(M::ShowAtCheckout)}</p>
                    </div>
                    <div class="stats">
                        <div class="stat">
                            <div id="points" class="stat-value">
                                {move || me.with(|m| m.as_ref().map_or(0, |m| m.points))}
                            </div>
                            <div class="stat-label">{i18n.tr(M::Points)}</div>
                        </div>
                        <div class="stat">
                            <div id="growth" class="stat-value">
                                {move || me.with(|m| m.as_ref().map_or(0, |m| m.growth))}
                            </div>
                            <div class="stat-label">{i18n.tr(M::Growth)}</div>
                        </div>
                        // The wallet is in the mall bundle: a page load away.
                        <a id="coupons-link" class="stat" href="/coupons/">
                            <div id="coupons-count" class="stat-value">
                                {move || me.with(|m| m.as_ref().map_or(0, |m| m.coupons_usable))}
                            </div>
                            <div class="stat-label">{i18n.tr(M::Coupons)}</div>
                            <span
                                id="coupons-new"
                                class="dot"
                                hidden=move || me.with(|m| m.as_ref().is_none_or(|m| m.coupons_new == 0))
                            ></span>
                        </a>
                    </div>
                    <div class="tier-progress">
                        <ProgressBar id="progress" permille=permille labelledby="next-tier-hint" />
                        <p id="next-tier-hint" class="small">{hint}</p>
                        <p id="keep-line" class="small keep-line" hidden=move || keep().is_none()>
                            {keep}
                        </p>
                    </div>
                    <p id="points-expiring" class="small expiring" hidden=move || expiring().is_none()>
                        {expiring}
                    </p>
                </section>
                // The mall is its own bundle (it would not fit the card's size budget):
                // plain links, a page load away.
                // Two columns at most, so the English labels fit a 360 px phone.
                <nav class="card-actions">
                    <a id="mall-link" href="/mall/" class="button primary wide">
                        {i18n.tr(M::Mall)}
                    </a>
                    <a id="my-orders-link" href="/mall/orders" class="button secondary">
                        {i18n.tr(M::MyOrders)}
                    </a>
                    <a id="invite-link" href="/invite" class="button secondary">
                        {i18n.tr(M::Invite)}
                    </a>
                    // The history is in the mall bundle: it words every ledger line in
                    // both languages, which the card's first load need not carry.
                    <a id="history-link" href="/points" class="button secondary">
                        {i18n.tr(M::PointsHistory)}
                    </a>
                    // The profile is in the mall bundle too.
                    <a id="profile-link" href="/profile" class="button secondary">
                        {i18n.tr(M::Profile)}
                    </a>
                    <button
                        id="logout"
                        type="button"
                        class="button ghost wide"
                        aria-expanded=move || asking.get().to_string()
                        aria-controls="logout-confirm"
                        on:click=move |_| asking.set(true)
                    >
                        {i18n.tr(M::Logout)}
                    </button>
                </nav>
                <div
                    id="logout-confirm"
                    class="logout-confirm"
                    role="alertdialog"
                    aria-labelledby="logout-ask"
                    hidden=move || !asking.get()
                >
                    <p id="logout-ask">{i18n.tr(M::LogoutAsk)}</p>
                    <div class="card-actions">
                        <button id="logout-yes" type="button" class="button primary" on:click=logout>
                            {i18n.tr(M::Logout)}
                        </button>
                        <button
                            id="logout-cancel"
                            type="button"
                            class="button secondary"
                            on:click=move |_| asking.set(false)
                        >
                            {i18n.tr(M::Cancel)}
                        </button>
                    </div>
                </div>
                <ErrorText error=action_error />
            </main>
        }
        .into_any()
    };

    view! {
        <div class="page card-page">
            <header class="brand-bar">
                <h1 class="brand">{i18n.tr(M::Brand)}</h1>
                <a id="inbox-link" href="/inbox" class="bell tap">
                    {i18n.tr(M::Inbox)}
                    <span id="inbox-unread" class="count" hidden=move || unread() == 0>
                        {unread}
                    </span>
                </a>
                <LangToggle />
            </header>
            {card}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_members_own_key_is_usable() {
        assert!(!key_is_usable(None, None));
        assert!(!key_is_usable(None, Some("8600012345")));
        // Warm start before `/me` answers: the cached key draws the code.
        assert!(key_is_usable(Some("8600012345"), None));
        assert!(key_is_usable(Some("8600012345"), Some("8600012345")));
        assert!(!key_is_usable(Some("8600012345"), Some("8600099999")));
    }

    #[test]
    fn keep_line_after_an_upgrade_says_so() {
        let k = |upgraded, growth_needed| KeepTierView {
            tier: member_core::dto::TierRef {
                code: "silver".into(),
                name: "银卡".into(),
            },
            until: "2027-12-06".into(),
            period_growth: 0,
            growth_needed,
            upgraded,
        };
        assert_eq!(
            keep_text(Lang::ZhCn, &k(true, 500)),
            "已升级为银卡 · 2027年12月6日前累计 500 成长值可保持"
        );
        assert_eq!(
            keep_text(Lang::En, &k(true, 500)),
            "Upgraded to Silver · earn 500 growth by Dec 6, 2027 to keep it"
        );
        assert_eq!(
            keep_text(Lang::En, &k(false, 120)),
            "Earn 120 more growth by Dec 6, 2027 to keep Silver"
        );
        assert!(!keep_text(Lang::ZhCn, &k(false, 120)).contains("保级银卡："));
    }

    #[test]
    fn expiry_dates_read_naturally() {
        assert_eq!(expiry_date(Lang::ZhCn, "2026-12-31"), "2026年12月31日");
        assert_eq!(expiry_date(Lang::En, "2026-12-31"), "Dec 31, 2026");
        assert_eq!(expiry_date(Lang::En, "2026-03-05"), "Mar 5, 2026");
        assert_eq!(expiry_date(Lang::En, "soon"), "soon");
        assert_eq!(expiry_date(Lang::En, "2026-13-01"), "2026-13-01");
    }
}
