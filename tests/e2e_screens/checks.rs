//! The checks every screen gets (no sideways scroll, axe-core, tap targets, its words in
//! the language shown) and the language switch between them.

use crate::*;

/// Collects what is wrong on every screen, so one run lists them all.
pub(crate) struct Checker {
    axe: String,
    width: u32,
    problems: Vec<String>,
    screens: usize,
}

/// The outermost elements that reach past the viewport's sides, unless they sit in a
/// container that scrolls sideways on purpose (the mall's filter chips).
pub(crate) const OVERFLOW_JS: &str = r#"
const vw = Math.min(window.innerWidth, document.documentElement.clientWidth, arguments[0]);
const out = [];
const sw = document.documentElement.scrollWidth;
if (sw > vw) out.push(`the page is ${sw} px wide in a ${vw} px viewport`);
const scrolls = (el) => {
  for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX;
    if (o === 'auto' || o === 'scroll') return true;
  }
  return false;
};
const sticks = (el) => {
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && (r.right > vw + 1 || r.left < -1)
    && getComputedStyle(el).visibility !== 'hidden';
};
const name = (el) => {
  let s = el.tagName.toLowerCase();
  if (el.id) s += '#' + el.id;
  if (typeof el.className === 'string' && el.className.trim())
    s += '.' + el.className.trim().split(/\s+/).join('.');
  const t = (el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 40);
  return t ? `${s} "${t}"` : s;
};
for (const el of document.body.querySelectorAll('*')) {
  if (!sticks(el) || scrolls(el)) continue;
  if (el.parentElement && el.parentElement !== document.body && sticks(el.parentElement)) continue;
  const r = el.getBoundingClientRect();
  out.push(`${name(el)} spans ${Math.round(r.left)}..${Math.round(r.right)} px`);
  if (out.length > 8) break;
}
// A label wider than its own button or tab runs over its neighbours or is cut off,
// though every box fits the screen.
for (const el of document.body.querySelectorAll('button, a, .tab')) {
  const r = el.getBoundingClientRect();
  if (!r.width || !r.height || !el.clientWidth || getComputedStyle(el).visibility === 'hidden') continue;
  if (el.scrollWidth > el.clientWidth + 1)
    out.push(`${name(el)}: its label needs ${el.scrollWidth} px of a ${el.clientWidth} px box`);
  if (out.length > 12) break;
}
return out;
"#;

pub(crate) const AXE_RUN_JS: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, {
  resultTypes: ['violations'],
  // Off by default in axe (experimental), and exactly what a voice-control user trips on.
  rules: { 'label-content-name-mismatch': { enabled: true } },
}).then((r) => done(r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                   targets: v.nodes.slice(0, 6).map((n) => n.target.join(' ')) }))))
  .catch((e) => done([{ id: 'axe-error', impact: 'critical', help: String(e), targets: [] }]));
"#;

impl Checker {
    pub(crate) fn new(axe: String, width: u32) -> Self {
        Self {
            axe,
            width,
            problems: Vec::new(),
            screens: 0,
        }
    }

    /// The screen as it is now, in its current language.
    pub(crate) async fn here(&mut self, c: &Client, screen: &str) -> Res {
        // Late layout (fonts, a list arriving) settles first.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let lang = c
            .execute("return document.documentElement.lang;", vec![])
            .await?;
        let lang = lang.as_str().unwrap_or("?");
        let at = format!("{screen} [{lang}]");
        self.screens += 1;
        // Every screen in both languages at the narrow width, for docs/ (on request).
        let slug: String = screen
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let slug = slug
            .split('-')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        screenshot(c, &format!("screens/{slug}-{}-{lang}.png", self.width)).await?;

        let wide = c.execute(OVERFLOW_JS, vec![json!(self.width)]).await?;
        for w in wide.as_array().into_iter().flatten() {
            self.problems.push(format!(
                "{at}: sideways scroll: {}",
                w.as_str().unwrap_or("?")
            ));
        }

        let present = c
            .execute("return typeof window.axe === 'object';", vec![])
            .await?;
        if present != json!(true) {
            c.execute(&format!("{}\nreturn true;", self.axe), vec![])
                .await?;
        }
        let found = c.execute_async(AXE_RUN_JS, vec![]).await?;
        for v in found.as_array().into_iter().flatten() {
            self.problems.push(format!(
                "{at}: axe {} ({}): {} at {}",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or("?"),
                v["targets"]
            ));
        }
        Ok(())
    }

    /// The screen in zh-CN, then in English through its own toggle, then back.
    pub(crate) async fn both(&mut self, c: &Client, screen: &str) -> Res {
        set_lang(c, "zh-CN").await?;
        self.here(c, screen).await?;
        set_lang(c, "en").await?;
        self.here(c, screen).await?;
        set_lang(c, "zh-CN").await
    }

