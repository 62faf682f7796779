//! Staff roles. What each role may do is decided by the permission table (Identity work);
//! this module only names them and says which ones span every store.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Manager,
    Cashier,
    Waiter,
    Kitchen,
    /// A person at a client company of catering contracts: sees and confirms that
    /// company's service days, nothing in any store.
    Client,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Owner,
        Role::Admin,
        Role::Manager,
        Role::Cashier,
        Role::Waiter,
        Role::Kitchen,
        Role::Client,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Cashier => "cashier",
            Role::Waiter => "waiter",
            Role::Kitchen => "kitchen",
            Role::Client => "client",
        }
    }

    /// Owner and admin accounts can reach every store and must use a second factor.
    pub const fn is_privileged(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, not `write_str`: a width in a format string (`{:<8}`) applies.
        f.pad(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|r| r.as_str() == s).ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("superadmin".parse::<Role>().is_err());
    }

    #[test]
    fn only_owner_and_admin_are_privileged() {
        let privileged: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.is_privileged())
            .collect();
        assert_eq!(privileged, vec![Role::Owner, Role::Admin]);
    }
}
