//! In-store sign-up: signed links (forged, altered, expired, revoked), attribution
//! written once, required fields, welcome gifts, referrals and their abuse cases, and
//! the reports.

use member_core::dto::{MeView, ReferralView, SignupLinkView, WelcomeView};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, idem, json_ok, phone, Client, Member, TestApp};

both_backends!(
    a_poster_link_attributes_the_sign_up_once,
    forged_altered_expired_and_revoked_links_sign_up_without_attribution,
    required_fields_are_enforced_for_new_members_only,
    links_are_made_by_managers_and_admins_for_their_stores,
    qr_codes_print_as_svg_and_png,
    a_full_gift_campaign_still_signs_up_and_sells,
    links_for_a_cashier_and_gifts_are_checked,
);

/// OTP and verify with extra sign-up fields; the raw response.
pub async fn join(
    app: &TestApp,
    client: &Client,
    phone: &str,
    name: &str,
    extra: Value,
) -> reqwest::Response {
    // A phone may ask for a code once a minute.
    app.advance_clock(61);
    let resp = client
        .post("/api/v1/auth/otp", &json!({ "phone": phone }))
        .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED, "otp for {phone}");
    let code = app.otp_for(phone).await;
    let mut body = json!({
        "phone": phone, "code": code, "name": name,
        "privacy_consent": true, "marketing_consent": false
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    client.post("/api/v1/auth/verify", &body).await
}

pub async fn joined(app: &TestApp, phone: &str, name: &str, extra: Value) -> Member {
    let client = app.client();
    let resp = join(app, &client, phone, name, extra).await;
    let me: MeView = serde_json::from_value(json_ok(resp, StatusCode::OK).await).expect("MeView");
    Member {
        client,
        phone: phone.to_string(),
        me,
        clock: app.clock.clone(),
    }
}

pub async fn make_link(admin: &Client, body: Value) -> SignupLinkView {
    serde_json::from_value(
        json_ok(
            admin.post("/api/v1/admin/signup-links", &body).await,
            StatusCode::CREATED,
        )
        .await,
    )
    .expect("SignupLinkView")
}

pub async fn welcome(app: &TestApp, query: &str) -> WelcomeView {
    serde_json::from_value(
        json_ok(
            app.client()
                .get(&format!("/api/v1/signup/welcome?{query}"))
                .await,
            StatusCode::OK,
        )
        .await,
    )
    .expect("WelcomeView")
}

async fn attribution(app: &TestApp, phone: &str) -> (i64, String, i64) {
    let e164 = format!("+86{phone}");
    (
        app.db
            .scalar_i64(&format!(
                "SELECT COALESCE(signup_store_id, 0) FROM members WHERE phone = '{e164}'"
            ))
            .await,
        channel_of(app, phone).await,
        app.db
            .scalar_i64(&format!(
                "SELECT COALESCE(signup_staff_id, 0) FROM members WHERE phone = '{e164}'"
            ))
            .await,
    )
}

async fn channel_of(app: &TestApp, phone: &str) -> String {
    let n = app
        .db
        .scalar_i64(&format!(
            "SELECT CAST(COALESCE(LENGTH(signup_channel), 0) AS BIGINT) FROM members WHERE phone = '+86{phone}'"
        ))
        .await;
    if n == 0 {
        return String::new();
    }
    for c in ["poster", "staff", "event", "packaging"] {
        if app
            .db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM members WHERE phone = '+86{phone}' AND signup_channel = '{c}'"
            ))
            .await
            == 1
        {
            return c.to_string();
        }
    }
    "other".into()
}

async fn gift_campaign(app: &TestApp, admin: &Client, name: &str) -> i64 {
    let t = crate::campaigns::template(app, name, 1000).await;
    crate::campaigns::create_campaign(
        admin,
        json!({ "kind": "claim", "name": "扫码新人礼", "coupons": [{ "template_id": t }] }),
    )
    .await
    .id
}

async fn coupon_names(m: &Member) -> Vec<String> {
    let v: Value = json_ok(m.client.get("/api/v1/me/coupons").await, StatusCode::OK).await;
    let items = v.get("items").cloned().unwrap_or(v);
    items
        .as_array()
        .expect("coupon list")
        .iter()
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect()
}

