//! The member QR code as inline SVG: black on white with the standard 4-module quiet zone,
//! scaled by CSS (the SVG is drawn in module units), so it stays sharp at any size.

use qrcode::{render::svg, EcLevel, QrCode};

/// SVG markup for `data`, or an empty string if it cannot be encoded.
///
/// The 16-digit card code fits a version 1 symbol even at level H (17 numeric digits), so
/// the highest error correction costs no size and survives a scratched phone screen.
pub fn qr_svg(data: &str, label: &str) -> String {
    let Ok(code) = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::H) else {
        return String::new();
    };
    let svg = code
        .render::<svg::Color<'_>>()
        .module_dimensions(1, 1)
        .quiet_zone(true)
        .dark_color(svg::Color("#000"))
        .light_color(svg::Color("#fff"))
        .build();
    // Drop the XML prolog (meaningless inline) and name the image for screen readers.
    let body = svg.find("<svg").map_or(svg.as_str(), |at| &svg[at..]);
    body.replacen(
        "<svg ",
        &format!(r#"<svg role="img" aria-label="{}" "#, escape_attr(label)),
        1,
    )
}

fn escape_attr(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_version_1_symbol_with_quiet_zone() {
        let svg = qr_svg("8600012345123456", "会员码");
        assert!(
            svg.starts_with(r#"<svg role="img" aria-label="会员码" "#),
            "{svg}"
        );
        // 21 modules + 2 * 4 quiet zone.
        assert!(svg.contains(r#"viewBox="0 0 29 29""#), "{svg}");
        assert!(svg.ends_with("</svg>"));
    }
}
