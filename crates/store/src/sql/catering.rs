/// `CateringRepo`; expanded inside [`impl_sql_repos!`](crate::impl_sql_repos). Companies,
/// contracts and days are kept as JSON documents beside the columns they are found by.
#[doc(hidden)]
#[macro_export]
macro_rules! impl_sql_catering {
    ($storage:ty) => {
        use ::comanda_domain::catering::{Company, CompanyKind, Contract, ServiceDay};
        use ::comanda_domain::{CompanyId, ContractId};
        use $crate::documents::{documents, from_text, to_text};
        use $crate::CateringRepo;

        fn kind_text(kind: CompanyKind) -> &'static str {
            match kind {
                CompanyKind::Caterer => "caterer",
                CompanyKind::Client => "client",
            }
        }

        #[::async_trait::async_trait]
        impl CateringRepo for $storage {
            async fn create_company(&self, company: &Company, created_by: Option<::comanda_domain::UserId>) -> Result<Company> {
                ::sqlx::query(
                    "INSERT INTO companies (id, kind, name, store_id, version, document, created_by)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(company.id.as_uuid())
                .bind(kind_text(company.kind))
                .bind(&company.name)
                .bind(company.store_id.map(|s| s.as_uuid()))
                .bind(company.version)
                .bind(to_text(company)?)
                .bind(created_by.map(|u| u.as_uuid()))
                .execute(self.writer())
                .await
                .map_err(missing_store)?;
                Ok(company.clone())
            }

            async fn get_company(&self, id: CompanyId) -> Result<Option<Company>> {
                let row: Option<(String,)> = ::sqlx::query_as("SELECT document FROM companies WHERE id = $1")
                    .bind(id.as_uuid())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)?;
                row.map(|(text,)| from_text("company", &text)).transpose()
            }

            async fn list_companies(&self, filter: &$crate::CompanyFilter, limit: i64) -> Result<Vec<Company>> {
                let mut query = ::sqlx::QueryBuilder::<Db>::new("SELECT document FROM companies c WHERE 1 = 1");
                if let Some(kind) = filter.kind {
                    query.push(" AND c.kind = ").push_bind(kind_text(kind));
                }
                if let Some(id) = filter.id {
                    query.push(" AND c.id = ").push_bind(id.as_uuid());
                }
                match filter.stores.as_deref() {
                    None => {}
                    Some([]) => {
                        query.push(" AND 1 = 0");
                    }
                    Some(stores) => {
                        let in_stores = |query: &mut ::sqlx::QueryBuilder<'_, Db>| {
                            $crate::sql::push_store_list(query, stores)
                        };
                        query.push(" AND ((c.kind = 'caterer' AND c.store_id IN ");
                        in_stores(&mut query);
                        query.push(") OR (c.kind = 'client' AND (c.id IN (SELECT client_id FROM contracts WHERE store_id IN ");
                        in_stores(&mut query);
                        query.push(") OR c.created_by IN (SELECT u.id FROM users u JOIN user_stores s ON s.user_id = u.id
                                                         WHERE u.all_stores = FALSE AND s.store_id IN ");
                        in_stores(&mut query);
                        query.push(
                            ") OR (NOT EXISTS (SELECT 1 FROM contracts k WHERE k.client_id = c.id)
                                   AND (c.created_by IS NULL
                                        OR c.created_by IN (SELECT id FROM users WHERE all_stores = TRUE))))))",
                        );
                    }
                }
                query.push(" ORDER BY c.name, c.id LIMIT ").push_bind(limit);
                let rows: Vec<(String,)> = query.build_query_as().fetch_all(self.reader()).await.map_err(classify)?;
                documents("company", rows)
            }

            async fn create_contract(&self, contract: &Contract) -> Result<Contract> {
                ::sqlx::query(
                    "INSERT INTO contracts (id, caterer_id, client_id, store_id, version, document) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(contract.id.as_uuid())
                .bind(contract.caterer_id.as_uuid())
                .bind(contract.client_id.as_uuid())
                .bind(contract.store_id.as_uuid())
                .bind(contract.version)
                .bind(to_text(contract)?)
                .execute(self.writer())
                .await
                .map_err(classify)?;
                Ok(contract.clone())
            }

            async fn get_contract(&self, id: ContractId) -> Result<Option<Contract>> {
                let row: Option<(String,)> = ::sqlx::query_as("SELECT document FROM contracts WHERE id = $1")
                    .bind(id.as_uuid())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)?;
                row.map(|(text,)| from_text("contract", &text)).transpose()
            }

            async fn contracts_of(&self, company: CompanyId, limit: i64) -> Result<Vec<Contract>> {
                let rows: Vec<(String,)> = ::sqlx::query_as(
                    "SELECT document FROM contracts WHERE caterer_id = $1 OR client_id = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(company.as_uuid())
                .bind(limit)
                .fetch_all(self.reader())
                .await
                .map_err(classify)?;
                documents("contract", rows)
            }

            async fn save_contract(&self, contract: &Contract, expected_version: i64) -> Result<Contract> {
                let written = ::sqlx::query("UPDATE contracts SET version = $2, document = $3 WHERE id = $1 AND version = $4")
                    .bind(contract.id.as_uuid())
                    .bind(contract.version)
                    .bind(to_text(contract)?)
                    .bind(expected_version)
                    .execute(self.writer())
                    .await
                    .map_err(classify)?
                    .rows_affected();
                if written == 1 {
                    return Ok(contract.clone());
                }
                let current = self.get_contract(contract.id).await?.map(|c| c.version);
                Err(StoreError::stale_or_missing("contract", current))
            }

            async fn add_service_days(&self, contract: ContractId, days: &[ServiceDay]) -> Result<u64> {
                let mut tx = begin_write(self.writer()).await?;
                let mut added = 0;
                for day in days {
                    added += ::sqlx::query(
                        "INSERT INTO service_days (contract_id, day, version, document) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (contract_id, day) DO NOTHING",
                    )
                    .bind(contract.as_uuid())
                    .bind(day.date)
                    .bind(day.version)
                    .bind(to_text(day)?)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?
                    .rows_affected();
                }
                tx.commit().await.map_err(classify)?;
                Ok(added)
            }

            async fn service_days(&self, contract: ContractId, from: ::chrono::NaiveDate, to: ::chrono::NaiveDate) -> Result<Vec<ServiceDay>> {
                let rows: Vec<(String,)> = ::sqlx::query_as(
                    "SELECT document FROM service_days WHERE contract_id = $1 AND day >= $2 AND day <= $3 ORDER BY day",
                )
                .bind(contract.as_uuid())
                .bind(from)
                .bind(to)
                .fetch_all(self.reader())
                .await
                .map_err(classify)?;
                documents("service day", rows)
            }

            async fn save_service_day(&self, contract: &Contract, day: &ServiceDay, expected_version: i64, event: Option<&NewOutboxEvent>) -> Result<ServiceDay> {
                let mut tx = begin_write(self.writer()).await?;
                let written = ::sqlx::query(
                    "UPDATE service_days SET version = $3, document = $4 WHERE contract_id = $1 AND day = $2 AND version = $5",
                )
                .bind(contract.id.as_uuid())
                .bind(day.date)
                .bind(day.version)
                .bind(to_text(day)?)
                .bind(expected_version)
                .execute(&mut *tx)
                .await
                .map_err(classify)?
                .rows_affected();
                if written == 1 {
                    if let Some(event) = event {
                        append_outbox(&mut tx, contract.store_id, ::std::slice::from_ref(event)).await?;
                    }
                    tx.commit().await.map_err(classify)?;
                    return Ok(day.clone());
                }
                drop(tx);
                let current: Option<(i64,)> = ::sqlx::query_as("SELECT version FROM service_days WHERE contract_id = $1 AND day = $2")
                    .bind(contract.id.as_uuid())
                    .bind(day.date)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)?;
                Err(StoreError::stale_or_missing("service_day", current.map(|(v,)| v)))
            }
        }
    };
}
