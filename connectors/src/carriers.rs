//! The one carrier table: the common carriers a backoffice names (PostNL, DHL, DPD, …)
//! mapped to each marketplace's own code, so a shipment is sent with the code that
//! marketplace expects and an unknown carrier is sent the way each spec allows
//! (bol `OTHER`, Amazon `Other` + `carrierName`, eBay the name as given), never dropped.
//!
//! Sources: bol's transporter enum in `bol_v10_retailer_openapi.json` (`POSTNL`, `DHL`,
//! `DPD`, `GLS`, `UPS`, `OTHER`); Amazon v0 `PackageDetail.carrierCode` (free text, with
//! `Other` + `carrierName`); eBay `shippingCarrierCode` (GeteBayDetails values).
//! Carrier names are business data, never personal data.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A carrier as the backoffice names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Carrier {
    PostNl,
    Dhl,
    DhlParcelNl,
    Dpd,
    Ups,
    Gls,
    Bpost,
    /// Any other carrier, by its printable name (1–60 characters).
    Other(String),
}

/// A carrier name that cannot be sent anywhere (empty, too long, control characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("carrier must be 1 to 60 printable characters")]
pub struct InvalidCarrier;

/// One row of the table: (canonical name, accepted spellings, bol, Amazon, eBay).
struct Row {
    carrier: Carrier,
    name: &'static str,
    aliases: &'static [&'static str],
    bol: &'static str,
    amazon: &'static str,
    ebay: &'static str,
}

fn table() -> [Row; 7] {
    [
        Row {
            carrier: Carrier::PostNl,
            name: "postnl",
            aliases: &["postnl", "post-nl", "tnt"],
            bol: "POSTNL",
            amazon: "PostNL",
            ebay: "PostNL",
        },
        Row {
            carrier: Carrier::Dhl,
            name: "dhl",
            aliases: &["dhl", "dhl-express", "dhl-de"],
            bol: "DHL",
            amazon: "DHL",
            ebay: "DHL",
        },
        Row {
            carrier: Carrier::DhlParcelNl,
            name: "dhl-parcel-nl",
            aliases: &["dhl-parcel-nl", "dhl-parcel", "dhlparcel", "dhlforyou"],
            bol: "DHL",
            amazon: "DHL",
            ebay: "DHL",
        },
        Row {
            carrier: Carrier::Dpd,
            name: "dpd",
            aliases: &["dpd", "dpd-nl", "dpd-be"],
            bol: "DPD",
            amazon: "DPD",
            ebay: "DPD",
        },
        Row {
            carrier: Carrier::Ups,
            name: "ups",
            aliases: &["ups"],
            bol: "UPS",
            amazon: "UPS",
            ebay: "UPS",
        },
        Row {
            carrier: Carrier::Gls,
            name: "gls",
            aliases: &["gls"],
            bol: "GLS",
            amazon: "GLS",
            ebay: "GLS",
        },
        Row {
            carrier: Carrier::Bpost,
            name: "bpost",
            aliases: &["bpost", "bpost-be"],
            // Not in bol's transporter enum: sent as OTHER.
            bol: "OTHER",
            amazon: "Other",
            ebay: "Bpost",
        },
    ]
}

/// What one marketplace is sent for a carrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarrierCode {
    /// The marketplace's code (`POSTNL`, `DHL`, `Other`, …).
    pub code: String,
    /// The carrier's own name where the code alone does not say it (Amazon `Other`).
    pub name: Option<String>,
}

impl Carrier {
    /// Parses a backoffice carrier name: a known spelling (case and `_`/space
    /// insensitive) or any other printable name.
    pub fn parse(s: &str) -> Result<Self, InvalidCarrier> {
        let t = s.trim();
        if t.is_empty() || t.chars().count() > 60 || t.chars().any(char::is_control) {
            return Err(InvalidCarrier);
        }
        let key = t.to_ascii_lowercase().replace(['_', ' '], "-");
        Ok(table()
            .into_iter()
            .find(|r| r.aliases.contains(&key.as_str()))
            .map(|r| r.carrier)
            .unwrap_or_else(|| Carrier::Other(t.to_owned())))
    }

    fn row(&self) -> Option<Row> {
        table().into_iter().find(|r| &r.carrier == self)
    }

    /// The stable lower-case name stored and shown (`postnl`, …; other carriers as given).
    pub fn name(&self) -> String {
        match self {
            Carrier::Other(n) => n.clone(),
            c => c.row().map(|r| r.name.to_owned()).unwrap_or_default(),
        }
    }

    /// bol's `transporterCode`: from the spec's enum, `OTHER` for everything else.
    pub fn bol(&self) -> CarrierCode {
        CarrierCode {
            code: self.row().map_or("OTHER", |r| r.bol).to_owned(),
            name: None,
        }
    }

    /// Amazon's `carrierCode`, and `carrierName` when the code is `Other` (required then).
    pub fn amazon(&self) -> CarrierCode {
        match self.row() {
            Some(r) if r.amazon != "Other" => CarrierCode {
                code: r.amazon.to_owned(),
                name: None,
            },
            Some(r) => CarrierCode {
                code: "Other".into(),
                name: Some(display_name(r.name)),
            },
            None => CarrierCode {
                code: "Other".into(),
                name: Some(self.name()),
            },
        }
    }

    /// eBay's `shippingCarrierCode`: the known code, or the carrier's name as given.
    pub fn ebay(&self) -> CarrierCode {
        CarrierCode {
            code: self
                .row()
                .map_or_else(|| self.name(), |r| r.ebay.to_owned()),
            name: None,
        }
    }
}

fn display_name(name: &str) -> String {
    match name {
        "bpost" => "bpost".into(),
        other => other.to_owned(),
    }
}

impl fmt::Display for Carrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl TryFrom<String> for Carrier {
    type Error = InvalidCarrier;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Carrier> for String {
    fn from(c: Carrier) -> Self {
        c.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_carriers_map_to_each_marketplace_and_unknown_ones_are_never_dropped() {
        let postnl = Carrier::parse(" PostNL ").unwrap();
        assert_eq!(postnl, Carrier::PostNl);
        assert_eq!(postnl.bol().code, "POSTNL");
        assert_eq!(postnl.amazon().code, "PostNL");
        assert_eq!(
            Carrier::parse("DHL Parcel NL").unwrap(),
            Carrier::DhlParcelNl
        );
        let bpost = Carrier::parse("bpost").unwrap();
        assert_eq!(bpost.bol().code, "OTHER");
        assert_eq!(bpost.amazon().code, "Other");
        assert_eq!(bpost.amazon().name.as_deref(), Some("bpost"));
        let odd = Carrier::parse("Koeriersdienst Jansen").unwrap();
        assert_eq!(odd.bol().code, "OTHER");
        assert_eq!(odd.amazon().name.as_deref(), Some("Koeriersdienst Jansen"));
        assert_eq!(odd.ebay().code, "Koeriersdienst Jansen");
        assert_eq!(odd.name(), "Koeriersdienst Jansen");
        assert!(Carrier::parse("").is_err());
        assert!(Carrier::parse(&"x".repeat(61)).is_err());
        assert!(Carrier::parse("a\nb").is_err());
        for name in [
            "postnl",
            "dhl",
            "dhl-parcel-nl",
            "dpd",
            "ups",
            "gls",
            "bpost",
        ] {
            assert_eq!(Carrier::parse(name).unwrap().name(), name);
        }
    }
}
