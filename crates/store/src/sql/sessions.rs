/// `SessionRepo`; expanded inside [`impl_sql_repos!`](crate::impl_sql_repos).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_sql_sessions {
    ($storage:ty) => {
        use $crate::rows::SessionRow;
        use $crate::{Rotation, SessionRepo};
        use ::comanda_domain::identity::{NewRefreshToken, NewSession, Session};
        use ::comanda_domain::{DeviceId, SessionId};

        const REUSE_REASON: &str = "refresh_token_reused";

        async fn insert_refresh_token(
            conn: &mut <Db as ::sqlx::Database>::Connection,
            session: SessionId,
            token: &NewRefreshToken,
        ) -> Result<()> {
            ::sqlx::query(
                "INSERT INTO refresh_tokens (id, session_id, secret_hash, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token.id)
            .bind(session.as_uuid())
            .bind(token.secret_hash.to_vec())
            .bind(clock::now())
            .bind(token.expires_at)
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
            Ok(())
        }

        async fn revoke_in(conn: &mut <Db as ::sqlx::Database>::Connection, id: SessionId, reason: &str) -> Result<u64> {
            Ok(::sqlx::query("UPDATE sessions SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL")
                .bind(clock::now())
                .bind(reason.to_owned())
                .bind(id.as_uuid())
                .execute(&mut *conn)
                .await
                .map_err(classify)?
                .rows_affected())
        }

        async fn session_in(conn: &mut <Db as ::sqlx::Database>::Connection, id: Uuid) -> Result<Option<Session>> {
            ::sqlx::query_as::<_, SessionRow>(concat!("SELECT ", $crate::session_columns!(), " FROM sessions WHERE id = $1"))
                .bind(id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(classify)?
                .map(Session::try_from)
                .transpose()
        }

        #[::async_trait::async_trait]
        impl SessionRepo for $storage {
            async fn create_session(&self, session: &NewSession, refresh: &NewRefreshToken) -> Result<Session> {
                let mut tx = begin_write(self.writer()).await?;
                let created: Session = ::sqlx::query_as::<_, SessionRow>(concat!(
                    "INSERT INTO sessions (id, user_id, kind, device_id, mfa_verified, created_at, last_used_at,
                                           expires_at, ip, user_agent)
                     VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9) RETURNING ",
                    $crate::session_columns!()
                ))
                .bind(session.id.as_uuid())
                .bind(session.user_id.as_uuid())
                .bind(session.kind.as_str())
                .bind(session.device_id.map(|d| d.as_uuid()))
                .bind(session.mfa_verified)
                .bind(clock::now())
                .bind(session.expires_at)
                .bind(session.ip.clone())
                .bind(session.user_agent.clone())
                .fetch_one(&mut *tx)
                .await
                .map_err(classify)?
                .try_into()?;
                insert_refresh_token(&mut tx, session.id, refresh).await?;
                tx.commit().await.map_err(classify)?;
                Ok(created)
            }

            async fn get_session(&self, id: SessionId) -> Result<Option<Session>> {
                let mut conn = self.reader().acquire().await.map_err(classify)?;
                session_in(&mut conn, id.as_uuid()).await
            }

            async fn rotate_refresh_token(
                &self,
                id: Uuid,
                secret_hash: &[u8; 32],
                next: &NewRefreshToken,
                grace: ::chrono::Duration,
            ) -> Result<Rotation> {
                let now = clock::now();
                let mut tx = begin_write(self.writer()).await?;
                let token: Option<(Uuid, ::chrono::DateTime<::chrono::Utc>)> =
                    ::sqlx::query_as("SELECT session_id, expires_at FROM refresh_tokens WHERE id = $1 AND secret_hash = $2")
                        .bind(id)
                        .bind(secret_hash.to_vec())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(classify)?;
                let Some((session_id, expires_at)) = token else {
                    return Ok(Rotation::Invalid);
                };
                let Some(session) = session_in(&mut tx, session_id).await? else {
                    return Ok(Rotation::Invalid);
                };
                if !session.is_active(now) || expires_at <= now {
                    return Ok(Rotation::Invalid);
                }
                // Spend the token. Zero rows: it was spent before, maybe this very instant
                // by a concurrent request (whose commit this statement waited for).
                let spent = ::sqlx::query(
                    "UPDATE refresh_tokens SET used_at = $1, replaced_by = $2 WHERE id = $3 AND used_at IS NULL",
                )
                .bind(now)
                .bind(next.id)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(classify)?
                .rows_affected();
                if spent == 0 {
                    let (used_at, replaced_by): (Option<::chrono::DateTime<::chrono::Utc>>, Option<Uuid>) =
                        ::sqlx::query_as("SELECT used_at, replaced_by FROM refresh_tokens WHERE id = $1")
                            .bind(id)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(classify)?;
                    // A request that began before the other spent the token sees it
                    // spent "in the future": that is no time at all, not a negative one,
                    // so with no grace it is theft like any other second use.
                    if let (Some(used_at), Some(successor)) = (used_at, replaced_by)
                        && (now - used_at).max(::chrono::Duration::zero()) < grace
                    {
                        return Ok(Rotation::Replayed { session, successor });
                    }
                    // Spent a while ago: a copy is in other hands.
                    revoke_in(&mut tx, session.id, REUSE_REASON).await?;
                    let revoked = session_in(&mut tx, session_id).await?.unwrap_or(session);
                    tx.commit().await.map_err(classify)?;
                    return Ok(Rotation::Reused(revoked));
                }
                insert_refresh_token(&mut tx, session.id, next).await?;
                ::sqlx::query("UPDATE sessions SET last_used_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(session_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                tx.commit().await.map_err(classify)?;
                Ok(Rotation::Rotated(session))
            }

            async fn revoke_session(&self, id: SessionId, reason: &str) -> Result<bool> {
                let mut conn = self.writer().acquire().await.map_err(classify)?;
                Ok(revoke_in(&mut conn, id, reason).await? == 1)
            }

            async fn revoke_user_sessions(&self, user: UserId, reason: &str, keep: Option<SessionId>) -> Result<u64> {
                let keep = keep.map_or(Uuid::nil(), |k| k.as_uuid());
                Ok(::sqlx::query(
                    "UPDATE sessions SET revoked_at = $1, revoked_reason = $2
                     WHERE user_id = $3 AND revoked_at IS NULL AND id <> $4",
                )
                .bind(clock::now())
                .bind(reason.to_owned())
                .bind(user.as_uuid())
                .bind(keep)
                .execute(self.writer())
                .await
                .map_err(classify)?
                .rows_affected())
            }

            async fn revoke_device_sessions(&self, device: DeviceId, reason: &str) -> Result<u64> {
                Ok(::sqlx::query(
                    "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 WHERE device_id = $3 AND revoked_at IS NULL",
                )
                .bind(clock::now())
                .bind(reason.to_owned())
                .bind(device.as_uuid())
                .execute(self.writer())
                .await
                .map_err(classify)?
                .rows_affected())
            }

            async fn list_active_sessions(&self, user: UserId) -> Result<Vec<Session>> {
                ::sqlx::query_as::<_, SessionRow>(concat!(
                    "SELECT ", $crate::session_columns!(),
                    " FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY id DESC LIMIT 200"
                ))
                .bind(user.as_uuid())
                .bind(clock::now())
                .fetch_all(self.reader())
                .await
                .map_err(classify)?
                .into_iter()
                .map(Session::try_from)
                .collect()
            }

            async fn mark_session_mfa_verified(&self, id: SessionId) -> Result<()> {
                let affected = ::sqlx::query("UPDATE sessions SET mfa_verified = TRUE WHERE id = $1")
                    .bind(id.as_uuid())
                    .execute(self.writer())
                    .await
                    .map_err(classify)?
                    .rows_affected();
                one_row(affected, "session")
            }
        }
    };
}
