//! The canonical order model every connector normalizes into and the service stores.
//!
//! Personal data lives only in [`Customer`] and [`Address`]; everything else on an
//! [`Order`] is business data the service keeps in clear (DESIGN.md, "Personal data").
//! The personal types never print their contents in `Debug` and are zeroized on drop,
//! so a stray `{:?}` in a log line cannot leak a customer's address.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

mod merge;
pub mod terms;

pub use terms::{
    Amounts, DeliveryWindow, Difference, FulfilmentMethod, Irreconcilable, OrderTerms,
    PaymentStatus,
};

/// One piece of a customer's personal data (a name, a street, an email, …).
///
/// Prints as `<redacted>` in `Debug`, has no `Display`, and is zeroized on drop. Build it
/// with `.into()` from a `&str` or `String`; read it with `as_str()` or `&*`.
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct PersonalText(String);

impl PersonalText {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PersonalText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::ops::Deref for PersonalText {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for PersonalText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<String> for PersonalText {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for PersonalText {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl From<&String> for PersonalText {
    fn from(s: &String) -> Self {
        Self(s.clone())
    }
}

/// Which marketplace an order or connection belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum MarketplaceKind {
    Bol,
    Amazon,
    Ebay,
}

impl MarketplaceKind {
    /// All marketplaces, in a stable order.
    pub const ALL: [MarketplaceKind; 3] = [Self::Bol, Self::Amazon, Self::Ebay];

    /// The stable lower-case name used in storage, config and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bol => "bol",
            Self::Amazon => "amazon",
            Self::Ebay => "ebay",
        }
    }
}

impl fmt::Display for MarketplaceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the supported marketplaces.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown marketplace {0:?}: expected bol, amazon or ebay")]
pub struct UnknownMarketplace(pub String);

impl FromStr for MarketplaceKind {
    type Err = UnknownMarketplace;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "bol" => Ok(Self::Bol),
            "amazon" => Ok(Self::Amazon),
            "ebay" => Ok(Self::Ebay),
            _ => Err(UnknownMarketplace(s.chars().take(32).collect())),
        }
    }
}

/// A marketplace order number: 1–64 characters of `A–Z a–z 0–9 -`.
///
/// The restricted alphabet is what lets support look orders up by exact number without
/// any wildcard or injection surface; every marketplace's ids fit in it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct OrderNumber(String);

/// Why a string is not a valid order number. Never echoes the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidOrderNumber {
    #[error("order number is empty")]
    Empty,
    #[error("order number is longer than 64 characters")]
    TooLong,
    #[error("order number may contain only letters, digits and '-'")]
    BadCharacter,
}

impl OrderNumber {
    /// Parses an order number, trimming surrounding white space.
    pub fn parse(s: &str) -> Result<Self, InvalidOrderNumber> {
        let s = s.trim();
        if s.is_empty() {
            return Err(InvalidOrderNumber::Empty);
        }
        if s.len() > 64 {
            return Err(InvalidOrderNumber::TooLong);
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(InvalidOrderNumber::BadCharacter);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OrderNumber {
    type Error = InvalidOrderNumber;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<OrderNumber> for String {
    fn from(n: OrderNumber) -> Self {
        n.0
    }
}

impl fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrderNumber({})", self.0)
    }
}

/// The order-level state, derived by each connector from its marketplace's own statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed but not yet payable or releasable (Amazon `Pending`, `PendingAvailability`).
    Pending,
    /// Ready to ship, nothing shipped yet.
    Open,
    /// Some lines or units shipped, others still open.
    PartiallyShipped,
    /// Every non-cancelled unit shipped: the order is fulfilled.
    Shipped,
    /// Every unit cancelled.
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Open => "open",
            Self::PartiallyShipped => "partially_shipped",
            Self::Shipped => "shipped",
            Self::Cancelled => "cancelled",
        }
    }

    /// Derives the status from line quantities, the rule bol.com documents and the one
    /// the other connectors fall back to: all shipped → shipped, all cancelled →
    /// cancelled, any shipped → partially shipped, else open.
    pub fn from_lines(lines: &[OrderLine]) -> Self {
        let qty: u64 = lines.iter().map(|l| u64::from(l.quantity)).sum();
        let shipped: u64 = lines.iter().map(|l| u64::from(l.quantity_shipped)).sum();
        let cancelled: u64 = lines.iter().map(|l| u64::from(l.quantity_cancelled)).sum();
        if qty > 0 && cancelled >= qty {
            Self::Cancelled
        } else if qty > 0 && shipped + cancelled >= qty {
            Self::Shipped
        } else if shipped > 0 {
            Self::PartiallyShipped
        } else {
            Self::Open
        }
    }
}

