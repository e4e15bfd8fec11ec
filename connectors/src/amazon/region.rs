//! Amazon's selling regions and marketplaces, as Amazon publishes them
//! (developer-docs.amazon.com/sp-api/docs/marketplace-ids and …/sp-api-endpoints): which
//! SP-API host serves a region, and which marketplace ids exist in it. A connection names
//! a region and one or more marketplace ids; both are checked here once, at the edge.

use std::fmt;
use std::str::FromStr;

/// An SP-API selling region: one production host each.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Region {
    /// North America: Canada, US, Mexico, Brazil.
    Na,
    /// Europe: Spain, UK, France, Belgium, Netherlands, Germany, Italy, Sweden, South
    /// Africa, Poland, Egypt, Turkey, Saudi Arabia, UAE, India, Ireland.
    #[default]
    Eu,
    /// Far East: Singapore, Australia, Japan.
    Fe,
}

impl Region {
    pub const ALL: [Region; 3] = [Region::Na, Region::Eu, Region::Fe];

    pub fn as_str(self) -> &'static str {
        match self {
            Region::Na => "na",
            Region::Eu => "eu",
            Region::Fe => "fe",
        }
    }

    /// The region's production SP-API endpoint.
    pub fn endpoint(self) -> &'static str {
        match self {
            Region::Na => super::NA_ENDPOINT,
            Region::Eu => super::EU_ENDPOINT,
            Region::Fe => super::FE_ENDPOINT,
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a region or marketplace setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMarketplace {
    #[error("unknown Amazon region {0:?}: expected na, eu or fe")]
    Region(String),
    #[error("unknown Amazon marketplace id {0:?}")]
    Unknown(String),
    #[error("Amazon marketplace {id} ({name}) is in region {region}, not {wanted}")]
    WrongRegion {
        id: String,
        name: &'static str,
        region: Region,
        wanted: Region,
    },
    #[error("between 1 and 50 Amazon marketplace ids are needed")]
    Count,
}

impl FromStr for Region {
    type Err = InvalidMarketplace;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "na" => Ok(Region::Na),
            "eu" => Ok(Region::Eu),
            "fe" => Ok(Region::Fe),
            _ => Err(InvalidMarketplace::Region(s.chars().take(16).collect())),
        }
    }
}

/// One Amazon marketplace: its id, the country it sells in, its site and region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmazonMarketplace {
    pub id: &'static str,
    /// ISO 3166 country code (Amazon writes `UK` for the United Kingdom; so do we).
    pub country_code: &'static str,
    pub country: &'static str,
    pub name: &'static str,
    pub region: Region,
}

const fn m(
    id: &'static str,
    country_code: &'static str,
    country: &'static str,
    name: &'static str,
    region: Region,
) -> AmazonMarketplace {
    AmazonMarketplace {
        id,
        country_code,
        country,
        name,
        region,
    }
}

/// Amazon's published marketplace ids.
pub const MARKETPLACES: &[AmazonMarketplace] = &[
    m("A2EUQ1WTGCTBG2", "CA", "Canada", "Amazon.ca", Region::Na),
    m(
        "ATVPDKIKX0DER",
        "US",
        "United States",
        "Amazon.com",
        Region::Na,
    ),
    m(
        "A1AM78C64UM0Y8",
        "MX",
        "Mexico",
        "Amazon.com.mx",
        Region::Na,
    ),
    m(
        "A2Q3Y263D00KWC",
        "BR",
        "Brazil",
        "Amazon.com.br",
        Region::Na,
    ),
    m("A28R8C7NBKEWEA", "IE", "Ireland", "Amazon.ie", Region::Eu),
    m("A1RKKUPIHCS9HS", "ES", "Spain", "Amazon.es", Region::Eu),
    m(
        "A1F83G8C2ARO7P",
        "UK",
        "United Kingdom",
        "Amazon.co.uk",
        Region::Eu,
    ),
    m("A13V1IB3VIYZZH", "FR", "France", "Amazon.fr", Region::Eu),
    m(
        "AMEN7PMS3EDWL",
        "BE",
        "Belgium",
        "Amazon.com.be",
        Region::Eu,
    ),
    m(
        "A1805IZSGTT6HS",
        "NL",
        "Netherlands",
        "Amazon.nl",
        Region::Eu,
    ),
    m("A1PA6795UKMFR9", "DE", "Germany", "Amazon.de", Region::Eu),
    m("APJ6JRA9NG5V4", "IT", "Italy", "Amazon.it", Region::Eu),
    m("A2NODRKZP88ZB9", "SE", "Sweden", "Amazon.se", Region::Eu),
    m(
        "AE08WJ6YKNBMC",
        "ZA",
        "South Africa",
        "Amazon.co.za",
        Region::Eu,
    ),
    m("A1C3SOZRARQ6R3", "PL", "Poland", "Amazon.pl", Region::Eu),
    m("ARBP9OOSHTCHU", "EG", "Egypt", "Amazon.eg", Region::Eu),
    m(
        "A33AVAJ2PDY3EV",
        "TR",
        "Turkey",
        "Amazon.com.tr",
        Region::Eu,
    ),
    m(
        "A17E79C6D8DWNP",
        "SA",
        "Saudi Arabia",
        "Amazon.sa",
        Region::Eu,
    ),
    m(
        "A2VIGQ35RCS4UG",
        "AE",
        "United Arab Emirates",
        "Amazon.ae",
        Region::Eu,
    ),
    m("A21TJRUUN4KGV", "IN", "India", "Amazon.in", Region::Eu),
    m("A19VAU5U5O7RUS", "SG", "Singapore", "Amazon.sg", Region::Fe),
    m(
        "A39IBJ37TRP1C6",
        "AU",
        "Australia",
        "Amazon.com.au",
        Region::Fe,
    ),
    m("A1VC38T7YXB528", "JP", "Japan", "Amazon.co.jp", Region::Fe),
];

