/// `IdempotencyRepo`; expanded inside [`impl_sql_repos!`](crate::impl_sql_repos).
/// Instants are kept as Unix milliseconds so both backends compare them the same way.
#[doc(hidden)]
#[macro_export]
macro_rules! impl_sql_idempotency {
    ($storage:ty) => {
        use $crate::idempotency::{key_id, ClaimOutcome, IdempotencyClaim, IdempotencyRepo, StoredResponse};

        type KeyRow = (Vec<u8>, Option<i32>, Option<String>, Option<Vec<u8>>);

        #[::async_trait::async_trait]
        impl IdempotencyRepo for $storage {
            async fn claim_idempotency_key(
                &self,
                claim: &IdempotencyClaim,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<ClaimOutcome> {
                // A new key, an expired answer, or an unfinished request whose lease ran
                // out (retried by the same request) goes to this request; the conflict
                // clause decides atomically, so only one of several racing retries wins.
                let claimed = ::sqlx::query(
                    "INSERT INTO idempotency_keys (id, request_hash, created_at, lease_until, expires_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (id) DO UPDATE
                     SET request_hash = excluded.request_hash, status = NULL, headers = NULL, body = NULL,
                         created_at = excluded.created_at, lease_until = excluded.lease_until, expires_at = excluded.expires_at
                     WHERE idempotency_keys.expires_at <= excluded.created_at
                        OR (idempotency_keys.status IS NULL AND idempotency_keys.lease_until <= excluded.created_at
                            AND idempotency_keys.request_hash = excluded.request_hash)",
                )
                .bind(claim.key_id())
                .bind(&claim.request_hash)
                .bind(now.timestamp_millis())
                .bind(claim.lease_until.timestamp_millis())
                .bind(claim.expires_at.timestamp_millis())
                .execute(self.writer())
                .await
                .map_err(classify)?
                .rows_affected();
                if claimed == 1 {
                    return Ok(ClaimOutcome::Claimed);
                }
                let row: Option<KeyRow> = ::sqlx::query_as(
                    "SELECT request_hash, status, headers, body FROM idempotency_keys WHERE id = $1",
                )
                .bind(claim.key_id())
                .fetch_optional(self.writer())
                .await
                .map_err(classify)?;
                let Some((hash, status, headers, body)) = row else {
                    // Released or purged in between: the client may simply retry.
                    return Ok(ClaimOutcome::InProgress);
                };
                if hash != claim.request_hash {
                    return Ok(ClaimOutcome::Mismatch);
                }
                let dictionaries = &self.commit_queue().dictionaries;
                read_dictionaries_from(self.writer(), dictionaries, body.as_deref()).await?;
                match status {
                    Some(status) => Ok(ClaimOutcome::Replay(StoredResponse::from_row(status, headers, body, dictionaries)?)),
                    None => Ok(ClaimOutcome::InProgress),
                }
            }

            async fn peek_idempotency_key(
                &self,
                claim: &IdempotencyClaim,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<ClaimOutcome> {
                let row: Option<(Vec<u8>, Option<i32>, Option<String>, Option<Vec<u8>>, i64, i64)> = ::sqlx::query_as(
                    "SELECT request_hash, status, headers, body, lease_until, expires_at FROM idempotency_keys WHERE id = $1",
                )
                .bind(claim.key_id())
                .fetch_optional(self.reader())
                .await
                .map_err(classify)?;
                let now = now.timestamp_millis();
                let dictionaries = &self.commit_queue().dictionaries;
                read_dictionaries_from(self.reader(), dictionaries, row.iter().filter_map(|r| r.3.as_deref())).await?;
                Ok(match row {
                    None => ClaimOutcome::Claimed,
                    Some((_, _, _, _, _, expires_at)) if expires_at <= now => ClaimOutcome::Claimed,
                    Some((hash, _, _, _, _, _)) if hash != claim.request_hash => ClaimOutcome::Mismatch,
                    Some((_, Some(status), headers, body, _, _)) => ClaimOutcome::Replay(StoredResponse::from_row(status, headers, body, dictionaries)?),
                    Some((_, None, _, _, lease_until, _)) if lease_until <= now => ClaimOutcome::Claimed,
                    Some(_) => ClaimOutcome::InProgress,
                })
            }

            async fn complete_idempotency_key(&self, scope: &str, key: &str, response: &StoredResponse) -> Result<()> {
                let headers = response.headers_text()?;
                ::sqlx::query(
                    "UPDATE idempotency_keys SET status = $2, headers = $3, body = $4
                     WHERE id = $1 AND status IS NULL",
                )
                .bind(key_id(scope, key))
                .bind(i32::from(response.status))
                .bind(headers)
                .bind($crate::packed::pack(&response.body)?)
                .execute(self.writer())
                .await
                .map_err(classify)?;
                Ok(())
            }

            async fn release_idempotency_key(&self, scope: &str, key: &str) -> Result<()> {
                ::sqlx::query("DELETE FROM idempotency_keys WHERE id = $1 AND status IS NULL")
                    .bind(key_id(scope, key))
                    .execute(self.writer())
                    .await
                    .map_err(classify)?;
                Ok(())
            }

            async fn purge_idempotency_keys(&self, now: ::chrono::DateTime<::chrono::Utc>) -> Result<u64> {
                // In batches, each its own short transaction: a day of a busy chain's
                // answers deleted in one statement would hold SQLite's one writer (and
                // PostgreSQL's locks on those rows) while order writes wait behind it.
                const BATCH: i64 = 2000;
                let mut purged = 0;
                loop {
                    let deleted = ::sqlx::query(<$storage as $crate::sql::SqlBackend>::PURGE_ANSWERS)
                    .bind(now.timestamp_millis())
                    .bind(BATCH)
                    .execute(self.writer())
                    .await
                    .map_err(classify)?
                    .rows_affected();
                    purged += deleted;
                    if deleted == 0 {
                        return Ok(purged);
                    }
                }
            }
        }
    };
}
