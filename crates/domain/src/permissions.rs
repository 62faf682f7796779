//! What each role may do. Handlers ask this table (`role.can(permission)`); none of them
//! names a role. Store scope is checked separately: a permission says *what*, the user's
//! store assignments say *where*.

use crate::role::Role;
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
pub enum Permission {
    /// See a store's settings.
    StoreRead,
    /// Open new stores (organisation-wide).
    StoreCreate,
    /// Change a store's name, time zone, language.
    StoreManage,
    /// See the staff of a store.
    UserRead,
    /// Create, change, disable staff and reset their password, PIN or 2FA, within the
    /// roles the actor may assign.
    UserManage,
    /// Register and revoke POS terminals.
    DeviceManage,
    /// Create and revoke API keys for integrations.
    ApiKeyManage,
    /// Read the security log.
    AuditRead,
    /// Read the catalog, menu and stock of a store.
    CatalogRead,
    /// Create and change categories, products, modifier groups; import the catalog.
    CatalogManage,
    /// Mark a product sold out or back ("86 the salmon"): kitchen and floor staff do it.
    ProductAvailability,
    /// Receive, count, adjust and transfer stock.
    StockManage,
    /// See a store's orders and tables.
    OrderRead,
    /// Open orders, add and remove lines, send them, discount within the limit, move,
    /// merge and split tabs.
    OrderTake,
    /// Approve what needs a manager: voiding what the kitchen has, large discounts.
    OrderApprove,
    /// Mark what the kitchen has made.
    KitchenUpdate,
    /// Lay out service areas and tables.
    FloorManage,
    /// Take tenders, check a buyer's age, close paid orders.
    PaymentTake,
    /// Open and close a terminal's shift, put cash in and take it out.
    ShiftManage,
    /// Read sales reports (X, Z) and shifts.
    ReportRead,
    /// Close the business day (take the Z report).
    DayClose,
    /// Configure outbound webhooks (where the store's events are sent) and replay their
    /// deliveries: owners and admins, or an integration's API key.
    WebhookManage,
    /// See catering companies, contracts, service days and statements: staff of the
    /// caterer's kitchen, or a client company's people for their own contracts.
    CateringRead,
    /// Make and change contracts, generate service days, record what was served, settle
    /// disputes: the caterer's managers.
    CateringManage,
    /// Confirm a service day's quantity and dispute what was served: the client's people,
    /// or the caterer's managers taking it by phone.
    CateringConfirm,
    /// Register caterer and client companies and their people (organisation-wide).
    CompanyManage,
}

impl Permission {
    pub const ALL: [Permission; 26] = [
        Permission::StoreRead,
        Permission::StoreCreate,
        Permission::StoreManage,
        Permission::UserRead,
        Permission::UserManage,
        Permission::DeviceManage,
        Permission::ApiKeyManage,
        Permission::AuditRead,
        Permission::CatalogRead,
        Permission::CatalogManage,
        Permission::ProductAvailability,
        Permission::StockManage,
        Permission::OrderRead,
        Permission::OrderTake,
        Permission::OrderApprove,
        Permission::KitchenUpdate,
        Permission::FloorManage,
        Permission::PaymentTake,
        Permission::ShiftManage,
        Permission::ReportRead,
        Permission::DayClose,
        Permission::WebhookManage,
        Permission::CateringRead,
        Permission::CateringManage,
        Permission::CateringConfirm,
        Permission::CompanyManage,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Permission::StoreRead => "store_read",
            Permission::StoreCreate => "store_create",
            Permission::StoreManage => "store_manage",
            Permission::UserRead => "user_read",
            Permission::UserManage => "user_manage",
            Permission::DeviceManage => "device_manage",
            Permission::ApiKeyManage => "api_key_manage",
            Permission::AuditRead => "audit_read",
            Permission::CatalogRead => "catalog_read",
            Permission::CatalogManage => "catalog_manage",
            Permission::ProductAvailability => "product_availability",
            Permission::StockManage => "stock_manage",
            Permission::OrderRead => "order_read",
            Permission::OrderTake => "order_take",
            Permission::OrderApprove => "order_approve",
            Permission::KitchenUpdate => "kitchen_update",
            Permission::FloorManage => "floor_manage",
            Permission::PaymentTake => "payment_take",
            Permission::ShiftManage => "shift_manage",
            Permission::ReportRead => "report_read",
            Permission::DayClose => "day_close",
            Permission::WebhookManage => "webhook_manage",
            Permission::CateringRead => "catering_read",
            Permission::CateringManage => "catering_manage",
            Permission::CateringConfirm => "catering_confirm",
            Permission::CompanyManage => "company_manage",
        }
    }

    /// Integrations act on business data, never on who may sign in: an API key cannot
    /// create people, keys or stores.
    pub const fn grantable_to_api_keys(self) -> bool {
        !matches!(
            self,
            Permission::StoreCreate
                | Permission::UserManage
                | Permission::ApiKeyManage
                | Permission::CompanyManage
        )
    }

    const fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Permission {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|p| p.as_str() == s).ok_or(())
    }
}

