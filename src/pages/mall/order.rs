//! One order: right after redeeming (a success note), and later from "my orders". While
//! it waits for pickup it shows the code big, as text and QR, for the staff to scan.

use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};
use member_core::dto::{codes, MallOrder};
use member_core::mall::format_order_code;

use super::{MallBar, Thumb};
use crate::api;
use crate::components::error_text::ErrorText;
use crate::components::qr::qr_svg;
use crate::i18n::{errors, fill, mall::order_status_text, mall::Ml, I18n};
use crate::nav::Link;
use crate::order_code::OrderCode;
use crate::screens::mall::Tab;
use crate::screens::mall::{code_of, MallScreen, MallState};

/// How often a waiting order is looked at again, so the page turns to "collected" while
/// the member stands at the counter.
const POLL: Duration = Duration::from_secs(4);

fn page_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

#[component]
pub fn OrderPage(code: OrderCode) -> impl IntoView {
    let i18n = I18n::get();
    let state = MallState::get();
    let order = RwSignal::new(None::<MallOrder>);
    let error = RwSignal::new(None::<String>);
    let fresh = state.redeemed.with_untracked(|r| {
        r.as_ref()
            .filter(|r| r.order_code == code.as_str())
            .cloned()
    });

    let load = move || {
        spawn_local(async move {
            match api::my_order(code.as_str()).await {
                Ok(o) => {
                    error.set(None);
                    order.set(Some(o));
                }
                Err(e) => error.set(code_of(e).map(|c| {
                    if c == codes::NOT_FOUND {
                        errors::ORDER_NOT_FOUND.to_string()
                    } else {
                        c
                    }
                })),
            }
        });
    };
    load();
    let poll = set_interval_with_handle(
        move || {
            let waiting =
                order.with_untracked(|o| o.as_ref().is_some_and(|o| o.status == "pending"));
            if waiting && !page_hidden() {
                load();
            }
        },
        POLL,
    )
    .ok();
    on_cleanup(move || {
        if let Some(p) = poll {
            p.clear();
        }
    });

    let qr = qr_svg(code.as_str(), i18n.t(Ml::OrderCode));
    let status = move || order.with(|o| o.as_ref().map(|o| o.status.clone()).unwrap_or_default());
    let pending = move || status() == "pending";
    let in_wallet = move || order.with(|o| o.as_ref().is_some_and(|o| o.delivery == "wallet"));
    let delivery =
        move || order.with(|o| o.as_ref().map(|o| o.delivery.clone()).unwrap_or_default());

    let success = fresh.map(|r| {
        view! {
            <section id="redeem-success" class="notice success" role="status">
                <strong>{i18n.tr(Ml::Success)}</strong>
                <span>
                    {move || {
                        fill(
                            i18n.t(Ml::SpentLeft),
                            &[("n", &r.points_spent.to_string()), ("m", &r.points.to_string())],
                        )
                    }}
                </span>
            </section>
        }
    });

    let facts = move || {
        let o = order.get()?;
        let row = |label: Ml, value: String| {
            view! {
                <div>
                    <dt>{i18n.t(label)}</dt>
                    <dd>{value}</dd>
                </div>
            }
        };
        let mut rows = vec![
            row(Ml::Item, format!("{} × {}", o.item_name, o.quantity)),
            row(Ml::PointsSpent, o.points_spent.to_string()),
        ];
        if let Some(cash) = crate::i18n::mall::cash(o.cash_cents) {
            rows.push(row(Ml::CashDue, cash));
        }
        rows.push(row(Ml::OrderedAt, crate::clock::local_time(&o.created_at)));
        if let Some(at) = o.collected_at.as_deref() {
            let place = o.collected_store_name.clone().unwrap_or_default();
            let label = if o.delivery == "wallet" {
                Ml::DeliveredAt
            } else {
                Ml::CollectedAt
            };
            rows.push(row(
                label,
                format!("{} {place}", crate::clock::local_time(at))
                    .trim()
                    .to_string(),
            ));
        }
        if let Some(at) = o.closed_at.as_deref() {
            rows.push(row(Ml::ClosedAt, crate::clock::local_time(at)));
        }
        if let Some(reason) = o.close_reason.clone().filter(|r| !r.trim().is_empty()) {
            rows.push(row(Ml::Reason, reason));
        }
        Some(view! {
            <div class="order-item">
                <Thumb image_url=o.image_url.clone() name=o.item_name.clone() />
                <dl class="order-facts">{rows.into_iter().collect_view()}</dl>
            </div>
        })
    };

    view! {
        <div class="page mall-page order-page">
            <MallBar title=Ml::OrderTitle back_to_list=true />
            <main class="panel">
                {success}
                <ErrorText error=error texts=errors::mall_error_text />
                <section class="order-code-box" hidden=move || order.with(Option::is_none)>
                    <div class="order-code-head">
                        <span class="subtle">{i18n.tr(Ml::OrderCode)}</span>
                        <span id="order-status" class=move || format!("status status-{}", status())>
                            {move || order_status_text(i18n.lang(), &status(), &delivery())}
                        </span>
                    </div>
                    <div id="order-qr" class="qr order-qr" hidden=move || !pending() inner_html=qr></div>
                    <div id="order-code" class=move || if pending() { "order-code" } else { "order-code closed" }>
                        {format_order_code(code.as_str())}
                    </div>
                    <p class="show-hint" hidden=move || !pending()>{i18n.tr(Ml::ShowToCollect)}</p>
                </section>
                <section id="order-in-wallet" class="notice" hidden=move || !(in_wallet() && status() == "collected")>
                    <p>{i18n.tr(Ml::InWalletNote)}</p>
                    <Link to=MallScreen::Wallet(Tab::Usable) id="order-wallet-link" class="button secondary">
                        {i18n.tr(Ml::OpenWallet)}
                    </Link>
                </section>
                {facts}
                <p class="subtle center" hidden=move || order.with(Option::is_some) || error.with(Option::is_some)>
                    {i18n.tr(Ml::Loading)}
                </p>
                <nav class="card-actions">
                    <Link to=MallScreen::Orders id="my-orders-link" class="button secondary">
                        {i18n.tr(Ml::MyOrders)}
                    </Link>
                    <Link to=MallScreen::List class="button ghost">
                        {i18n.tr(Ml::Title)}
                    </Link>
                </nav>
            </main>
        </div>
    }
}
