//! What sign-in (`/login`) and sign-up by link (`/join`) share: errors that stand next to
//! the field they are about, the consent line with links to the documents it names, and
//! the reason a disabled submit button gives.

use leptos::prelude::*;
use member_core::dto::codes;

use crate::i18n::{errors, member::M, I18n, Lang};

/// The field an error code is about; `Form` for the rest (shown above the button).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Phone,
    Code,
    Name,
    Consent,
    Form,
}

pub fn field_of(code: &str) -> Field {
    match code {
        codes::INVALID_PHONE | codes::RATE_LIMITED => Field::Phone,
        errors::OTP_FORMAT | codes::INVALID_CODE | codes::OTP_EXPIRED | codes::OTP_LOCKED => {
            Field::Code
        }
        codes::NAME_REQUIRED => Field::Name,
        codes::CONSENT_REQUIRED => Field::Consent,
        _ => Field::Form,
    }
}

/// One error slot per field; setting a code shows it at its field and clears the others.
#[derive(Clone, Copy)]
pub struct FieldErrors {
    pub phone: RwSignal<Option<String>>,
    pub code: RwSignal<Option<String>>,
    pub name: RwSignal<Option<String>>,
    pub consent: RwSignal<Option<String>>,
    pub form: RwSignal<Option<String>>,
}

impl FieldErrors {
    pub fn new() -> Self {
        Self {
            phone: RwSignal::new(None),
            code: RwSignal::new(None),
            name: RwSignal::new(None),
            consent: RwSignal::new(None),
            form: RwSignal::new(None),
        }
    }

    fn slots(self) -> [(Field, RwSignal<Option<String>>); 5] {
        [
            (Field::Phone, self.phone),
            (Field::Code, self.code),
            (Field::Name, self.name),
            (Field::Consent, self.consent),
            (Field::Form, self.form),
        ]
    }

    pub fn clear(self) {
        for (_, slot) in self.slots() {
            slot.set(None);
        }
    }

    pub fn set(self, code: &str) {
        let field = field_of(code);
        for (f, slot) in self.slots() {
            slot.set((f == field).then(|| code.to_string()));
        }
    }
}

impl Default for FieldErrors {
    fn default() -> Self {
        Self::new()
    }
}

/// `/privacy` or `/terms` in the app's language.
fn doc_href(path: &str, lang: Lang) -> String {
    format!("{path}?lang={}", lang.tag())
}

/// "我已阅读并同意《隐私政策》和《会员章程》（必选）", the two names opening the
/// documents in a new tab (so the form keeps what was typed).
#[component]
pub fn ConsentText() -> impl IntoView {
    let i18n = I18n::get();
    view! {
        <span>
            {i18n.tr(M::ConsentBefore)}
            <a id="privacy-link" href=move || doc_href("/privacy", i18n.lang()) target="_blank" rel="noopener">
                {i18n.tr(M::PrivacyDoc)}
            </a>
            {i18n.tr(M::ConsentAnd)}
            <a id="terms-link" href=move || doc_href("/terms", i18n.lang()) target="_blank" rel="noopener">
                {i18n.tr(M::TermsDoc)}
            </a>
            {i18n.tr(M::ConsentAfter)}
        </span>
    }
}

/// Under a submit button that is disabled until consent is given: why.
#[component]
pub fn WhyDisabled(id: &'static str, consent: RwSignal<bool>) -> impl IntoView {
    let i18n = I18n::get();
    view! {
        <p id=id class="hint small subtle center" hidden=move || consent.get()>
            {i18n.tr(M::NeedConsent)}
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_belong_to_their_field() {
        assert_eq!(field_of(codes::INVALID_PHONE), Field::Phone);
        assert_eq!(field_of(errors::OTP_FORMAT), Field::Code);
        assert_eq!(field_of(codes::INVALID_CODE), Field::Code);
        assert_eq!(field_of(codes::NAME_REQUIRED), Field::Name);
        assert_eq!(field_of(codes::CONSENT_REQUIRED), Field::Consent);
        assert_eq!(field_of(errors::NETWORK), Field::Form);
        assert_eq!(doc_href("/terms", Lang::En), "/terms?lang=en");
    }
}
