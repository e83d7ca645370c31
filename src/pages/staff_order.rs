//! Handing over points-mall orders: scan (keyboard-wedge scanner = code + Enter) or type
//! the member's order code, see what it is and whose, then mark it collected, or cancel
//! it (the points go back to the member).

use leptos::{ev::SubmitEvent, html, prelude::*, task::spawn_local};
use member_core::dto::{codes, CancelOrderRequest, StaffMallOrder};
use member_core::mall::format_order_code;

use crate::api::{self, ApiError};
use crate::attempt::{attempt_for, Attempt};
use crate::clock::{self, local_time};
use crate::components::error_text::ErrorText;
use crate::components::lang_toggle::LangToggle;
use crate::components::staff_bar::{StaffSignOut, StaffTabs, Tab};
use crate::i18n::{errors, fill, mall::cash, mall::order_status_text, staff::S, I18n};
use crate::order_code::OrderCode;
use crate::screens::staff::{StaffMe, StaffNav, StaffScreen};

/// A cancellation as asked: the same order and reason again is a retry of it.
type Draft = (OrderCode, String);

/// What happened last on this screen, said plainly above the order.
#[derive(Clone, Debug, PartialEq)]
enum Done {
    Collected,
    /// `refund`: a handed-over order taken back (not a pending one cancelled).
    Cancelled {
        returned: i64,
        balance: i64,
        refund: bool,
    },
}

