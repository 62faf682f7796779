/// `UserRepo` and `Bootstrap`; expanded inside [`impl_sql_repos!`](crate::impl_sql_repos).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_sql_users {
    ($storage:ty) => {
        use $crate::rows::UserRow;
        use $crate::{Bootstrap, BootstrapOutcome, UserFilter, UserRepo};
        use ::comanda_domain::{Locale, Login, NewUser, PasswordHash, Sealed, Secret, User, UserId, UserPatch};

        const USER_STORES: &str = "SELECT user_id, store_id FROM user_stores WHERE user_id IN (";

        async fn insert_user(conn: &mut <Db as ::sqlx::Database>::Connection, user: &NewUser) -> Result<()> {
            ::sqlx::query(
                "INSERT INTO users (id, login, display_name, password_hash, role, all_stores,
                                    must_change_password, company_id, version, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)",
            )
            .bind(user.id.as_uuid())
            .bind(user.login.as_str())
            .bind(user.display_name.as_str())
            .bind(user.password_hash.as_str().to_owned())
            .bind(user.role.as_str())
            .bind(user.all_stores)
            .bind(user.must_change_password)
            .bind(user.company_id.map(|c| c.as_uuid()))
            .bind(clock::now())
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
            assign_stores(conn, user.id, &user.store_ids).await
        }

        async fn assign_stores(conn: &mut <Db as ::sqlx::Database>::Connection, user: UserId, stores: &[StoreId]) -> Result<()> {
            for store in stores {
                ::sqlx::query("INSERT INTO user_stores (user_id, store_id) VALUES ($1, $2)")
                    .bind(user.as_uuid())
                    .bind(store.as_uuid())
                    .execute(&mut *conn)
                    .await
                    .map_err(missing_store)?;
            }
            Ok(())
        }

        async fn users_with_stores(pool: &::sqlx::Pool<Db>, rows: Vec<UserRow>) -> Result<Vec<User>> {
            let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
            let mut stores = children(pool, USER_STORES, &ids, ") ORDER BY 1, 2").await?;
            rows.into_iter()
                .map(|row| {
                    let own = stores.remove(&row.id).unwrap_or_default();
                    row.into_user(own)
                })
                .collect()
        }

        impl $storage {
            async fn user_where(&self, sql: &'static str, key: impl for<'q> ::sqlx::Encode<'q, Db> + ::sqlx::Type<Db> + Send) -> Result<Option<User>> {
                let row = ::sqlx::query_as::<_, UserRow>(sql)
                    .bind(key)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)?;
                Ok(users_with_stores(self.reader(), row.into_iter().collect()).await?.pop())
            }

            /// Runs a one-row update of a user (`$1` is the new value, `$2` the time, `$3` the id).
            async fn set_user_field<V>(&self, sql: &'static str, value: V, id: UserId) -> Result<()>
            where
                V: for<'q> ::sqlx::Encode<'q, Db> + ::sqlx::Type<Db> + Send,
            {
                let affected = ::sqlx::query(sql)
                    .bind(value)
                    .bind(clock::now())
                    .bind(id.as_uuid())
                    .execute(self.writer())
                    .await
                    .map_err(classify)?
                    .rows_affected();
                one_row(affected, "user")
            }
        }

        #[::async_trait::async_trait]
        impl UserRepo for $storage {
            async fn find_user_by_login(&self, login: &Login) -> Result<Option<User>> {
                self.user_where(concat!("SELECT ", $crate::user_columns!(), " FROM users WHERE login = $1"), login.as_str().to_owned()).await
            }

            async fn get_user(&self, id: UserId) -> Result<Option<User>> {
                self.user_where(concat!("SELECT ", $crate::user_columns!(), " FROM users WHERE id = $1"), id.as_uuid()).await
            }

            async fn create_user(&self, user: &NewUser) -> Result<User> {
                let mut tx = begin_write(self.writer()).await?;
                insert_user(&mut tx, user).await?;
                tx.commit().await.map_err(classify)?;
                self.get_user(user.id).await?.ok_or_else(|| StoreError::Internal("created user vanished".into()))
            }

            async fn list_users(&self, filter: &UserFilter, after: Option<UserId>, limit: Limit) -> Result<Page<User, UserId>> {
                let mut query = ::sqlx::QueryBuilder::<Db>::new(concat!("SELECT ", $crate::user_columns!(), " FROM users WHERE 1 = 1"));
                if let Some(store) = filter.store {
                    query.push(" AND id IN (SELECT user_id FROM user_stores WHERE store_id = ").push_bind(store.as_uuid()).push(")");
                }
                if let Some(stores) = &filter.sharing_any_of {
                    if stores.is_empty() {
                        query.push(" AND 1 = 0");
                    } else {
                        query.push(" AND all_stores = FALSE AND id IN (SELECT user_id FROM user_stores WHERE store_id IN (");
                        let mut list = query.separated(", ");
                        for store in stores {
                            list.push_bind(store.as_uuid());
                        }
                        query.push("))");
                    }
                }
                if let Some(cursor) = after {
                    query.push(" AND id > ").push_bind(cursor.as_uuid());
                }
                query.push(" ORDER BY id LIMIT ").push_bind(limit.probe());
                let rows: Vec<UserRow> = query.build_query_as().fetch_all(self.reader()).await.map_err(classify)?;
                let users = users_with_stores(self.reader(), rows).await?;
                Ok(Page::from_probe(users, limit, |u| u.id))
            }

            async fn update_user(&self, id: UserId, expected_version: i64, patch: &UserPatch) -> Result<User> {
                let mut tx = begin_write(self.writer()).await?;
                let affected = ::sqlx::query(
                    "UPDATE users SET
                        display_name = COALESCE($1, display_name),
                        role = COALESCE($2, role),
                        all_stores = COALESCE($3, all_stores),
                        version = version + 1,
                        updated_at = $4
                     WHERE id = $5 AND version = $6",
                )
                .bind(patch.display_name.as_ref().map(|n| n.as_str().to_owned()))
                .bind(patch.role.map(|r| r.as_str()))
                .bind(patch.all_stores)
                .bind(clock::now())
                .bind(id.as_uuid())
                .bind(expected_version)
                .execute(&mut *tx)
                .await
                .map_err(classify)?
                .rows_affected();
                if affected == 0 {
                    drop(tx);
                    let current = self.get_user(id).await?.map(|u| u.version);
                    return Err(StoreError::stale_or_missing("user", current));
                }
                if let Some(stores) = &patch.store_ids {
                    ::sqlx::query("DELETE FROM user_stores WHERE user_id = $1")
                        .bind(id.as_uuid())
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    assign_stores(&mut tx, id, stores).await?;
                }
                tx.commit().await.map_err(classify)?;
                self.get_user(id).await?.ok_or(StoreError::NotFound { entity: "user" })
            }

            async fn set_password(&self, id: UserId, hash: &PasswordHash, must_change: bool) -> Result<()> {
                let affected = ::sqlx::query(
                    "UPDATE users SET password_hash = $1, must_change_password = $2, version = version + 1, updated_at = $3
                     WHERE id = $4",
                )
                .bind(hash.as_str().to_owned())
                .bind(must_change)
                .bind(clock::now())
                .bind(id.as_uuid())
                .execute(self.writer())
                .await
                .map_err(classify)?
                .rows_affected();
                one_row(affected, "user")
            }

            async fn set_disabled(&self, id: UserId, disabled: bool) -> Result<()> {
                let at = disabled.then(clock::now);
                self.set_user_field(
                    "UPDATE users SET disabled_at = $1, version = version + 1, updated_at = $2 WHERE id = $3",
                    at,
                    id,
                )
                .await
            }

            async fn set_pin(&self, id: UserId, hash: Option<&PasswordHash>) -> Result<()> {
                self.set_user_field(
                    "UPDATE users SET pin_hash = $1, version = version + 1, updated_at = $2 WHERE id = $3",
                    hash.map(|h| h.as_str().to_owned()),
                    id,
                )
                .await
            }

            async fn set_locale(&self, id: UserId, locale: Option<Locale>) -> Result<()> {
                // A preference, not an edit of the account: no version bump to collide
                // with a manager's change.
                self.set_user_field(
                    "UPDATE users SET locale = $1, updated_at = $2 WHERE id = $3",
                    locale.map(|l| l.tag().to_owned()),
                    id,
                )
                .await
            }

            async fn set_totp_pending(&self, id: UserId, secret: Option<&Sealed>) -> Result<()> {
                self.set_user_field(
                    "UPDATE users SET totp_pending_secret = $1, updated_at = $2 WHERE id = $3",
                    secret.map(|s| s.stored().to_owned()),
                    id,
                )
                .await
            }

            async fn totp_secrets(&self) -> Result<Vec<(UserId, Option<Sealed>, Option<Sealed>)>> {
                let rows: Vec<(::uuid::Uuid, Option<String>, Option<String>)> = ::sqlx::query_as(
                    "SELECT id, totp_secret, totp_pending_secret FROM users
                     WHERE totp_secret IS NOT NULL OR totp_pending_secret IS NOT NULL ORDER BY id",
                )
                .fetch_all(self.reader())
                .await
                .map_err(classify)?;
                Ok(rows
                    .into_iter()
                    .map(|(id, active, pending)| {
                        (UserId::from_uuid(id), active.map(Sealed::from_stored), pending.map(Sealed::from_stored))
                    })
                    .collect())
            }

            async fn reseal_totp_secrets(
                &self,
                id: UserId,
                before: (Option<&Sealed>, Option<&Sealed>),
                after: (Option<&Sealed>, Option<&Sealed>),
            ) -> Result<bool> {
                let text = |s: Option<&Sealed>| s.map(|s| s.stored().to_owned());
                let affected = ::sqlx::query(
                    "UPDATE users SET totp_secret = $1, totp_pending_secret = $2
                     WHERE id = $3 AND totp_secret IS NOT DISTINCT FROM $4
                       AND totp_pending_secret IS NOT DISTINCT FROM $5",
                )
                .bind(text(after.0))
                .bind(text(after.1))
                .bind(id.as_uuid())
                .bind(text(before.0))
                .bind(text(before.1))
                .execute(self.writer())
                .await
                .map_err(classify)?
                .rows_affected();
                Ok(affected == 1)
            }

            async fn enable_totp(&self, id: UserId, secret: &Sealed, step: i64, recovery_hashes: &[[u8; 32]]) -> Result<()> {
                let mut tx = begin_write(self.writer()).await?;
                let affected = ::sqlx::query(
                    "UPDATE users SET totp_secret = $1, totp_pending_secret = NULL, totp_last_step = $2,
                                      version = version + 1, updated_at = $3
                     WHERE id = $4",
                )
                .bind(secret.stored().to_owned())
                .bind(step)
                .bind(clock::now())
                .bind(id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(classify)?
                .rows_affected();
                one_row(affected, "user")?;
                ::sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                    .bind(id.as_uuid())
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                for hash in recovery_hashes {
                    ::sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                        .bind(id.as_uuid())
                        .bind(hash.to_vec())
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                }
                tx.commit().await.map_err(classify)
            }

            async fn disable_totp(&self, id: UserId) -> Result<()> {
                let mut tx = begin_write(self.writer()).await?;
                let affected = ::sqlx::query(
                    "UPDATE users SET totp_secret = NULL, totp_pending_secret = NULL, totp_last_step = NULL,
                                      version = version + 1, updated_at = $1
                     WHERE id = $2",
                )
                .bind(clock::now())
                .bind(id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(classify)?
                .rows_affected();
                one_row(affected, "user")?;
                ::sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                    .bind(id.as_uuid())
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                tx.commit().await.map_err(classify)
            }

            async fn advance_totp_step(&self, id: UserId, step: i64) -> Result<bool> {
                let affected = ::sqlx::query(
                    "UPDATE users SET totp_last_step = $1
                     WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
                )
                .bind(step)
                .bind(id.as_uuid())
                .execute(self.writer())
                .await
                .map_err(classify)?
                .rows_affected();
                Ok(affected == 1)
            }

            async fn use_recovery_code(&self, id: UserId, hash: &[u8; 32]) -> Result<bool> {
                let affected = ::sqlx::query(
                    "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
                )
                .bind(clock::now())
                .bind(id.as_uuid())
                .bind(hash.to_vec())
                .execute(self.writer())
                .await
                .map_err(classify)?
                .rows_affected();
                Ok(affected == 1)
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
                let mut tx = begin_write(self.writer()).await?;
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
    };
}
