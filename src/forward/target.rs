//! Webhook targets: the one place a user-supplied URL becomes something ordervault
//! connects to. A URL is parsed with the WHATWG parser (`url`), only http(s) without
//! credentials is taken, and every address it resolves to is checked against internal
//! ranges (loopback, private, link-local, unique-local, multicast, unspecified, and the
//! IPv4-mapped and other embedded forms of those), at registration and again at every
//! delivery: [`GuardedResolver`] is the forwarder's DNS resolver, so the address the
//! request connects to is the address that passed the check (no DNS-rebinding window).
//!
//! `forward.allow_private_targets` (default off) lifts the address check for test and
//! demo set-ups whose receivers run on 127.0.0.1; the URL rules always apply.
//!
//! Never connects anywhere itself, and never echoes the URL in an error (a backoffice
//! may paste anything into it).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::{Host, Url};

/// Longest webhook URL accepted.
pub const MAX_URL_LEN: usize = 2000;

/// An internal address range a webhook may not reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Loopback,
    Private,
    LinkLocal,
    UniqueLocal,
    Multicast,
    Unspecified,
    Broadcast,
    Reserved,
}

impl Rule {
    /// The wording of a refusal: which rule, with its ranges.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Loopback => "a loopback address (127.0.0.0/8, ::1)",
            Self::Private => {
                "a private address (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10)"
            }
            Self::LinkLocal => "a link-local address (169.254.0.0/16, fe80::/10)",
            Self::UniqueLocal => "a unique-local address (fc00::/7)",
            Self::Multicast => "a multicast address (224.0.0.0/4, ff00::/8)",
            Self::Unspecified => "an unspecified address (0.0.0.0/8, ::)",
            Self::Broadcast => "the broadcast address (255.255.255.255)",
            Self::Reserved => "a reserved address (240.0.0.0/4, fec0::/10)",
        }
    }
}

/// Why a webhook URL or target was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("webhook URL is not a valid absolute http(s) URL")]
    Malformed,
    #[error("webhook URL must use http or https")]
    Scheme,
    #[error("webhook URL must not contain a user name or password")]
    Credentials,
    #[error("webhook URL must be at most 2000 characters")]
    TooLong,
    #[error("webhook host does not resolve to any address")]
    Unresolvable,
    #[error(
        "webhook target refused: it resolves to {}; internal targets are not allowed \
         (operator setting forward.allow_private_targets)",
        .0.describe()
    )]
    Refused(Rule),
}

impl TargetError {
    /// A refusal by address rule (422), as opposed to a malformed URL (400).
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::Refused(_) | Self::Unresolvable)
    }
}

/// Parses a webhook URL: absolute, http or https, a host, no credentials, no white space
/// or control characters anywhere (the WHATWG parser would silently drop or encode them).
pub fn parse_url(raw: &str) -> Result<Url, TargetError> {
    if raw.len() > MAX_URL_LEN {
        return Err(TargetError::TooLong);
    }
    if raw.is_empty() || raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(TargetError::Malformed);
    }
    let url = Url::parse(raw).map_err(|_| TargetError::Malformed)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TargetError::Scheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::Credentials);
    }
    match url.host() {
        Some(Host::Domain(d)) if !d.is_empty() => {}
        Some(Host::Ipv4(_) | Host::Ipv6(_)) => {}
        _ => return Err(TargetError::Malformed),
    }
    Ok(url)
}

/// The internal range `ip` falls in, if any. IPv6 forms that carry an IPv4 address
/// (mapped, compatible, NAT64, 6to4) are judged by that address.
pub fn classify(ip: IpAddr) -> Option<Rule> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Rule> {
    let [a, b, ..] = ip.octets();
    if a == 0 {
        Some(Rule::Unspecified)
    } else if ip.is_loopback() {
        Some(Rule::Loopback)
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        Some(Rule::Private)
    } else if ip.is_link_local() {
        Some(Rule::LinkLocal)
    } else if ip.is_multicast() {
        Some(Rule::Multicast)
    } else if ip.is_broadcast() {
        Some(Rule::Broadcast)
    } else if a >= 240 {
        Some(Rule::Reserved)
    } else {
        None
    }
}

fn classify_v6(ip: Ipv6Addr) -> Option<Rule> {
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    let first = ip.segments()[0];
    if ip.is_unspecified() {
        Some(Rule::Unspecified)
    } else if ip.is_loopback() {
        Some(Rule::Loopback)
    } else if first & 0xff00 == 0xff00 {
        Some(Rule::Multicast)
    } else if first & 0xfe00 == 0xfc00 {
        Some(Rule::UniqueLocal)
    } else if first & 0xffc0 == 0xfe80 {
        Some(Rule::LinkLocal)
    } else if first & 0xffc0 == 0xfec0 {
        Some(Rule::Reserved)
    } else {
        None
    }
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible
/// (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:aabb:ccdd::`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        Some(v4)
    } else if (s[..6] == [0, 0, 0, 0, 0, 0] && !(ip.is_unspecified() || ip.is_loopback()))
        || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
    {
        Some(low)
    } else if s[0] == 0x2002 {
        Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ))
    } else {
        None
    }
}

/// Refuses `addrs` if any of them is internal (unless `allow_private`), or if there are
/// none.
fn check_all(addrs: &[SocketAddr], allow_private: bool) -> Result<(), TargetError> {
    if addrs.is_empty() {
        return Err(TargetError::Unresolvable);
    }
    if allow_private {
        return Ok(());
    }
    match addrs.iter().find_map(|a| classify(a.ip())) {
        Some(rule) => Err(TargetError::Refused(rule)),
        None => Ok(()),
    }
}

