//! SQL shared by the backends. SQLite and PostgreSQL accept the same text for these
//! queries (`$N` placeholders, `RETURNING`, `ON CONFLICT`), so each backend instantiates
//! this code for its own pool types instead of keeping a copy; the conformance suite
//! then runs the one text on both. Backend-specific SQL (queue claims, notifications)
//! stays in the backend crates.
//!
//! The expanding crate names its error classifier (`fn(sqlx::Error) -> StoreError`) and
//! implements [`SqlBackend`] for its storage type.

/// Implements [`StoreRepo`](crate::StoreRepo), [`UserRepo`](crate::UserRepo) and
/// [`Bootstrap`](crate::Bootstrap) for a storage type.
#[macro_export]
macro_rules! impl_sql_repos {
    ($storage:ty, $classify:path) => {
        mod sql_repos {
            use super::*;
            use $crate::rows::{StoreRow, UserRow};
            use $crate::{Bootstrap, BootstrapOutcome, Limit, Page, Result, StoreError, StoreRepo, UserRepo};
            use ::comanda_domain::{clock, Login, NewStore, NewUser, Store, StoreId, StorePatch, User};
            use $classify as classify;
            use $crate::sql::SqlBackend as _;

            macro_rules! select_store {
                ($tail:literal) => {
                    concat!("SELECT ", $crate::store_columns!(), " FROM stores", $tail)
                };
            }

            async fn insert_store<'c, E>(conn: E, store: &NewStore) -> Result<Store>
            where
                E: ::sqlx::Executor<'c, Database = <$storage as $crate::sql::SqlBackend>::Db>,
            {
                ::sqlx::query_as::<_, StoreRow>(concat!(
                    "INSERT INTO stores (id, code, name, currency, timezone, locale, version, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING ",
                    $crate::store_columns!()
                ))
                .bind(store.id.as_uuid())
                .bind(store.code.as_str())
                .bind(store.name.as_str())
                .bind(store.currency.code())
                .bind(store.timezone.name())
                .bind(store.locale.tag())
                .bind(clock::now())
                .fetch_one(conn)
                .await
                .map_err(classify)?
                .try_into()
            }

            async fn insert_user(
                conn: &mut <<$storage as $crate::sql::SqlBackend>::Db as ::sqlx::Database>::Connection,
                user: &NewUser,
            ) -> Result<()> {
                ::sqlx::query(
                    "INSERT INTO users (id, login, display_name, password_hash, role, all_stores,
                                        must_change_password, version, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8)",
                )
                .bind(user.id.as_uuid())
                .bind(user.login.as_str())
                .bind(user.display_name.as_str())
                .bind(user.password_hash.as_str().to_owned())
                .bind(user.role.as_str())
                .bind(user.all_stores)
                .bind(user.must_change_password)
                .bind(clock::now())
                .execute(&mut *conn)
                .await
                .map_err(classify)?;
                for store_id in &user.store_ids {
                    ::sqlx::query("INSERT INTO user_stores (user_id, store_id) VALUES ($1, $2)")
                        .bind(user.id.as_uuid())
                        .bind(store_id.as_uuid())
                        .execute(&mut *conn)
                        .await
                        .map_err(classify)?;
                }
                Ok(())
            }

            #[::async_trait::async_trait]
            impl StoreRepo for $storage {
                async fn create_store(&self, store: &NewStore) -> Result<Store> {
                    insert_store(self.writer(), store).await
                }

                async fn get_store(&self, id: StoreId) -> Result<Option<Store>> {
                    ::sqlx::query_as::<_, StoreRow>(select_store!(" WHERE id = $1"))
                        .bind(id.as_uuid())
                        .fetch_optional(self.reader())
                        .await
                        .map_err(classify)?
                        .map(Store::try_from)
                        .transpose()
                }

                async fn list_stores(&self, after: Option<StoreId>, limit: Limit) -> Result<Page<Store, StoreId>> {
                    let query = match after {
                        Some(cursor) => ::sqlx::query_as::<_, StoreRow>(select_store!(" WHERE id > $1 ORDER BY id LIMIT $2"))
                            .bind(cursor.as_uuid()),
                        None => ::sqlx::query_as::<_, StoreRow>(select_store!(" ORDER BY id LIMIT $1")),
                    };
                    let rows = query.bind(limit.probe()).fetch_all(self.reader()).await.map_err(classify)?;
                    let stores = rows.into_iter().map(Store::try_from).collect::<Result<Vec<_>>>()?;
                    Ok(Page::from_probe(stores, limit, |s| s.id))
                }

                async fn update_store(&self, id: StoreId, expected_version: i64, patch: &StorePatch) -> Result<Store> {
                    let updated = ::sqlx::query_as::<_, StoreRow>(concat!(
                        "UPDATE stores SET
                            name = COALESCE($1, name),
                            timezone = COALESCE($2, timezone),
                            locale = COALESCE($3, locale),
                            version = version + 1,
                            updated_at = $4
                         WHERE id = $5 AND version = $6
                         RETURNING ",
                        $crate::store_columns!()
                    ))
                    .bind(patch.name.as_ref().map(|n| n.as_str().to_owned()))
                    .bind(patch.timezone.map(|t| t.name()))
                    .bind(patch.locale.map(|l| l.tag()))
                    .bind(clock::now())
                    .bind(id.as_uuid())
                    .bind(expected_version)
                    .fetch_optional(self.writer())
                    .await
                    .map_err(classify)?;
                    match updated {
                        Some(row) => row.try_into(),
                        None => Err(match self.get_store(id).await? {
                            Some(current) => StoreError::VersionMismatch { entity: "store", current: current.version },
                            None => StoreError::NotFound { entity: "store" },
                        }),
                    }
                }
            }

            #[::async_trait::async_trait]
            impl UserRepo for $storage {
                async fn find_user_by_login(&self, login: &Login) -> Result<Option<User>> {
                    let Some(row) = ::sqlx::query_as::<_, UserRow>(concat!(
                        "SELECT ",
                        $crate::user_columns!(),
                        " FROM users WHERE login = $1"
                    ))
                    .bind(login.as_str())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)?
                    else {
                        return Ok(None);
                    };
                    let store_ids: Vec<::uuid::Uuid> =
                        ::sqlx::query_scalar("SELECT store_id FROM user_stores WHERE user_id = $1 ORDER BY store_id")
                            .bind(row.id)
                            .fetch_all(self.reader())
                            .await
                            .map_err(classify)?;
                    row.into_user(store_ids).map(Some)
                }
            }

            #[::async_trait::async_trait]
            impl Bootstrap for $storage {
                async fn is_bootstrapped(&self) -> Result<bool> {
                    let row = ::sqlx::query("SELECT 1 FROM bootstrap WHERE id = 1")
                        .fetch_optional(self.reader())
                        .await
                        .map_err(classify)?;
                    Ok(row.is_some())
                }

                async fn bootstrap(&self, store: &NewStore, owner: &NewUser) -> Result<BootstrapOutcome> {
                    let mut tx = self.writer().begin().await.map_err(classify)?;
                    // Concurrent bootstraps queue on this row; all but the first insert nothing.
                    let claimed = ::sqlx::query(
                        "INSERT INTO bootstrap (id, store_id, owner_id, completed_at) VALUES (1, $1, $2, $3)
                         ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(store.id.as_uuid())
                    .bind(owner.id.as_uuid())
                    .bind(clock::now())
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?
                    .rows_affected();
                    if claimed == 0 {
                        return Ok(BootstrapOutcome::AlreadyDone);
                    }
                    insert_store(&mut *tx, store).await?;
                    insert_user(&mut tx, owner).await?;
                    tx.commit().await.map_err(classify)?;
                    Ok(BootstrapOutcome::Created)
                }
            }
        }
    };
}

/// Names a backend's sqlx database type and pools for [`impl_sql_repos!`].
pub trait SqlBackend {
    type Db: sqlx::Database;

    /// The pool that takes writes (SQLite: its single writer connection).
    fn writer(&self) -> &sqlx::Pool<Self::Db>;

    /// The pool for reads that need not see a write in flight.
    fn reader(&self) -> &sqlx::Pool<Self::Db>;
}
