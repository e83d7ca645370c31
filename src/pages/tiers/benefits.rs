//! `/tiers`: where the member stands (growth, next tier, keep line), every tier side by
//! side with its benefits, the program's rules in a sentence each, the member day, and
//! the growth tasks with today's check-in.

use leptos::{prelude::*, task::spawn_local};
use member_core::dto::{TierBenefit, TierInfoView, TierStatusView};

use super::{keep_text, name_of, TierBar};
use crate::api;
use crate::components::error_text::ErrorText;
use crate::i18n::{coupons::yuan, errors, fill, tier_name, tiers, tiers::T, I18n, Lang};
use crate::nav::Link;
use crate::screens::mall::{code_of, MallScreen, MallState};
use crate::session;

fn benefit_text(lang: Lang, b: &TierBenefit) -> String {
    let t = |k: T| k.text(lang).to_string();
    match b.kind.as_str() {
        "discount" => tiers::discount(lang, b.value),
        "free_shipping" => t(T::FreeShipping),
        "birthday_multiplier" => fill(
            T::BirthdayMultiplier.text(lang),
            &[("x", &tiers::times(b.value))],
        ),
        "exclusive_mall" => t(T::ExclusiveMall),
        "member_day_price" => t(T::MemberDayPrice),
        _ => b.text.clone(),
    }
}

fn day_text(lang: Lang, day: &str) -> String {
    let (kind, n) = day.split_once(':').unwrap_or(("", ""));
    let n_num: i64 = n.parse().unwrap_or(0);
    match kind {
        "weekday" => fill(T::Weekday.text(lang), &[("d", tiers::weekday(lang, n_num))]),
        "monthday" => fill(T::MonthDay.text(lang), &[("d", n)]),
        "week" => fill(T::MonthWeek.text(lang), &[("d", n)]),
        _ => day.to_string(),
    }
}

fn rules_text(lang: Lang, s: &TierStatusView) -> (String, String) {
    let window = match s.window.as_str() {
        "rolling_months" => fill(
            T::WindowRolling.text(lang),
            &[("n", &s.window_months.to_string())],
        ),
        "calendar_year" => T::WindowYear.text(lang).to_string(),
        _ => T::WindowLifetime.text(lang).to_string(),
    };
    let months = s.period_months.to_string();
    let policy = match s.downgrade_policy.as_str() {
        "to_earned" => fill(T::PolicyToEarned.text(lang), &[("n", &months)]),
        "one_step" => fill(T::PolicyOneStep.text(lang), &[("n", &months)]),
        _ => T::PolicyNever.text(lang).to_string(),
    };
    (window, policy)
}

#[component]
fn TierColumn(t: TierInfoView, current: bool) -> impl IntoView {
    let i18n = I18n::get();
    let lang = i18n.lang();
    let threshold = if t.growth_threshold == 0 {
        i18n.t(T::Entry).to_string()
    } else {
        fill(
            i18n.t(T::Threshold),
            &[("n", &t.growth_threshold.to_string())],
        )
    };
    let spend = t
        .spend_threshold_cents
        .map(|c| fill(i18n.t(T::SpendAlt), &[("amount", &yuan(c))]));
    let rate = fill(
        i18n.t(T::Rate),
        &[("x", &tiers::times(t.points_per_yuan_pct))],
    );
    let gift = (t.upgrade_points > 0).then(|| {
        fill(
            i18n.t(T::UpgradePoints),
            &[("n", &t.upgrade_points.to_string())],
        )
    });
    // A CSS property set through the CSSOM, not a `style` attribute: the pages' CSP
    // allows no inline style attributes (an empty value sets nothing).
    let tier_color = ("--tier-color", t.color.clone());
    view! {
        <li
            class=if current { "tier-col current" } else { "tier-col" }
            data-tier=t.code.clone()
            style=tier_color
        >
            <div class=format!("tier-col-head tier-{}", t.code)>
                <span class=format!("tier-icon icon-{}", t.icon) aria-hidden="true"></span>
                <strong>{tier_name(lang, &t.code, &t.name)}</strong>
                {current.then(|| view! { <span class="tag">{i18n.t(T::Current)}</span> })}
            </div>
            <div class="tier-col-threshold">{threshold}</div>
            {spend.map(|s| view! { <div class="small subtle">{s}</div> })}
            <ul class="tier-benefits">
                <li>{rate}</li>
                {t.benefits.iter().map(|b| view! { <li>{benefit_text(lang, b)}</li> }).collect_view()}
                {gift.map(|g| view! { <li>{g}</li> })}
            </ul>
        </li>
    }
}

