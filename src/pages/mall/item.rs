//! One item: picture, description and terms, a quantity stepper bounded by stock, limit
//! and points, and redeeming it behind a confirm sheet.

use leptos::{prelude::*, task::spawn_local};
use member_core::dto::{codes, MallItem, MallOrderRequest};

use super::{max_quantity, price_text, refusal, refusal_text, tier_only, MallBar, Thumb, Window};
use crate::api;
use crate::attempt::{attempt_for, Attempt};
use crate::clock;
use crate::components::error_text::ErrorText;
use crate::i18n::{errors, fill, mall::Ml, I18n};
use crate::order_code::OrderCode;
use crate::screens::mall::{code_of, MallNav, MallScreen, MallState};

/// One redemption as asked: the same item and quantity again is a retry of it.
type Draft = (i64, i64);

#[component]
pub fn ItemPage(id: i64) -> impl IntoView {
    let i18n = I18n::get();
    let nav = MallNav::get();
    let state = MallState::get();

    // From the list when it has it, so the page draws at once; then fresh from the server.
    let item = RwSignal::new(
        state
            .items
            .with_untracked(|items| items.as_ref()?.iter().find(|i| i.id == id).cloned()),
    );
    let load_error = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let quantity = RwSignal::new(1_i64);
    let confirming = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let pending = RwSignal::new(None::<Attempt<Draft>>);

    let load = move || {
        spawn_local(async move {
            match api::mall_item(id).await {
                Ok(fresh) => {
                    load_error.set(None);
                    item.set(Some(fresh));
                }
                Err(e) => {
                    let code = code_of(e).map(|c| {
                        if c == codes::NOT_FOUND {
                            codes::ITEM_UNAVAILABLE.to_string()
                        } else {
                            c
                        }
                    });
                    if item.with_untracked(Option::is_none) {
                        load_error.set(code);
                    }
                }
            }
        });
    };
    load();

    let now = clock::device_unix();
    let most = Memo::new(move |_| {
        item.with(|i| i.as_ref().map_or(1, |i| max_quantity(i, state.points())))
    });
    // Keep the chosen quantity inside the bounds when they move (fresh item, balance).
    Effect::new(move |_| {
        let m = most.get();
        if quantity.get_untracked() > m {
            quantity.set(m);
        }
    });
    let refused = Memo::new(move |_| {
        let q = quantity.get();
        item.with(|i| {
            i.as_ref()
                .and_then(|i| refusal(i, Window::of(i), state.points(), q, now))
        })
    });
    let cost = move || item.with(|i| i.as_ref().map_or(0, |i| i.points_price)) * quantity.get();

    let submit = move || {
        if busy.get_untracked() {
            return;
        }
        let draft: Draft = (id, quantity.get_untracked());
        let attempt = attempt_for(pending.get_untracked(), draft, clock::random_hex::<16>);
        pending.set(Some(attempt.clone()));
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let body = MallOrderRequest {
                item_id: attempt.draft.0,
                quantity: attempt.draft.1,
            };
            match api::redeem(&body, &attempt.idempotency_key).await {
                Ok(result) => {
                    pending.set(None);
                    state.me.update(|m| {
                        if let Some(m) = m {
                            m.points = result.points;
                        }
                    });
                    // Stock and "redeemed by me" changed: the list loads afresh.
                    state.items.set(None);
                    let code = OrderCode::parse(&result.order_code);
                    state.redeemed.set(Some(result));
                    busy.set(false);
                    confirming.set(false);
                    match code {
                        Some(code) => nav.go(MallScreen::Order(code)),
                        None => nav.go(MallScreen::Orders),
                    }
                }
                Err(e) => {
                    busy.set(false);
                    if !e.may_have_taken_effect() {
                        // Refused for good: close the sheet, say why, show the item as
                        // it is now (stock, limit).
                        pending.set(None);
                        confirming.set(false);
                        load();
                        state.refresh_me();
                    }
                    error.set(code_of(e));
                }
            }
        });
    };

    let terms = move |item: &MallItem| {
        let lang = i18n.lang();
        let mut lines = vec![match item.kind.as_str() {
            "voucher" if item.coupon_template_id.is_some() => {
                i18n.t(Ml::KindWalletVoucher).to_string()
            }
            "voucher" => i18n.t(Ml::KindVoucher).to_string(),
            "partner" => i18n.t(Ml::KindPartner).to_string(),
            _ => i18n.t(Ml::KindGoods).to_string(),
        }];
        if let Some(cash) = crate::i18n::mall::cash(item.cash_cents) {
            lines.push(fill(i18n.t(Ml::CashAtPickup), &[("cash", &cash)]));
        }
        lines.push(fill(
            i18n.t(Ml::Stock),
            &[("n", &item.stock.max(0).to_string())],
        ));
        if let Some(limit) = item.per_member_limit {
            lines.push(fill(
                i18n.t(Ml::LimitDetail),
                &[
                    ("n", &limit.to_string()),
                    ("m", &item.redeemed_by_me.to_string()),
                ],
            ));
        }
        if item.required_tier.is_some() {
            lines.push(tier_only(lang, item));
        }
        if let Some(from) = item.available_from.as_deref() {
            if clock::unix_of(from).is_some_and(|t| t > now) {
                lines.push(fill(
                    i18n.t(Ml::From),
                    &[("time", &clock::local_time(from))],
                ));
            }
        }
        if let Some(until) = item.available_until.as_deref() {
            lines.push(fill(
                i18n.t(Ml::Until),
                &[("time", &clock::local_time(until))],
            ));
        }
        lines
            .into_iter()
            .map(|l| view! { <li>{l}</li> })
            .collect_view()
    };

    let confirm_text = move || {
        item.with(|i| {
            let i = i.as_ref()?;
            let q = quantity.get();
            let name = if q > 1 {
                format!("{} × {q}", i.name)
            } else {
                i.name.clone()
            };
            Some(fill(
                i18n.t(Ml::ConfirmText),
                &[("n", &cost().to_string()), ("item", &name)],
            ))
        })
    };
    let left_after = move || {
        state.points().map(|p| {
            fill(
                i18n.t(Ml::LeftAfter),
                &[("n", &(p - cost()).max(0).to_string())],
            )
        })
    };
    let cash_note = move || {
        item.with(|i| {
            let i = i.as_ref()?;
            let cash = crate::i18n::mall::cash(i.cash_cents.checked_mul(quantity.get())?)?;
            Some(fill(i18n.t(Ml::CashAtPickup), &[("cash", &cash)]))
        })
    };

    let detail = move || {
        let Some(it) = item.get() else {
            return view! {
                <main class="panel center">
                    <ErrorText error=load_error texts=errors::mall_error_text />
                    <p class="subtle" hidden=move || load_error.with(Option::is_some)>
                        {i18n.tr(Ml::Loading)}
                    </p>
                </main>
            }
            .into_any();
        };
        let lang = i18n.lang();
        let description = it.description.clone();
        let no_description = description.trim().is_empty();
        view! {
            <main class="mall-detail">
                <div class="mall-hero">
                    <Thumb image_url=it.image_url.clone() name=it.name.clone() />
                </div>
                <section class="panel">
                    <h1 id="item-name">{it.name.clone()}</h1>
                    <p id="item-price" class="mall-price big">
                        {price_text(lang, it.points_price, it.cash_cents)}
                    </p>
                    <p class="subtle" hidden=no_description>{description}</p>
                    <h2>{i18n.tr(Ml::Terms)}</h2>
                    <ul class="terms">{terms(&it)}</ul>
                </section>
            </main>
        }
        .into_any()
    };

    let button_label = move || {
        if busy.get() {
            i18n.t(Ml::Redeeming)
        } else if pending.with(Option::is_some) && error.with(Option::is_some) {
            i18n.t(Ml::RetryRedeem)
        } else {
            i18n.t(Ml::ConfirmYes)
        }
    };

    view! {
        <div class="page mall-page item-page">
            <MallBar title=Ml::ItemTitle back_to_list=true />
            {detail}
            <div class="redeem-bar" hidden=move || item.with(Option::is_none)>
                <ErrorText error=error texts=errors::mall_error_text />
                <div class="redeem-row">
                    <div class="stepper" role="group" aria-label=i18n.tr(Ml::Quantity)>
                        <button
                            id="qty-minus"
                            type="button"
                            aria-label=i18n.tr(Ml::Fewer)
                            disabled=move || quantity.get() <= 1 || busy.get()
                            on:click=move |_| quantity.update(|q| *q = (*q - 1).max(1))
                        >
                            "−"
                        </button>
                        <span id="qty" aria-live="polite">{move || quantity.get()}</span>
                        <button
                            id="qty-plus"
                            type="button"
                            aria-label=i18n.tr(Ml::More)
                            // Braced: a bare `>=` ends the tag inside `view!` and the rest
                            // of the attribute becomes the button's text.
                            disabled=move || { quantity.get() >= most.get() || busy.get() }
                            on:click=move |_| quantity.update(|q| *q = (*q + 1).min(most.get_untracked()))
                        >
                            "+"
                        </button>
                    </div>
                    <button
                        id="redeem"
                        type="button"
                        class="button primary big grow"
                        disabled=move || refused.get().is_some() || busy.get()
                        on:click=move |_| {
                            error.set(None);
                            confirming.set(true);
                        }
                    >
                        {move || {
                            let lang = i18n.lang();
                            match refused.get() {
                                Some(r) => item
                                    .with(|i| i.as_ref().map(|i| refusal_text(lang, i, r)))
                                    .unwrap_or_default(),
                                None => format!(
                                    "{} · {}",
                                    i18n.t(Ml::Redeem),
                                    fill(i18n.t(Ml::PricePoints), &[("n", &cost().to_string())])
                                ),
                            }
                        }}
                    </button>
                </div>
            </div>
            <div class="sheet-backdrop" hidden=move || !confirming.get() on:click=move |_| {
                if !busy.get_untracked() {
                    confirming.set(false);
                }
            }></div>
            <div
                id="confirm-sheet"
                class="sheet"
                role="dialog"
                aria-modal="true"
                aria-labelledby="confirm-title"
                hidden=move || !confirming.get()
            >
                <h2 id="confirm-title">{i18n.tr(Ml::ConfirmTitle)}</h2>
                <p id="confirm-text" class="confirm-text">{confirm_text}</p>
                <p class="subtle small">{left_after}</p>
                <p class="notice" hidden=move || cash_note().is_none()>{cash_note}</p>
                <ErrorText error=error texts=errors::mall_error_text />
                <button
                    id="confirm-redeem"
                    type="button"
                    class="button primary block big"
                    disabled=move || busy.get()
                    on:click=move |_| submit()
                >
                    {button_label}
                </button>
                <button
                    id="cancel-redeem"
                    type="button"
                    class="button ghost block"
                    disabled=move || busy.get()
                    on:click=move |_| confirming.set(false)
                >
                    {i18n.tr(Ml::ConfirmNo)}
                </button>
            </div>
        </div>
    }
}
