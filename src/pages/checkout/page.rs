//! The checkout screen itself: finding the member (scan, typed code or phone look-up),
//! the purchase form and recording it; the parts it is made of are its siblings.

use std::time::Duration;

use leptos::{ev::SubmitEvent, html, prelude::*, task::spawn_local};
use member_core::card_code;
use member_core::coupons;
use member_core::dto::{codes, CheckoutPreviewRequest, MemberSummary, PurchaseResult, StaffView};
use member_core::money::Cents;
use member_core::tiers::{self, TierRule};

use super::basket::Basket;
use super::coupon_list::CouponList;
use super::draft::{attempt_for, generated_order_ref, Attempt, Draft};
use super::result::PurchaseDone;
use super::totals::{EarnPreview, Totals};
use crate::api::{self, ApiError};
use crate::clock;
use crate::components::error_text::ErrorText;
use crate::components::staff_bar::{StaffSignOut, StaffTabs, Tab};
use crate::components::{lang_toggle::LangToggle, tier_badge::TierBadge};
use crate::i18n::{errors, staff::S, I18n};
use crate::order_code::OrderCode;
use crate::screens::staff::{StaffNav, StaffScreen};

/// How long the amount must stay unchanged before the coupons are asked for again.
const PREVIEW_DEBOUNCE: Duration = Duration::from_millis(400);

fn focus(node: NodeRef<html::Input>) {
    if let Some(el) = node.get_untracked() {
        let _ = el.focus();
    }
}

/// Focus with the text selected: the scanner's next code replaces a rejected one instead of
/// being appended to it, while the cashier can still read what was rejected.
fn focus_selected(node: NodeRef<html::Input>) {
    if let Some(el) = node.get_untracked() {
        let _ = el.focus();
        el.select();
    }
}

