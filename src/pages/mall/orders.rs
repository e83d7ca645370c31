//! The member's redemptions, newest first, a page at a time.

use leptos::{prelude::*, task::spawn_local};
use member_core::dto::MallOrder;

use super::{MallBar, Thumb};
use crate::api;
use crate::clock::local_time;
use crate::components::error_text::ErrorText;
use crate::i18n::{errors, mall::order_status_text, mall::Ml, I18n};
use crate::nav::Link;
use crate::order_code::OrderCode;
use crate::screens::mall::{code_of, MallScreen};

#[component]
pub fn OrdersPage() -> impl IntoView {
    let i18n = I18n::get();
    let orders = RwSignal::new(Vec::<MallOrder>::new());
    let next = RwSignal::new(None::<String>);
    let loading = RwSignal::new(true);
    let loaded_once = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    let load = move |cursor: Option<String>| {
        loading.set(true);
        error.set(None);
        spawn_local(async move {
            match api::my_orders(cursor.as_deref()).await {
                Ok(page) => {
                    orders.update(|v| v.extend(page.items));
                    next.set(page.next);
                    loaded_once.set(true);
                }
                Err(e) => error.set(code_of(e)),
            }
            loading.set(false);
        });
    };
    load(None);

    let row = move |o: MallOrder| {
        let lang = i18n.lang();
        let inner = view! {
            <Thumb image_url=o.image_url.clone() name=o.item_name.clone() />
            <div class="order-row-body">
                <div class="order-row-name">{format!("{} × {}", o.item_name, o.quantity)}</div>
                <div class="subtle small">{local_time(&o.created_at)}</div>
            </div>
            <div class="order-row-side">
                <span class=format!("status status-{}", o.status)>{order_status_text(lang, &o.status, &o.delivery)}</span>
                <span class="ledger-points minus">{format!("-{}", o.points_spent)}</span>
            </div>
        };
        // Rows always link; a code the app cannot parse (never expected) links nowhere.
        match OrderCode::parse(&o.order_code) {
            Some(code) => view! {
                <li class="order-row" data-code=o.order_code.clone()>
                    <Link to=MallScreen::Order(code) class="order-row-link">{inner}</Link>
                </li>
            }
            .into_any(),
            None => view! { <li class="order-row"><div class="order-row-link">{inner}</div></li> }
                .into_any(),
        }
    };

    view! {
        <div class="page mall-page orders-page">
            <MallBar title=Ml::MyOrders back_to_list=true />
            <main class="panel">
                <ul id="order-list" class="order-list">
                    {move || orders.get().into_iter().map(row).collect_view()}
                </ul>
                <div
                    id="orders-empty"
                    class="empty"
                    hidden=move || !(loaded_once.get() && orders.with(Vec::is_empty))
                >
                    <p>{i18n.tr(Ml::OrdersEmpty)}</p>
                    <Link to=MallScreen::List class="button primary">
                        {i18n.tr(Ml::GoShopping)}
                    </Link>
                </div>
                <ErrorText error=error texts=errors::mall_error_text />
                <p class="subtle center" hidden=move || !loading.get()>
                    {i18n.tr(Ml::Loading)}
                </p>
                <button
                    type="button"
                    class="button secondary block"
                    hidden=move || {
                        loading.get() || (next.with(Option::is_none) && error.with(Option::is_none))
                    }
                    on:click=move |_| load(next.get_untracked())
                >
                    {i18n.tr(Ml::LoadMore)}
                </button>
            </main>
        </div>
    }
}
