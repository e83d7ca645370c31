//! The mall's front page: the member's points, quick filters (category, up to 50 points,
//! what I can redeem, cheapest first) and the items.

use leptos::{prelude::*, task::spawn_local};
use member_core::dto::MallItem;
use member_core::mall::Refusal;

use super::{
    categories, price_text, refusal, refusal_text, shown, tier_only, Chip, MallBar, Thumb, Window,
    LOW_STOCK,
};
use crate::api;
use crate::clock;
use crate::components::error_text::ErrorText;
use crate::components::offline::Offline;
use crate::i18n::{errors, fill, mall::Ml, wallet::W, I18n};
use crate::nav::Link;
use crate::screens::mall::Tab;
use crate::screens::mall::{code_of, MallScreen, MallState};

#[component]
pub fn ListPage() -> impl IntoView {
    let i18n = I18n::get();
    let state = MallState::get();
    let chip = RwSignal::new(Chip::All);
    let affordable = RwSignal::new(false);
    let cheapest_first = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    let load = move || {
        error.set(None);
        spawn_local(async move {
            match api::mall_items().await {
                Ok(items) => state.items.set(Some(items)),
                Err(e) => error.set(code_of(e)),
            }
        });
    };
    // Shown at once when coming back from an item; refreshed either way (stock moves).
    load();
    let offline = Memo::new(move |_| error.with(|e| e.as_deref() == Some(errors::NETWORK)));
    let other_error = RwSignal::new(None::<String>);
    Effect::new(move |_| other_error.set(error.get().filter(|e| e != errors::NETWORK)));

    let now = clock::device_unix();
    let visible = Memo::new(move |_| {
        let points = state.points();
        let ok = move |i: &MallItem| refusal(i, Window::of(i), points, 1, now).is_none();
        let only_ok: Option<&dyn Fn(&MallItem) -> bool> =
            if affordable.get() { Some(&ok) } else { None };
        state.items.with(|items| {
            items
                .as_deref()
                .map(|items| chip.with(|c| shown(items, c, cheapest_first.get(), only_ok)))
        })
    });
    let cats = Memo::new(move |_| {
        state
            .items
            .with(|items| items.as_deref().map(categories).unwrap_or_default())
    });

    let chip_button = move |id: Option<&'static str>, this: Chip, label: Signal<String>| {
        let pressed = {
            let this = this.clone();
            move || chip.with(|c| *c == this)
        };
        let pressed2 = pressed.clone();
        view! {
            <button
                type="button"
                id=id
                class=move || if pressed() { "chip active" } else { "chip" }
                aria-pressed=move || pressed2().to_string()
                on:click=move |_| chip.set(this.clone())
            >
                {label}
            </button>
        }
    };

    let card = move |item: MallItem| {
        let lang = i18n.lang();
        let refused = refusal(&item, Window::of(&item), state.points(), 1, now);
        let mut class = "mall-item".to_string();
        match refused {
            Some(Refusal::TierLocked) => class.push_str(" locked"),
            Some(Refusal::OutOfStock) => class.push_str(" sold-out"),
            Some(_) => class.push_str(" unavailable"),
            None => {}
        }
        let mut tags: Vec<(&'static str, String)> = Vec::new();
        if item.locked {
            tags.push(("tag lock", tier_only(lang, &item)));
        }
        if item.stock <= 0 {
            tags.push(("tag bad", i18n.t(Ml::SoldOut).to_string()));
        } else if item.stock <= LOW_STOCK {
            tags.push((
                "tag warn",
                fill(i18n.t(Ml::LowStock), &[("n", &item.stock.to_string())]),
            ));
        }
        if let Some(limit) = item.per_member_limit {
            tags.push(("tag", fill(i18n.t(Ml::Limit), &[("n", &limit.to_string())])));
        }
        // Why not, for what the tags above do not already say.
        if let Some(r) = refused.filter(|r| !matches!(r, Refusal::TierLocked | Refusal::OutOfStock))
        {
            tags.push(("tag muted", refusal_text(lang, &item, r)));
        }
        view! {
            <li class=class data-item-id=item.id.to_string() data-points=item.points_price.to_string()>
                <Link to=MallScreen::Item(item.id) class="mall-item-link">
                    <Thumb image_url=item.image_url.clone() name=item.name.clone() />
                    <div class="mall-item-body">
                        <div class="mall-item-name">{item.name.clone()}</div>
                        <div class="mall-price">{price_text(lang, item.points_price, item.cash_cents)}</div>
                        <div class="mall-tags">
                            {tags
                                .into_iter()
                                .map(|(class, text)| view! { <span class=class>{text}</span> })
                                .collect_view()}
                        </div>
                    </div>
                </Link>
            </li>
        }
    };

    let body = move || {
        let Some(items) = visible.get() else {
            return view! {
                <p class="subtle center pad" hidden=move || error.with(Option::is_some)>
                    {i18n.tr(Ml::Loading)}
                </p>
            }
            .into_any();
        };
        if items.is_empty() {
            let nothing = state.items.with(|i| i.as_ref().is_none_or(Vec::is_empty));
            return view! {
                <div class="empty" id="mall-empty">
                    <p>{if nothing { i18n.t(Ml::Empty) } else { i18n.t(Ml::NoMatch) }}</p>
                    <button
                        type="button"
                        class="button secondary"
                        hidden=nothing
                        on:click=move |_| {
                            chip.set(Chip::All);
                            affordable.set(false);
                        }
                    >
                        {i18n.tr(Ml::ShowAll)}
                    </button>
                </div>
            }
            .into_any();
        }
        view! {
            <ul id="mall-list" class="mall-grid">
                {items.into_iter().map(card).collect_view()}
            </ul>
        }
        .into_any()
    };

    view! {
        <div class="page mall-page">
            <MallBar title=Ml::Title />
            <section class="mall-summary">
                <div>
                    <div class="subtle small">{i18n.tr(Ml::MyPoints)}</div>
                    <div
                        id="mall-points"
                        class="mall-points"
                        aria-busy=move || (!state.balance_settled.get()).to_string()
                    >
                        {move || {
                            if state.balance_settled.get() {
                                state.points().map(|p| p.to_string()).unwrap_or_else(|| "—".into())
                            } else {
                                i18n.t(Ml::Loading).to_string()
                            }
                        }}
                    </div>
                </div>
                <div class="mall-summary-links">
                    <Link to=MallScreen::Wallet(Tab::Usable) id="wallet-link" class="button secondary">
                        {i18n.tr(W::Coupons)}
                    </Link>
                    <Link to=MallScreen::Orders id="my-orders-link" class="button secondary">
                        {i18n.tr(Ml::MyOrders)}
                    </Link>
                </div>
            </section>
            <div class="chips" role="toolbar">
                {chip_button(Some("chip-all"), Chip::All, Signal::derive(move || i18n.t(Ml::All).to_string()))}
                {chip_button(Some("chip-low"), Chip::Low, Signal::derive(move || i18n.t(Ml::LowPrice).to_string()))}
                {move || {
                    cats.get()
                        .into_iter()
                        .map(|c| {
                            let label = Signal::stored(c.clone());
                            chip_button(None, Chip::Category(c), label)
                        })
                        .collect_view()
                }}
            </div>
            <div class="toggles">
                <label class="switch">
                    <input
                        id="affordable-toggle"
                        type="checkbox"
                        prop:checked=affordable
                        on:change:target=move |ev| affordable.set(ev.target().checked())
                    />
                    <span>{i18n.tr(Ml::Affordable)}</span>
                </label>
                <label class="switch">
                    <input
                        id="sort-cheapest"
                        type="checkbox"
                        prop:checked=cheapest_first
                        on:change:target=move |ev| cheapest_first.set(ev.target().checked())
                    />
                    <span>{i18n.tr(Ml::Cheapest)}</span>
                </label>
            </div>
            <main class="mall-main">
                {move || {
                    offline
                        .get()
                        .then(|| view! { <Offline on_retry=Callback::new(move |_| {
                            state.refresh_me();
                            load();
                        }) /> })
                }}
                <ErrorText error=other_error texts=errors::mall_error_text />
                <button
                    type="button"
                    class="button secondary block"
                    hidden=move || other_error.with(Option::is_none)
                    on:click=move |_| load()
                >
                    {i18n.tr(Ml::Retry)}
                </button>
                {body}
            </main>
        </div>
    }
}
