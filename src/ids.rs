//! Newtypes for identifiers that must not be mixed up.

use std::fmt;
use std::str::FromStr;

use rand::RngCore;
use serde::{Deserialize, Serialize};

/// An account id: 16 lower-case hex characters. Its alphabet makes it safe as a file
/// name (`accounts/<id>.db`) and inside a schema name (`acct_<id>`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

/// A string that is not an account id.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid account id: expected 16 lower-case hex characters")]
pub struct InvalidAccountId;

impl AccountId {
    /// A new random id.
    pub fn generate() -> Self {
        let mut b = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut b);
        Self(hex::encode(b))
    }

    /// Parses exactly 16 lower-case hex characters: no trimming, so `" <id>"` or
    /// `"<id>\n"` is not an id (a padded id once reached the catalog unparsed while the
    /// parsed one reached the store; issue 12).
    pub fn parse(s: &str) -> Result<Self, InvalidAccountId> {
        if s.len() == 16 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidAccountId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The PostgreSQL schema holding this account's store.
    pub fn schema_name(&self) -> String {
        format!("acct_{}", self.0)
    }
}

impl FromStr for AccountId {
    type Err = InvalidAccountId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for AccountId {
    type Error = InvalidAccountId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<AccountId> for String {
    fn from(a: AccountId) -> Self {
        a.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.0)
    }
}

/// What an API token may do (DESIGN.md, "Roles").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Accounts, tokens, keys, closure.
    Admin,
    /// One account's full orders, webhooks, connections, subject rights.
    Backoffice,
    /// Masked lookup by account and exact order number; nothing else.
    Support,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Backoffice => "backoffice",
            Self::Support => "support",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Self::Admin),
            "backoffice" => Ok(Self::Backoffice),
            "support" => Ok(Self::Support),
            _ => Err(format!("unknown role {s:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids() {
        let id = AccountId::generate();
        assert_eq!(AccountId::parse(id.as_str()).unwrap(), id);
        assert!(id.schema_name().starts_with("acct_"));
        for bad in [
            "",
            "ABCDEF0123456789",
            "0123",
            "0123456789abcdeg",
            "../../etc/passwd",
            " 0123456789abcdef",
            "0123456789abcdef\n",
            "\t0123456789abcdef",
        ] {
            assert!(AccountId::parse(bad).is_err(), "{bad}");
        }
    }
}
