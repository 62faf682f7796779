use thiserror::Error;

/// What can go wrong in storage, classified so the HTTP layer can answer precisely:
/// conflicts become 409, a missing row 404, an unreachable database 503.
#[derive(Clone, Debug, Error)]
pub enum StoreError {
    #[error("{entity} not found")]
    NotFound { entity: &'static str },

    #[error("a {entity} with this {field} already exists")]
    Conflict {
        entity: &'static str,
        field: &'static str,
    },

    #[error("{entity} was changed by someone else; current version is {current}")]
    VersionMismatch { entity: &'static str, current: i64 },

    /// The write refers to something missing or in another store, or would break a
    /// rule only the database can check (a taken SKU, a loop of categories). Names the
    /// field as the client sent it; nothing was written.
    #[error("invalid: {0}")]
    Invalid(comanda_domain::ValidationError),

    /// The record cannot be removed while others depend on it.
    #[error("{entity} is still used by {by}")]
    InUse {
        entity: &'static str,
        by: &'static str,
    },

    /// A sale or an order would take stock below zero for a product that may not be
    /// sold when out. `available` is what is on hand less what open orders hold.
    #[error("out of stock: {available} available, {on_hand} on hand")]
    OutOfStock {
        variant: comanda_domain::VariantId,
        on_hand: i64,
        available: i64,
    },

    /// A row refers to one that does not exist (a foreign key violation).
    #[error("refers to a missing record: {0}")]
    MissingReference(String),

    /// The database could not be reached or did not answer in time. Retrying later may work.
    #[error("database unavailable: {0}")]
    Unavailable(String),

    /// The database answers but cannot take writes: its disk is full, an I/O error, out
    /// of memory. Nothing was written; writes work again once the cause is gone.
    #[error("the database cannot write now: {0}")]
    CannotWrite(String),

    /// Migrations could not be read or applied.
    #[error("migration failed: {0}")]
    Migration(String),

    /// Anything else: a bug or a database in a state we do not understand.
    #[error("database error: {0}")]
    Internal(String),
}

impl StoreError {
    /// An `Invalid` error for `field`.
    pub fn invalid(
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        StoreError::Invalid(comanda_domain::ValidationError::new(field, code, message))
    }

    /// What a versioned write that changed nothing means: the record moved on
    /// (`current` is its version now) or it is gone.
    pub fn stale_or_missing(entity: &'static str, current: Option<i64>) -> Self {
        match current {
            Some(current) => StoreError::VersionMismatch { entity, current },
            None => StoreError::NotFound { entity },
        }
    }

    /// Whether trying again later may work: the database is away or cannot write.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable(_) | StoreError::CannotWrite(_)
        )
    }
}
