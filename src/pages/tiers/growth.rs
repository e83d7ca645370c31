//! `/growth`: every change of the member's growth, newest first, with what it was for
//! and until when it counts; more on demand.

use leptos::{prelude::*, task::spawn_local};
use member_core::dto::GrowthEventView;

use super::TierBar;
use crate::api;
use crate::clock;
use crate::components::error_text::ErrorText;
use crate::i18n::{errors, fill, tiers::T, I18n};
use crate::screens::mall::code_of;

fn kind_label(kind: &str) -> T {
    match kind {
        "purchase" => T::KindPurchase,
        "refund" => T::KindRefund,
        "task" => T::KindTask,
        "decay" => T::KindDecay,
        "import" => T::KindImport,
        _ => T::KindAdjust,
    }
}

#[component]
pub fn GrowthPage() -> impl IntoView {
    let i18n = I18n::get();
    let items = RwSignal::new(None::<Vec<GrowthEventView>>);
    let next = RwSignal::new(None::<i64>);
    let error = RwSignal::new(None::<String>);
    let load = move |before: Option<i64>| {
        error.set(None);
        spawn_local(async move {
            match api::my_growth(before).await {
                Ok(page) => {
                    items.update(|v| v.get_or_insert_with(Vec::new).extend(page.items));
                    next.set(page.next_before);
                }
                Err(e) => error.set(code_of(e)),
            }
        });
    };
    load(None);

    let row = move |e: GrowthEventView| {
        let sign = if e.growth >= 0 { "+" } else { "" };
        let delta_class = if e.growth >= 0 {
            "delta plus"
        } else {
            "delta minus"
        };
        let until = e.counts_until.as_deref().map(|u| {
            fill(
                i18n.t(T::CountsUntil),
                &[("date", &clock::last_day_before(u))],
            )
        });
        let note = if e.kind == "task" {
            match e.note.as_str() {
                "check_in" => i18n.t(T::TaskCheckIn).to_string(),
                "profile_completed" => i18n.t(T::TaskProfile).to_string(),
                "first_purchase" => i18n.t(T::TaskFirstPurchase).to_string(),
                other => other.to_string(),
            }
        } else if e.kind == "decay" {
            String::new()
        } else {
            e.note.clone()
        };
        view! {
            <li class=format!("growth-row kind-{}", e.kind) data-kind=e.kind.clone()>
                <div>
                    <div>{i18n.t(kind_label(&e.kind))} " " <span class="subtle small">{note}</span></div>
                    <div class="small subtle">{clock::local_time(&e.at)}</div>
                    {until.map(|u| view! { <div class="small subtle">{u}</div> })}
                </div>
                <strong class=delta_class>
                    {format!("{sign}{}", e.growth)}
                </strong>
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
            <div id="growth-empty" class="empty"><p>{i18n.tr(T::GrowthEmpty)}</p></div>
        }
        .into_any(),
        Some(v) => view! {
            <ul id="growth-list" class="growth-list">{v.into_iter().map(row).collect_view()}</ul>
            <button
                id="growth-more"
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
        <div class="page mall-page growth-page">
            <TierBar title=T::GrowthTitle />
            <main class="mall-main">
                <ErrorText error=error texts=errors::mall_error_text />
                {body}
            </main>
        </div>
    }
}
