//! The cashier's screen: scan (keyboard-wedge scanner = digits + Enter) or type the
//! member's code, check who it is, enter the amount, pick the member's coupons and record
//! the purchase. A scanned points-mall order code opens that order instead
//! (`staff_order`); a scanned coupon code of the member on screen ticks that coupon.
//!
//! The server lists the member's coupons (`/staff/checkout/preview`); what they take off
//! is worked out here with `member_core::coupons`, the rules the server applies when the
//! purchase is recorded, at the server's clock.

use std::time::Duration;

use leptos::{ev::SubmitEvent, html, prelude::*, task::spawn_local};
use member_core::card_code;
use member_core::coupons::{self, Held, Quote, Refusal, Till};
use member_core::dto::{
    codes, CheckoutCoupon, CheckoutPreview, CheckoutPreviewRequest, EarnRates, MemberSummary,
    PurchaseRequest, PurchaseResult, StaffView,
};
use member_core::money::Cents;
use member_core::tier_program;
use member_core::tiers::{self, TierRule};

use crate::api::{self, ApiError};
use crate::clock;
use crate::components::error_text::ErrorText;
use crate::components::{lang_toggle::LangToggle, tier_badge::TierBadge};
use crate::i18n::{coupons as words, errors, fill, staff::S, tier_name, I18n, Lang};
use crate::order_code::OrderCode;
use crate::pages::staff_order::{StaffSignOut, StaffTabs, Tab};
use crate::staff_app::{StaffNav, StaffScreen};

/// What the cashier entered for one purchase. A retry reuses the previous attempt (and so
/// its Idempotency-Key) only while this stays the same; any edit is a new purchase.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Draft {
    code: String,
    /// Instead of `code`: a member looked up by phone, with this session's look-up token.
    looked_up: Option<(String, String)>,
    amount_cents: i64,
    /// As typed; empty means "generate one".
    order_ref: String,
    /// The coupons applied, sorted.
    coupon_ids: Vec<i64>,
}

#[derive(Clone, Debug, PartialEq)]
struct Attempt {
    draft: Draft,
    body: PurchaseRequest,
    idempotency_key: String,
}

/// The attempt to send: the pending one again if nothing changed (a retry after a network
/// error must not credit twice), else a fresh one with a new key (and order ref if none).
fn attempt_for(
    pending: Option<&Attempt>,
    draft: Draft,
    fresh: impl FnOnce() -> (String, String),
) -> Attempt {
    if let Some(p) = pending.filter(|p| p.draft == draft) {
        return p.clone();
    }
    let (idempotency_key, generated_ref) = fresh();
    let order_ref = if draft.order_ref.is_empty() {
        generated_ref
    } else {
        draft.order_ref.clone()
    };
    Attempt {
        body: PurchaseRequest {
            code: draft.code.clone(),
            member_no: draft.looked_up.as_ref().map(|(no, _)| no.clone()),
            lookup_token: draft.looked_up.as_ref().map(|(_, t)| t.clone()),
            amount_cents: draft.amount_cents,
            order_ref,
            coupon_ids: (!draft.coupon_ids.is_empty()).then(|| draft.coupon_ids.clone()),
        },
        idempotency_key,
        draft,
    }
}

/// `POS-20250301120506-3fa9c1`: readable on a receipt, unique enough per store.
fn generated_order_ref() -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        js_sys::Date::now() + 8.0 * 3600.0 * 1000.0,
    ));
    format!(
        "POS-{}{:02}{:02}{:02}{:02}{:02}-{}",
        d.get_utc_full_year(),
        d.get_utc_month() + 1,
        d.get_utc_date(),
        d.get_utc_hours(),
        d.get_utc_minutes(),
        d.get_utc_seconds(),
        clock::random_hex::<3>()
    )
}

/// Points, growth and the tier after the purchase, computed with the server's own rules.
#[derive(Clone, Debug, PartialEq)]
struct Preview {
    points: i64,
    growth: i64,
    upgrade_to: Option<(String, String)>,
}