/// A set of permissions as a bit mask: checked on every request, so it must be cheap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PermissionSet(u32);

impl PermissionSet {
    pub const fn empty() -> Self {
        Self(0)
    }

    pub const fn of(permissions: &[Permission]) -> Self {
        let mut bits = 0;
        let mut i = 0;
        while i < permissions.len() {
            bits |= permissions[i].bit();
            i += 1;
        }
        Self(bits)
    }

    pub const fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    pub const fn is_subset_of(self, other: PermissionSet) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        Self(iter.into_iter().fold(0, |bits, p| bits | p.bit()))
    }
}

const EVERYTHING: PermissionSet = PermissionSet::of(&Permission::ALL);
const MANAGER: PermissionSet = PermissionSet::of(&[
    Permission::StoreRead,
    Permission::UserRead,
    Permission::UserManage,
    Permission::DeviceManage,
    Permission::CatalogRead,
    Permission::CatalogManage,
    Permission::ProductAvailability,
    Permission::StockManage,
    Permission::OrderRead,
    Permission::OrderTake,
    Permission::OrderApprove,
    Permission::KitchenUpdate,
    Permission::FloorManage,
    Permission::PaymentTake,
    Permission::ShiftManage,
    Permission::ReportRead,
    Permission::DayClose,
    Permission::CateringRead,
    Permission::CateringManage,
    Permission::CateringConfirm,
]);
/// A client company's person: its own contracts only (the company scope is checked by
/// the catering routes, as the store scope is for everyone else).
const CLIENT: PermissionSet =
    PermissionSet::of(&[Permission::CateringRead, Permission::CateringConfirm]);
const CASHIER: PermissionSet = PermissionSet::of(&[
    Permission::StoreRead,
    Permission::CatalogRead,
    Permission::ProductAvailability,
    Permission::OrderRead,
    Permission::OrderTake,
    Permission::PaymentTake,
    Permission::ShiftManage,
]);
const FLOOR: PermissionSet = PermissionSet::of(&[
    Permission::StoreRead,
    Permission::CatalogRead,
    Permission::ProductAvailability,
    Permission::OrderRead,
    Permission::OrderTake,
    Permission::PaymentTake,
]);
const KITCHEN: PermissionSet = PermissionSet::of(&[
    Permission::StoreRead,
    Permission::CatalogRead,
    Permission::ProductAvailability,
    Permission::OrderRead,
    Permission::KitchenUpdate,
]);

impl Role {
    /// The permission table.
    pub const fn permissions(self) -> PermissionSet {
        match self {
            Role::Owner | Role::Admin => EVERYTHING,
            Role::Manager => MANAGER,
            Role::Cashier => CASHIER,
            Role::Waiter => FLOOR,
            Role::Kitchen => KITCHEN,
            Role::Client => CLIENT,
        }
    }

    pub const fn can(self, p: Permission) -> bool {
        self.permissions().contains(p)
    }