async fn a_poster_link_attributes_the_sign_up_once(app: TestApp) {
    let admin = app.admin_login().await;
    let campaign = gift_campaign(&app, &admin, "扫码立减10元").await;
    let link = make_link(
        &admin,
        json!({ "store_code": "S001", "channel": "poster", "staff_username": "cashier",
                "campaign_id": campaign, "label": "门口海报" }),
    )
    .await;
    assert!(link.path.starts_with("/join?c="), "{}", link.path);
    assert_eq!(link.store_code, "S001");
    assert_eq!(link.staff_username.as_deref(), Some("cashier"));

    let w = welcome(&app, &format!("c={}", link.token)).await;
    assert_eq!(w.link_status, "ok");
    assert_eq!(w.store_name.as_deref(), Some("旗舰店"));
    let gift = w.gift.expect("welcome gift shown");
    assert_eq!(gift.items, ["扫码立减10元 ×1"]);

    let m = joined(&app, &phone(1), "王小明", json!({ "link": link.token })).await;
    assert!(m.me.new_member);
    let store = app
        .db
        .scalar_i64("SELECT id FROM stores WHERE code = 'S001'")
        .await;
    let cashier = app
        .db
        .scalar_i64("SELECT id FROM staff_users WHERE username = 'cashier'")
        .await;
    assert_eq!(
        attribution(&app, &phone(1)).await,
        (store, "poster".into(), cashier)
    );
    assert!(
        coupon_names(&m).await.contains(&"扫码立减10元".to_string()),
        "the welcome gift is in the wallet"
    );

    // Signing in again through another store's event code changes nothing: the
    // attribution was written at sign-up, and there is no second account.
    app.db
        .execute("INSERT INTO stores (code, name, created_at) VALUES ('S002', '二店', 0)")
        .await;
    let other = make_link(&admin, json!({ "store_code": "S002", "channel": "event" })).await;
    let again = joined(&app, &phone(1), "", json!({ "link": other.token })).await;
    assert!(!again.me.new_member);
    assert_eq!(again.me.member_no, m.me.member_no);
    assert_eq!(
        attribution(&app, &phone(1)).await,
        (store, "poster".into(), cashier)
    );
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM members WHERE phone = '+8613900000001'")
            .await,
        1
    );
    // The list shows the sign-up on the link.
    let list: Value = json_ok(
        admin.get("/api/v1/admin/signup-links").await,
        StatusCode::OK,
    )
    .await;
    let row = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == link.id)
        .unwrap()
        .clone();
    assert_eq!(row["signups"], 1);
}

async fn forged_altered_expired_and_revoked_links_sign_up_without_attribution(app: TestApp) {
    let admin = app.admin_login().await;
    let a = make_link(&admin, json!({ "store_code": "S001", "channel": "poster" })).await;
    let expires = member_server::clock::rfc3339(app.now() + 3600);
    let b = make_link(
        &admin,
        json!({ "store_code": "S001", "channel": "event", "expires_at": expires }),
    )
    .await;
    let c = make_link(
        &admin,
        json!({ "store_code": "S001", "channel": "packaging" }),
    )
    .await;

    // Altered: another link's id with this link's signature; one flipped hex digit;
    // made up; malformed.
    let (a_id, a_mac) = a.token.split_once('-').unwrap();
    let swapped = format!("{}-{a_mac}", b.id);
    let mut flipped = a_mac.to_string();
    let last = if flipped.ends_with('0') { "1" } else { "0" };
    flipped.replace_range(flipped.len() - 1.., last);
    let flipped = format!("{a_id}-{flipped}");
    let forged = format!("{}-{}", a.id, "0".repeat(20));
    for bad in [
        swapped.as_str(),
        flipped.as_str(),
        forged.as_str(),
        "not-a-token",
        "999-abc",
    ] {
        let w = welcome(&app, &format!("c={bad}")).await;
        assert_eq!(w.link_status, "invalid", "{bad}");
        assert!(w.store_name.is_none() && w.gift.is_none());
    }
    joined(&app, &phone(1), "甲", json!({ "link": flipped })).await;
    assert_eq!(attribution(&app, &phone(1)).await, (0, String::new(), 0));

    // Revoked.
    let resp = admin
        .post_empty(&format!("/api/v1/admin/signup-links/{}/revoke", c.id))
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        welcome(&app, &format!("c={}", c.token)).await.link_status,
        "revoked"
    );
    joined(&app, &phone(2), "乙", json!({ "link": c.token })).await;
    assert_eq!(attribution(&app, &phone(2)).await, (0, String::new(), 0));

    // Expired (by the server's clock).
    assert_eq!(
        welcome(&app, &format!("c={}", b.token)).await.link_status,
        "ok"
    );
    app.advance_clock(3601);
    assert_eq!(
        welcome(&app, &format!("c={}", b.token)).await.link_status,
        "expired"
    );
    joined(&app, &phone(3), "丙", json!({ "link": b.token })).await;
    assert_eq!(attribution(&app, &phone(3)).await, (0, String::new(), 0));

    // The untouched one still works.
    joined(&app, &phone(4), "丁", json!({ "link": a.token })).await;
    assert_eq!(attribution(&app, &phone(4)).await.1, "poster");
    assert_eq!(welcome(&app, "").await.link_status, "none");
}