#[component]
pub fn StaffOrderPage(code: Option<OrderCode>) -> impl IntoView {
    let i18n = I18n::get();
    let nav = StaffNav::get();
    let me = StaffMe::get();
    let typed = RwSignal::new(
        code.map(|c| format_order_code(c.as_str()))
            .unwrap_or_default(),
    );
    let order = RwSignal::new(None::<StaffMallOrder>);
    let loading = RwSignal::new(code.is_some());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<Done>);
    let cancelling = RwSignal::new(false);
    let reason = RwSignal::new(String::new());
    let pending = RwSignal::new(None::<Attempt<Draft>>);
    let input_ref = NodeRef::<html::Input>::new();
    let reason_ref = NodeRef::<html::Input>::new();

    let fail = move |e: ApiError| {
        if e.is_unauthenticated() {
            nav.replace(StaffScreen::Login);
        } else {
            error.set(Some(e.code().to_string()));
        }
    };
    let focus_input = move || {
        if let Some(el) = input_ref.get_untracked() {
            let _ = el.focus();
            el.select();
        }
    };

    let load = move |code: OrderCode| {
        spawn_local(async move {
            match api::staff_order(code.as_str()).await {
                Ok(o) => order.set(Some(o)),
                Err(e) if e.code() == codes::NOT_FOUND => {
                    error.set(Some(errors::ORDER_NOT_FOUND.to_string()));
                    focus_input();
                }
                Err(e) => fail(e),
            }
            loading.set(false);
        });
    };
    if let Some(code) = code {
        load(code);
    }

    Effect::new(move |_| {
        if let Some(el) = input_ref.get() {
            let _ = el.focus();
            if code.is_some() {
                el.select();
            }
        }
    });

    let lookup = move |ev: SubmitEvent| {
        ev.prevent_default();
        match OrderCode::parse(&typed.get_untracked()) {
            // The same code again: look again (its state may have changed).
            Some(c) if Some(c) == code => {
                error.set(None);
                done.set(None);
                load(c);
            }
            Some(c) => nav.go(StaffScreen::Order(c)),
            None => {
                error.set(Some(errors::ORDER_CODE_MALFORMED.to_string()));
                focus_input();
            }
        }
    };

    let collect = move |_| {
        let Some(code) = code else { return };
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        done.set(None);
        spawn_local(async move {
            match api::collect_order(code.as_str()).await {
                Ok(o) => {
                    order.set(Some(o));
                    done.set(Some(Done::Collected));
                }
                Err(e) => {
                    fail(e);
                    // A retry after a lost answer meets `order_closed`; either way,
                    // show the order as it is now.
                    load(code);
                }
            }
            busy.set(false);
            focus_input();
        });
    };

    let cancel = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(code) = code else { return };
        if busy.get_untracked() {
            return;
        }
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
            (code, why),
            clock::random_hex::<16>,
        );
        pending.set(Some(attempt.clone()));
        busy.set(true);
        error.set(None);
        done.set(None);
        let refund =
            order.with_untracked(|o| o.as_ref().is_some_and(|o| o.order.status == "collected"));
        spawn_local(async move {
            let body = CancelOrderRequest {
                reason: attempt.draft.1.clone(),
            };
            match api::cancel_order(code.as_str(), &body, &attempt.idempotency_key).await {
                Ok(r) => {
                    pending.set(None);
                    cancelling.set(false);
                    reason.set(String::new());
                    order.update(|o| {
                        if let Some(o) = o {
                            o.order = r.order;
                        }
                    });
                    done.set(Some(Done::Cancelled {
                        returned: r.points_returned,
                        balance: r.points,
                        refund,
                    }));
                }
                Err(e) => {
                    if !e.may_have_taken_effect() {
                        pending.set(None);
                        load(code);
                    }
                    fail(e);
                }
            }
            busy.set(false);
        });
    };

    let status = move || {
        order.with(|o| {
            o.as_ref()
                .map(|o| o.order.status.clone())
                .unwrap_or_default()
        })
    };

    let done_view = move || {
        let text = match done.get()? {
            Done::Collected => i18n.t(S::Collected).to_string(),
            Done::Cancelled {
                returned,
                balance,
                refund,
            } => fill(
                i18n.t(if refund {
                    S::OrderRefunded
                } else {
                    S::Cancelled
                }),
                &[("n", &returned.to_string()), ("m", &balance.to_string())],
            ),
        };
        Some(view! { <p id="order-notice" class="notice big-notice" role="status">{text}</p> })
    };

    let result_view = move || {
        let o = order.get()?;
        let lang = i18n.lang();
        let m = &o.order;
        let fact = |label: S, id: Option<&'static str>, value: String| {
            view! {
                <div>
                    <dt>{i18n.t(label)}</dt>
                    <dd id=id>{value}</dd>
                </div>
            }
        };
        let mut facts = vec![
            fact(
                S::Item,
                Some("order-item"),
                format!("{} × {}", m.item_name, m.quantity),
            ),
            fact(
                S::PointsSpent,
                Some("order-points"),
                m.points_spent.to_string(),
            ),
            fact(S::Member, Some("order-member"), o.member_name.clone()),
            fact(S::Phone, Some("order-phone"), o.phone_masked.clone()),
            fact(S::OrderedAt, None, local_time(&m.created_at)),
        ];
        if let Some(at) = m.collected_at.as_deref() {
            let store = m.collected_store_name.clone().unwrap_or_default();
            facts.push(fact(
                S::CollectedAt,
                None,
                format!("{} {store}", local_time(at)).trim().to_string(),
            ));
        }
        if let Some(at) = m.closed_at.as_deref() {
            facts.push(fact(S::ClosedAt, None, local_time(at)));
        }
        if let Some(r) = m.close_reason.clone().filter(|r| !r.trim().is_empty()) {
            facts.push(fact(S::Reason, None, r));
        }
        let cash_due = cash(m.cash_cents).filter(|_| m.status == "pending");
        let open = m.status == "pending";
        // Taking back a handed-over order is a manager's: a cashier is not offered it.
        let collected = m.status == "collected" && me.is_manager();
        Some(view! {
            <section id="order-result" class="member-box order-box">
                <div class="member-main">
                    <div class="member-name">{format_order_code(&m.order_code)}</div>
                    <span id="order-status" class=format!("status status-{}", m.status)>
                        {order_status_text(lang, &m.status, &m.delivery)}
                    </span>
                </div>
                {cash_due.map(|c| view! {
                    <p id="order-cash" class="cash-due">{format!("{} {c}", i18n.t(S::CashToCollect))}</p>
                })}
                <dl class="member-facts order-facts">{facts.into_iter().collect_view()}</dl>
                <div class="order-actions" hidden=!(open || collected)>
                    <button
                        id="collect-order"
                        type="button"
                        class="button primary block big"
                        hidden=!open
                        disabled=move || busy.get()
                        on:click=collect
                    >
                        {move || if busy.get() { i18n.t(S::Submitting) } else { i18n.t(S::Collect) }}
                    </button>
                    <button
                        id="cancel-order"
                        type="button"
                        class="button secondary block"
                        hidden=move || cancelling.get() || !(open || collected)
                        disabled=move || busy.get()
                        on:click=move |_| {
                            error.set(None);
                            cancelling.set(true);
                            request_animation_frame(move || {
                                if let Some(el) = reason_ref.get_untracked() {
                                    let _ = el.focus();
                                }
                            });
                        }
                    >
                        {if open { i18n.t(S::CancelOrder) } else { i18n.t(S::RefundOrder) }}
                    </button>
                </div>
            </section>
        })
    };

    view! {
        <div class="page staff checkout-page order-page">
            <header class="brand-bar">
                <h1 class="brand">{i18n.tr(S::Title)}</h1>
                <LangToggle />
                <StaffSignOut />
            </header>
            <StaffTabs active=Tab::Orders />
            <main class="checkout">
                <form id="order-lookup" class="scan-form" on:submit=lookup novalidate>
                    <label class="field-label" for="order-lookup-input">
                        {i18n.tr(S::OrderLabel)}
                    </label>
                    <div class="field-row">
                        <input
                            id="order-lookup-input"
                            node_ref=input_ref
                            class="scan-input"
                            type="text"
                            autocomplete="off"
                            autocapitalize="characters"
                            spellcheck="false"
                            autofocus
                            placeholder=i18n.tr(S::OrderPlaceholder)
                            prop:value=typed
                            on:input:target=move |ev| typed.set(ev.target().value())
                        />
                        <button type="submit" class="button secondary">
                            {i18n.tr(S::Lookup)}
                        </button>
                    </div>
                    <p class="subtle small" hidden=code.is_some()>{i18n.tr(S::OrderHint)}</p>
                </form>
                <ErrorText error=error class="big-error" texts=errors::mall_error_text />
                {done_view}
                <p class="subtle" hidden=move || !loading.get()>{i18n.tr(S::LookingUp)}</p>
                {result_view}
                <form
                    id="cancel-form"
                    class="purchase-form"
                    on:submit=cancel
                    novalidate
                    hidden=move || !cancelling.get() || !matches!(status().as_str(), "pending" | "collected")
                >
                    <label class="field">
                        <span class="field-label">
                            {move || if status() == "collected" { i18n.t(S::RefundReason) } else { i18n.t(S::CancelReason) }}
                        </span>
                        <input
                            id="cancel-reason"
                            node_ref=reason_ref
                            type="text"
                            autocomplete="off"
                            maxlength="200"
                            placeholder=move || if status() == "collected" { i18n.t(S::RefundOrderReasonPlaceholder) } else { i18n.t(S::CancelReasonPlaceholder) }
                            prop:value=reason
                            on:input:target=move |ev| reason.set(ev.target().value())
                        />
                    </label>
                    <button id="confirm-cancel" type="submit" class="button danger block" disabled=move || busy.get()>
                        {move || {
                            if busy.get() {
                                i18n.t(S::Submitting)
                            } else if pending.with(Option::is_some) && error.with(Option::is_some) {
                                i18n.t(S::RetryCancel)
                            } else if status() == "collected" {
                                i18n.t(S::ConfirmRefundOrder)
                            } else {
                                i18n.t(S::ConfirmCancel)
                            }
                        }}
                    </button>
                    <button
                        type="button"
                        class="button ghost block"
                        disabled=move || busy.get()
                        on:click=move |_| cancelling.set(false)
                    >
                        {i18n.tr(S::Back)}
                    </button>
                </form>
            </main>
        </div>
    }
}