    pub(crate) fn note(&mut self, problem: String) {
        self.problems.push(problem);
    }

    pub(crate) fn verdict(self) -> Res {
        eprintln!("checked {} screen states", self.screens);
        if self.problems.is_empty() {
            return Ok(());
        }
        Err(format!(
            "{} problems:\n  {}",
            self.problems.len(),
            self.problems.join("\n  ")
        )
        .into())
    }
}

pub(crate) async fn lang_of(c: &Client) -> Res<String> {
    let v = c
        .execute("return document.documentElement.lang;", vec![])
        .await?;
    Ok(v.as_str().unwrap_or_default().to_string())
}

/// Switches with the screen's language toggle, as a person would.
pub(crate) async fn set_lang(c: &Client, lang: &str) -> Res {
    if lang_of(c).await? == lang {
        return Ok(());
    }
    find(c, "#lang-toggle").await?;
    // Through the DOM: a confirm sheet's backdrop covers the bar, and the sheet is part
    // of what is checked in both languages.
    c.execute("document.getElementById('lang-toggle').click();", vec![])
        .await?;
    let deadline = Instant::now() + WAIT;
    while lang_of(c).await? != lang {
        if Instant::now() > deadline {
            return Err(format!("the language toggle did not switch to {lang}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

pub(crate) async fn rect(c: &Client, css: &str) -> Res<Value> {
    find(c, css).await?;
    let r = c
        .execute(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect();\
             return { left: r.left, top: r.top, right: r.right, bottom: r.bottom,\
                      width: r.width, height: r.height, vh: window.innerHeight };",
            vec![json!(css)],
        )
        .await?;
    Ok(r)
}

pub(crate) fn num(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or(f64::NAN)
}

/// The card's ways to the profile, the inbox and the tiers: there, and a thumb's size.
pub(crate) async fn card_targets(c: &Client, check: &mut Checker) -> Res {
    let lang = lang_of(c).await?;
    for (css, href) in [
        ("#profile-link", "/profile"),
        ("#inbox-link", "/inbox"),
        ("#tiers-link", "/tiers"),
    ] {
        if c.find(Locator::Css(css)).await.is_err() {
            check.note(format!("card [{lang}]: no {css} (to {href})"));
            continue;
        }
        let el = c.find(Locator::Css(css)).await?;
        let to = el.attr("href").await?.unwrap_or_default();
        if to != href {
            check.note(format!("card [{lang}]: {css} goes to {to:?}, not {href}"));
        }
        let r = rect(c, css).await?;
        let (w, h) = (num(&r, "width"), num(&r, "height"));
        if !(w >= 44.0 && h >= 44.0) {
            check.note(format!(
                "card [{lang}]: {css} is {w:.0}x{h:.0} px, under 44x44"
            ));
        }
    }
    Ok(())
}

/// Sign-out asks first: cancelling keeps the card, confirming signs out.
pub(crate) async fn sign_out_asks_first(c: &Client, check: &mut Checker) -> Res {
    find(c, "#logout").await?.click().await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    if c.find(Locator::Css("#card-qr")).await.is_err() {
        return Err("one tap on sign-out signed out without asking".into());
    }
    let Ok(ask) = c.find(Locator::Css("#logout-confirm")).await else {
        return Err("sign-out shows no #logout-confirm question".into());
    };
    if !ask.is_displayed().await? {
        return Err("sign-out's question is not visible".into());
    }
    check.both(c, "card, sign-out question").await?;
    find(c, "#logout-cancel").await?.click().await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    if find(c, "#logout-confirm").await?.is_displayed().await? {
        return Err("cancelling sign-out leaves the question open".into());
    }
    find(c, "#card-qr svg").await?;
    find(c, "#logout").await?.click().await?;
    find(c, "#logout-yes").await?.click().await?;
    find(c, "#phone").await?;
    Ok(())
}

/// The item page's "+" says "+" (and has a name) and raises the quantity.
pub(crate) async fn plus_raises_quantity(c: &Client, check: &mut Checker) -> Res {
    let plus = find(c, "#qty-plus").await?;
    let label = plus.text().await?;
    let name = plus.attr("aria-label").await?.unwrap_or_default();
    if label.trim() != "+" || name.trim().is_empty() || name.contains('=') {
        check.note(format!(
            "item page: the + button reads {label:?} (aria-label {name:?})"
        ));
    }
    wait_text(c, "#qty", |t| t == "1").await?;
    if plus.prop("disabled").await?.as_deref() == Some("true") {
        check.note("item page: + is disabled with 1 of an item the member can afford twice".into());
        return Ok(());
    }
    plus.click().await?;
    if wait_text(c, "#qty", |t| t == "2").await.is_err() {
        check.note("item page: + did not raise the quantity to 2".into());
    }
    Ok(())
}