async fn required_fields_are_enforced_for_new_members_only(app: TestApp) {
    let admin = app.admin_login().await;
    let existing = app.sign_up(&phone(1), "老会员").await;
    let mut settings: Value = json_ok(
        admin.get("/api/v1/admin/signup-settings").await,
        StatusCode::OK,
    )
    .await;
    settings["fields"] =
        json!({ "birthday": "required", "gender": "optional", "city": "required" });
    put_settings(&app, &admin, &settings).await;
    assert_eq!(welcome(&app, "").await.fields.birthday, "required");

    let client = app.client();
    let resp = join(&app, &client, &phone(2), "新人", json!({ "city": "上海" })).await;
    let body = assert_error(resp, StatusCode::BAD_REQUEST, "field_required").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("生日"));
    let resp = join(
        &app,
        &client,
        &phone(2),
        "新人",
        json!({ "birthday": "1990-02-30", "city": "上海" }),
    )
    .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_input").await;
    let resp = join(
        &app,
        &client,
        &phone(2),
        "新人",
        json!({ "birthday": "1990-03-07", "gender": "robot", "city": "上海" }),
    )
    .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM members WHERE phone = '+8613900000002'")
            .await,
        0,
        "nothing half-created"
    );
    let m = joined(
        &app,
        &phone(2),
        "新人",
        json!({ "birthday": "1990-03-07", "gender": "女", "city": "上海" }),
    )
    .await;
    assert!(m.me.new_member);
    assert_eq!(
        app.db
            .scalar_i64(
                "SELECT birth_month * 100 + birth_day FROM members WHERE phone = '+8613900000002'"
            )
            .await,
        307
    );
    assert_eq!(
        app.db
            .scalar_i64("SELECT COUNT(*) FROM members WHERE gender = 'female' AND city = '上海'")
            .await,
        1
    );
    // An existing member goes straight to the card without the new fields.
    let back = joined(&app, &existing.phone, "", json!({})).await;
    assert!(!back.me.new_member);
}

