//! Masking: turns a customer's personal data into the few hints support staff need to
//! recognise a caller ("A. d. V.", NL, postcode 10…, `g***@***.nl`, phone ending 78),
//! and nothing more.
//!
//! Each function takes one personal value and returns a masked string, or `None` when the
//! value is missing or too short to mask without giving it away. Nothing here logs,
//! and no function ever returns its input unchanged.

use ordervault_connectors::{Address, Customer};
use serde::Serialize;

/// Most words of a first or last name turned into initials; the rest are left out.
const MAX_NAME_WORDS: usize = 3;

/// The customer as support sees it. Serialized into support responses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MaskedCustomer {
    /// True once the order is pseudonymized; then every other field is absent.
    pub pseudonymized: bool,
    /// Initials of first and last name, e.g. `A. d. V.` for Anna de Vries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initials: Option<String>,
    /// ISO country code of the delivery address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The first two characters of the delivery postcode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postcode_prefix: Option<String>,
    /// First letter, then `***@***.` and the top-level domain: `g***@***.nl`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The last two digits only: `••••••78`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl MaskedCustomer {
    /// The customer of a pseudonymized order: a marker and nothing else.
    pub fn pseudonymized() -> Self {
        Self {
            pseudonymized: true,
            ..Self::default()
        }
    }
}

/// Masks a customer. `order_country` is the order's clear-text country code, preferred
/// over the address's.
pub fn mask_customer(c: &Customer, order_country: Option<&str>) -> MaskedCustomer {
    let named =
        |a: &&Address| a.full_name.is_some() || a.first_name.is_some() || a.last_name.is_some();
    let name_source = c
        .shipping
        .as_ref()
        .filter(named)
        .or(c.billing.as_ref().filter(named));
    let address = c.shipping.as_ref().or(c.billing.as_ref());
    MaskedCustomer {
        pseudonymized: false,
        initials: name_source.and_then(|a| match a.full_name.as_deref() {
            // A name sent as one string: initials of its words, in order.
            Some(full) if a.first_name.is_none() && a.last_name.is_none() => {
                initials(None, Some(full))
            }
            _ => initials(a.first_name.as_deref(), a.last_name.as_deref()),
        }),
        country: order_country.and_then(country).or_else(|| {
            address
                .and_then(|a| a.country_code.as_deref())
                .and_then(country)
        }),
        postcode_prefix: address
            .and_then(|a| a.postcode.as_deref())
            .and_then(postcode_prefix),
        email: c.email.as_deref().and_then(email),
        phone: c.phone.as_deref().and_then(phone),
    }
}

