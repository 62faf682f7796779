/// `AuditRepo` and `SecretRepo`; expanded inside [`impl_sql_repos!`](crate::impl_sql_repos).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_sql_audit {
    ($storage:ty) => {
        use $crate::rows::SecurityEventRow;
        use $crate::{AuditRepo, EventFilter, SecretRepo};
        use ::comanda_domain::identity::SecurityEvent;
        use ::comanda_domain::EventId;

        #[::async_trait::async_trait]
        impl AuditRepo for $storage {
            async fn record_security_event(&self, event: &SecurityEvent) -> Result<()> {
                ::sqlx::query(
                    "INSERT INTO security_events (id, at, kind, actor_user_id, actor_api_key_id, store_id,
                                                  subject_user_id, login, ip, request_id, details)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(event.id.as_uuid())
                .bind(event.at)
                .bind(event.kind.as_str())
                .bind(event.actor_user_id.map(|u| u.as_uuid()))
                .bind(event.actor_api_key_id.map(|k| k.as_uuid()))
                .bind(event.store_id.map(|s| s.as_uuid()))
                .bind(event.subject_user_id.map(|u| u.as_uuid()))
                .bind(event.login.clone())
                .bind(event.ip.clone())
                .bind(event.request_id.clone())
                .bind(event.details.to_string())
                .execute(self.writer())
                .await
                .map_err(classify)?;
                Ok(())
            }

            async fn list_security_events(
                &self,
                filter: &EventFilter,
                before: Option<EventId>,
                limit: Limit,
            ) -> Result<Page<SecurityEvent, EventId>> {
                let mut query = ::sqlx::QueryBuilder::<Db>::new(concat!(
                    "SELECT ", $crate::security_event_columns!(), " FROM security_events WHERE 1 = 1"
                ));
                if let Some(user) = filter.user {
                    query
                        .push(" AND (actor_user_id = ")
                        .push_bind(user.as_uuid())
                        .push(" OR subject_user_id = ")
                        .push_bind(user.as_uuid())
                        .push(")");
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
                        query.push(" AND (store_id IN ");
                        in_stores(&mut query);
                        query.push(
                            " OR (store_id IS NULL AND actor_api_key_id IS NULL
                                  AND (actor_user_id IS NOT NULL OR subject_user_id IS NOT NULL)",
                        );
                        for person in ["actor_user_id", "subject_user_id"] {
                            query
                                .push(" AND (")
                                .push(person)
                                .push(" IS NULL OR ")
                                .push(person)
                                .push(
                                    " IN (SELECT u.id FROM users u JOIN user_stores s ON s.user_id = u.id
                                          WHERE u.all_stores = FALSE AND s.store_id IN ",
                                );
                            in_stores(&mut query);
                            query.push("))");
                        }
                        query.push("))");
                    }
                }
                if let Some(cursor) = before {
                    query.push(" AND id < ").push_bind(cursor.as_uuid());
                }
                query.push(" ORDER BY id DESC LIMIT ").push_bind(limit.probe());
                let rows: Vec<SecurityEventRow> = query.build_query_as().fetch_all(self.reader()).await.map_err(classify)?;
                let events = rows.into_iter().map(SecurityEvent::try_from).collect::<Result<Vec<_>>>()?;
                Ok(Page::from_probe(events, limit, |e| e.id))
            }
        }

        #[::async_trait::async_trait]
        impl SecretRepo for $storage {
            async fn server_secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>> {
                ::sqlx::query(
                    "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
                )
                .bind(name.to_owned())
                .bind(candidate.to_vec())
                .bind(clock::now())
                .execute(self.writer())
                .await
                .map_err(classify)?;
                // Read from the writer: the row may have been stored a moment ago.
                ::sqlx::query_scalar::<_, Vec<u8>>("SELECT value FROM server_secrets WHERE name = $1")
                    .bind(name.to_owned())
                    .fetch_one(self.writer())
                    .await
                    .map_err(classify)
            }

            async fn probe_write(&self) -> Result<()> {
                ::sqlx::query(
                    "INSERT INTO server_secrets (name, value, created_at) VALUES ('write_probe', $1, $2)
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value, created_at = excluded.created_at",
                )
                .bind(clock::now().timestamp_micros().to_be_bytes().to_vec())
                .bind(clock::now())
                .execute(self.writer())
                .await
                .map_err(classify)?;
                Ok(())
            }
        }
    };
}
