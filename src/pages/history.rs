//! Points history: the member's ledger, newest first, a page at a time.

use leptos::{prelude::*, task::spawn_local};
use member_core::dto::LedgerItem;

use crate::api;
use crate::clock::{last_day_before, local_time};
use crate::components::error_text::ErrorText;
use crate::components::lang_toggle::LangToggle;
use crate::i18n::{fill, member::M, I18n, Lang};
use crate::member_app::{MemberNav, MemberScreen};
use crate::nav::Link;
use crate::session;

/// A `refund` row takes earned points back (a returned purchase) or, positive, gives
/// spent points back (a cancelled mall order).
fn kind_text(lang: Lang, kind: &str, points: i64) -> &'static str {
    use crate::i18n::Text;
    let key = match kind {
        "earn" => M::KindEarn,
        "redeem" => M::KindRedeem,
        "expire" => M::KindExpire,
        "refund" if points > 0 => M::KindReturned,
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
                                let expiry = item
                                    .expires_at
                                    .filter(|_| item.kind == "earn")
                                    .map(|at| {
                                        fill(i18n.t(M::ValidThrough), &[("date", &last_day_before(&at))])
                                    });
                                view! {
                                    <li class="ledger-row">
                                        <div>
                                            <div class="ledger-kind">
                                                {kind_text(i18n.lang(), &item.kind, item.points)}
                                            </div>
                                            <div class="subtle small">{detail}</div>
                                            <div class="subtle small">
                                                {local_time(&item.at)}
                                                {expiry.map(|e| format!(" · {e}"))}
                                            </div>
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