/// Checks a parsed URL's host now: an IP literal directly, a name by resolving it. Used
/// at registration; with `allow_private` nothing is resolved.
pub async fn check_target(url: &Url, allow_private: bool) -> Result<(), TargetError> {
    if allow_private {
        return Ok(());
    }
    let port = url.port_or_known_default().unwrap_or(443);
    match url.host() {
        Some(Host::Ipv4(ip)) => check_all(&[SocketAddr::new(IpAddr::V4(ip), port)], false),
        Some(Host::Ipv6(ip)) => check_all(&[SocketAddr::new(IpAddr::V6(ip), port)], false),
        Some(Host::Domain(name)) => {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name, port))
                .await
                .map_err(|_| TargetError::Unresolvable)?
                .collect();
            check_all(&addrs, false)
        }
        None => Err(TargetError::Malformed),
    }
}

/// Checks an IP-literal host (which no resolver sees) before a delivery; host names are
/// checked by [`GuardedResolver`] as the connection is made.
pub fn check_literal(url: &Url, allow_private: bool) -> Result<(), TargetError> {
    match url.host() {
        Some(Host::Ipv4(ip)) => check_all(&[SocketAddr::new(IpAddr::V4(ip), 0)], allow_private),
        Some(Host::Ipv6(ip)) => check_all(&[SocketAddr::new(IpAddr::V6(ip), 0)], allow_private),
        Some(Host::Domain(_)) => Ok(()),
        None => Err(TargetError::Malformed),
    }
}

/// The forwarder's DNS resolver: resolves with the system resolver and hands the HTTP
/// client only addresses that pass the check, so a name that re-resolves to an internal
/// address between registration and delivery (DNS rebinding) is refused at connect time.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            check_all(&addrs, allow_private)?;
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// The [`TargetError`] behind a failed request, if the resolver refused the target.
pub fn refusal_in(err: &(dyn std::error::Error + 'static)) -> Option<TargetError> {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(t) = e.downcast_ref::<TargetError>() {
            return Some(t.clone());
        }
        source = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(raw: &str) -> Option<Rule> {
        let url = parse_url(raw).unwrap();
        check_literal(&url, false).err().map(|e| match e {
            TargetError::Refused(r) => r,
            other => panic!("{raw}: {other}"),
        })
    }

    #[test]
    fn internal_literals_are_refused_in_every_spelling() {
        for (raw, expected) in [
            ("http://127.0.0.1/", Rule::Loopback),
            ("http://[::1]/", Rule::Loopback),
            ("http://0.0.0.0/", Rule::Unspecified),
            ("http://[::]/", Rule::Unspecified),
            ("http://127.1/", Rule::Loopback),
            ("http://2130706433/", Rule::Loopback),
            ("http://0x7f000001/", Rule::Loopback),
            ("http://0177.0.0.1/", Rule::Loopback),
            ("http://[::ffff:127.0.0.1]/", Rule::Loopback),
            ("http://[::ffff:10.0.0.1]/", Rule::Private),
            ("http://[64:ff9b::a9fe:a9fe]/", Rule::LinkLocal),
            ("http://[2002:7f00:1::]/", Rule::Loopback),
            ("http://169.254.169.254/latest/meta-data", Rule::LinkLocal),
            ("http://10.0.0.1:2375/", Rule::Private),
            ("http://172.16.5.4/", Rule::Private),
            ("http://192.168.1.1/", Rule::Private),
            ("http://100.64.0.1/", Rule::Private),
            ("http://[fd00::1]/", Rule::UniqueLocal),
            ("http://[fe80::1]/", Rule::LinkLocal),
            ("http://224.0.0.1/", Rule::Multicast),
            ("http://[ff02::1]/", Rule::Multicast),
            ("http://255.255.255.255/", Rule::Broadcast),
            ("http://240.0.0.1/", Rule::Reserved),
        ] {
            assert_eq!(rule(raw), Some(expected), "{raw}");
        }
        for public in [
            "https://93.184.215.14/hook",
            "https://[2606:4700::1111]/",
            "http://example.com/",
        ] {
            assert_eq!(rule(public), None, "{public}");
        }
        // The operator's switch lifts the address rule, not the URL rules.
        let url = parse_url("http://127.0.0.1:9/").unwrap();
        assert!(check_literal(&url, true).is_ok());
    }

    #[test]
    fn only_well_formed_http_urls_parse() {
        for bad in [
            "http://[::1",
            "http://example.com/a\0b",
            "http://example.com/a b",
            " https://example.com/",
            "https://example.com/\n",
            "ftp://example.com/",
            "file:///etc/passwd",
            "gopher://example.com/",
            "https://user:pw@example.com/",
            "https://user@example.com/",
            "buyer@example.com",
            "/relative",
            "https://",
            "",
        ] {
            assert!(parse_url(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_url(&format!("https://e.com/{}", "a".repeat(2000))),
            Err(TargetError::TooLong)
        );
        assert!(parse_url("https://backoffice.example.org:8443/hooks?x=1").is_ok());
    }

    #[tokio::test]
    async fn names_are_resolved_and_checked() {
        let url = parse_url("http://localhost:9/").unwrap();
        assert_eq!(
            check_target(&url, false).await,
            Err(TargetError::Refused(Rule::Loopback))
        );
        assert_eq!(check_target(&url, true).await, Ok(()));
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let refused = GuardedResolver {
            allow_private: false,
        }
        .resolve(name)
        .await;
        let err = refused.err().expect("refused");
        assert_eq!(
            refusal_in(&*err),
            Some(TargetError::Refused(Rule::Loopback))
        );
        let allowed = GuardedResolver {
            allow_private: true,
        }
        .resolve("localhost".parse().unwrap())
        .await
        .expect("allowed");
        assert!(allowed.count() > 0);
    }
}
