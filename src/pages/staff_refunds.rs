//! Refunding a purchase (store managers and admins): find it by order number or in the
//! store's recent purchases, see what was paid and already refunded, refund all that is
//! left or a part of it with a reason, and see what the refund took back.

use leptos::{ev::SubmitEvent, html, prelude::*, task::spawn_local};
use member_core::dto::{codes, RefundRequest, RefundResult, StaffPurchaseView};
use member_core::money::Cents;

use crate::api::{self, ApiError};
use crate::attempt::{attempt_for, Attempt};
use crate::clock::{self, local_time};
use crate::components::error_text::ErrorText;
use crate::components::lang_toggle::LangToggle;
use crate::components::staff_bar::{StaffSignOut, StaffTabs, Tab};
use crate::i18n::{errors, fill, staff::S, I18n};
use crate::pages::staff_unlock::StaffUnlock;
use crate::screens::staff::{StaffMe, StaffNav, StaffScreen};

/// (order ref, fen, reason): the same again is a retry of the same refund.
type Draft = (String, i64, String);

fn yuan(cents: i64) -> String {
    Cents::paid(cents)
        .map(Cents::to_yuan_string)
        .unwrap_or_default()
}

/// What an amount field shows for `cents`: `20.00`.
fn yuan_field(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn left_of(p: &StaffPurchaseView) -> i64 {
    (p.paid_cents - p.refunded_cents).max(0)
}

#[component]
pub fn StaffRefundsPage() -> impl IntoView {
    let i18n = I18n::get();
    let nav = StaffNav::get();
    let me = StaffMe::get();
    let search = RwSignal::new(String::new());
    let list = RwSignal::new(Vec::<StaffPurchaseView>::new());
    let next = RwSignal::new(None::<i64>);
    let loaded = RwSignal::new(false);
    let selected = RwSignal::new(None::<StaffPurchaseView>);
    let amount = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<RefundResult>);
    let pending = RwSignal::new(None::<Attempt<Draft>>);
    let amount_ref = NodeRef::<html::Input>::new();
    let reason_ref = NodeRef::<html::Input>::new();

    let fail = move |e: ApiError| {
        if e.is_unauthenticated() {
            nav.replace(StaffScreen::Login);
        } else {
            error.set(Some(e.code().to_string()));
        }
    };

    let load_page = move |before: Option<i64>| {
        spawn_local(async move {
            match api::store_purchases(None, before).await {
                Ok(page) => {
                    list.update(|l| {
                        if before.is_none() {
                            l.clear();
                        }
                        l.extend(page.items);
                    });
                    next.set(page.next);
                    loaded.set(true);
                }
                Err(e) => fail(e),
            }
        });
    };
    me.refresh();
    load_page(None);

    let select = move |p: StaffPurchaseView| {
        amount.set(yuan_field(left_of(&p)));
        reason.set(String::new());
        pending.set(None);
        error.set(None);
        selected.set(Some(p));
        request_animation_frame(move || {
            if let Some(el) = amount_ref.get_untracked() {
                let _ = el.focus();
                el.select();
            }
        });
    };

    let find = move |ev: SubmitEvent| {
        ev.prevent_default();
        let typed = search.get_untracked().trim().to_string();
        if typed.is_empty() {
            return;
        }
        error.set(None);
        done.set(None);
        spawn_local(async move {
            match api::store_purchases(Some(&typed), None).await {
                Ok(page) => match page.items.into_iter().next() {
                    Some(p) => select(p),
                    None => error.set(Some(errors::PURCHASE_NOT_FOUND.to_string())),
                },
                Err(e) => fail(e),
            }
        });
    };

    let refund = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let Some(p) = selected.get_untracked() else {
            return;
        };
        let Ok(cents) = Cents::parse_yuan(&amount.get_untracked()) else {
            error.set(Some(codes::INVALID_AMOUNT.to_string()));
            return;
        };
        let why = reason.get_untracked().trim().to_string();
        if why.is_empty() {
            error.set(Some(codes::INVALID_INPUT.to_string()));
            if let Some(el) = reason_ref.get_untracked() {
                let _ = el.focus();
            }
            return;
        }
        let attempt = attempt_for(
            pending.get_untracked(),
            (p.order_ref.clone(), cents.get(), why),
            clock::random_hex::<16>,
        );
        pending.set(Some(attempt.clone()));
        busy.set(true);
        error.set(None);
        done.set(None);
        spawn_local(async move {
            let (order_ref, cents, why) = attempt.draft.clone();
            // Always the amount seen on screen: if another till refunded meanwhile, "the
            // rest" would be a different sum than the one confirmed.
            let body = RefundRequest {
                order_ref: order_ref.clone(),
                reason: why,
                amount_cents: Some(cents),
            };
            match api::refund_purchase(&body, &attempt.idempotency_key).await {
                Ok(r) => {
                    pending.set(None);
                    reason.set(String::new());
                    done.set(Some(r));
                    // Show the purchase as it is now, in the panel and the list.
                    if let Ok(page) = api::store_purchases(Some(&order_ref), None).await {
                        if let Some(now) = page.items.into_iter().next() {
                            amount.set(yuan_field(left_of(&now)));
                            list.update(|l| {
                                if let Some(row) =
                                    l.iter_mut().find(|x| x.order_ref == now.order_ref)
                                {
                                    *row = now.clone();
                                }
                            });
                            selected.set(Some(now));
                        }
                    }
                }
                Err(e) => {
                    if !e.may_have_taken_effect() {
                        pending.set(None);
                    }
                    fail(e);
                }
            }
            busy.set(false);
        });
    };

    let done_view = move || {
        let r = done.get()?;
        let main = fill(
            i18n.t(S::RefundDone),
            &[
                ("amount", &yuan(r.amount_cents)),
                ("n", &r.points_clawed_back.to_string()),
                ("m", &r.points.to_string()),
            ],
        );
        let short = (r.shortfall > 0).then(|| {
            fill(
                i18n.t(S::RefundShortfall),
                &[("n", &r.shortfall.to_string())],
            )
        });
        let coupons = (r.coupons_restored > 0).then(|| {
            fill(
                i18n.t(S::CouponsBack),
                &[("n", &r.coupons_restored.to_string())],
            )
        });
        Some(view! {
            <section id="refund-result" class="result" role="status">
                <p id="refund-done" class="notice big-notice">{main}</p>
                {short.map(|s| view! { <p class="subtle">{s}</p> })}
                {coupons.map(|c| view! { <p class="subtle">{c}</p> })}
            </section>
        })
    };

    let state_badge = move |p: &StaffPurchaseView| {
        if p.fully_refunded {
            Some(("status status-refunded", i18n.t(S::FullyRefunded)))
        } else if p.refunded_cents > 0 {
            Some(("status status-part", i18n.t(S::PartRefunded)))
        } else {
            None
        }
    };

    let selected_view = move || {
        let p = selected.get()?;
        let left = left_of(&p);
        let fact = |label: S, id: &'static str, value: String| {
            view! {
                <div>
                    <dt>{i18n.t(label)}</dt>
                    <dd id=id>{value}</dd>
                </div>
            }
        };
        let badge = state_badge(&p).map(|(class, text)| view! { <span class=class>{text}</span> });
        let open = left > 0 && !p.fully_refunded;
        Some(view! {
            <section id="refund-purchase" class="member-box order-box">
                <div class="member-main">
                    <div class="member-name" id="refund-order-ref">{p.order_ref.clone()}</div>
                    {badge}
                </div>
                <dl class="member-facts order-facts">
                    {fact(S::Member, "refund-member", format!("{} {}", p.member_name, p.phone_masked))}
                    {fact(S::PurchasedAt, "refund-at", local_time(&p.created_at))}
                    {fact(S::Paid, "refund-paid", yuan(p.paid_cents))}
                    {fact(S::RefundedSoFar, "refund-refunded", yuan(p.refunded_cents))}
                    {fact(S::RefundLeft, "refund-left", yuan(left))}
                    {fact(S::PointsEarnedShort, "refund-points", p.points_earned.to_string())}
                </dl>
                <form id="refund-form" class="purchase-form" on:submit=refund novalidate hidden=!open>
                    <label class="field">
                        <span class="field-label">{i18n.t(S::RefundAmount)}</span>
                        <input
                            id="refund-amount"
                            node_ref=amount_ref
                            class="amount-input"
                            type="text"
                            inputmode="decimal"
                            autocomplete="off"
                            prop:value=amount
                            on:input:target=move |ev| amount.set(ev.target().value())
                        />
                        <span class="subtle small">{i18n.t(S::RefundAmountHint)}</span>
                    </label>
                    <label class="field">
                        <span class="field-label">{i18n.t(S::RefundReason)}</span>
                        <input
                            id="refund-reason"
                            node_ref=reason_ref
                            type="text"
                            autocomplete="off"
                            maxlength="200"
                            placeholder=i18n.t(S::RefundPurchaseReasonPlaceholder)
                            prop:value=reason
                            on:input:target=move |ev| reason.set(ev.target().value())
                        />
                    </label>
                    <button id="confirm-refund" type="submit" class="button danger block big" disabled=move || busy.get()>
                        {move || {
                            if busy.get() {
                                i18n.t(S::Submitting).to_string()
                            } else if pending.with(Option::is_some) && error.with(Option::is_some) {
                                i18n.t(S::RetryRefund).to_string()
                            } else {
                                let shown = Cents::parse_yuan(&amount.get())
                                    .map(Cents::to_yuan_string)
                                    .unwrap_or_default();
                                fill(i18n.t(S::ConfirmRefund), &[("amount", &shown)])
                            }
                        }}
                    </button>
                </form>
            </section>
        })
    };

    let list_view = move || {
        let rows = list
            .get()
            .into_iter()
            .map(|p| {
                let badge =
                    state_badge(&p).map(|(class, text)| view! { <span class=class>{text}</span> });
                let line = format!("{} · {}", local_time(&p.created_at), p.member_name);
                let paid = yuan(p.paid_cents);
                let order_ref = p.order_ref.clone();
                let data_ref = p.order_ref.clone();
                view! {
                    <li>
                        <button
                            type="button"
                            class="purchase-row"
                            data-order-ref=data_ref
                            on:click=move |_| {
                                done.set(None);
                                select(p.clone());
                            }
                        >
                            <span class="pr-ref">{order_ref}</span>
                            <span class="pr-paid">{paid}</span>
                            <span class="pr-line subtle small">{line}</span>
                            {badge}
                        </button>
                    </li>
                }
            })
            .collect_view();
        view! { <ul id="purchase-list" class="purchase-list">{rows}</ul> }
    };

    view! {
        <div class="page staff checkout-page refunds-page">
            <header class="brand-bar">
                <span class="brand">{i18n.tr(S::Title)}</span>
                <LangToggle />
                <StaffSignOut />
            </header>
            <StaffTabs active=Tab::Refunds />
            <main class="checkout">
                <p class="error" hidden=move || me.0.with(Option::is_none) || me.is_manager()>
                    {i18n.tr(S::ManagersOnly)}
                </p>
                <form id="refund-lookup" class="scan-form" on:submit=find novalidate>
                    <label class="field-label" for="refund-search">{i18n.tr(S::RefundSearchLabel)}</label>
                    <div class="field-row">
                        <input
                            id="refund-search"
                            class="scan-input"
                            type="text"
                            autocomplete="off"
                            spellcheck="false"
                            placeholder=i18n.tr(S::RefundSearchPlaceholder)
                            prop:value=search
                            on:input:target=move |ev| search.set(ev.target().value())
                        />
                        <button type="submit" class="button secondary">{i18n.tr(S::Lookup)}</button>
                    </div>
                </form>
                <ErrorText error=error class="big-error" texts=errors::mall_error_text />
                {done_view}
                {selected_view}
                <section class="recent-purchases">
                    <div class="field-label">{i18n.tr(S::RecentPurchases)}</div>
                    <p class="subtle" hidden=move || !loaded.get() || list.with(|l| !l.is_empty())>
                        {i18n.tr(S::NoPurchases)}
                    </p>
                    {list_view}
                    <button
                        id="more-purchases"
                        type="button"
                        class="button ghost block"
                        hidden=move || next.get().is_none()
                        on:click=move |_| load_page(next.get_untracked())
                    >
                        {i18n.tr(S::LoadMore)}
                    </button>
                </section>
                <Show when=move || me.is_manager()>
                    <StaffUnlock />
                </Show>
            </main>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amount_field_shows_yuan() {
        assert_eq!(yuan_field(2_000), "20.00");
        assert_eq!(yuan_field(5), "0.05");
    }
}