    /// Whether someone in this role may give `target` to a person or manage a person who
    /// has it: owners manage everyone, admins everyone below them, managers the floor staff.
    pub const fn can_assign(self, target: Role) -> bool {
        match self {
            Role::Owner => true,
            Role::Admin => !matches!(target, Role::Owner | Role::Admin),
            Role::Manager => matches!(target, Role::Cashier | Role::Waiter | Role::Kitchen),
            Role::Cashier | Role::Waiter | Role::Kitchen | Role::Client => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table, written out by hand so that a change to it is a deliberate change here.
    #[test]
    fn the_permission_table() {
        let expected: [(Role, &[&str]); 7] = [
            (
                Role::Owner,
                &[
                    "store_read",
                    "store_create",
                    "store_manage",
                    "user_read",
                    "user_manage",
                    "device_manage",
                    "api_key_manage",
                    "audit_read",
                    "catalog_read",
                    "catalog_manage",
                    "product_availability",
                    "stock_manage",
                    "order_read",
                    "order_take",
                    "order_approve",
                    "kitchen_update",
                    "floor_manage",
                    "payment_take",
                    "shift_manage",
                    "report_read",
                    "day_close",
                    "webhook_manage",
                    "catering_read",
                    "catering_manage",
                    "catering_confirm",
                    "company_manage",
                ],
            ),
            (
                Role::Admin,
                &[
                    "store_read",
                    "store_create",
                    "store_manage",
                    "user_read",
                    "user_manage",
                    "device_manage",
                    "api_key_manage",
                    "audit_read",
                    "catalog_read",
                    "catalog_manage",
                    "product_availability",
                    "stock_manage",
                    "order_read",
                    "order_take",
                    "order_approve",
                    "kitchen_update",
                    "floor_manage",
                    "payment_take",
                    "shift_manage",
                    "report_read",
                    "day_close",
                    "webhook_manage",
                    "catering_read",
                    "catering_manage",
                    "catering_confirm",
                    "company_manage",
                ],
            ),
            (
                Role::Manager,
                &[
                    "store_read",
                    "user_read",
                    "user_manage",
                    "device_manage",
                    "catalog_read",
                    "catalog_manage",
                    "product_availability",
                    "stock_manage",
                    "order_read",
                    "order_take",
                    "order_approve",
                    "kitchen_update",
                    "floor_manage",
                    "payment_take",
                    "shift_manage",
                    "report_read",
                    "day_close",
                    "catering_read",
                    "catering_manage",
                    "catering_confirm",
                ],
            ),
            (
                Role::Cashier,
                &[
                    "store_read",
                    "catalog_read",
                    "product_availability",
                    "order_read",
                    "order_take",
                    "payment_take",
                    "shift_manage",
                ],
            ),
            (
                Role::Waiter,
                &[
                    "store_read",
                    "catalog_read",
                    "product_availability",
                    "order_read",
                    "order_take",
                    "payment_take",
                ],
            ),
            (
                Role::Kitchen,
                &[
                    "store_read",
                    "catalog_read",
                    "product_availability",
                    "order_read",
                    "kitchen_update",
                ],
            ),
            (Role::Client, &["catering_read", "catering_confirm"]),
        ];
        for (role, names) in expected {
            let got: Vec<&str> = role.permissions().iter().map(Permission::as_str).collect();
            assert_eq!(got, names, "{role}");
        }
    }

    #[test]
    fn assignment_goes_strictly_down_except_for_owners() {
        use Role::*;
        assert!(Owner.can_assign(Owner) && Owner.can_assign(Admin));
        assert!(!Admin.can_assign(Admin) && !Admin.can_assign(Owner) && Admin.can_assign(Manager));
        assert!(
            !Manager.can_assign(Manager)
                && Manager.can_assign(Cashier)
                && Manager.can_assign(Kitchen)
        );
        for staff in [Cashier, Waiter, Kitchen, Client] {
            assert!(Role::ALL.iter().all(|r| !staff.can_assign(*r)));
        }
    }

    #[test]
    fn sets_and_names_round_trip() {
        let set: PermissionSet = [Permission::UserRead, Permission::AuditRead]
            .into_iter()
            .collect();
        assert!(set.contains(Permission::AuditRead) && !set.contains(Permission::UserManage));
        assert!(set.is_subset_of(Role::Owner.permissions()));
        assert!(!set.is_subset_of(Role::Manager.permissions()));
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse(), Ok(p));
        }
        let api: Vec<Permission> = Permission::ALL
            .into_iter()
            .filter(|p| p.grantable_to_api_keys())
            .collect();
        assert!(!api.contains(&Permission::UserManage) && api.contains(&Permission::StoreRead));
    }
}
