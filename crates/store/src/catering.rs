//! Catering: companies, contracts and their service days. A service day's change and
//! the outbox event it produces are written in one transaction.

use crate::{NewOutboxEvent, Result};
use async_trait::async_trait;
use chrono::NaiveDate;
use comanda_domain::catering::{Company, CompanyKind, Contract, ServiceDay};
use comanda_domain::{CompanyId, ContractId, StoreId, UserId};

/// Which companies a list holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompanyFilter {
    pub kind: Option<CompanyKind>,
    pub id: Option<CompanyId>,
    /// Only what a store-scoped person may see: caterers cooking in one of these stores,
    /// and clients these stores serve (a contract), that people of these stores
    /// registered, or that are nobody's yet (no contract, registered by an all-stores
    /// person or before registrars were recorded).
    pub stores: Option<Vec<StoreId>>,
}

#[async_trait]
pub trait CateringRepo: Send + Sync {
    /// `created_by`: the person registering it, if it is a person.
    async fn create_company(
        &self,
        company: &Company,
        created_by: Option<UserId>,
    ) -> Result<Company>;
    async fn get_company(&self, id: CompanyId) -> Result<Option<Company>>;
    /// Companies by name, at most `limit`.
    async fn list_companies(&self, filter: &CompanyFilter, limit: i64) -> Result<Vec<Company>>;

    /// `MissingReference` when a company or the store does not exist.
    async fn create_contract(&self, contract: &Contract) -> Result<Contract>;
    async fn get_contract(&self, id: ContractId) -> Result<Option<Contract>>;
    /// The contracts a company is party to (as caterer or client), newest first.
    async fn contracts_of(&self, company: CompanyId, limit: i64) -> Result<Vec<Contract>>;
    /// Replaces a contract read at `expected_version`; `VersionMismatch` if stale.
    async fn save_contract(&self, contract: &Contract, expected_version: i64) -> Result<Contract>;

    /// Adds the days not already there; how many were added.
    async fn add_service_days(&self, contract: ContractId, days: &[ServiceDay]) -> Result<u64>;
    /// The days from `from` to `to`, both included, by date.
    async fn service_days(
        &self,
        contract: ContractId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ServiceDay>>;
    /// Replaces a day read at `expected_version` (the day carries its new version) and
    /// appends `event` to the kitchen store's outbox, in one transaction.
    async fn save_service_day(
        &self,
        contract: &Contract,
        day: &ServiceDay,
        expected_version: i64,
        event: Option<&NewOutboxEvent>,
    ) -> Result<ServiceDay>;
}