/// `payable_cents`: what the member pays after coupons (points are earned on that);
/// `rates`: the member-day and birthday multipliers the server's preview reported (none
/// known yet: the tier's plain rate).
fn preview(
    tiers: &[TierRule],
    member: &MemberSummary,
    payable_cents: i64,
    rates: &EarnRates,
) -> Option<Preview> {
    let pay = Cents::paid(payable_cents).ok()?.get();
    let current = tiers.iter().position(|t| t.code == member.tier.code)?;
    let (per_yuan, growth_pct) = if rates.growth_multiplier_pct > 0 {
        (rates.growth_per_yuan, rates.growth_multiplier_pct)
    } else {
        (tiers::GROWTH_PER_YUAN, 100)
    };
    let points = tier_program::points_at(
        pay,
        tiers[current].points_per_yuan_pct,
        &rates.points_multiplier_pcts,
    );
    let growth = tier_program::growth_at(pay, per_yuan, growth_pct);
    let reached = tiers::tier_index_for_growth(tiers, member.growth.saturating_add(growth));
    let upgrade_to = reached
        .filter(|r| *r > current)
        .and_then(|r| tiers.get(r))
        .map(|t| (t.code.clone(), t.name.clone()));
    Some(Preview {
        points,
        growth,
        upgrade_to,
    })
}

/// How long the amount must stay unchanged before the coupons are asked for again.
const PREVIEW_DEBOUNCE: Duration = Duration::from_millis(400);

/// The member's coupons as the rules see them (a coupon the app cannot read is left out:
/// it cannot be offered).
/// What one coupon row of the till shows.
#[derive(Clone, Debug, PartialEq)]
struct RowShown {
    class: String,
    on: bool,
    unusable: bool,
    big: String,
    name: String,
    terms: Vec<String>,
    reason: Option<String>,
}

/// The row of coupon `c` for this basket (`typed`: an amount has been entered, so its
/// minimum spend is held against it), ticked or not.
fn row_shown(lang: Lang, c: &CheckoutCoupon, till: &Till<'_>, typed: bool, on: bool) -> RowShown {
    let refusal = match c.coupon.to_held().as_ref().map(|h| coupons::check(h, till)) {
        Some(Ok(())) => None,
        Some(Err(Refusal::MinSpend { .. })) if !typed => None,
        Some(Err(r)) => Some(r.code().to_string()),
        None => Some(c.refusal.clone().unwrap_or_default()),
    };
    let reason = refusal
        .as_deref()
        .map(|code| words::refusal_text(lang, code, c.coupon.min_spend_cents));
    let unusable = reason.is_some();
    let mut class = "checkout-coupon".to_string();
    if unusable {
        class.push_str(" unusable");
    }
    if on {
        class.push_str(" ticked");
    }
    let terms = [
        Some(words::min_spend(lang, c.coupon.min_spend_cents)),
        words::benefit_note(lang, &c.coupon.benefit),
        Some(words::validity_text(
            lang,
            c.coupon.valid_from_ts,
            c.coupon.expires_ts,
            till.now,
        )),
    ]
    .into_iter()
    .flatten()
    .collect();
    RowShown {
        class,
        on,
        unusable,
        big: words::benefit_big(lang, &c.coupon.benefit),
        name: c.coupon.name.clone(),
        terms,
        reason,
    }
}

fn held_of(list: &[CheckoutCoupon]) -> Vec<Held> {
    list.iter().filter_map(|c| c.coupon.to_held()).collect()
}

/// Ticking `id`: a non-stackable coupon goes alone, a stackable one drops the
/// non-stackable ones and any other of its template; ticking a ticked one unticks it.
fn toggle(wallet: &[Held], ticked: &[i64], id: i64) -> Vec<i64> {
    if ticked.contains(&id) {
        return ticked.iter().copied().filter(|t| *t != id).collect();
    }
    let Some(c) = wallet.iter().find(|c| c.id == id) else {
        return ticked.to_vec();
    };
    if !c.terms.stackable {
        return vec![id];
    }
    let mut out: Vec<i64> = ticked
        .iter()
        .copied()
        .filter(|t| {
            wallet
                .iter()
                .find(|o| o.id == *t)
                .is_some_and(|o| o.terms.stackable && o.template_id != c.template_id)
        })
        .collect();
    out.push(id);
    out
}