fn is_combining(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// The initial of one word: its first letter or digit, with any combining marks that
/// follow it (so a decomposed "É" stays "É").
fn word_initial(word: &str) -> Option<String> {
    let mut chars = word.chars().skip_while(|c| !c.is_alphanumeric());
    let first = chars.next()?;
    let mut out = String::from(first);
    out.extend(chars.take_while(|c| is_combining(*c)));
    Some(out)
}

fn name_initials(name: Option<&str>) -> Vec<String> {
    name.map(|n| {
        n.split_whitespace()
            .filter_map(word_initial)
            .take(MAX_NAME_WORDS)
            .map(|i| format!("{i}."))
            .collect()
    })
    .unwrap_or_default()
}

/// Initials of first and last name: `("Anna", "de Vries")` → `A. d. V.`. Letter case is
/// kept (Dutch "de" stays lower case). `None` when neither name has a letter.
pub fn initials(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let mut parts = name_initials(first);
    parts.extend(name_initials(last));
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// A two-letter country code, upper-cased; anything else is dropped, since a free-text
/// "country" could hold anything.
pub fn country(code: &str) -> Option<String> {
    let code = code.trim();
    (code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| code.to_ascii_uppercase())
}

/// The first two characters of a postcode (spaces removed). `None` for a postcode of two
/// characters or fewer, which the prefix would give away whole.
pub fn postcode_prefix(postcode: &str) -> Option<String> {
    let compact: Vec<char> = postcode.chars().filter(|c| !c.is_whitespace()).collect();
    (compact.len() > 2).then(|| compact[..2].iter().collect::<String>().to_uppercase())
}

/// `Geheime.Klant@Voorbeeld.nl` → `G***@***.nl`. The top-level domain is shown only when
/// it looks like one (2–24 of a–z, 0–9, `-`, not all digits); otherwise `G***@***`.
pub fn email(address: &str) -> Option<String> {
    let address = address.trim();
    if address.is_empty() {
        return None;
    }
    let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
    let first = local
        .chars()
        .find(|c| c.is_alphanumeric())
        .map(String::from)
        .unwrap_or_default();
    let tld = domain
        .rsplit_once('.')
        .map(|(_, t)| t.to_ascii_lowercase())
        .filter(|t| {
            (2..=24).contains(&t.len())
                && t.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !t.bytes().all(|b| b.is_ascii_digit())
        });
    Some(match tld {
        Some(t) => format!("{first}***@***.{t}"),
        None => format!("{first}***@***"),
    })
}

/// The last two digits of a phone number behind a fixed run of dots: `••••••78`. The
/// run's length does not depend on the number's. `None` for fewer than four digits.
pub fn phone(number: &str) -> Option<String> {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= 4).then(|| {
        format!(
            "••••••{}{}",
            digits[digits.len() - 2],
            digits[digits.len() - 1]
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ordervault_connectors::PersonalText;

    #[test]
    fn initials_of_names() {
        assert_eq!(
            initials(Some("Anna"), Some("de Vries")).as_deref(),
            Some("A. d. V.")
        );
        assert_eq!(
            initials(Some("Johanna"), Some("Bakker")).as_deref(),
            Some("J. B.")
        );
        assert_eq!(initials(None, Some("Bakker")).as_deref(), Some("B."));
        assert_eq!(initials(Some("  Émile "), None).as_deref(), Some("É."));
        // Decomposed E + combining acute stays together.
        assert_eq!(
            initials(Some("E\u{301}mile"), None).as_deref(),
            Some("E\u{301}.")
        );
        assert_eq!(
            initials(Some("Łukasz"), Some("Żółć")).as_deref(),
            Some("Ł. Ż.")
        );
        assert_eq!(
            initials(Some("小明"), Some("王")).as_deref(),
            Some("小. 王.")
        );
        assert_eq!(
            initials(Some("Анна"), Some("Іванова")).as_deref(),
            Some("А. І.")
        );
        assert_eq!(initials(None, Some("'t Hooft")).as_deref(), Some("t. H."));
        assert_eq!(
            initials(Some("A B C D E"), None).as_deref(),
            Some("A. B. C."),
            "at most three words per name"
        );
        assert_eq!(initials(Some(""), Some("   ")), None);
        assert_eq!(initials(None, None), None);
        assert_eq!(initials(Some("--"), Some("..")), None);
    }

    #[test]
    fn emails() {
        assert_eq!(email("geheim@example.nl").as_deref(), Some("g***@***.nl"));
        assert_eq!(
            email(" Geheime.Klant@Voorbeeld-Mail.NL ").as_deref(),
            Some("G***@***.nl")
        );
        assert_eq!(email("root@localhost").as_deref(), Some("r***@***"));
        assert_eq!(email("no-at-sign").as_deref(), Some("n***@***"));
        assert_eq!(email("@example.com").as_deref(), Some("***@***.com"));
        assert_eq!(email("x@10.0.0.44").as_deref(), Some("x***@***"));
        assert_eq!(
            email("x@xn--p1ai").as_deref(),
            Some("x***@***"),
            "no dot, no TLD"
        );
        assert_eq!(email("x@пример.рф").as_deref(), Some("x***@***"));
        assert_eq!(email("élodie@exemple.fr").as_deref(), Some("é***@***.fr"));
        // Digits and '-' are allowed in a top-level domain, but not all digits.
        assert_eq!(email("x@a.b-2c").as_deref(), Some("x***@***.b-2c"));
        assert_eq!(email("x@a.xn--p1ai").as_deref(), Some("x***@***.xn--p1ai"));
        assert_eq!(email("x@a.c0m").as_deref(), Some("x***@***.c0m"));
        assert_eq!(email("x@a.123").as_deref(), Some("x***@***"));
        assert_eq!(email("x@a.c_m").as_deref(), Some("x***@***"));
        assert_eq!(email("x@a.n").as_deref(), Some("x***@***"), "too short");
        assert_eq!(
            email(&format!("x@a.{}", "a".repeat(24))).as_deref(),
            Some(format!("x***@***.{}", "a".repeat(24)).as_str())
        );
        assert_eq!(
            email(&format!("x@a.{}", "a".repeat(25))).as_deref(),
            Some("x***@***"),
            "too long"
        );
        assert_eq!(email(""), None);
        assert_eq!(email("   "), None);
    }

    #[test]
    fn phones() {
        assert_eq!(phone("+31 6 1234 5678").as_deref(), Some("••••••78"));
        assert_eq!(phone("0612345678").as_deref(), Some("••••••78"));
        assert_eq!(phone("12").as_deref(), None);
        assert_eq!(phone("ext. 123").as_deref(), None);
        assert_eq!(phone("").as_deref(), None);
        assert_eq!(phone("١٢٣٤٥٦").as_deref(), None, "only ASCII digits count");
    }

    #[test]
    fn postcodes_and_countries() {
        assert_eq!(postcode_prefix("1015 CJ").as_deref(), Some("10"));
        assert_eq!(postcode_prefix("sw1a 1aa").as_deref(), Some("SW"));
        assert_eq!(postcode_prefix("12"), None);
        assert_eq!(postcode_prefix(""), None);
        assert_eq!(postcode_prefix("Äö1").as_deref(), Some("ÄÖ"));
        assert_eq!(country("nl").as_deref(), Some("NL"));
        assert_eq!(country("Netherlands"), None);
        assert_eq!(country(""), None);
    }

    fn addr(first: &str, last: &str, postcode: &str) -> Address {
        Address {
            first_name: Some(PersonalText::from(first)),
            last_name: Some(PersonalText::from(last)),
            postcode: Some(postcode.into()),
            country_code: Some("be".into()),
            street: Some("Secret Street".into()),
            ..Default::default()
        }
    }

    #[test]
    fn customers() {
        let c = Customer {
            email: Some("anna@example.nl".into()),
            phone: Some("+31612345678".into()),
            shipping: Some(addr("Anna", "de Vries", "1015CJ")),
            billing: None,
            delivery_notes: Some("Ring twice".into()),
            billing_email: Some("factuur@example.nl".into()),
            buyer_username: Some("anna_nl".into()),
            pickup_point: Some(ordervault_connectors::PickupPoint {
                name: Some("PostNL punt Jumbo".into()),
                address: Some(addr("Pick", "Point", "9999XX")),
            }),
        };
        let m = mask_customer(&c, Some("NL"));
        assert_eq!(
            m,
            MaskedCustomer {
                pseudonymized: false,
                initials: Some("A. d. V.".into()),
                country: Some("NL".into()),
                postcode_prefix: Some("10".into()),
                email: Some("a***@***.nl".into()),
                phone: Some("••••••78".into()),
            }
        );
        let json = serde_json::to_string(&m).unwrap();
        for secret in [
            "Anna", "Vries", "1015", "anna@", "612345", "Secret", "Ring", "factuur", "anna_nl",
            "PostNL", "Jumbo", "9999",
        ] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
        // Names from billing when shipping has none; country from the address.
        let c = Customer {
            shipping: Some(Address {
                postcode: Some("9000".into()),
                ..Default::default()
            }),
            billing: Some(addr("Jan", "Peeters", "2000")),
            ..Default::default()
        };
        let m = mask_customer(&c, None);
        assert_eq!(m.initials.as_deref(), Some("J. P."));
        assert_eq!(m.postcode_prefix.as_deref(), Some("90"));
        assert_eq!(m.country, None, "shipping address has no country");
        // A single name part, in either field, and a name sent whole.
        for (first, last) in [(Some("Madonna"), None), (None, Some("Madonna"))] {
            let c = Customer {
                shipping: Some(Address {
                    first_name: first.map(PersonalText::from),
                    last_name: last.map(PersonalText::from),
                    ..Default::default()
                }),
                ..Default::default()
            };
            assert_eq!(mask_customer(&c, None).initials.as_deref(), Some("M."));
        }
        let c = Customer {
            shipping: Some(Address {
                full_name: Some("Anna de Vries".into()),
                ..Default::default()
            }),
            billing: Some(addr("Jan", "Peeters", "2000")),
            ..Default::default()
        };
        let m = mask_customer(&c, None);
        assert_eq!(
            m.initials.as_deref(),
            Some("A. d. V."),
            "shipping name first"
        );
        // Where the source split the name too (an order stored before names were kept
        // whole), the split parts win, even when only one of them is there.
        for (first, last, want) in [
            (Some("Johanna"), Some("Bakker"), "J. B."),
            (None, Some("Bakker"), "B."),
            (Some("Johanna"), None, "J."),
        ] {
            let c = Customer {
                shipping: Some(Address {
                    full_name: Some("Anna de Vries".into()),
                    first_name: first.map(PersonalText::from),
                    last_name: last.map(PersonalText::from),
                    ..Default::default()
                }),
                ..Default::default()
            };
            assert_eq!(mask_customer(&c, None).initials.as_deref(), Some(want));
        }
        // Nothing known: nothing shown.
        let m = mask_customer(&Customer::default(), None);
        assert_eq!(m, MaskedCustomer::default());
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"pseudonymized":false}"#
        );
        assert_eq!(
            serde_json::to_string(&MaskedCustomer::pseudonymized()).unwrap(),
            r#"{"pseudonymized":true}"#
        );
    }
}
