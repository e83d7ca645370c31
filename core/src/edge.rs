//! Decisions at the edge of the server that only look at strings: which client a request
//! came from behind trusted proxies, whether it reached us over HTTPS, whether a browser
//! request comes from our own origin, and the CSP hashes of a page's inline scripts.
//! The server feeds in the peer address and header values; nothing here does I/O.

use std::net::IpAddr;

use sha2::{Digest, Sha256};

/// An IP network (`10.0.0.0/8`, `fd00::/8`) or a single address (`127.0.0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
        match (self.net, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = || format!("not an IP network: {s:?} (e.g. 10.0.0.0/8, 127.0.0.1, fd00::/8)");
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let net = canonical(addr.parse::<IpAddr>().map_err(|_| bad())?);
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Self { net, prefix })
    }
}

/// A comma- or space-separated list of networks; empty means "trust no proxy".
pub fn parse_cidrs(list: &str) -> Result<Vec<Cidr>, String> {
    list.split([',', ' '])
        .filter(|s| !s.trim().is_empty())
        .map(str::parse)
        .collect()
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

fn trusted(ip: IpAddr, proxies: &[Cidr]) -> bool {
    proxies.iter().any(|c| c.contains(ip))
}

/// One hop as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:80`,
/// possibly quoted (RFC 7239).
fn hop_addr(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sock) = hop.parse::<std::net::SocketAddr>() {
        return Some(canonical(sock.ip()));
    }
    let inner = hop.strip_prefix('[')?.split(']').next()?;
    inner.parse::<IpAddr>().ok().map(canonical)
}

/// The values of one parameter (`for`, `proto`) of RFC 7239 `Forwarded` headers, in order.
fn forwarded_param<'a>(headers: &[&'a str], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .flat_map(|h| h.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().trim_matches('"'))
            })
        })
        .collect()
}

/// Where a request came from. Only a peer inside `proxies` may say who it forwards: then
/// the client is the right-most `X-Forwarded-For` hop (or, without that header, the
/// right-most `Forwarded: for=`) that is not itself a trusted proxy. Everything left of it
/// was written by the client and could be anything. A hop that is not an address (`unknown`,
/// an obfuscated name) stops the walk at the proxy that wrote it.
pub fn client_addr(peer: IpAddr, proxies: &[Cidr], xff: &[&str], forwarded: &[&str]) -> IpAddr {
    let peer = canonical(peer);
    if !trusted(peer, proxies) {
        return peer;
    }
    let hops: Vec<&str> = if xff.iter().any(|h| !h.trim().is_empty()) {
        xff.iter()
            .flat_map(|h| h.split(','))
            .filter(|h| !h.trim().is_empty())
            .collect()
    } else {
        forwarded_param(forwarded, "for")
    };
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop_addr(hop) {
            Some(ip) => {
                client = ip;
                if !trusted(ip, proxies) {
                    break;
                }
            }
            None => break,
        }
    }
    client
}

/// Whether a trusted proxy says the client spoke HTTPS to it (`X-Forwarded-Proto`, else
/// `Forwarded: proto=`; the right-most value, the one the nearest proxy wrote).
pub fn forwarded_https(
    peer: IpAddr,
    proxies: &[Cidr],
    x_forwarded_proto: &[&str],
    forwarded: &[&str],
) -> bool {
    if !trusted(canonical(peer), proxies) {
        return false;
    }
    let xfp: Vec<&str> = x_forwarded_proto
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    let proto = if xfp.is_empty() {
        forwarded_param(forwarded, "proto").last().copied()
    } else {
        xfp.last().copied()
    };
    proto.is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// `scheme://host[:port]` of a URL, lower-cased, without a default port: how browsers
/// write `Origin`. `None` for anything that is not an http(s) URL.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    // Credentials are never part of an origin.
    let authority = authority.rsplit('@').next()?;
    if authority.is_empty() {
        return None;
    }
    Some(format!(
        "{scheme}://{}",
        without_default_port(&authority.to_ascii_lowercase(), &scheme)
    ))
}