/// The ticked coupons that may be used for this basket (sorted: the purchase's
/// `coupon_ids`) and what they take off. A ticked coupon this basket does not allow
/// (below its minimum spend, say) stays ticked on screen with its reason, but is neither
/// counted nor sent.
fn quote_for(
    wallet: &[Held],
    ticked: &[i64],
    till: &Till<'_>,
) -> (Vec<i64>, Result<Quote, (i64, Refusal)>) {
    let chosen: Vec<&Held> = wallet
        .iter()
        .filter(|c| ticked.contains(&c.id) && coupons::check(c, till).is_ok())
        .collect();
    let mut ids: Vec<i64> = chosen.iter().map(|c| c.id).collect();
    ids.sort_unstable();
    (ids, coupons::quote(&chosen, till))
}

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
    let amount = RwSignal::new(String::new());
    let order_ref = RwSignal::new(String::new());
    let looking_up = RwSignal::new(false);
    let recording = RwSignal::new(false);
    let pending = RwSignal::new(None::<Attempt>);
    let result = RwSignal::new(None::<PurchaseResult>);
    let error = RwSignal::new(None::<String>);
    // The member's coupons (server), when they were fetched (device time, to follow the
    // server's clock from there), and the ones ticked.
    let checkout = RwSignal::new(None::<CheckoutPreview>);
    let checkout_at = RwSignal::new(0_i64);
    let ticked = RwSignal::new(Vec::<i64>::new());
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
        amount.set(String::new());
        order_ref.set(String::new());
        pending.set(None);
        result.set(None);
        error.set(None);
        checkout.set(None);
        ticked.set(Vec::new());
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
        let amount_cents = Cents::parse_yuan(&amount.get_untracked()).map_or(0, Cents::get);
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
                    checkout_at.set(clock::device_unix());
                    checkout.set(Some(p));
                    preview_error.set(None);
                }
                Err(e) if e.is_unauthenticated() => to_login(),
                Err(e) => preview_error.set(Some(e.code().to_string())),
            }
        });
    };
    let amount_gen = StoredValue::new(0_u64);
    let amount_typed = move |value: String| {
        amount.set(value);
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

    let wallet = Memo::new(move |_| {
        checkout.with(|c| c.as_ref().map(|c| held_of(&c.coupons)).unwrap_or_default())
    });
    // The server's clock now, as far as the device can tell.
    let server_now = move || {
        checkout
            .with(|c| c.as_ref().map(|c| c.server_unix))
            .unwrap_or(0)
            + clock::device_unix()
            - checkout_at.get()
    };
    let store_code =
        move || checkout.with(|c| c.as_ref().map(|c| c.store_code.clone()).unwrap_or_default());
    let basket = Memo::new(move |_| Cents::parse_yuan(&amount.get()).ok().map(Cents::get));
    // (coupon ids to send, the quote) for the basket typed.
    let local_quote = Memo::new(move |_| {
        let basket = basket.get()?;
        let store = store_code();
        let till = Till {
            now: server_now(),
            store_code: &store,
            basket_cents: basket,
        };
        let ticked = ticked.get();
        Some(wallet.with(|w| quote_for(w, &ticked, &till)))
    });
    let tick = move |id: i64| {
        let next = wallet.with_untracked(|w| ticked.with_untracked(|t| toggle(w, t, id)));
        ticked.set(next);
    };

    let lookup = move |ev: SubmitEvent| {
        ev.prevent_default();
        if looking_up.get_untracked() {
            return;
        }
        let typed = scan.get_untracked();
        // A coupon code of the member on screen: tick it (the cashier keeps the member).
        let theirs = coupons::normalize_code(&typed).and_then(|code| {
            checkout.with_untracked(|c| {
                c.as_ref()?
                    .coupons
                    .iter()
                    .find(|c| c.coupon.code == code)
                    .map(|c| c.coupon.id)
            })
        });
        if let Some(id) = theirs {
            if !ticked.with_untracked(|t| t.contains(&id)) && result.with_untracked(Option::is_none)
            {
                tick(id);
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
        let Ok(cents) = Cents::parse_yuan(&amount.get_untracked()) else {
            error.set(Some(codes::INVALID_AMOUNT.to_string()));
            focus(amount_ref);
            return;
        };
        let coupon_ids = local_quote
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
                    checkout.set(None);
                    ticked.set(Vec::new());
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

    let payable = move || {
        local_quote.with(|q| match q {
            Some((_, Ok(q))) => Some(q.payable_cents),
            Some((_, Err(_))) | None => basket.get(),
        })
    };
    let preview_view = move || {
        let pay = payable()?;
        let rates = checkout.with(|c| c.as_ref().map(|c| c.earn.clone()).unwrap_or_default());
        let p = tier_rules.with(|rules| {
            member.with(|m| m.as_ref().and_then(|m| preview(rules, m, pay, &rates)))
        })?;
        let lang = i18n.lang();
        let line = fill(
            i18n.t(S::PreviewPoints),
            &[("n", &p.points.to_string()), ("g", &p.growth.to_string())],
        );
        let upgrade = p.upgrade_to.map(|(code, name)| {
            fill(
                i18n.t(S::PreviewUpgrade),
                &[("tier", &tier_name(lang, &code, &name))],
            )
        });
        Some(view! {
            <div class="preview" aria-live="polite">
                <div>{line}</div>
                {upgrade.map(|u| view! { <div class="preview-upgrade">{u}</div> })}
            </div>
        })
    };

    // The member's coupons, each with a checkbox; greyed with the reason when this basket
    // cannot use it. Rows are keyed by coupon and only their words and state change when
    // the amount, the ticks or a fresh preview do: a row redrawn under the cashier's thumb
    // would swallow the tap.
    let coupon_ids = Memo::new(move |_| {
        checkout.with(|c| {
            c.as_ref()
                .map(|c| c.coupons.iter().map(|c| c.coupon.id).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    });
    let has_checkout = Memo::new(move |_| checkout.with(Option::is_some));
    let coupon_row = move |id: i64| {
        let shown = Memo::new(move |_| {
            let lang = i18n.lang();
            let store = store_code();
            let till = Till {
                now: server_now(),
                store_code: &store,
                basket_cents: basket.get().unwrap_or(0),
            };
            let on = ticked.with(|t| t.contains(&id));
            checkout.with(|c| {
                let c = c.as_ref()?.coupons.iter().find(|c| c.coupon.id == id)?;
                Some(row_shown(lang, c, &till, basket.get().is_some(), on))
            })
        });
        let text = move |f: fn(&RowShown) -> String| {
            move || shown.with(|r| r.as_ref().map(f).unwrap_or_default())
        };
        view! {
            <li class=text(|r| r.class.clone()) data-coupon-id=id.to_string()>
                <label class="coupon-row">
                    <input
                        type="checkbox"
                        class="coupon-check"
                        prop:checked=move || shown.with(|r| r.as_ref().is_some_and(|r| r.on))
                        disabled=move || shown.with(|r| r.as_ref().is_some_and(|r| r.unusable && !r.on))
                        on:change=move |_| tick(id)
                    />
                    <span class="cc-benefit">{text(|r| r.big.clone())}</span>
                    <span class="cc-body">
                        <span class="cc-name">{text(|r| r.name.clone())}</span>
                        <span class="cc-terms">
                            {move || {
                                shown.with(|r| {
                                    r.iter()
                                        .flat_map(|r| r.terms.clone())
                                        .map(|t| view! { <span>{t}</span> })
                                        .collect_view()
                                })
                            }}
                        </span>
                    </span>
                    {move || {
                        shown.with(|r| r.as_ref().and_then(|r| r.reason.clone()))
                            .map(|r| view! { <span class="cc-reason">{r}</span> })
                    }}
                </label>
            </li>
        }
    };
    let coupons_view = move || {
        has_checkout.get().then(|| {
            let empty = move || coupon_ids.with(Vec::is_empty);
            view! {
                <section class="checkout-coupons">
                    <div class="field-label">{i18n.t(S::Coupons)}</div>
                    <p class="subtle" hidden=move || !empty()>{i18n.t(S::NoCoupons)}</p>
                    <ul id="coupon-list" class="coupon-checks">
                        <For each=move || coupon_ids.get() key=|id| *id children=coupon_row />
                    </ul>
                </section>
            }
        })
    };

    // 原价 / 优惠 / 应付, and the gifts to hand over.
    let totals_view = move || {
        let (_, quote) = local_quote.get()?;
        let lang = i18n.lang();
        let q = match quote {
            Ok(q) => q,
            Err((_, r)) => {
                let text = errors::mall_error_text(lang, r.code());
                return Some(view! { <p class="error">{text}</p> }.into_any());
            }
        };
        let gifts: Vec<String> = q.lines.iter().filter_map(|l| l.gift.clone()).collect();
        let gift_line = (!gifts.is_empty())
            .then(|| fill(i18n.t(S::HandOverGifts), &[("items", &gifts.join("、"))]));
        let yuan = |c: i64| {
            Cents::paid(c)
                .map(Cents::to_yuan_string)
                .unwrap_or_default()
        };
        Some(
            view! {
                <dl id="checkout-totals" class="totals" aria-live="polite">
                    <div>
                        <dt>{i18n.t(S::Basket)}</dt>
                        <dd id="basket-amount">{yuan(q.basket_cents)}</dd>
                    </div>
                    <div class="discount">
                        <dt>{i18n.t(S::Discount)}</dt>
                        <dd id="discount-amount">{format!("-{}", yuan(q.discount_cents))}</dd>
                    </div>
                    <div class="payable">
                        <dt>{i18n.t(S::Payable)}</dt>
                        <dd id="payable-amount">{yuan(q.payable_cents)}</dd>
                    </div>
                </dl>
                {gift_line.map(|g| view! { <p class="gift-note">{g}</p> })}
            }
            .into_any(),
        )
    };

    let member_field = move |f: fn(&MemberSummary) -> String| {
        move || member.with(|m| m.as_ref().map(f).unwrap_or_default())
    };
    let tier_code = Signal::derive(member_field(|m| m.tier.code.clone()));
    let tier_label = Signal::derive(member_field(|m| m.tier.name.clone()));

    let result_view = move || {
        let r = result.get()?;
        let lang = i18n.lang();
        let tier = tier_name(lang, &r.tier.code, &r.tier.name);
        let upgraded = r
            .upgraded
            .then(|| fill(i18n.t(S::Upgraded), &[("tier", &tier)]));
        let yuan = |c: i64| {
            Cents::paid(c)
                .map(Cents::to_yuan_string)
                .unwrap_or_default()
        };
        let used = (!r.coupons_used.is_empty()).then(|| {
            let names: Vec<&str> = r.coupons_used.iter().map(|l| l.name.as_str()).collect();
            fill(i18n.t(S::CouponsUsed), &[("names", &names.join("、"))])
        });
        let gifts: Vec<&str> = r
            .coupons_used
            .iter()
            .filter_map(|l| l.gift.as_deref())
            .collect();
        let gifts = (!gifts.is_empty())
            .then(|| fill(i18n.t(S::HandOverGifts), &[("items", &gifts.join("、"))]));
        let pack = (!r.gift_pack.is_empty())
            .then(|| fill(i18n.t(S::GiftPack), &[("names", &r.gift_pack.join("、"))]));
        let discounted = r.discount_cents > 0;
        Some(view! {
            <section id="purchase-result" class="result" role="status">
                <h2>{i18n.t(S::ResultTitle)}</h2>
                {upgraded.map(|u| view! { <p class="upgrade-notice">{u}</p> })}
                {gifts.map(|g| view! { <p id="gift-items" class="gift-note big-gift">{g}</p> })}
                {pack.map(|p| view! { <p id="gift-pack" class="gift-pack">{p}</p> })}
                <dl class="result-grid" hidden=!discounted>
                    <div>
                        <dt>{i18n.t(S::Discount)}</dt>
                        <dd id="result-discount">{format!("-{}", yuan(r.discount_cents))}</dd>
                    </div>
                    <div>
                        <dt>{i18n.t(S::Paid)}</dt>
                        <dd id="result-payable" class="big">{yuan(r.payable_cents)}</dd>
                    </div>
                </dl>
                {used.map(|u| view! { <p id="result-coupons" class="subtle">{u}</p> })}
                <dl class="result-grid">
                    <div>
                        <dt>{i18n.t(S::PointsEarned)}</dt>
                        <dd id="points-earned" class="big">{format!("+{}", r.points_earned)}</dd>
                    </div>
                    <div>
                        <dt>{i18n.t(S::GrowthEarned)}</dt>
                        <dd>{format!("+{}", r.growth_earned)}</dd>
                    </div>
                    <div>
                        <dt>{i18n.t(S::NewBalance)}</dt>
                        <dd id="new-balance" class="big">{r.points}</dd>
                    </div>
                    <div>
                        <dt>{i18n.t(S::Tier)}</dt>
                        <dd>
                            <span class=format!("tier-badge tier-{}", r.tier.code)>{tier}</span>
                        </dd>
                    </div>
                </dl>
            </section>
        })
    };

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
                                prop:value=amount
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
                        {coupons_view}
                        <ErrorText error=preview_error texts=errors::mall_error_text />
                        {totals_view}
                        {preview_view}
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
                {result_view}
                <Show when=move || member.with(Option::is_some) || result.with(Option::is_some)>
                    <button id="next-customer" type="button" class="button secondary block" on:click=next_customer>
                        {i18n.tr(S::NextCustomer)}
                    </button>
                </Show>
            </main>
        </div>
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn draft(amount: i64, order_ref: &str) -> Draft {
        Draft {
            code: "8600012345123456".into(),
            looked_up: None,
            amount_cents: amount,
            order_ref: order_ref.into(),
            coupon_ids: Vec::new(),
        }
    }

    #[test]
    fn a_retry_reuses_key_and_generated_ref() {
        let first = attempt_for(None, draft(8850, ""), || ("k1".into(), "POS-1".into()));
        assert_eq!(first.body.order_ref, "POS-1");
        let again = attempt_for(Some(&first), draft(8850, ""), || {
            ("k2".into(), "POS-2".into())
        });
        assert_eq!(again, first);
    }

    #[test]
    fn an_edit_is_a_new_purchase() {
        let first = attempt_for(None, draft(8850, ""), || ("k1".into(), "POS-1".into()));
        let edited = attempt_for(Some(&first), draft(9000, ""), || {
            ("k2".into(), "POS-2".into())
        });
        assert_eq!(edited.idempotency_key, "k2");
        assert_eq!(edited.body.amount_cents, 9000);
        let typed = attempt_for(Some(&first), draft(8850, "A-7"), || {
            ("k3".into(), "POS-3".into())
        });
        assert_eq!(typed.body.order_ref, "A-7");
        assert_eq!(typed.idempotency_key, "k3");
    }

    #[test]
    fn preview_uses_the_members_tier_rate_and_flags_upgrades() {
        let t = |code: &str, th, rate| TierRule {
            code: code.into(),
            name: code.to_uppercase(),
            growth_threshold: th,
            points_per_yuan_pct: rate,
        };
        let rules = vec![
            t("normal", 0, 100),
            t("silver", 500, 120),
            t("gold", 2000, 150),
        ];
        let member = MemberSummary {
            member_no: "8600012345".into(),
            name: "张三".into(),
            phone_masked: "138****5678".into(),
            tier: member_core::dto::TierRef {
                code: "silver".into(),
                name: "银卡".into(),
            },
            points: 0,
            growth: 1900,
        };
        let plain = EarnRates::default();
        let p = preview(&rules, &member, 10_050, &plain).unwrap();
        assert_eq!((p.points, p.growth), (120, 100));
        assert_eq!(p.upgrade_to, Some(("gold".into(), "GOLD".into())));
        let small = preview(&rules, &member, 1000, &plain).unwrap();
        assert_eq!(small.upgrade_to, None);
        // A purchase the coupons pay in full earns nothing.
        let free = preview(&rules, &member, 0, &plain).unwrap();
        assert_eq!((free.points, free.growth), (0, 0));
        assert!(preview(&rules, &member, -1, &plain).is_none());
        // On a member day (double points, 1.5 growth) the till says what the server will.
        let member_day = EarnRates {
            points_multiplier_pcts: vec![200],
            growth_per_yuan: 1,
            growth_multiplier_pct: 150,
        };
        let md = preview(&rules, &member, 10_050, &member_day).unwrap();
        assert_eq!((md.points, md.growth), (241, 150));
    }

    fn held(
        id: i64,
        template_id: i64,
        benefit: coupons::Benefit,
        min: i64,
        stackable: bool,
    ) -> Held {
        Held {
            id,
            template_id,
            terms: coupons::Terms {
                benefit,
                min_spend_cents: min,
                stackable,
                store_codes: vec![],
            },
            valid_from: 0,
            expires_at: 2_000_000_000,
            unused: true,
        }
    }

    fn off(cents: i64) -> coupons::Benefit {
        coupons::Benefit::AmountOff { off_cents: cents }
    }

    #[test]
    fn ticking_keeps_only_what_may_go_together() {
        let wallet = vec![
            held(1, 10, off(2000), 10_000, false),
            held(2, 20, off(500), 0, true),
            held(
                3,
                30,
                coupons::Benefit::PercentOff {
                    percent_off: 10,
                    cap_cents: None,
                },
                0,
                true,
            ),
            held(4, 20, off(500), 0, true),
        ];
        assert_eq!(toggle(&wallet, &[], 2), vec![2]);
        assert_eq!(toggle(&wallet, &[2], 3), vec![2, 3]);
        // A non-stackable one goes alone, and a stackable one drops it.
        assert_eq!(toggle(&wallet, &[2, 3], 1), vec![1]);
        assert_eq!(toggle(&wallet, &[1], 3), vec![3]);
        // One per template.
        assert_eq!(toggle(&wallet, &[2, 3], 4), vec![3, 4]);
        // Unticking.
        assert_eq!(toggle(&wallet, &[2, 3], 2), vec![3]);
        assert_eq!(toggle(&wallet, &[2], 99), vec![2]);
    }

    #[test]
    fn the_quote_counts_only_coupons_this_basket_allows() {
        let wallet = vec![
            held(1, 10, off(2000), 10_000, false),
            held(2, 20, off(500), 0, true),
            held(
                3,
                30,
                coupons::Benefit::PercentOff {
                    percent_off: 10,
                    cap_cents: None,
                },
                0,
                true,
            ),
        ];
        let till = |basket| Till {
            now: 1_800_000_000,
            store_code: "S001",
            basket_cents: basket,
        };
        let (ids, q) = quote_for(&wallet, &[1], &till(12_000));
        assert_eq!(ids, vec![1]);
        assert_eq!(q.unwrap().payable_cents, 10_000);
        // Below the minimum spend: not counted, not sent.
        let (ids, q) = quote_for(&wallet, &[1], &till(9_000));
        assert!(ids.is_empty());
        assert_eq!(q.unwrap().payable_cents, 9_000);
        // ¥5 off first, then 10 % of the rest: 100 - 5 = 95, - 9.50 = 85.50.
        let (ids, q) = quote_for(&wallet, &[3, 2], &till(10_000));
        assert_eq!(ids, vec![2, 3]);
        assert_eq!(q.unwrap().payable_cents, 8_550);
    }

    #[test]
    fn a_retry_with_other_coupons_is_a_new_purchase() {
        let first = attempt_for(None, draft(8850, ""), || ("k1".into(), "POS-1".into()));
        assert_eq!(first.body.coupon_ids, None);
        let mut with = draft(8850, "");
        with.coupon_ids = vec![7];
        let next = attempt_for(Some(&first), with, || ("k2".into(), "POS-2".into()));
        assert_eq!(next.idempotency_key, "k2");
        assert_eq!(next.body.coupon_ids, Some(vec![7]));
    }
}
