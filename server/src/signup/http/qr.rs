//! Printable sign-up QR codes: SVG (vector, with the brand name, the call to action and
//! the store under the code) and PNG (the code alone at print resolution: the server
//! has no fonts to draw Chinese text into pixels; print shops take the SVG).

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use member_core::dto::ErrorBody;
use qrcode::{Color, EcLevel, QrCode};

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Path, StaffSession};
use crate::signup::http::signup::{scoped_link, token};
use crate::signup::store::signup_links::{self, LinkRow};
use crate::state::AppState;

/// Modules of white around the code (the QR standard's quiet zone).
const QUIET: usize = 4;
/// PNG pixels per module: a 33-module code is 410 px, 3.5 cm at 300 dpi.
const PNG_SCALE: usize = 10;

/// The absolute URL the code encodes: the configured public address, else the site as
/// the browser reached it.
fn absolute(state: &AppState, headers: &HeaderMap, path: &str) -> String {
    if let Some(base) = &state.public_url {
        return format!("{base}{path}");
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("127.0.0.1:8080");
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}{path}")
}

/// A link in the caller's scope and the QR code of its absolute URL.
async fn link_code(
    state: &AppState,
    session: &StaffSession,
    headers: &HeaderMap,
    id: i64,
) -> ApiResult<(LinkRow, QrCode)> {
    let row = scoped_link(state, session, id).await?;
    let url = absolute(state, headers, &format!("/join?c={}", token(state, &row)));
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
        .map_err(|_| ApiError::Internal)?;
    Ok((row, code))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The poster SVG: brand name above, the code, the call to action and store below.
pub fn poster_svg(code: &QrCode, brand: &str, call: &str, store: &str) -> String {
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 2 * QUIET;
    let mut path = String::new();
    for (i, c) in colors.iter().enumerate() {
        if *c == Color::Dark {
            let (x, y) = (i % width + QUIET, i / width + QUIET);
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    // Text bands in module units: brand 6 above; call to action and store 9 below.
    let (top, bottom) = (6usize, 9usize);
    let height = size + top + bottom;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {height}\" \
         width=\"{w}mm\" height=\"{h}mm\" shape-rendering=\"crispEdges\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\
         <text x=\"{mid}\" y=\"4.5\" text-anchor=\"middle\" font-size=\"3.4\" font-weight=\"700\" \
         font-family=\"sans-serif\" fill=\"#111\">{brand}</text>\
         <path transform=\"translate(0 {top})\" d=\"{path}\" fill=\"#000\"/>\
         <text x=\"{mid}\" y=\"{cta_y}\" text-anchor=\"middle\" font-size=\"2.8\" font-weight=\"700\" \
         font-family=\"sans-serif\" fill=\"#b3261e\">{call}</text>\
         <text x=\"{mid}\" y=\"{store_y}\" text-anchor=\"middle\" font-size=\"2\" \
         font-family=\"sans-serif\" fill=\"#555\">{store}</text></svg>",
        w = size * 2,
        h = height * 2,
        mid = size as f64 / 2.0,
        cta_y = size + top + 3,
        store_y = size + top + 6,
        brand = escape(brand),
        call = escape(call),
        store = escape(store),
    )
}

/// The code alone as an 8-bit grayscale PNG.
pub fn png(code: &QrCode) -> ApiResult<Vec<u8>> {
    let width = code.width();
    let colors = code.to_colors();
    let side = (width + 2 * QUIET) * PNG_SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, c) in colors.iter().enumerate() {
        if *c != Color::Dark {
            continue;
        }
        let (mx, my) = (i % width + QUIET, i / width + QUIET);
        for y in my * PNG_SCALE..(my + 1) * PNG_SCALE {
            let row = y * side;
            pixels[row + mx * PNG_SCALE..row + (mx + 1) * PNG_SCALE].fill(0);
        }
    }
    let side = u32::try_from(side).map_err(|_| ApiError::Internal)?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|_| ApiError::Internal)?;
    writer
        .write_image_data(&pixels)
        .map_err(|_| ApiError::Internal)?;
    writer.finish().map_err(|_| ApiError::Internal)?;
    Ok(out)
}

fn image(content_type: &'static str, filename: String, body: Vec<u8>) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

#[utoipa::path(get, path = "/api/v1/admin/signup-links/{id}/qr.svg", tag = "signup",
    params(("id" = i64, Path)),
    responses((status = 200, description = "Print-ready SVG: brand, QR code, call to action, store", content_type = "image/svg+xml"),
              (status = 404, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn svg(
    State(state): State<AppState>,
    session: StaffSession,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let (row, code) = link_code(&state, &session, &headers, id).await?;
    let settings = signup_links::settings(&state.db).await?;
    let body = poster_svg(
        &code,
        &settings.brand_name,
        &settings.call_to_action,
        &row.store_name,
    );
    Ok(image(
        "image/svg+xml",
        format!("signup-{id}.svg"),
        body.into_bytes(),
    ))
}

#[utoipa::path(get, path = "/api/v1/admin/signup-links/{id}/qr.png", tag = "signup",
    params(("id" = i64, Path)),
    responses((status = 200, description = "The QR code as PNG (10 px per module)", content_type = "image/png"),
              (status = 404, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn png_image(
    State(state): State<AppState>,
    session: StaffSession,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let (_, code) = link_code(&state, &session, &headers, id).await?;
    let body = png(&code)?;
    Ok(image("image/png", format!("signup-{id}.png"), body))
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/api/v1/admin/signup-links/{id}/qr.svg", get(svg))
        .route("/api/v1/admin/signup-links/{id}/qr.png", get(png_image))
}
