//! Business terms of an order beyond its lines: who fulfils it, where it goes (a pickup
//! point or not), when it is promised, whether the buyer asked to cancel, the buyer's own
//! reference, how it is paid, and the money breakdown that explains its total.
//!
//! Everything here is business data, kept in clear. It must never hold personal data:
//! pickup-point names and addresses, billing emails and buyer usernames live in
//! [`super::Customer`], which is sealed.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who ships the order. A marketplace-fulfilled order (bol FBB, Amazon AFN, eBay
/// "fulfilled by eBay") must never be shipped by the seller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FulfilmentMethod {
    /// The seller ships (bol FBR, Amazon MFN).
    Seller,
    /// The marketplace ships from its own warehouse (bol FBB, Amazon AFN).
    Marketplace,
}

impl FulfilmentMethod {
    /// The stable lower-case name used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Seller => "seller",
            Self::Marketplace => "marketplace",
        }
    }
}

impl fmt::Display for FulfilmentMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FulfilmentMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "seller" => Ok(Self::Seller),
            "marketplace" => Ok(Self::Marketplace),
            other => Err(format!("unknown fulfilment method {other:?}")),
        }
    }
}

/// How far the buyer has paid. Refunds are a payment state, not an order status: a
/// refunded order may still have shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Paid,
    Failed,
    PartiallyRefunded,
    Refunded,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Failed => "failed",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
        }
    }
}

/// The delivery window the marketplace promised the buyer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryWindow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earliest: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<DateTime<Utc>>,
}

/// What is left of the total once lines, discounts and delivery are accounted for, and
/// why. The rule every connector applies: `lines − discounts + delivery + difference =
/// total`, where a non-zero difference must have a name (an order whose difference has
/// none is refused as irreconcilable, see [`Amounts::reconcile`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Difference {
    /// Tax the marketplace adds on top of the prices (US sales tax, eBay collect-and-remit).
    TaxAdded,
    /// Some lines carry no price yet (Amazon `Pending`), so the lines cannot explain the
    /// total until a later update prices them.
    NotPricedYet,
    /// The source states only a total, without its parts (shipping, tax, promotions): an
    /// Amazon Orders v2026-01-01 order whose proceeds carry no breakdown.
    NotBrokenDown,
    /// Charges the buyer pays besides the lines and delivery (Amazon gift wrap, cash on
    /// delivery fee, delivery tip, other), plus any tax added on top. `tax_minor` holds
    /// the tax part.
    OtherCharges,
}

/// The money breakdown of an order, in minor units of the order currency, exactly as the
/// source gives it (no division, no float).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Amounts {
    /// Sum of the line totals.
    #[serde(default)]
    pub lines_minor: i64,
    /// Discounts to subtract from the lines (per-line plus order-level), positive.
    #[serde(default)]
    pub discount_minor: i64,
    /// Delivery cost the buyer pays.
    #[serde(default)]
    pub delivery_minor: i64,
    /// Tax, where the source states it (included in or added to the prices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_minor: Option<i64>,
    /// Refunded so far, positive.
    #[serde(default)]
    pub refunded_minor: i64,
    /// `total − (lines − discounts + delivery)`; zero on a plain order.
    #[serde(default)]
    pub difference_minor: i64,
    /// Why `difference_minor` is not zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difference: Option<Difference>,
}

/// A total that the lines, discounts, delivery and tax cannot explain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the order total cannot be reconciled with its lines, discounts and delivery")]
pub struct Irreconcilable;

impl Amounts {
    /// Fills in the difference for `total_minor` and names it, or refuses the order:
    /// zero needs no name, a difference equal to the stated tax is tax added on top.
    pub fn reconcile(self, total_minor: i64) -> Result<Self, Irreconcilable> {
        let mut a = self.without_difference(total_minor)?;
        let diff = a.difference_minor;
        a.difference = if diff == 0 {
            None
        } else if a.tax_minor == Some(diff) {
            Some(Difference::TaxAdded)
        } else {
            return Err(Irreconcilable);
        };
        Ok(a)
    }
}

impl Amounts {
    /// [`Amounts::reconcile`] for a source that also states charges outside lines and
    /// delivery (`charges_minor`, positive): a difference of exactly those charges plus
    /// any stated tax is named [`Difference::OtherCharges`]; without charges this is
    /// `reconcile`.
    pub fn reconcile_with_charges(
        self,
        total_minor: i64,
        charges_minor: i64,
    ) -> Result<Self, Irreconcilable> {
        if charges_minor == 0 {
            return self.reconcile(total_minor);
        }
        let explained = charges_minor
            .checked_add(self.tax_minor.unwrap_or(0))
            .ok_or(Irreconcilable)?;
        let mut a = self.without_difference(total_minor)?;
        if a.difference_minor != explained {
            return Err(Irreconcilable);
        }
        a.difference = Some(Difference::OtherCharges);
        Ok(a)
    }

    /// The amounts with `difference_minor` set for `total_minor` and no name yet.
    fn without_difference(mut self, total_minor: i64) -> Result<Self, Irreconcilable> {
        let expected = self
            .lines_minor
            .checked_sub(self.discount_minor)
            .and_then(|v| v.checked_add(self.delivery_minor))
            .ok_or(Irreconcilable)?;
        self.difference_minor = total_minor.checked_sub(expected).ok_or(Irreconcilable)?;
        self.difference = None;
        Ok(self)
    }

