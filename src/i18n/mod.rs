//! Every visible string goes through here: zh-CN first (the default), en second.
//!
//! Each screen family has its own key enum (`member::M`, `staff::S`, `mall::Ml`) so the
//! member bundle does not carry the staff and mall strings. Each key's zh-CN and en text
//! sit side by side, which keeps a missing translation visible in review.

/// Declares a key enum with its zh-CN and en text side by side.
macro_rules! texts {
    ($(#[$meta:meta])* $name:ident { $($key:ident => $zh:literal, $en:literal;)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $($key),* }

        impl $crate::i18n::Text for $name {
            fn text(self, lang: $crate::i18n::Lang) -> &'static str {
                match self { $($name::$key => lang.pick($zh, $en)),* }
            }
        }

        #[cfg(test)]
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$key),*];
        }
    };
}

pub mod coupons;
pub mod errors;
pub mod join;
pub mod mall;
pub mod member;
pub mod staff;
pub mod tiers;
pub mod wallet;

use leptos::prelude::*;

use crate::storage;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    ZhCn,
    En,
}

impl Lang {
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            "zh-CN" => Some(Lang::ZhCn),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn pick(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::ZhCn => zh,
            Lang::En => en,
        }
    }

    /// `pick` for text that is not `'static`.
    pub fn pick_owned(self, zh: &str, en: &str) -> String {
        match self {
            Lang::ZhCn => zh.to_string(),
            Lang::En => en.to_string(),
        }
    }

    pub fn other(self) -> Self {
        match self {
            Lang::ZhCn => Lang::En,
            Lang::En => Lang::ZhCn,
        }
    }
}

/// A key that has text in every language.
pub trait Text: Copy {
    fn text(self, lang: Lang) -> &'static str;
}

const LANG_KEY: &str = "mc.lang";

/// The current language, shared through context.
#[derive(Clone, Copy)]
pub struct I18n {
    lang: RwSignal<Lang>,
}

impl I18n {
    /// Reads the saved choice (the member's own pick), else the language of the browser or
    /// WeChat, and makes it available to every component.
    pub fn provide() -> Self {
        let saved = storage::get(LANG_KEY).and_then(|t| Lang::from_tag(&t));
        let lang = saved.unwrap_or_else(|| {
            let nav = window().navigator();
            detect(nav.user_agent().ok().as_deref(), nav.language().as_deref())
        });
        let this = Self {
            lang: RwSignal::new(lang),
        };
        provide_context(this);
        Effect::new(move |_| {
            let lang = this.lang.get();
            if let Some(root) = document().document_element() {
                let _ = root.set_attribute("lang", lang.tag());
            }
        });
        this
    }

    pub fn get() -> Self {
        use_context::<Self>().unwrap_or_else(Self::provide)
    }

    /// Reactive: reading it inside a view re-renders on a language switch.
    pub fn lang(self) -> Lang {
        self.lang.get()
    }

    pub fn t<T: Text>(self, key: T) -> &'static str {
        key.text(self.lang.get())
    }

    /// Reactive text for `key`, for use in views. Every call returns the same closure
    /// type, so a view's many translated strings share one compiled text node instead of
    /// one instantiation each (this matters for the member bundle's size budget).
    pub fn tr<T: Text + Send + Sync + 'static>(
        self,
        key: T,
    ) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
        move || self.t(key)
    }

    pub fn toggle(self) {
        let next = self.lang.get_untracked().other();
        self.lang.set(next);
        storage::set(LANG_KEY, next.tag());
    }
}

/// The language of a first visit. WeChat's in-app browser names the language the member
/// set in WeChat (`Language/zh_CN`, `Language/en`) in its user agent, which wins over the
/// system language `navigator.language`; Chinese of any region reads zh-CN, anything else
/// English. Nothing known: zh-CN.
pub fn detect(user_agent: Option<&str>, navigator_language: Option<&str>) -> Lang {
    let wechat = user_agent
        .and_then(|ua| ua.split("Language/").nth(1))
        .and_then(|rest| rest.split_whitespace().next());
    match wechat.or(navigator_language) {
        Some(tag) if tag.to_ascii_lowercase().starts_with("zh") => Lang::ZhCn,
        Some(tag) if !tag.is_empty() => Lang::En,
        _ => Lang::ZhCn,
    }
}

/// Replaces `{n}`-style placeholders; templates are ours, so no escaping is needed.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// Tier names come from the brand's configuration (in Chinese); the seeded codes get an
/// English name, anything else keeps the configured name.
pub fn tier_name(lang: Lang, code: &str, configured: &str) -> String {
    let english = match code {
        "normal" => "Classic",
        "silver" => "Silver",
        "gold" => "Gold",
        "diamond" => "Diamond",
        _ => "",
    };
    if lang == Lang::En && !english.is_empty() {
        english.to_string()
    } else {
        configured.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_every_placeholder() {
        assert_eq!(
            fill("{a} and {b} and {a}", &[("a", "1"), ("b", "2")]),
            "1 and 2 and 1"
        );
    }

    #[test]
    fn first_visit_follows_wechat_then_the_browser() {
        let wechat = |l: &str| {
            format!("Mozilla/5.0 (iPhone) MicroMessenger/8.0.50 NetType/WIFI Language/{l}")
        };
        assert_eq!(detect(Some(&wechat("zh_CN")), Some("en-US")), Lang::ZhCn);
        assert_eq!(detect(Some(&wechat("en")), Some("zh-CN")), Lang::En);
        assert_eq!(
            detect(Some("Mozilla/5.0 Chrome/120"), Some("en-US")),
            Lang::En
        );
        assert_eq!(
            detect(Some("Mozilla/5.0 Chrome/120"), Some("zh-TW")),
            Lang::ZhCn
        );
        assert_eq!(detect(None, Some("de")), Lang::En);
        assert_eq!(detect(None, None), Lang::ZhCn);
    }

    #[test]
    fn tier_names_fall_back_to_configured() {
        assert_eq!(tier_name(Lang::En, "gold", "金卡"), "Gold");
        assert_eq!(tier_name(Lang::ZhCn, "gold", "金卡"), "金卡");
        assert_eq!(tier_name(Lang::En, "vip", "贵宾"), "贵宾");
    }
}
