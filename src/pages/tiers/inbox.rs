//! `/inbox`: the member's messages (upgraded, downgrade warning, downgraded, kept, member
//! day), worded here from the facts the server sends. Opening it marks them read, and the
//! card's bell goes quiet.

use leptos::{prelude::*, task::spawn_local};
use member_core::dto::NotificationView;

use super::{name_of, TierBar};
use crate::api;
use crate::clock;
use crate::components::error_text::ErrorText;
use crate::i18n::{errors, fill, tiers, tiers::T, I18n, Lang};
use crate::screens::mall::{code_of, MallState};
use crate::session;

fn message(lang: Lang, n: &NotificationView) -> String {
    let d = &n.data;
    let tier = d
        .tier
        .as_ref()
        .map(|t| name_of(lang, t))
        .unwrap_or_default();
    let date = d.date.clone().unwrap_or_default();
    let needed = d.growth_needed.unwrap_or(0).to_string();
    let x = tiers::times(d.points_multiplier_pct.unwrap_or(100));
    let args: [(&str, &str); 4] = [("tier", &tier), ("date", &date), ("n", &needed), ("x", &x)];
    let key = match n.kind.as_str() {
        "upgraded" => T::MsgUpgraded,
        "downgrade_warning" => T::MsgWarning,
        "downgraded" => T::MsgDowngraded,
        "kept" => T::MsgKept,
        "member_day" => T::MsgMemberDay,
        _ => T::MsgOther,
    };
    fill(key.text(lang), &args)
}

#[component]
pub fn InboxPage() -> impl IntoView {
    let i18n = I18n::get();
    let state = MallState::get();
    let items = RwSignal::new(None::<Vec<NotificationView>>);
    let next = RwSignal::new(None::<i64>);
    let error = RwSignal::new(None::<String>);
    let load = move |before: Option<i64>| {
        error.set(None);
        spawn_local(async move {
            match api::notifications(before).await {
                Ok(page) => {
                    let unread = page.unread;
                    items.update(|v| v.get_or_insert_with(Vec::new).extend(page.items));
                    next.set(page.next_before);
                    // Shown with their unread marks: now they are read.
                    if before.is_none() && unread > 0 && api::read_all_notifications().await.is_ok()
                    {
                        state.me.update(|m| {
                            if let Some(m) = m {
                                m.notifications_unread = 0;
                                session::save_me(m);
                            }
                        });
                    }
                }
                Err(e) => error.set(code_of(e)),
            }
        });
    };
    load(None);

    let row = move |n: NotificationView| {
        let text = message(i18n.lang(), &n);
        view! {
            <li class=if n.read { "message" } else { "message unread" } data-kind=n.kind.clone()>
                <div class="message-text">
                    {(!n.read).then(|| view! { <span class="dot" role="img" aria-label=i18n.t(T::Unread)></span> })}
                    {text}
                </div>
                <div class="small subtle">{clock::local_time(&n.at)}</div>
            </li>
        }
    };

    let body = move || match items.get() {
        None => view! {
            <p class="subtle center pad" hidden=move || error.with(Option::is_some)>
                {i18n.tr(T::Loading)}
            </p>
        }
        .into_any(),
        Some(v) if v.is_empty() => view! {
            <div id="inbox-empty" class="empty"><p>{i18n.tr(T::InboxEmpty)}</p></div>
        }
        .into_any(),
        Some(v) => view! {
            <ul id="inbox-list" class="inbox-list">{v.into_iter().map(row).collect_view()}</ul>
            <button
                type="button"
                class="button secondary block"
                hidden=move || next.with(Option::is_none)
                on:click=move |_| load(next.get_untracked())
            >
                {i18n.tr(T::More)}
            </button>
        }
        .into_any(),
    };

    view! {
        <div class="page mall-page inbox-page">
            <TierBar title=T::InboxTitle />
            <main class="mall-main">
                <ErrorText error=error texts=errors::mall_error_text />
                {body}
            </main>
        </div>
    }
}

use crate::i18n::Text;