    /// For an order whose lines are not all priced yet: keeps the difference to
    /// `total_minor`, named [`Difference::NotPricedYet`] when it is not zero.
    pub fn not_priced_yet(mut self, total_minor: i64) -> Self {
        let expected = self
            .lines_minor
            .saturating_sub(self.discount_minor)
            .saturating_add(self.delivery_minor);
        self.difference_minor = total_minor.saturating_sub(expected);
        self.difference = (self.difference_minor != 0).then_some(Difference::NotPricedYet);
        self
    }
}

/// The business terms of an order besides its lines and totals. Clear data only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderTerms {
    /// Who ships; `None` when the marketplace does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfilment_method: Option<FulfilmentMethod>,
    /// Delivered to a pickup point rather than a home address (the point's name and
    /// address are personal-adjacent and sealed in the customer data).
    #[serde(default)]
    pub pickup_point: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_window: Option<DeliveryWindow>,
    /// The buyer asked to cancel (bol `cancellationRequest`, eBay cancel request pending).
    #[serde(default)]
    pub cancellation_requested: bool,
    /// The buyer's own order or purchase-order reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_status: Option<PaymentStatus>,
    #[serde(default)]
    pub amounts: Amounts,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amounts(lines: i64, discount: i64, delivery: i64, tax: Option<i64>) -> Amounts {
        Amounts {
            lines_minor: lines,
            discount_minor: discount,
            delivery_minor: delivery,
            tax_minor: tax,
            ..Amounts::default()
        }
    }

    #[test]
    fn reconciliation_names_every_difference_or_refuses() {
        let a = amounts(26_480, 1_329, 500, None).reconcile(25_651).unwrap();
        assert_eq!((a.difference_minor, a.difference), (0, None));
        let a = amounts(1_000, 0, 0, Some(70)).reconcile(1_070).unwrap();
        assert_eq!(a.difference_minor, 70);
        assert_eq!(a.difference, Some(Difference::TaxAdded));
        assert_eq!(
            amounts(1_000, 0, 0, Some(70)).reconcile(1_071),
            Err(Irreconcilable)
        );
        assert_eq!(
            amounts(1_000, 0, 0, None).reconcile(999),
            Err(Irreconcilable)
        );
        assert_eq!(
            amounts(i64::MIN, 1, 0, None).reconcile(0),
            Err(Irreconcilable)
        );
        let a = amounts(0, 0, 0, None).not_priced_yet(5_997);
        assert_eq!(a.difference_minor, 5_997);
        assert_eq!(a.difference, Some(Difference::NotPricedYet));
        let a = amounts(900, 100, 200, None).not_priced_yet(1_000);
        assert_eq!((a.difference_minor, a.difference), (0, None));
    }

    #[test]
    fn other_charges_explain_what_lines_and_delivery_do_not() {
        // Amazon's first searchOrders example: items 149.97, tax 0.02, a 5.00 tip.
        let a = amounts(14_997, 0, 0, Some(2))
            .reconcile_with_charges(15_499, 500)
            .unwrap();
        assert_eq!(a.difference_minor, 502);
        assert_eq!(a.difference, Some(Difference::OtherCharges));
        let a = amounts(14_997, 0, 0, None)
            .reconcile_with_charges(15_497, 500)
            .unwrap();
        assert_eq!(
            (a.difference_minor, a.difference),
            (500, Some(Difference::OtherCharges))
        );
        assert_eq!(
            amounts(14_997, 0, 0, Some(2)).reconcile_with_charges(15_498, 500),
            Err(Irreconcilable)
        );
        // No charges: plain reconciliation.
        let a = amounts(1_000, 0, 0, Some(70))
            .reconcile_with_charges(1_070, 0)
            .unwrap();
        assert_eq!(a.difference, Some(Difference::TaxAdded));
        assert_eq!(
            amounts(1_000, 0, 0, None).reconcile_with_charges(1_001, 0),
            Err(Irreconcilable)
        );
        assert_eq!(
            amounts(0, 0, 0, Some(i64::MAX)).reconcile_with_charges(0, 1),
            Err(Irreconcilable)
        );
    }

    #[test]
    fn enums_round_trip_their_names() {
        for m in [FulfilmentMethod::Seller, FulfilmentMethod::Marketplace] {
            assert_eq!(m.as_str().parse::<FulfilmentMethod>(), Ok(m));
            assert_eq!(
                serde_json::to_value(m).unwrap(),
                serde_json::json!(m.as_str())
            );
        }
        assert!("FBB".parse::<FulfilmentMethod>().is_err());
        for p in [
            PaymentStatus::Pending,
            PaymentStatus::Paid,
            PaymentStatus::Failed,
            PaymentStatus::PartiallyRefunded,
            PaymentStatus::Refunded,
        ] {
            assert_eq!(
                serde_json::to_value(p).unwrap(),
                serde_json::json!(p.as_str())
            );
        }
    }
}