#[component]
pub fn CheckoutPage() -> impl IntoView {
    let i18n = I18n::get();
    let nav = StaffNav::get();

    let staff = RwSignal::new(None::<StaffView>);
    let tier_rules = RwSignal::new(Vec::<TierRule>::new());
    let scan = RwSignal::new(String::new());
    let member = RwSignal::new(None::<MemberSummary>);
    let member_code = RwSignal::new(String::new());
    // (member number, look-up token) when the member was found by phone, not scanned.
    let looked_up = RwSignal::new(None::<(String, String)>);
    // The "找会员" path: open, what was typed, and who was found (to confirm).
    let finding = RwSignal::new(false);
    let find_query = RwSignal::new(String::new());
    let found = RwSignal::new(None::<member_core::dto::MemberLookupResult>);
    let find_ref = NodeRef::<html::Input>::new();
    let basket = Basket::new();
    let order_ref = RwSignal::new(String::new());
    let looking_up = RwSignal::new(false);
    let recording = RwSignal::new(false);
    let pending = RwSignal::new(None::<Attempt>);
    let result = RwSignal::new(None::<PurchaseResult>);
    let error = RwSignal::new(None::<String>);
    let preview_error = RwSignal::new(None::<String>);
    // Only the newest preview request may answer: amounts change while one is out.
    let preview_seq = StoredValue::new(0_u64);
    let scan_ref = NodeRef::<html::Input>::new();
    let amount_ref = NodeRef::<html::Input>::new();

    let to_login = move || {
        nav.replace(StaffScreen::Login);
    };

    spawn_local(async move {
        match api::staff_me().await {
            Ok(me) => staff.set(Some(me)),
            Err(e) if e.is_unauthenticated() => to_login(),
            Err(e) => error.set(Some(e.code().to_string())),
        }
    });
    spawn_local(async move {
        if let Ok(list) = api::tiers().await {
            let rules = list
                .into_iter()
                .map(|t| TierRule {
                    code: t.code,
                    name: t.name,
                    growth_threshold: t.growth_threshold,
                    points_per_yuan_pct: t.points_per_yuan_pct,
                })
                .collect();
            tier_rules.set(tiers::sorted(rules));
        }
    });

    Effect::new(move |_| {
        if let Some(el) = scan_ref.get() {
            let _ = el.focus();
        }
    });

    let fail = move |e: ApiError| {
        if e.is_unauthenticated() {
            to_login();
        } else {
            error.set(Some(e.code().to_string()));
        }
    };

    let reset = move || {
        scan.set(String::new());
        member.set(None);
        member_code.set(String::new());
        looked_up.set(None);
        finding.set(false);
        find_query.set(String::new());
        found.set(None);
        order_ref.set(String::new());
        pending.set(None);
        result.set(None);
        error.set(None);
        basket.clear();
        preview_error.set(None);
        preview_seq.update_value(|n| *n += 1);
    };

    // Asks the server for the member's coupons (for the amount typed, if any). Nothing
    // is spent; the list is what the cashier ticks from.
    let fetch_checkout = move || {
        let code = member_code.get_untracked();
        let by_lookup = looked_up.get_untracked();
        if (code.is_empty() && by_lookup.is_none()) || result.with_untracked(Option::is_some) {
            return;
        }
        let amount_cents = Cents::parse_yuan(&basket.amount.get_untracked()).map_or(0, Cents::get);
        preview_seq.update_value(|n| *n += 1);
        let seq = preview_seq.get_value();
        spawn_local(async move {
            let body = CheckoutPreviewRequest {
                code,
                member_no: by_lookup.as_ref().map(|(no, _)| no.clone()),
                lookup_token: by_lookup.map(|(_, t)| t),
                amount_cents,
                coupon_ids: Vec::new(),
            };
            let answer = api::checkout_preview(&body).await;
            if preview_seq.get_value() != seq {
                return;
            }
            match answer {
                Ok(p) => {
                    basket.checkout_at.set(clock::device_unix());
                    basket.checkout.set(Some(p));
                    preview_error.set(None);
                }
                Err(e) if e.is_unauthenticated() => to_login(),
                Err(e) => preview_error.set(Some(e.code().to_string())),
            }
        });
    };
    let amount_gen = StoredValue::new(0_u64);
    let amount_typed = move |value: String| {
        basket.amount.set(value);
        amount_gen.update_value(|n| *n += 1);
        let gen = amount_gen.get_value();
        set_timeout(
            move || {
                if amount_gen.get_value() == gen {
                    fetch_checkout();
                }
            },
            PREVIEW_DEBOUNCE,
        );
    };

    let lookup = move |ev: SubmitEvent| {
        ev.prevent_default();
        if looking_up.get_untracked() {
            return;
        }
        let typed = scan.get_untracked();
        // A coupon code of the member on screen: tick it (the cashier keeps the member).
        let theirs = coupons::normalize_code(&typed).and_then(|code| {
            basket.checkout.with_untracked(|c| {
                c.as_ref()?
                    .coupons
                    .iter()
                    .find(|c| c.coupon.code == code)
                    .map(|c| c.coupon.id)
            })
        });
        if let Some(id) = theirs {
            if !basket.ticked.with_untracked(|t| t.contains(&id))
                && result.with_untracked(Option::is_none)
            {
                basket.tick(id);
            }
            scan.set(String::new());
            return;
        }
        reset();
        scan.set(typed.clone());
        let parsed = match card_code::parse_code(&typed) {
            Ok(p) => p,
            Err(_) => {
                // A points-mall order code scanned here: open the order to hand it over.
                if let Some(order) = OrderCode::parse(&typed) {
                    nav.go(StaffScreen::Order(order));
                    return;
                }
                error.set(Some(codes::CARD_CODE_MALFORMED.to_string()));
                focus_selected(scan_ref);
                return;
            }
        };
        let code = format!("{}{:06}", parsed.member_no, parsed.totp);
        looking_up.set(true);
        spawn_local(async move {
            match api::staff_verify(&code).await {
                Ok(m) => {
                    member.set(Some(m));
                    member_code.set(code);
                    fetch_checkout();
                    request_animation_frame(move || focus(amount_ref));
                }
                Err(e) => {
                    fail(e);
                    focus_selected(scan_ref);
                }
            }
            looking_up.set(false);
        });
    };

    let record = move |ev: SubmitEvent| {
        ev.prevent_default();
        if recording.get_untracked() || result.with_untracked(Option::is_some) {
            return;
        }
        error.set(None);
        let Ok(cents) = Cents::parse_yuan(&basket.amount.get_untracked()) else {
            error.set(Some(codes::INVALID_AMOUNT.to_string()));
            focus(amount_ref);
            return;
        };
        let coupon_ids = basket
            .quote
            .with_untracked(|q| q.as_ref().map(|(ids, _)| ids.clone()))
            .unwrap_or_default();
        let draft = Draft {
            code: member_code.get_untracked(),
            looked_up: looked_up.get_untracked(),
            amount_cents: cents.get(),
            order_ref: order_ref.get_untracked().trim().to_string(),
            coupon_ids,
        };
        let attempt = pending.with_untracked(|p| {
            attempt_for(p.as_ref(), draft, || {
                (clock::random_hex::<16>(), generated_order_ref())
            })
        });
        pending.set(Some(attempt.clone()));
        recording.set(true);
        spawn_local(async move {
            match api::record_purchase(&attempt.body, &attempt.idempotency_key).await {
                Ok(r) => {
                    member.update(|m| {
                        if let Some(m) = m {
                            m.points = r.points;
                            m.growth = r.growth;
                            m.tier = r.tier.clone();
                        }
                    });
                    result.set(Some(r));
                    // Those coupons are spent: a coupon code scanned now is no longer
                    // this purchase's.
                    basket.checkout.set(None);
                    basket.ticked.set(Vec::new());
                    scan.set(String::new());
                    request_animation_frame(move || focus(scan_ref));
                }
                Err(e) => {
                    if !e.may_have_taken_effect() {
                        pending.set(None);
                    }
                    // A coupon refused (used elsewhere meanwhile, expired): show the
                    // wallet as it is now.
                    if e.code().starts_with("coupon") {
                        fetch_checkout();
                    }
                    fail(e);
                }
            }
            recording.set(false);
        });
    };

    let find = move |ev: SubmitEvent| {
        ev.prevent_default();
        if looking_up.get_untracked() {
            return;
        }
        let typed = find_query.get_untracked();
        found.set(None);
        error.set(None);
        looking_up.set(true);
        spawn_local(async move {
            match api::member_lookup(&typed).await {
                Ok(r) => found.set(Some(r)),
                Err(e) if e.code() == codes::NOT_FOUND => {
                    error.set(Some(errors::MEMBER_NOT_FOUND.to_string()));
                    focus_selected(find_ref);
                }
                Err(e) => {
                    fail(e);
                    focus_selected(find_ref);
                }
            }
            looking_up.set(false);
        });
    };
    // The cashier checked name and phone with the member: the same form as after a scan.
    let confirm_found = move |_| {
        let Some(r) = found.get_untracked() else {
            return;
        };
        reset();
        looked_up.set(Some((r.member.member_no.clone(), r.lookup_token.clone())));
        member.set(Some(r.member));
        fetch_checkout();
        request_animation_frame(move || focus(amount_ref));
    };

    let next_customer = move |_| {
        reset();
        focus(scan_ref);
    };

    let member_field = move |f: fn(&MemberSummary) -> String| {
        move || member.with(|m| m.as_ref().map(f).unwrap_or_default())
    };
    let tier_code = Signal::derive(member_field(|m| m.tier.code.clone()));
    let tier_label = Signal::derive(member_field(|m| m.tier.name.clone()));

    let record_label = move || {
        if recording.get() {
            i18n.t(S::Recording)
        } else if pending.with(Option::is_some) && error.with(Option::is_some) {
            i18n.t(S::RetryRecord)
        } else {
            i18n.t(S::Record)
        }
    };

    let form_open = move || member.with(Option::is_some) && result.with(Option::is_none);

    view! {
        <div class="page staff checkout-page">
            <header class="brand-bar">
                <h1 class="brand">{i18n.tr(S::Title)}</h1>
                <span class="staff-who subtle">
                    {move || {
                        staff
                            .get()
                            .map(|s| {
                                let store = s.store_name.or(s.store_code).unwrap_or_default();
                                if store.is_empty() {
                                    s.display_name
                                } else {
                                    format!("{store} · {}", s.display_name)
                                }
                            })
                    }}
                </span>
                <LangToggle />
                <StaffSignOut />
            </header>
            <StaffTabs active=Tab::Checkout />
            <main class="checkout">
                <form class="scan-form" on:submit=lookup novalidate>
                    <label class="field-label" for="scan-input">
                        {i18n.tr(S::ScanLabel)}
                    </label>
                    <div class="field-row">
                        <input
                            id="scan-input"
                            node_ref=scan_ref
                            class="scan-input"
                            type="text"
                            inputmode="numeric"
                            autocomplete="off"
                            autofocus
                            placeholder=i18n.tr(S::ScanPlaceholder)
                            prop:value=scan
                            on:input:target=move |ev| scan.set(ev.target().value())
                        />
                        <button type="submit" class="button secondary" disabled=move || looking_up.get()>
                            {move || if looking_up.get() { i18n.t(S::LookingUp) } else { i18n.t(S::Lookup) }}
                        </button>
                    </div>
                    <button
                        id="find-member"
                        type="button"
                        class="button ghost small find-toggle"
                        hidden=move || finding.get()
                        on:click=move |_| {
                            reset();
                            finding.set(true);
                            request_animation_frame(move || focus(find_ref));
                        }
                    >
                        {i18n.tr(S::FindMember)}
                    </button>
                </form>
                <Show when=move || finding.get()>
                    <form id="find-form" class="scan-form find-form" on:submit=find novalidate>
                        <label class="field-label" for="find-input">{i18n.tr(S::FindLabel)}</label>
                        <div class="field-row">
                            <input
                                id="find-input"
                                node_ref=find_ref
                                class="scan-input"
                                type="text"
                                inputmode="numeric"
                                autocomplete="off"
                                placeholder=i18n.tr(S::FindPlaceholder)
                                prop:value=find_query
                                on:input:target=move |ev| find_query.set(ev.target().value())
                            />
                            <button id="find-submit" type="submit" class="button secondary" disabled=move || looking_up.get()>
                                {i18n.tr(S::FindSubmit)}
                            </button>
                        </div>
                        <p class="subtle small">{i18n.tr(S::FindHint)}</p>
                    </form>
                </Show>
                {move || found.get().map(|r| view! {
                    <section id="found-member" class="member-box">
                        <div class="member-main">
                            <div id="found-name" class="member-name">{r.member.name.clone()}</div>
                        </div>
                        <dl class="member-facts">
                            <div>
                                <dt>{i18n.t(S::Phone)}</dt>
                                <dd id="found-phone">{r.member.phone_masked.clone()}</dd>
                            </div>
                        </dl>
                        <div class="field-row">
                            <button id="confirm-member" type="button" class="button primary" on:click=confirm_found>
                                {i18n.t(S::ConfirmMember)}
                            </button>
                            <button type="button" class="button ghost" on:click=move |_| {
                                found.set(None);
                                focus_selected(find_ref);
                            }>
                                {i18n.t(S::NotThisMember)}
                            </button>
                        </div>
                    </section>
                })}
                // While the purchase form is open its errors show by its button instead.
                <div class="error-slot" hidden=form_open>
                    <ErrorText error=error class="big-error" texts=errors::mall_error_text />
                </div>
                <Show when=move || member.with(Option::is_some)>
                    <section class="member-box">
                        <div class="member-main">
                            <div id="member-name" class="member-name">
                                {member_field(|m| m.name.clone())}
                            </div>
                            <TierBadge id="member-tier" code=tier_code name=tier_label />
                        </div>
                        <dl class="member-facts">
                            <div>
                                <dt>{i18n.tr(S::Phone)}</dt>
                                <dd id="member-phone">{member_field(|m| m.phone_masked.clone())}</dd>
                            </div>
                            <div>
                                <dt>{i18n.tr(S::Points)}</dt>
                                <dd id="member-points">{member_field(|m| m.points.to_string())}</dd>
                            </div>
                            <div>
                                <dt>{i18n.tr(S::Growth)}</dt>
                                <dd id="member-growth">{member_field(|m| m.growth.to_string())}</dd>
                            </div>
                        </dl>
                        <p id="found-by-lookup" class="subtle small" hidden=move || looked_up.with(Option::is_none)>
                            {i18n.tr(S::FoundByLookup)}
                        </p>
                    </section>
                </Show>
                <Show when=move || member.with(Option::is_some) && result.with(Option::is_none)>
                    <form class="purchase-form" on:submit=record novalidate>
                        <label class="field">
                            <span class="field-label">{i18n.tr(S::Amount)}</span>
                            <input
                                id="amount"
                                node_ref=amount_ref
                                class="amount-input"
                                type="text"
                                inputmode="decimal"
                                autocomplete="off"
                                placeholder=i18n.tr(S::AmountPlaceholder)
                                prop:value=basket.amount
                                on:input:target=move |ev| amount_typed(ev.target().value())
                                on:change=move |_| fetch_checkout()
                            />
                        </label>
                        <label class="field">
                            <span class="field-label">{i18n.tr(S::OrderRef)}</span>
                            <input
                                id="order-ref"
                                type="text"
                                autocomplete="off"
                                placeholder=i18n.tr(S::OrderRefPlaceholder)
                                prop:value=order_ref
                                on:input:target=move |ev| order_ref.set(ev.target().value())
                            />
                        </label>
                        <CouponList basket=basket />
                        <ErrorText error=preview_error texts=errors::mall_error_text />
                        <Totals basket=basket />
                        <EarnPreview basket=basket member=member tier_rules=tier_rules />
                        // Sticky: with several coupons the form is taller than a phone,
                        // and the refusal belongs where the cashier's thumb is.
                        <div class="record-bar">
                            <ErrorText error=error class="big-error" texts=errors::mall_error_text />
                            <button
                                id="record-purchase"
                                type="submit"
                                class="button primary block big"
                                disabled=move || recording.get()
                            >
                                {record_label}
                            </button>
                        </div>
                    </form>
                </Show>
                <PurchaseDone result=result />
                <Show when=move || member.with(Option::is_some) || result.with(Option::is_some)>
                    <button id="next-customer" type="button" class="button secondary block" on:click=next_customer>
                        {i18n.tr(S::NextCustomer)}
                    </button>
                </Show>
            </main>
        </div>
    }
}