fn without_default_port<'a>(authority: &'a str, scheme: &str) -> &'a str {
    let default = if scheme == "https" { ":443" } else { ":80" };
    authority.strip_suffix(default).unwrap_or(authority)
}

/// Whether `origin` (an `Origin` header, or the origin of a `Referer`) is our own: the
/// scheme, host and port of `public_url` when the site has one, else the host and port
/// the request was addressed to (`Host`). `Origin: null` (sandboxed frames, privacy
/// redirects) is never ours.
pub fn is_own_origin(origin: &str, public_url: Option<&str>, host: Option<&str>) -> bool {
    let Some(origin) = origin_of(origin) else {
        return false;
    };
    match public_url {
        Some(public) => origin_of(public).is_some_and(|own| own == origin),
        None => {
            let Some(host) = host.map(|h| h.trim().to_ascii_lowercase()) else {
                return false;
            };
            let Some((scheme, authority)) = origin.split_once("://") else {
                return false;
            };
            !host.is_empty() && authority == without_default_port(&host, scheme)
        }
    }
}

/// CSP hash sources (`'sha256-…'`) of a page's inline `<script>` and `<style>` elements,
/// in the order they appear; scripts with a `src` are loaded, not inline, and need none.
pub fn inline_hashes(html: &str) -> InlineHashes {
    InlineHashes {
        scripts: inline_bodies(html, "script")
            .into_iter()
            .map(hash_source)
            .collect(),
        styles: inline_bodies(html, "style")
            .into_iter()
            .map(hash_source)
            .collect(),
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InlineHashes {
    pub scripts: Vec<String>,
    pub styles: Vec<String>,
}

fn inline_bodies<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    let lower = html.to_ascii_lowercase();
    let open = format!("<{tag}");
    let close = format!("</{tag}");
    let mut bodies = Vec::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find(&open) {
        let start = at + found;
        let after_name = start + open.len();
        // `<scripts>` or `<style-x>` are other elements.
        if !lower[after_name..].starts_with(|c: char| c == '>' || c.is_ascii_whitespace()) {
            at = after_name;
            continue;
        }
        let Some(tag_end) = lower[after_name..].find('>').map(|i| after_name + i) else {
            break;
        };
        let attrs = &lower[after_name..tag_end];
        let body_start = tag_end + 1;
        let Some(body_end) = lower[body_start..].find(&close).map(|i| body_start + i) else {
            break;
        };
        let has_src = attrs
            .split(|c: char| c.is_ascii_whitespace())
            .any(|a| a == "src" || a.starts_with("src="));
        if !has_src {
            bodies.push(&html[body_start..body_end]);
        }
        at = body_end;
    }
    bodies
}

fn hash_source(body: &str) -> String {
    format!("'sha256-{}'", base64(&Sha256::digest(body.as_bytes())))
}

/// Standard base64 with padding (what CSP hash sources use).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_contain_their_addresses_only() {
        let ten: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(ten.contains(ip("10.1.2.3")));
        assert!(!ten.contains(ip("11.0.0.1")));
        assert!(ten.contains(ip("::ffff:10.0.0.9")));
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")));
        assert!(!one.contains(ip("127.0.0.2")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")));
        assert!(!all.contains(ip("2001:db8::1")));
        let v6: Cidr = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")));
        assert!(!v6.contains(ip("fe80::1")));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("proxy.local".parse::<Cidr>().is_err());
        assert_eq!(parse_cidrs(" 10.0.0.0/8, ::1 ").unwrap().len(), 2);
        assert!(parse_cidrs("").unwrap().is_empty());
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_peers() {
        let proxies = parse_cidrs("10.0.0.0/8").unwrap();
        // An untrusted peer says what it likes: ignored.
        assert_eq!(
            client_addr(ip("203.0.113.9"), &proxies, &["1.1.1.1"], &[]),
            ip("203.0.113.9")
        );
        // Through the proxy: the right-most hop that is not a proxy; a spoofed left part
        // does not matter.
        assert_eq!(
            client_addr(
                ip("10.0.0.2"),
                &proxies,
                &["6.6.6.6, 198.51.100.7", "10.0.0.5"],
                &[]
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_addr(ip("10.0.0.2"), &proxies, &["198.51.100.7:4711"], &[]),
            ip("198.51.100.7")
        );
        // Only proxies: the left-most of them.
        assert_eq!(
            client_addr(ip("10.0.0.2"), &proxies, &["10.9.9.9"], &[]),
            ip("10.9.9.9")
        );
        // No header: the proxy itself.
        assert_eq!(
            client_addr(ip("10.0.0.2"), &proxies, &[], &[]),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_addr(ip("10.0.0.2"), &proxies, &["unknown"], &[]),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_addr(
                ip("10.0.0.2"),
                &proxies,
                &[],
                &[r#"for=6.6.6.6, for="[2001:db8::17]:4711";proto=https"#]
            ),
            ip("2001:db8::17")
        );
    }

    #[test]
    fn https_is_what_a_trusted_proxy_says() {
        let proxies = parse_cidrs("10.0.0.0/8").unwrap();
        assert!(forwarded_https(ip("10.0.0.2"), &proxies, &["https"], &[]));
        assert!(!forwarded_https(ip("10.0.0.2"), &proxies, &["http"], &[]));
        assert!(!forwarded_https(ip("1.2.3.4"), &proxies, &["https"], &[]));
        assert!(forwarded_https(
            ip("10.0.0.2"),
            &proxies,
            &[],
            &["for=1.2.3.4;proto=https"]
        ));
        assert!(!forwarded_https(ip("10.0.0.2"), &proxies, &[], &[]));
    }

    #[test]
    fn own_origin_is_the_public_url_or_the_host() {
        let public = Some("https://vip.brand.cn/");
        assert!(is_own_origin("https://vip.brand.cn", public, Some("x")));
        assert!(is_own_origin("https://VIP.brand.cn:443", public, None));
        assert!(!is_own_origin("http://vip.brand.cn", public, None));
        assert!(!is_own_origin("https://vip.brand.cn.evil.cn", public, None));
        assert!(!is_own_origin("https://evil.cn", public, Some("evil.cn")));
        assert!(is_own_origin(
            "http://127.0.0.1:8080",
            None,
            Some("127.0.0.1:8080")
        ));
        assert!(is_own_origin("https://a.cn", None, Some("a.cn:443")));
        assert!(!is_own_origin(
            "http://127.0.0.1:9",
            None,
            Some("127.0.0.1:8080")
        ));
        assert!(!is_own_origin("null", None, Some("null")));
        assert!(!is_own_origin("http://a.cn", None, None));
        assert_eq!(
            origin_of("https://a.cn/staff/?x=1").as_deref(),
            Some("https://a.cn")
        );
        assert_eq!(origin_of("ftp://a.cn"), None);
    }

    #[test]
    fn inline_scripts_and_styles_are_hashed_loaded_ones_are_not() {
        let html = "<script>a()</script><SCRIPT type=module>b()</SCRIPT>\
                    <script src=\"/x.js\"></script><scripts>no</scripts><style>p{}</style>";
        let h = inline_hashes(html);
        assert_eq!(h.scripts.len(), 2);
        assert_eq!(h.styles.len(), 1);
        // printf 'a()' | openssl dgst -sha256 -binary | base64
        assert_eq!(
            h.scripts[0],
            "'sha256-qVpDBgj7bpq5hMAcGp3AOc79J3Y1Z4HvySTwKrWDoy4='"
        );
    }

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
    }
}
