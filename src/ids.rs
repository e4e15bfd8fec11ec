//! Newtypes for identifiers that must not be mixed up.

use std::fmt;
use std::str::FromStr;

use rand::RngCore;
use serde::{Deserialize, Serialize};

/// Declares an id newtype over 16 lower-case hex characters: parsed once where it enters
/// (CLI argument, API path, JSON body, database row), then carried typed so ids of
/// different things cannot be mixed up and nothing downstream re-parses them.
macro_rules! hex_id {
    ($(#[$meta:meta])* $name:ident, $invalid:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        #[doc = concat!("A string that is not ", $what, ".")]
        #[derive(Debug, Clone, thiserror::Error)]
        #[error("invalid {}: expected 16 lower-case hex characters", $what)]
        pub struct $invalid;

        impl $name {
            /// A new random id.
            pub fn generate() -> Self {
                let mut b = [0u8; 8];
                rand::rngs::OsRng.fill_bytes(&mut b);
                Self(hex::encode(b))
            }

            /// Parses exactly 16 lower-case hex characters: no trimming, so `" <id>"` or
            /// `"<id>\n"` is not an id (a padded id once reached the catalog unparsed while
            /// the parsed one reached the store; issue 12).
            pub fn parse(s: &str) -> Result<Self, $invalid> {
                if is_hex16(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err($invalid)
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = $invalid;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $invalid;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(a: $name) -> Self {
                a.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }
    };
}

fn is_hex16(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

hex_id!(
    /// An account id: 16 lower-case hex characters. Its alphabet makes it safe as a file
    /// name (`accounts/<id>.db`) and inside a schema name (`acct_<id>`).
    AccountId,
    InvalidAccountId,
    "account id"
);

hex_id!(
    /// A marketplace connection's id (16 lower-case hex characters): its own type so a
    /// connection id is never taken for the account that owns it.
    ConnectionId,
    InvalidConnectionId,
    "connection id"
);

hex_id!(
    /// A webhook endpoint's id (16 lower-case hex characters), also the outbox's endpoint
    /// key and part of the sealed secret's context.
    WebhookId,
    InvalidWebhookId,
    "webhook id"
);

impl AccountId {
    /// The PostgreSQL schema holding this account's store.
    pub fn schema_name(&self) -> String {
        format!("acct_{}", self.0)
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
            assert!(ConnectionId::parse(bad).is_err(), "{bad}");
            assert!(WebhookId::parse(bad).is_err(), "{bad}");
        }
        let c = ConnectionId::generate();
        assert_eq!(c.to_string().parse::<ConnectionId>().unwrap(), c);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, format!("\"{c}\""));
        assert_eq!(serde_json::from_str::<ConnectionId>(&json).unwrap(), c);
        assert!(serde_json::from_str::<WebhookId>("\" 0123456789abcdef\"").is_err());
    }
}
