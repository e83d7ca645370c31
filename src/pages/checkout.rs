//! The cashier's screen: scan (keyboard-wedge scanner = digits + Enter) or type the
//! member's code, check who it is, enter the amount and record the purchase. A scanned
//! points-mall order code opens that order instead (`staff_order`).

use leptos::{ev::SubmitEvent, html, prelude::*, task::spawn_local};
use member_core::card_code;
use member_core::dto::{codes, MemberSummary, PurchaseRequest, PurchaseResult, StaffView};
use member_core::money::Cents;
use member_core::tiers::{self, TierRule};

use crate::api::{self, ApiError};
use crate::clock;
use crate::components::error_text::ErrorText;
use crate::components::{lang_toggle::LangToggle, tier_badge::TierBadge};
use crate::i18n::{fill, staff::S, tier_name, I18n};
use crate::order_code::OrderCode;
use crate::pages::staff_order::StaffTabs;
use crate::staff_app::{StaffNav, StaffScreen};

/// What the cashier entered for one purchase. A retry reuses the previous attempt (and so
/// its Idempotency-Key) only while this stays the same; any edit is a new purchase.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Draft {
    code: String,
    amount_cents: i64,
    /// As typed; empty means "generate one".
    order_ref: String,
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
            amount_cents: draft.amount_cents,
            order_ref,
            coupon_ids: None,
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

fn preview(tiers: &[TierRule], member: &MemberSummary, amount: &str) -> Option<Preview> {
    let cents = Cents::parse_yuan(amount).ok()?;
    if tiers.is_empty() {
        return None;
    }
    let outcome = tiers::apply_purchase(tiers, &member.tier.code, member.growth, cents);
    let upgrade_to = outcome
        .upgraded
        .then(|| tiers.iter().find(|t| t.code == outcome.tier_code))
        .flatten()
        .map(|t| (t.code.clone(), t.name.clone()));
    Some(Preview {
        points: outcome.points_earned,
        growth: outcome.growth_earned,
        upgrade_to,
    })
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
    let amount = RwSignal::new(String::new());
    let order_ref = RwSignal::new(String::new());
    let looking_up = RwSignal::new(false);
    let recording = RwSignal::new(false);
    let pending = RwSignal::new(None::<Attempt>);
    let result = RwSignal::new(None::<PurchaseResult>);
    let error = RwSignal::new(None::<String>);
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
        amount.set(String::new());
        order_ref.set(String::new());
        pending.set(None);
        result.set(None);
        error.set(None);
    };

    let lookup = move |ev: SubmitEvent| {
        ev.prevent_default();
        if looking_up.get_untracked() {
            return;
        }
        let typed = scan.get_untracked();
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
        let draft = Draft {
            code: member_code.get_untracked(),
            amount_cents: cents.get(),
            order_ref: order_ref.get_untracked().trim().to_string(),
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
                    scan.set(String::new());
                    request_animation_frame(move || focus(scan_ref));
                }
                Err(e) => {
                    if !e.may_have_taken_effect() {
                        pending.set(None);
                    }
                    fail(e);
                }
            }
            recording.set(false);
        });
    };

    let next_customer = move |_| {
        reset();
        focus(scan_ref);
    };

    let logout = move |_| {
        spawn_local(async move {
            let _ = api::staff_logout().await;
            to_login();
        });
    };

    let preview_view = move || {
        let p = tier_rules.with(|rules| {
            member.with(|m| m.as_ref().and_then(|m| preview(rules, m, &amount.get())))
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
        Some(view! {
            <section id="purchase-result" class="result" role="status">
                <h2>{i18n.t(S::ResultTitle)}</h2>
                {upgraded.map(|u| view! { <p class="upgrade-notice">{u}</p> })}
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

    view! {
        <div class="page staff checkout-page">
            <header class="brand-bar">
                <span class="brand">{i18n.tr(S::Title)}</span>
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
                <button id="staff-logout" type="button" class="button ghost small" on:click=logout>
                    {i18n.tr(S::Logout)}
                </button>
            </header>
            <StaffTabs orders=false />
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
                </form>
                <ErrorText error=error class="big-error" />
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
                                on:input:target=move |ev| amount.set(ev.target().value())
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
                        {preview_view}
                        <button
                            id="record-purchase"
                            type="submit"
                            class="button primary block big"
                            disabled=move || recording.get()
                        >
                            {record_label}
                        </button>
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
            amount_cents: amount,
            order_ref: order_ref.into(),
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
        let p = preview(&rules, &member, "100.50").unwrap();
        assert_eq!((p.points, p.growth), (120, 100));
        assert_eq!(p.upgrade_to, Some(("gold".into(), "GOLD".into())));
        let small = preview(&rules, &member, "10").unwrap();
        assert_eq!(small.upgrade_to, None);
        assert!(preview(&rules, &member, "abc").is_none());
    }
}