async fn links_are_made_by_managers_and_admins_for_their_stores(app: TestApp) {
    let admin = app.admin_login().await;
    let cashier = app.staff_login().await;
    let body = json!({ "store_code": "S001", "channel": "poster" });
    assert_error(
        cashier.post("/api/v1/admin/signup-links", &body).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // A manager of another store can't make or revoke codes for S001.
    app.db
        .execute("INSERT INTO stores (code, name, created_at) VALUES ('S002', '二店', 0)")
        .await;
    let s2 = app
        .db
        .scalar_i64("SELECT id FROM stores WHERE code = 'S002'")
        .await;
    app.db
        .execute(&format!(
            "UPDATE staff_users SET role = 'manager', store_id = {s2} WHERE username = 'cashier'"
        ))
        .await;
    assert_error(
        cashier.post("/api/v1/admin/signup-links", &body).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let own = make_link(
        &cashier,
        json!({ "store_code": "S002", "channel": "table_tent" }),
    )
    .await;
    let theirs = make_link(&admin, body.clone()).await;
    let resp = cashier
        .post_empty(&format!("/api/v1/admin/signup-links/{}/revoke", theirs.id))
        .await;
    assert_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let list: Value = json_ok(
        cashier.get("/api/v1/admin/signup-links").await,
        StatusCode::OK,
    )
    .await;
    let ids: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [own.id]);

    // Bad input is a clear 400.
    for bad in [
        json!({ "store_code": "S001", "channel": "Poster!" }),
        json!({ "store_code": "NOPE", "channel": "poster" }),
        json!({ "store_code": "S001", "channel": "poster", "staff_username": "ghost" }),
        json!({ "store_code": "S001", "channel": "poster", "campaign_id": 99999 }),
        json!({ "store_code": "S001", "channel": "poster", "expires_at": "2001-01-01T00:00:00Z" }),
    ] {
        assert_error(
            admin.post("/api/v1/admin/signup-links", &bad).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        )
        .await;
    }

    // A cashier's personal code is the same every time.
    app.db
        .execute("UPDATE staff_users SET role = 'cashier' WHERE username = 'cashier'")
        .await;
    let p1: SignupLinkView = serde_json::from_value(
        json_ok(
            cashier.post_empty("/api/v1/staff/signup-link").await,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap();
    let p2: SignupLinkView = serde_json::from_value(
        json_ok(
            cashier.post_empty("/api/v1/staff/signup-link").await,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap();
    assert_eq!(p1.id, p2.id);
    assert_eq!(p1.channel, "staff");
    assert_eq!(p1.staff_username.as_deref(), Some("cashier"));
}

async fn qr_codes_print_as_svg_and_png(app: TestApp) {
    let admin = app.admin_login().await;
    let link = make_link(&admin, json!({ "store_code": "S001", "channel": "poster" })).await;
    let svg = admin
        .get(&format!("/api/v1/admin/signup-links/{}/qr.svg", link.id))
        .await;
    assert_eq!(svg.status(), StatusCode::OK);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    let svg = svg.text().await.unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.contains("会员中心") && svg.contains("扫码入会") && svg.contains("旗舰店"));
    assert!(svg.matches("h1v1h-1z").count() > 100, "QR modules drawn");

    let png = admin
        .get(&format!("/api/v1/admin/signup-links/{}/qr.png", link.id))
        .await;
    assert_eq!(png.status(), StatusCode::OK);
    assert_eq!(png.headers()["content-type"], "image/png");
    let bytes = png.bytes().await.unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes.to_vec()));
    let reader = decoder.read_info().expect("a PNG");
    let info = reader.info();
    assert_eq!(info.width, info.height);
    assert!(info.width >= 290, "print resolution: {}", info.width);

    // Another store's manager can't fetch it; a member can't either.
    let member = app.sign_up(&phone(1), "甲").await;
    let resp = member
        .client
        .get(&format!("/api/v1/admin/signup-links/{}/qr.png", link.id))
        .await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let resp = admin.get("/api/v1/admin/signup-links/99999/qr.svg").await;
    assert_error(resp, StatusCode::NOT_FOUND, "not_found").await;
}

/// Review finding: a capped welcome gift or referral pack that is full made sign-ups
/// (and the friend's every purchase) fail with 422. Now it just gives nothing.
async fn a_full_gift_campaign_still_signs_up_and_sells(app: TestApp) {
    let admin = app.admin_login().await;
    let t = crate::campaigns::template(&app, "限量新人券", 500).await;
    let capped = crate::campaigns::create_campaign(
        &admin,
        json!({ "kind": "claim", "name": "限量1份", "total_cap": 1, "coupons": [{ "template_id": t }] }),
    )
    .await
    .id;
    let link = make_link(
        &admin,
        json!({ "store_code": "S001", "channel": "poster", "campaign_id": capped }),
    )
    .await;
    let first = joined(&app, &phone(1), "一", json!({ "link": link.token })).await;
    assert!(coupon_names(&first)
        .await
        .contains(&"限量新人券".to_string()));
    let second = joined(&app, &phone(2), "二", json!({ "link": link.token })).await;
    assert!(second.me.new_member, "the sign-up goes through");
    assert!(!coupon_names(&second)
        .await
        .contains(&"限量新人券".to_string()));
    assert_eq!(
        attribution(&app, &phone(2)).await.1,
        "poster",
        "and is attributed"
    );

    // The referral packs are full too: the friends' purchases still go through.
    let mut settings: Value = json_ok(
        admin.get("/api/v1/admin/signup-settings").await,
        StatusCode::OK,
    )
    .await;
    settings["referral"] = json!({
        "enabled": true, "referrer_points": 10, "friend_points": 5, "daily_cap": 5,
        "referrer_campaign_id": capped, "friend_campaign_id": capped
    });
    put_settings(&app, &admin, &settings).await;
    let code = referral(&first).await.code;
    let friend = joined(&app, &phone(3), "三", json!({ "referral_code": code })).await;
    let cashier = app.staff_login().await;
    for order in ["F-1", "F-2"] {
        let c = friend.card_code().await;
        json_ok(
            cashier.purchase(&c, 5_000, order, &idem()).await,
            StatusCode::OK,
        )
        .await;
        app.advance_clock(31);
    }
    assert_eq!(referral_ledger(&app, &first).await, (1, 10));
}

/// Review findings: an admin making a cashier's personal-shaped code got a 500 (unique
/// index); a manager could hand out any claim campaign as a welcome gift.
async fn links_for_a_cashier_and_gifts_are_checked(app: TestApp) {
    let admin = app.admin_login().await;
    let cashier = app.staff_login().await;
    let personal: SignupLinkView = serde_json::from_value(
        json_ok(
            cashier.post_empty("/api/v1/staff/signup-link").await,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap();
    let same = make_link(
        &admin,
        json!({ "store_code": "S001", "channel": "staff", "staff_username": "cashier" }),
    )
    .await;
    assert_eq!(same.id, personal.id, "the cashier's one personal code");

    let campaign = gift_campaign(&app, &admin, "店长不能送的券").await;
    let manager = app.client();
    let resp = manager
        .post(
            "/api/v1/staff/login",
            &json!({ "username": "manager", "password": "manager-dev-pass" }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_error(
        manager
            .post(
                "/api/v1/admin/signup-links",
                &json!({ "store_code": "S001", "channel": "poster", "campaign_id": campaign }),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    make_link(
        &manager,
        json!({ "store_code": "S001", "channel": "poster" }),
    )
    .await;

    // Malformed queries are JSON 400s too.
    for path in ["/api/v1/signup/welcome?c=a&c=b"] {
        assert_error(
            app.client().get(path).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        )
        .await;
    }
    assert_error(
        admin
            .get("/api/v1/admin/reports/signups?from=a&from=b")
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
}

pub async fn enable_referrals(app: &TestApp, admin: &Client, cap: i64) {
    let mut settings: Value = json_ok(
        admin.get("/api/v1/admin/signup-settings").await,
        StatusCode::OK,
    )
    .await;
    settings["referral"] = json!({
        "enabled": true, "referrer_points": 200, "friend_points": 100, "daily_cap": cap
    });
    put_settings(app, admin, &settings).await;
}

pub async fn put_settings_raw(
    app: &TestApp,
    admin: &Client,
    settings: &Value,
) -> reqwest::Response {
    admin
        .http
        .put(app.url("/api/v1/admin/signup-settings"))
        .json(settings)
        .send()
        .await
        .unwrap()
}

pub async fn put_settings(app: &TestApp, admin: &Client, settings: &Value) {
    json_ok(put_settings_raw(app, admin, settings).await, StatusCode::OK).await;
}

pub async fn referral(m: &Member) -> ReferralView {
    serde_json::from_value(json_ok(m.client.get("/api/v1/me/referral").await, StatusCode::OK).await)
        .expect("ReferralView")
}

pub async fn referral_ledger(app: &TestApp, m: &Member) -> (i64, i64) {
    let no = &m.me.member_no;
    (
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM points_ledger l JOIN members m ON m.id = l.member_id \
                 WHERE m.member_no = '{no}' AND l.kind = 'referral'"
            ))
            .await,
        app.db
            .scalar_i64(&format!(
                "SELECT CAST(COALESCE(SUM(l.points), 0) AS BIGINT) FROM points_ledger l JOIN members m ON m.id = l.member_id \
                 WHERE m.member_no = '{no}' AND l.kind = 'referral'"
            ))
            .await,
    )
}
