//! Points history: the member's ledger, newest first, a page at a time.

use leptos::{prelude::*, task::spawn_local};
use member_core::dto::LedgerItem;

use crate::api;
use crate::components::error_text::ErrorText;
use crate::components::lang_toggle::LangToggle;
use crate::i18n::{member::M, I18n, Lang};
use crate::member_app::{MemberNav, MemberScreen};
use crate::nav::Link;
use crate::session;

/// China has no daylight saving time, so Asia/Shanghai is always UTC+8.
const SHANGHAI_OFFSET_MS: f64 = 8.0 * 3600.0 * 1000.0;

/// `2025-03-01T04:05:06Z` -> `2025-03-01 12:05` (Asia/Shanghai).
fn local_time(at: &str) -> String {
    let ms = js_sys::Date::parse(at);
    if ms.is_nan() {
        return at.to_string();
    }
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms + SHANGHAI_OFFSET_MS));
    format!(
        "{}-{:02}-{:02} {:02}:{:02}",
        d.get_utc_full_year(),
        d.get_utc_month() + 1,
        d.get_utc_date(),
        d.get_utc_hours(),
        d.get_utc_minutes()
    )
}

fn kind_text(lang: Lang, kind: &str) -> &'static str {
    use crate::i18n::Text;
    let key = match kind {
        "earn" => M::KindEarn,
        "redeem" => M::KindRedeem,
        "expire" => M::KindExpire,
        "refund" => M::KindRefund,
        _ => M::KindAdjust,
    };
    key.text(lang)
}

#[component]
pub fn HistoryPage() -> impl IntoView {
    let i18n = I18n::get();
    let nav = MemberNav::get();
    let items = RwSignal::new(Vec::<LedgerItem>::new());
    let next = RwSignal::new(None::<String>);
    let loading = RwSignal::new(true);
    let loaded_once = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    let load = move |cursor: Option<String>| {
        loading.set(true);
        error.set(None);
        spawn_local(async move {
            match api::points_history(cursor.as_deref()).await {
                Ok(page) => {
                    items.update(|v| v.extend(page.items));
                    next.set(page.next);
                    loaded_once.set(true);
                }
                Err(e) if e.is_unauthenticated() => {
                    session::clear();
                    nav.replace(MemberScreen::Login);
                }
                Err(e) => error.set(Some(e.code().to_string())),
            }
            loading.set(false);
        });
    };
    load(None);

    let load_more = { move |_| load(next.get_untracked()) };

    view! {
        <div class="page history-page">
            <header class="brand-bar">
                <Link to=MemberScreen::Card class="back-link">
                    {move || format!("‹ {}", i18n.t(M::BackToCard))}
                </Link>
                <LangToggle />
            </header>
            <main class="panel">
                <h1>{i18n.tr(M::HistoryTitle)}</h1>
                <ul class="ledger">
                    {move || {
                        items
                            .get()
                            .into_iter()
                            .map(|item| {
                                let positive = item.points >= 0;
                                let amount = if positive {
                                    format!("+{}", item.points)
                                } else {
                                    item.points.to_string()
                                };
                                let detail = [item.store_name.unwrap_or_default(), item.reason]
                                    .into_iter()
                                    .filter(|s| !s.is_empty())
                                    .collect::<Vec<_>>()
                                    .join(" · ");
                                view! {
                                    <li class="ledger-row">
                                        <div>
                                            <div class="ledger-kind">
                                                {kind_text(i18n.lang(), &item.kind)}
                                            </div>
                                            <div class="subtle small">{detail}</div>
                                            <div class="subtle small">{local_time(&item.at)}</div>
                                        </div>
                                        <div class=if positive {
                                            "ledger-points plus"
                                        } else {
                                            "ledger-points minus"
                                        }>{amount}</div>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
                <p class="empty" hidden=move || !(loaded_once.get() && items.with(Vec::is_empty))>
                    {i18n.tr(M::HistoryEmpty)}
                </p>
                <ErrorText error=error />
                <p class="subtle center" hidden=move || !loading.get()>
                    {i18n.tr(M::Loading)}
                </p>
                <button
                    type="button"
                    class="button secondary block"
                    hidden=move || {
                        loading.get() || (next.with(Option::is_none) && error.with(Option::is_none))
                    }
                    on:click=load_more
                >
                    {i18n.tr(M::LoadMore)}
                </button>
            </main>
        </div>
    }
}