impl FromStr for OrderStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "pending" => Self::Pending,
            "open" => Self::Open,
            "partially_shipped" => Self::PartiallyShipped,
            "shipped" => Self::Shipped,
            "cancelled" => Self::Cancelled,
            other => return Err(format!("unknown order status {other:?}")),
        })
    }
}

/// One order line. Business data: kept in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderLine {
    /// The marketplace's id for the line (bol `orderItemId`, Amazon `OrderItemId`, eBay `lineItemId`).
    pub line_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ean: Option<String>,
    pub title: String,
    pub quantity: u32,
    #[serde(default)]
    pub quantity_shipped: u32,
    #[serde(default)]
    pub quantity_cancelled: u32,
    /// Price of one unit in minor units of the order currency, as the source gives it;
    /// `None` when the source gives only a line total that does not divide evenly (never
    /// a rounded division) or no price yet (Amazon `Pending`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price_minor: Option<i64>,
    /// Price of the whole line in minor units of the order currency, as the source states
    /// it (never a unit price times a quantity when the source gives the line total).
    pub total_minor: i64,
    /// Discount on this line (part of the order's `terms.amounts.discount_minor`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub discount_minor: i64,
    /// Tax on this line, where the source states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_minor: Option<i64>,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// A postal address with the name of the person or company at it. Personal data: every
/// field is a [`PersonalText`], so the whole address is redacted and zeroized.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salutation: Option<PersonalText>,
    /// The name as one string, when the source sends it so (Amazon `Name`, eBay
    /// `fullName`): never split into a guessed first and last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<PersonalText>,
    /// Given name, only where the source itself separates it (bol `firstName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<PersonalText>,
    /// The street, or the whole first address line verbatim where the source does not
    /// split street and house number (Amazon, eBay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<PersonalText>,
    /// Only where the source splits it (bol `houseNumber`); never parsed out of a line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub house_number: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub house_number_ext: Option<PersonalText>,
    /// The second address line verbatim (Amazon `AddressLine2`, eBay `addressLine2`, bol
    /// `extraAddressInformation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<PersonalText>,
    /// The third address line verbatim (Amazon `AddressLine3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra2: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<PersonalText>,
    /// ISO 3166-1 alpha-2 country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<PersonalText>,
    /// Chamber-of-commerce number (bol `kvkNumber`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coc_number: Option<PersonalText>,
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Address(<redacted>)")
    }
}

/// The buyer's personal data. Every field is optional: marketplaces drop fields over time
/// (bol stops sending billing details, Amazon suppresses the phone after delivery), and a
/// later payload that lacks a field must never erase what is stored.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Customer {
    /// Often a marketplace relay address; still personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_notes: Option<PersonalText>,
    /// A separate billing email (bol `billingDetails.email`), when the source has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_email: Option<PersonalText>,
    /// The buyer's marketplace user name (eBay `buyer.username`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_username: Option<PersonalText>,
    /// The pickup point the order goes to, when it does (the flag is in the order terms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_point: Option<PickupPoint>,
}

/// A pickup point's name and address. Sealed with the customer: where a buyer collects
/// parcels says where they live.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PickupPoint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

impl fmt::Debug for PickupPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PickupPoint(<redacted>)")
    }
}

impl fmt::Debug for Customer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Customer")
            .field("email", &self.email.as_ref().map(|_| "<redacted>"))
            .field("phone", &self.phone.as_ref().map(|_| "<redacted>"))
            .field("shipping", &self.shipping.as_ref().map(|_| "<redacted>"))
            .field("billing", &self.billing.as_ref().map(|_| "<redacted>"))
            .field(
                "delivery_notes",
                &self.delivery_notes.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "billing_email",
                &self.billing_email.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "buyer_username",
                &self.buyer_username.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "pickup_point",
                &self.pickup_point.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// An order as every connector delivers it and the service stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CanonicalOrder))]
pub struct Order {
    pub marketplace: MarketplaceKind,
    pub order_number: OrderNumber,
    pub status: OrderStatus,
    pub placed_at: DateTime<Utc>,
    /// The marketplace's own last-change time; the newer update wins on upsert.
    pub updated_at: DateTime<Utc>,
    /// When the last non-cancelled unit shipped; starts the retention clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfilled_at: Option<DateTime<Utc>>,
    /// When the order became fully cancelled; also starts the retention clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
    /// ISO 4217 code, upper case.
    pub currency: String,
    /// Order total in minor units of `currency`.
    pub total_minor: i64,
    /// Destination country (ISO 3166-1 alpha-2); business data, kept in clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    pub lines: Vec<OrderLine>,
    pub customer: Customer,
    /// Fulfilment, pickup point, delivery window, cancellation request, references,
    /// payment and the money breakdown: business data in clear.
    #[serde(default)]
    pub terms: OrderTerms,
}

/// Converts a decimal amount (as marketplaces send it: `19.99` or `"19.99"`) into minor
/// units without floating-point drift. Currencies with three decimals are rare on these
/// marketplaces; `decimals` says how many the currency has.
pub fn to_minor_units(amount: &str, decimals: u32) -> Option<i64> {
    let amount = amount.trim();
    let (neg, digits) = match amount.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, amount),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let scale = 10i64.checked_pow(decimals)?;
    let int: i64 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().ok()?
    };
    let mut frac = 0i64;
    let mut place = scale;
    let mut rest = frac_part.bytes();
    for _ in 0..decimals {
        place /= 10;
        if let Some(b) = rest.next() {
            frac += i64::from(b - b'0') * place;
        }
    }
    // Round half up on the first dropped digit.
    if let Some(b) = rest.next() {
        if b >= b'5' {
            frac += 1;
        }
    }
    let v = int.checked_mul(scale)?.checked_add(frac)?;
    Some(if neg { -v } else { v })
}

