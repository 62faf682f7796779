//! Identifiers are UUIDv7: unique across instances without coordination, and
//! time-ordered, so "newest first" and cursor pagination can use the primary key.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A store (a shop, restaurant, bar or kitchen): the unit of authorization.
    StoreId
);
id_type!(
    /// A person who signs in: staff, managers, owners.
    UserId
);

id_type!(
    /// A signed-in session: one login on one device, renewed by rotating refresh tokens.
    SessionId
);
id_type!(
    /// A registered POS terminal.
    DeviceId
);
id_type!(
    /// An integration's API key.
    ApiKeyId
);
id_type!(
    /// An entry of the security log.
    EventId
);
id_type!(
    /// A menu category ("Pizzas", "Beers / Draught").
    CategoryId
);
id_type!(
    /// Something sold: a dish, a bottle, a service.
    ProductId
);
id_type!(
    /// One sellable form of a product (a size, a volume); the unit of price, SKU and stock.
    VariantId
);
id_type!(
    /// A set of choices offered with products ("Flavours", "Extras").
    ModifierGroupId
);
id_type!(
    /// One choice in a modifier group ("extra cheese").
    ModifierOptionId
);
id_type!(
    /// A named tax or service-charge rate of a store.
    TaxRateId
);
id_type!(
    /// An entry of the stock ledger.
    StockMovementId
);
id_type!(
    /// A part of a store's floor: the terrace, the bar, the hall.
    ServiceAreaId
);
id_type!(
    /// A table of a store.
    TableId
);
id_type!(
    /// An order (a tab, a ticket, a delivery).
    OrderId
);
id_type!(
    /// A line of an order.
    OrderLineId
);
id_type!(
    /// A tender taken for an order: cash, a card, a voucher.
    PaymentId
);
id_type!(
    /// Money given back for an order, with a manager's approval.
    RefundId
);
id_type!(
    /// A cash session: one terminal's drawer from its float to its count.
    ShiftId
);
id_type!(
    /// A caterer or a client company of catering contracts.
    CompanyId
);
id_type!(
    /// A catering contract between a caterer and a client.
    ContractId
);
id_type!(
    /// An outbound webhook: where a store's events are posted.
    WebhookId
);
id_type!(
    /// One event's delivery to one webhook, with its attempts.
    DeliveryId
);
id_type!(
    /// An event of the outbox, as receivers see it (their key for deduplication).
    OutboxEventId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_time_ordered() {
        let a = StoreId::new();
        let b = StoreId::new();
        assert!(a < b, "UUIDv7 generated later must sort later");
    }

    #[test]
    fn ids_round_trip_through_strings() {
        let a = UserId::new();
        let parsed: UserId = a.to_string().parse().expect("own output parses");
        assert_eq!(a, parsed);
        assert!("not-a-uuid".parse::<UserId>().is_err());
    }
}
