//! The documents a member agrees to when joining: `/privacy` (隐私政策) and `/terms`
//! (会员章程), real pages the sign-up links open, in zh-CN or, with `?lang=en`, English.
//! The text is a default until the brand writes its own.

use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct DocQuery {
    lang: Option<String>,
}

#[derive(Clone, Copy)]
enum Doc {
    Privacy,
    Terms,
}

/// An unreadable query is no reason to refuse a document: it gets the default language.
fn english(q: &Result<Query<DocQuery>, QueryRejection>) -> bool {
    q.as_ref()
        .ok()
        .and_then(|q| q.lang.as_deref())
        .is_some_and(|l| l.starts_with("en"))
}

/// Title and paragraphs; ours, so no escaping is needed.
fn text(doc: Doc, english: bool) -> (&'static str, &'static [&'static str]) {
    match (doc, english) {
        (Doc::Privacy, false) => (
            "隐私政策",
            &[
                "我们收集您的手机号（用于登录和识别会员身份）、姓名，以及您自愿填写的生日、性别和城市。",
                "我们记录您的消费、积分、成长值、优惠券和兑换，用于计算积分与会员等级、发放权益。",
                "您的信息仅用于会员服务；未经您同意，我们不会向第三方提供，法律法规另有规定的除外。",
                "只有在您勾选同意后，我们才会向您发送会员活动与优惠信息；您可随时在会员资料中关闭。",
                "您可以查询、更正您的个人信息，也可以联系门店注销会员，注销后我们将删除或匿名化您的信息。",
            ],
        ),
        (Doc::Privacy, true) => (
            "Privacy Policy",
            &[
                "We collect your mobile number (to sign you in and recognise you as a member), your name, and the birthday, gender and city you choose to give.",
                "We record your purchases, points, growth, coupons and redemptions to work out your points and tier and to give you your benefits.",
                "Your information is used for the membership only; we do not share it with third parties without your consent, unless the law requires it.",
                "We send you member offers and news only if you ticked the box for them; you can turn them off at any time in your profile.",
                "You can see and correct your personal information, and ask a store to close your membership; we then delete or anonymise your information.",
            ],
        ),
        (Doc::Terms, false) => (
            "会员章程",
            &[
                "凭手机号即可免费成为会员，一个手机号对应一张会员卡。",
                "消费可获得积分和成长值；积分可在积分商城兑换礼品或优惠券，成长值决定会员等级。",
                "积分有有效期，到期未使用的积分将自动失效；退货时，该笔消费获得的积分和成长值将被扣回。",
                "会员等级按等级规则定期评定，满足保级条件可保持等级，未满足的将调整为相应等级。",
                "会员码仅限本人使用，请勿转借。以欺诈方式获取的积分和权益将被取消。",
                "本章程如有调整，将在会员中心公布，调整后继续使用会员服务即视为同意。",
            ],
        ),
        (Doc::Terms, true) => (
            "Membership Terms",
            &[
                "Anyone with a mobile number can join for free; one mobile number has one member card.",
                "Purchases earn points and growth. Points buy gifts and coupons in the points mall; growth decides your tier.",
                "Points expire: points not used by their expiry date lapse. When a purchase is returned, the points and growth it earned are taken back.",
                "Tiers are reviewed regularly under the tier rules: meet the rule to keep your tier, otherwise it changes to the tier you qualify for.",
                "Your member code is for you only; do not lend it. Points and benefits obtained by fraud are cancelled.",
                "Changes to these terms are published in the Member Center; using the membership after a change means you accept it.",
            ],
        ),
    }
}

fn page(doc: Doc, english: bool) -> String {
    let (title, paragraphs) = text(doc, english);
    let (lang, brand, other, other_label) = match english {
        false => ("zh-CN", "会员中心", "?lang=en", "English"),
        true => ("en", "Member Center", "?lang=zh-CN", "中文"),
    };
    let body: String = paragraphs
        .iter()
        .enumerate()
        .map(|(i, p)| format!("<p>{}. {p}</p>\n", i + 1))
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · {brand}</title>\n\
         <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:0 auto;\
         padding:1rem 1.25rem 3rem;line-height:1.6;color:#1f2933}}\
         header{{display:flex;justify-content:space-between;align-items:center}}\
         h1{{font-size:1.4rem}}a{{color:#0b6bcb}}</style>\n</head>\n<body>\n\
         <header><span>{brand}</span><a href=\"{other}\" hreflang=\"{}\">{other_label}</a></header>\n\
         <h1>{title}</h1>\n{body}</body>\n</html>\n",
        if english { "zh-CN" } else { "en" }
    )
}

fn respond(doc: Doc, q: &Result<Query<DocQuery>, QueryRejection>) -> impl IntoResponse {
    let html = page(doc, english(q));
    // Its own policy: the page is written here, not built into the static dir whose
    // inline hashes the app's policy carries, and it needs nothing but its one style.
    let styles = member_core::edge::inline_hashes(&html).styles.join(" ");
    let csp = format!(
        "default-src 'none'; style-src {styles}; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'self'"
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (header::CACHE_CONTROL, "no-cache".to_string()),
            (header::CONTENT_SECURITY_POLICY, csp),
        ],
        html,
    )
}

/// GET /privacy[?lang=en]
pub async fn privacy(q: Result<Query<DocQuery>, QueryRejection>) -> impl IntoResponse {
    respond(Doc::Privacy, &q)
}

/// GET /terms[?lang=en]
pub async fn terms(q: Result<Query<DocQuery>, QueryRejection>) -> impl IntoResponse {
    respond(Doc::Terms, &q)
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/privacy", get(privacy))
        .route("/terms", get(terms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_document_in_each_language() {
        let zh = page(Doc::Privacy, false);
        assert!(zh.contains("<html lang=\"zh-CN\">") && zh.contains("<h1>隐私政策</h1>"));
        let en = page(Doc::Terms, true);
        assert!(en.contains("<html lang=\"en\">") && en.contains("<h1>Membership Terms</h1>"));
    }
}