/// The marketplace with this id, if Amazon publishes it.
pub fn marketplace(id: &str) -> Option<&'static AmazonMarketplace> {
    MARKETPLACES.iter().find(|m| m.id == id.trim())
}

/// Checks marketplace ids against the published list and the connection's region, and
/// returns them deduplicated in the given order.
pub fn validate_marketplaces(
    region: Region,
    ids: &[String],
) -> Result<Vec<&'static AmazonMarketplace>, InvalidMarketplace> {
    if ids.is_empty() || ids.len() > 50 {
        return Err(InvalidMarketplace::Count);
    }
    let mut out: Vec<&'static AmazonMarketplace> = Vec::with_capacity(ids.len());
    for id in ids {
        let found = marketplace(id)
            .ok_or_else(|| InvalidMarketplace::Unknown(id.chars().take(20).collect()))?;
        if found.region != region {
            return Err(InvalidMarketplace::WrongRegion {
                id: found.id.into(),
                name: found.name,
                region: found.region,
                wanted: region,
            });
        }
        if !out.iter().any(|m| m.id == found.id) {
            out.push(found);
        }
    }
    Ok(out)
}

/// The region's usual home marketplace, for connections that name none: Amazon.com,
/// Amazon.nl (the connector's historical default) and Amazon.co.jp.
pub fn default_marketplace(region: Region) -> &'static str {
    match region {
        Region::Na => "ATVPDKIKX0DER",
        Region::Eu => super::MARKETPLACE_NL,
        Region::Fe => "A1VC38T7YXB528",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_map_to_the_production_hosts() {
        assert_eq!(
            Region::Na.endpoint(),
            "https://sellingpartnerapi-na.amazon.com"
        );
        assert_eq!(
            Region::Eu.endpoint(),
            "https://sellingpartnerapi-eu.amazon.com"
        );
        assert_eq!(
            Region::Fe.endpoint(),
            "https://sellingpartnerapi-fe.amazon.com"
        );
        assert_eq!("EU".parse::<Region>().unwrap(), Region::Eu);
        assert!("us".parse::<Region>().is_err());
    }

    #[test]
    fn marketplaces_are_checked_against_the_list_and_the_region() {
        let de = validate_marketplaces(
            Region::Eu,
            &[
                "A1PA6795UKMFR9".into(),
                "A13V1IB3VIYZZH".into(),
                "A1PA6795UKMFR9".into(),
            ],
        )
        .unwrap();
        assert_eq!(
            de.iter().map(|m| m.name).collect::<Vec<_>>(),
            ["Amazon.de", "Amazon.fr"]
        );
        assert!(matches!(
            validate_marketplaces(Region::Eu, &["ATVPDKIKX0DER".into()]),
            Err(InvalidMarketplace::WrongRegion { .. })
        ));
        assert!(matches!(
            validate_marketplaces(Region::Fe, &["XYZ".into()]),
            Err(InvalidMarketplace::Unknown(_))
        ));
        assert_eq!(
            validate_marketplaces(Region::Na, &[]),
            Err(InvalidMarketplace::Count)
        );
        for r in Region::ALL {
            assert_eq!(marketplace(default_marketplace(r)).unwrap().region, r);
        }
        let ids: std::collections::HashSet<_> = MARKETPLACES.iter().map(|m| m.id).collect();
        assert_eq!(ids.len(), MARKETPLACES.len());
    }
}