/// Parses a currency code as marketplaces send it: three ASCII letters (upper-cased),
/// nothing else (`"EURO"`, `"€"` and `"E1R"` are refused).
pub fn parse_currency(code: &str) -> Option<String> {
    let code = code.trim();
    (code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| code.to_ascii_uppercase())
}

/// Minor-unit decimals for a currency code (ISO 4217), defaulting to 2.
pub fn currency_decimals(code: &str) -> u32 {
    match code {
        "JPY" | "KRW" | "CLP" | "ISK" | "HUF" | "TWD" | "VND" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_accept_marketplace_ids_and_reject_everything_else() {
        for ok in [
            "1043946570",
            "A4K8290LP0",
            "123-1234567-1234567",
            "04-12087-72462",
            " 42 ",
        ] {
            assert!(OrderNumber::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(OrderNumber::parse(" 42 ").unwrap().as_str(), "42");
        assert_eq!(OrderNumber::parse(""), Err(InvalidOrderNumber::Empty));
        assert_eq!(
            OrderNumber::parse(&"1".repeat(65)),
            Err(InvalidOrderNumber::TooLong)
        );
        for bad in ["12%", "1*", "a_b", "x'--", "é1", "1 2"] {
            assert_eq!(
                OrderNumber::parse(bad),
                Err(InvalidOrderNumber::BadCharacter),
                "{bad}"
            );
        }
    }

    #[test]
    fn minor_units_are_exact() {
        assert_eq!(to_minor_units("19.99", 2), Some(1999));
        assert_eq!(to_minor_units("0.1", 2), Some(10));
        assert_eq!(to_minor_units("-3.5", 2), Some(-350));
        assert_eq!(to_minor_units("1000", 0), Some(1000));
        assert_eq!(to_minor_units("2.345", 2), Some(235));
        assert_eq!(to_minor_units("abc", 2), None);
        assert_eq!(to_minor_units("", 2), None);
        assert_eq!(to_minor_units("1.5", 3), Some(1500));
        assert_eq!(to_minor_units("12.3456", 3), Some(12346));
        assert_eq!(to_minor_units("7", 0), Some(7));
        assert_eq!(to_minor_units("7.5", 0), Some(8));
    }

    #[test]
    fn currencies_are_three_letters_with_their_decimals() {
        assert_eq!(parse_currency(" eur ").as_deref(), Some("EUR"));
        for bad in ["EURO", "EU", "", "E1R", "€", "EU "] {
            assert_eq!(parse_currency(bad), None, "{bad}");
        }
        assert_eq!(currency_decimals("JPY"), 0);
        assert_eq!(currency_decimals("KWD"), 3);
        assert_eq!(currency_decimals("EUR"), 2);
    }

    #[test]
    fn status_from_lines() {
        let line = |q, s, c| OrderLine {
            line_id: "1".into(),
            sku: None,
            ean: None,
            title: "t".into(),
            quantity: q,
            quantity_shipped: s,
            quantity_cancelled: c,
            unit_price_minor: Some(100),
            total_minor: 100 * i64::from(q),
            discount_minor: 0,
            tax_minor: None,
        };
        assert_eq!(OrderStatus::from_lines(&[line(2, 0, 0)]), OrderStatus::Open);
        assert_eq!(
            OrderStatus::from_lines(&[line(2, 1, 0)]),
            OrderStatus::PartiallyShipped
        );
        assert_eq!(
            OrderStatus::from_lines(&[line(2, 1, 1)]),
            OrderStatus::Shipped
        );
        assert_eq!(
            OrderStatus::from_lines(&[line(2, 0, 2)]),
            OrderStatus::Cancelled
        );
    }

    #[test]
    fn personal_data_is_redacted_in_debug() {
        let c = Customer {
            email: Some("jan@example.com".into()),
            shipping: Some(Address {
                city: Some("Utrecht".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let s = format!("{c:?}");
        assert!(!s.contains("jan@") && !s.contains("Utrecht"), "{s}");
    }
}
