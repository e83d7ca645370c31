//! `/invite`: the member's share code ("邀请好友") as a QR code and a link, what each side
//! gets, and how the invitations went (joined, waiting for a first purchase, rewarded).

use leptos::{prelude::*, task::spawn_local};
use member_core::dto::ReferralView;

use crate::api;
use crate::components::error_text::ErrorText;
use crate::components::lang_toggle::LangToggle;
use crate::components::qr::qr_svg;
use crate::i18n::join::{reward_line, J};
use crate::i18n::{errors, I18n};
use crate::screens::mall::code_of;

fn origin() -> String {
    window().location().origin().unwrap_or_default()
}

#[component]
pub fn InvitePage() -> impl IntoView {
    let i18n = I18n::get();
    let view_ = RwSignal::new(None::<ReferralView>);
    let error = RwSignal::new(None::<String>);
    let copied = RwSignal::new(false);
    spawn_local(async move {
        match api::my_referral().await {
            Ok(v) => view_.set(Some(v)),
            Err(e) => error.set(code_of(e)),
        }
    });

    let copy = move |_| {
        if let Some(v) = view_.get_untracked() {
            let url = format!("{}{}", origin(), v.path);
            let clipboard = window().navigator().clipboard();
            let _ = clipboard.write_text(&url);
            copied.set(true);
        }
    };

    let body = move || {
        match view_.get() {
        None => view! {
            <p class="subtle center pad" hidden=move || error.with(Option::is_some)>{i18n.tr(J::Loading)}</p>
        }
        .into_any(),
        Some(v) if !v.enabled => view! {
            <div id="invite-off" class="empty"><p>{i18n.tr(J::InviteOff)}</p></div>
        }
        .into_any(),
        Some(v) => {
            let url = format!("{}{}", origin(), v.path);
            let qr = qr_svg(&url, i18n.t(J::InviteTitle));
            view! {
                <section class="invite-card">
                    <p class="subtle">{i18n.tr(J::InviteLead)}</p>
                    <div id="invite-qr" class="qr" inner_html=qr></div>
                    <p>{i18n.tr(J::YourCode)} " " <strong id="invite-code" class="mono">{v.code.clone()}</strong></p>
                    <p id="invite-reward" class="notice">{reward_line(i18n.lang(), &v.reward)}</p>
                    <button id="invite-copy" type="button" class="button primary block" on:click=copy>
                        {move || if copied.get() { i18n.t(J::Copied) } else { i18n.t(J::CopyLink) }}
                    </button>
                </section>
                <dl id="invite-stats" class="invite-stats">
                    <div><dt>{i18n.tr(J::Invited)}</dt><dd id="invite-invited">{v.invited}</dd></div>
                    <div><dt>{i18n.tr(J::Pending)}</dt><dd>{v.pending}</dd></div>
                    <div><dt>{i18n.tr(J::Rewarded)}</dt><dd>{v.rewarded}</dd></div>
                    <div><dt>{i18n.tr(J::PointsEarned)}</dt><dd>{v.points_earned}</dd></div>
                </dl>
            }
            .into_any()
        }
    }
    };

    view! {
        <div class="page mall-page invite-page">
            <header class="brand-bar">
                <a href="/" class="back-link">{move || format!("‹ {}", i18n.t(J::BackToCard))}</a>
                <h1 class="brand mall-title">{i18n.tr(J::InviteTitle)}</h1>
                <LangToggle />
            </header>
            <main class="mall-main">
                <ErrorText error=error texts=errors::mall_error_text />
                {body}
            </main>
        </div>
    }
}