#[component]
pub fn BenefitsPage() -> impl IntoView {
    let i18n = I18n::get();
    let state = MallState::get();
    let status = RwSignal::new(None::<TierStatusView>);
    let error = RwSignal::new(None::<String>);
    let checkin = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let load = move || {
        error.set(None);
        spawn_local(async move {
            match api::my_tier().await {
                Ok(s) => status.set(Some(s)),
                Err(e) => error.set(code_of(e)),
            }
        });
    };
    load();
    let check_in = move |_| {
        busy.set(true);
        spawn_local(async move {
            match api::check_in().await {
                Ok(r) => {
                    let msg = if r.checked_in {
                        fill(i18n.t(T::CheckInOk), &[("n", &r.growth_earned.to_string())])
                    } else {
                        i18n.t(T::CheckedIn).to_string()
                    };
                    checkin.set(Some(msg));
                    state.me.update(|m| {
                        if let Some(m) = m {
                            m.growth = r.growth;
                            session::save_me(m);
                        }
                    });
                    load();
                }
                Err(e) => error.set(code_of(e)),
            }
            busy.set(false);
        });
    };

    let body = move || {
        let Some(s) = status.get() else {
            return view! {
                <p class="subtle center pad" hidden=move || error.with(Option::is_some)>
                    {i18n.tr(T::Loading)}
                </p>
            }
            .into_any();
        };
        let lang = i18n.lang();
        let next = match &s.next_tier {
            Some(n) => fill(
                i18n.t(T::ToNext),
                &[
                    ("n", &n.growth_needed.to_string()),
                    ("tier", &tier_name(lang, &n.code, &n.name)),
                ],
            ),
            None => i18n.t(T::TopTier).to_string(),
        };
        let keep = s.keep.as_ref().map(|k| keep_text(lang, k));
        let (window, policy) = rules_text(lang, &s);
        let current = s.tier.code.clone();
        let member_day = s.member_day.clone().map(|md| {
            let rule = fill(
                i18n.t(T::MemberDayRule),
                &[
                    ("day", &day_text(lang, &md.day)),
                    ("x", &tiers::times(md.points_multiplier_pct)),
                ],
            );
            view! {
                <section class="panel-block member-day">
                    <h2>{i18n.t(T::MemberDay)}</h2>
                    <p>{rule}</p>
                    {md.today.then(|| view! { <p id="member-day-today" class="tag warn">{i18n.t(T::MemberDayToday)}</p> })}
                </section>
            }
        });
        let tasks = s
            .tasks
            .clone()
            .into_iter()
            .filter(|t| t.growth > 0)
            .map(|t| {
                let label = match t.task.as_str() {
                    "profile_completed" => T::TaskProfile,
                    "first_purchase" => T::TaskFirstPurchase,
                    _ => T::TaskCheckIn,
                };
                let growth = fill(i18n.t(T::TaskGrowth), &[("n", &t.growth.to_string())]);
                let done = t.done;
                let action = if t.task == "check_in" {
                    view! {
                        <button
                            id="check-in"
                            type="button"
                            class="button primary small"
                            disabled=move || busy.get() || done
                            on:click=check_in
                        >
                            {if done { i18n.t(T::CheckedIn) } else { i18n.t(T::CheckIn) }}
                        </button>
                    }
                    .into_any()
                } else if t.done {
                    view! { <span class="tag">{i18n.t(T::Done)}</span> }.into_any()
                } else if t.task == "profile_completed" {
                    view! { <Link to=MallScreen::Profile class="button secondary small">"›"</Link> }
                        .into_any()
                } else {
                    view! { <span></span> }.into_any()
                };
                view! {
                    <li class="task" data-task=t.task.clone()>
                        <div>
                            <div>{i18n.t(label)}</div>
                            <div class="small subtle">{growth}</div>
                        </div>
                        {action}
                    </li>
                }
            })
            .collect_view();
        view! {
            <section class="panel-block tier-summary">
                <div id="tier-now" class=format!("tier-badge tier-{}", s.tier.code)>
                    {name_of(lang, &s.tier)}
                </div>
                <p id="tier-growth" class="big-number">
                    {fill(i18n.t(T::YourGrowth), &[("n", &s.growth.to_string())])}
                </p>
                <p id="tier-next">{next}</p>
                {keep.map(|k| view! { <p id="tier-keep" class="keep-line">{k}</p> })}
            </section>
            // It scrolls sideways on a phone: focusable, so a keyboard can scroll it too.
            <ul id="tier-cols" class="tier-cols" tabindex="0" aria-label=i18n.tr(T::TiersTitle)>
                {s.tiers
                    .iter()
                    .map(|t| view! { <TierColumn t=t.clone() current=t.code == current /> })
                    .collect_view()}
            </ul>
            <section class="panel-block rules small">
                <p>{window}</p>
                <p>{policy}</p>
            </section>
            {member_day}
            <section class="panel-block">
                <h2>{i18n.t(T::Tasks)}</h2>
                <p id="check-in-result" class="notice" hidden=move || checkin.with(Option::is_none)>
                    {move || checkin.get()}
                </p>
                <ul class="tasks">{tasks}</ul>
                <Link to=MallScreen::Growth id="growth-link" class="profile-hint">
                    <span>{i18n.t(T::GrowthLink)}</span>
                    <span aria-hidden="true">"›"</span>
                </Link>
            </section>
        }
        .into_any()
    };

    view! {
        <div class="page mall-page tiers-page">
            <TierBar title=T::TiersTitle />
            <main class="mall-main">
                <ErrorText error=error texts=errors::mall_error_text />
                <button
                    type="button"
                    class="button secondary block"
                    hidden=move || error.with(Option::is_none)
                    on:click=move |_| load()
                >
                    {i18n.tr(T::Retry)}
                </button>
                {body}
            </main>
        </div>
    }
}

use crate::i18n::Text;
