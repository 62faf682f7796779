/// The webhook lease query, with `$lock` after the choice of rows: nothing on SQLite,
/// whose single writer already keeps two workers apart, `FOR UPDATE SKIP LOCKED` on
/// PostgreSQL (see `SqlBackend::LEASE_WEBHOOKS`). `$1` token, `$2` lease until, `$3`
/// now, `$4` limit.
#[doc(hidden)]
#[macro_export]
macro_rules! lease_webhooks_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE webhooks SET lease_token = $1, lease_until = $2
             WHERE id IN (
                 SELECT w.id FROM webhooks w
                 WHERE w.active AND (w.lease_until IS NULL OR w.lease_until < $3)
                   AND (w.retry_at <= $3
                        OR (w.retry_at IS NULL AND w.taken_seq < (SELECT h.seq FROM outbox_heads h WHERE h.store_id = w.store_id)))
                 ORDER BY COALESCE(w.lease_until, w.created_at)
                 LIMIT $4 ",
            $lock,
            ")
             RETURNING id, store_id, url, secret, events, description, active, version, created_by, created_at, updated_at, taken_seq, retry_at, lease_token"
        )
    };
}

pub const LEASE_WEBHOOKS: &str = lease_webhooks_sql!("");

/// `OutboxRepo`; expanded inside [`impl_sql_repos!`](crate::impl_sql_repos).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_sql_outbox {
    ($storage:ty) => {
        use ::comanda_domain::{DeliveryId, OutboxEventId, WebhookId};
        use $crate::outbox::{
            Delivery, DeliveryStatus, LeasedWebhook, NewOutboxEvent, OutboxEvent, OutboxRepo, Replay, Webhook,
        };

        /// Rows per multi-row insert: well under both databases' limits on bound values.
        const OUTBOX_CHUNK: usize = 500;

        /// Appends events to the store's outbox, numbered after its head. Call it last in
        /// a transaction: the head's row lock is what keeps the numbers in commit order,
        /// and taking it last keeps it short and out of any other lock order.
        async fn append_outbox(conn: &mut Conn, store: StoreId, events: &[NewOutboxEvent]) -> Result<()> {
            if events.is_empty() {
                return Ok(());
            }
            let (last,): (i64,) = ::sqlx::query_as(
                "INSERT INTO outbox_heads (store_id, seq, log_seq) VALUES ($1, $2, 0)
                 ON CONFLICT (store_id) DO UPDATE SET seq = outbox_heads.seq + excluded.seq
                 RETURNING seq",
            )
            .bind(store.as_uuid())
            .bind(events.len() as i64)
            .fetch_one(&mut *conn)
            .await
            .map_err(missing_store)?;
            let first = last - events.len() as i64 + 1;
            for (chunk_index, chunk) in events.chunks(OUTBOX_CHUNK).enumerate() {
                let mut query = ::sqlx::QueryBuilder::<Db>::new(
                    "INSERT INTO outbox_events (store_id, seq, id, kind, payload, created_at) ",
                );
                let base = first + (chunk_index * OUTBOX_CHUNK) as i64;
                query.push_values(chunk.iter().enumerate(), |mut row, (i, e)| {
                    row.push_bind(store.as_uuid())
                        .push_bind(base + i as i64)
                        .push_bind(OutboxEventId::new().as_uuid())
                        .push_bind(e.kind.clone())
                        .push_bind(e.payload.to_string())
                        .push_bind(e.at);
                });
                query.build().execute(&mut *conn).await.map_err(classify)?;
            }
            Ok(())
        }

        /// `stock.low` for each movement that took a variant from above its threshold to
        /// at or below it; appended to the outbox.
        async fn note_low_stock(conn: &mut Conn, store: StoreId, movements: &[Movement]) -> Result<()> {
            let mut low = Vec::new();
            for m in movements.iter().filter(|m| m.quantity < 0) {
                let row: Option<(Option<i64>, Uuid)> = ::sqlx::query_as(
                    "SELECT low_threshold, product_id FROM stock_levels WHERE store_id = $1 AND variant_id = $2",
                )
                .bind(store.as_uuid())
                .bind(m.variant_id.as_uuid())
                .fetch_optional(&mut *conn)
                .await
                .map_err(classify)?;
                if let Some((Some(threshold), product)) = row {
                    let before = m.on_hand_after - m.quantity;
                    if before > threshold && m.on_hand_after <= threshold {
                        low.push(NewOutboxEvent {
                            kind: "stock.low".to_owned(),
                            payload: $crate::serde_json::json!({
                                "variant_id": m.variant_id,
                                "product_id": product,
                                "on_hand": m.on_hand_after,
                                "threshold": threshold,
                                "movement": m.kind.as_str(),
                                "reference": m.reference,
                            }),
                            at: m.created_at,
                        });
                    }
                }
            }
            append_outbox(conn, store, &low).await
        }

        /// Runs `sql` (`$1` the time, `$2` the batch size) until a batch deletes less than
        /// a full one: small batches, as on SQLite every one holds the single writer.
        async fn delete_in_batches(pool: &::sqlx::Pool<Db>, sql: &'static str, before: ::chrono::DateTime<::chrono::Utc>) -> Result<u64> {
            const BATCH: i64 = 5_000;
            let mut removed = 0;
            loop {
                let n = ::sqlx::query(sql)
                    .bind(before)
                    .bind(BATCH)
                    .execute(pool)
                    .await
                    .map_err(classify)?
                    .rows_affected();
                removed += n;
                if n < BATCH as u64 {
                    return Ok(removed);
                }
            }
        }

        #[derive(::sqlx::FromRow)]
        struct OutboxRow {
            store_id: Uuid,
            seq: i64,
            id: Uuid,
            kind: String,
            payload: String,
            created_at: ::chrono::DateTime<::chrono::Utc>,
        }

        impl From<OutboxRow> for OutboxEvent {
            fn from(r: OutboxRow) -> Self {
                OutboxEvent {
                    store_id: StoreId::from_uuid(r.store_id),
                    seq: r.seq,
                    id: OutboxEventId::from_uuid(r.id),
                    kind: r.kind,
                    payload: r.payload,
                    created_at: r.created_at,
                }
            }
        }

        #[derive(::sqlx::FromRow)]
        struct WebhookRow {
            id: Uuid,
            store_id: Uuid,
            url: String,
            events: String,
            description: String,
            active: bool,
            version: i64,
            created_by: Option<Uuid>,
            created_at: ::chrono::DateTime<::chrono::Utc>,
            updated_at: ::chrono::DateTime<::chrono::Utc>,
        }

        impl TryFrom<WebhookRow> for Webhook {
            type Error = StoreError;

            fn try_from(r: WebhookRow) -> Result<Self> {
                Ok(Webhook {
                    id: WebhookId::from_uuid(r.id),
                    store_id: StoreId::from_uuid(r.store_id),
                    url: r.url,
                    events: $crate::documents::from_text("webhook events", &r.events)?,
                    description: r.description,
                    active: r.active,
                    version: r.version,
                    created_by: r.created_by.map(UserId::from_uuid),
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                })
            }
        }

        #[derive(::sqlx::FromRow)]
        struct LeaseRow {
            #[sqlx(flatten)]
            webhook: WebhookRow,
            secret: String,
            taken_seq: i64,
            retry_at: Option<::chrono::DateTime<::chrono::Utc>>,
            lease_token: Option<Uuid>,
        }

        #[derive(::sqlx::FromRow)]
        struct DeliveryRow {
            id: Uuid,
            webhook_id: Uuid,
            store_id: Uuid,
            seq: i64,
            event_id: Uuid,
            kind: String,
            status: String,
            attempts: i32,
            next_attempt_at: Option<::chrono::DateTime<::chrono::Utc>>,
            history: String,
            created_at: ::chrono::DateTime<::chrono::Utc>,
            updated_at: ::chrono::DateTime<::chrono::Utc>,
        }

        impl TryFrom<DeliveryRow> for Delivery {
            type Error = StoreError;

            fn try_from(r: DeliveryRow) -> Result<Self> {
                Ok(Delivery {
                    id: DeliveryId::from_uuid(r.id),
                    webhook_id: WebhookId::from_uuid(r.webhook_id),
                    store_id: StoreId::from_uuid(r.store_id),
                    seq: r.seq,
                    event_id: OutboxEventId::from_uuid(r.event_id),
                    kind: r.kind,
                    status: DeliveryStatus::parse(&r.status)
                        .ok_or_else(|| StoreError::Internal(format!("unknown delivery status {:?}", r.status)))?,
                    attempts: r.attempts,
                    next_attempt_at: r.next_attempt_at,
                    attempt_log: $crate::documents::from_text("delivery attempts", &r.history)?,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                })
            }
        }

        #[derive(::sqlx::FromRow)]
        struct PendingRow {
            #[sqlx(flatten)]
            delivery: DeliveryRow,
            payload: String,
            event_created_at: ::chrono::DateTime<::chrono::Utc>,
        }

        macro_rules! webhook_columns {
            () => {
                "id, store_id, url, events, description, active, version, created_by, created_at, updated_at"
            };
        }

        macro_rules! delivery_columns {
            () => {
                "id, webhook_id, store_id, seq, event_id, kind, status, attempts, next_attempt_at, history, created_at, updated_at"
            };
        }

        fn events_text(webhook: &Webhook) -> Result<String> {
            $crate::serde_json::to_string(&webhook.events).map_err(|e| StoreError::Internal(e.to_string()))
        }

        #[::async_trait::async_trait]
        impl OutboxRepo for $storage {
            async fn outbox_log_position(&self, store: StoreId) -> Result<i64> {
                let row: Option<(i64,)> = ::sqlx::query_as("SELECT log_seq FROM outbox_heads WHERE store_id = $1")
                    .bind(store.as_uuid())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)?;
                Ok(row.map_or(0, |(seq,)| seq))
            }

            async fn copy_log_to_outbox(&self, store: StoreId, from_log_seq: i64, to_log_seq: i64, events: &[NewOutboxEvent]) -> Result<bool> {
                let mut tx = begin_write(self.writer()).await?;
                ::sqlx::query("INSERT INTO outbox_heads (store_id, seq, log_seq) VALUES ($1, 0, 0) ON CONFLICT (store_id) DO NOTHING")
                    .bind(store.as_uuid())
                    .execute(&mut *tx)
                    .await
                    .map_err(missing_store)?;
                let moved = ::sqlx::query("UPDATE outbox_heads SET log_seq = $2 WHERE store_id = $1 AND log_seq = $3")
                    .bind(store.as_uuid())
                    .bind(to_log_seq)
                    .bind(from_log_seq)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?
                    .rows_affected();
                if moved == 0 {
                    return Ok(false);
                }
                append_outbox(&mut tx, store, events).await?;
                tx.commit().await.map_err(classify)?;
                Ok(true)
            }

            async fn outbox_after(&self, store: StoreId, after_seq: i64, limit: i64) -> Result<Vec<OutboxEvent>> {
                let rows: Vec<OutboxRow> = ::sqlx::query_as(
                    "SELECT store_id, seq, id, kind, payload, created_at FROM outbox_events
                     WHERE store_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                )
                .bind(store.as_uuid())
                .bind(after_seq)
                .bind(limit)
                .fetch_all(self.reader())
                .await
                .map_err(classify)?;
                Ok(rows.into_iter().map(OutboxEvent::from).collect())
            }

            async fn outbox_head(&self, store: StoreId) -> Result<i64> {
                let row: Option<(i64,)> = ::sqlx::query_as("SELECT seq FROM outbox_heads WHERE store_id = $1")
                    .bind(store.as_uuid())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)?;
                Ok(row.map_or(0, |(seq,)| seq))
            }

            async fn create_webhook(&self, webhook: &Webhook, secret: &str) -> Result<Webhook> {
                let mut tx = begin_write(self.writer()).await?;
                ::sqlx::query("INSERT INTO outbox_heads (store_id, seq, log_seq) VALUES ($1, 0, 0) ON CONFLICT (store_id) DO NOTHING")
                    .bind(webhook.store_id.as_uuid())
                    .execute(&mut *tx)
                    .await
                    .map_err(missing_store)?;
                ::sqlx::query(
                    "INSERT INTO webhooks (id, store_id, url, secret, events, description, active, taken_seq, retry_at,
                                           lease_token, lease_until, version, created_by, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT seq FROM outbox_heads WHERE store_id = $2), NULL,
                             NULL, NULL, $8, $9, $10, $11)",
                )
                .bind(webhook.id.as_uuid())
                .bind(webhook.store_id.as_uuid())
                .bind(&webhook.url)
                .bind(secret)
                .bind(events_text(webhook)?)
                .bind(&webhook.description)
                .bind(webhook.active)
                .bind(webhook.version)
                .bind(webhook.created_by.map(|u| u.as_uuid()))
                .bind(webhook.created_at)
                .bind(webhook.updated_at)
                .execute(&mut *tx)
                .await
                .map_err(missing_store)?;
                tx.commit().await.map_err(classify)?;
                Ok(webhook.clone())
            }

            async fn get_webhook(&self, store: StoreId, id: WebhookId) -> Result<Option<Webhook>> {
                let row: Option<WebhookRow> = ::sqlx::query_as(concat!("SELECT ", webhook_columns!(), " FROM webhooks WHERE store_id = $1 AND id = $2"))
                    .bind(store.as_uuid())
                    .bind(id.as_uuid())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)?;
                row.map(Webhook::try_from).transpose()
            }

            async fn list_webhooks(&self, store: StoreId) -> Result<Vec<Webhook>> {
                let rows: Vec<WebhookRow> = ::sqlx::query_as(concat!("SELECT ", webhook_columns!(), " FROM webhooks WHERE store_id = $1 ORDER BY id"))
                    .bind(store.as_uuid())
                    .fetch_all(self.reader())
                    .await
                    .map_err(classify)?;
                rows.into_iter().map(Webhook::try_from).collect()
            }

            async fn update_webhook(&self, webhook: &Webhook, expected_version: i64) -> Result<Webhook> {
                let written = ::sqlx::query(
                    "UPDATE webhooks SET url = $3, events = $4, description = $5, active = $6, version = $7, updated_at = $8
                     WHERE store_id = $1 AND id = $2 AND version = $9",
                )
                .bind(webhook.store_id.as_uuid())
                .bind(webhook.id.as_uuid())
                .bind(&webhook.url)
                .bind(events_text(webhook)?)
                .bind(&webhook.description)
                .bind(webhook.active)
                .bind(webhook.version)
                .bind(webhook.updated_at)
                .bind(expected_version)
                .execute(self.writer())
                .await
                .map_err(classify)?
                .rows_affected();
                if written == 1 {
                    return Ok(webhook.clone());
                }
                let current = self.get_webhook(webhook.store_id, webhook.id).await?.map(|w| w.version);
                Err(StoreError::stale_or_missing("webhook", current))
            }

            async fn set_webhook_secret(&self, store: StoreId, id: WebhookId, secret: &str) -> Result<()> {
                let written = ::sqlx::query("UPDATE webhooks SET secret = $3, updated_at = $4 WHERE store_id = $1 AND id = $2")
                    .bind(store.as_uuid())
                    .bind(id.as_uuid())
                    .bind(secret)
                    .bind(clock::now())
                    .execute(self.writer())
                    .await
                    .map_err(classify)?
                    .rows_affected();
                one_row(written, "webhook")
            }

            async fn delete_webhook(&self, store: StoreId, id: WebhookId) -> Result<()> {
                let mut tx = begin_write(self.writer()).await?;
                ::sqlx::query("DELETE FROM webhook_deliveries WHERE store_id = $1 AND webhook_id = $2")
                    .bind(store.as_uuid())
                    .bind(id.as_uuid())
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                let written = ::sqlx::query("DELETE FROM webhooks WHERE store_id = $1 AND id = $2")
                    .bind(store.as_uuid())
                    .bind(id.as_uuid())
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?
                    .rows_affected();
                one_row(written, "webhook")?;
                tx.commit().await.map_err(classify)?;
                Ok(())
            }

            async fn lease_webhooks(&self, now: ::chrono::DateTime<::chrono::Utc>, until: ::chrono::DateTime<::chrono::Utc>, limit: i64) -> Result<Vec<LeasedWebhook>> {
                let token = Uuid::now_v7();
                let rows: Vec<LeaseRow> = ::sqlx::query_as(<$storage as $crate::sql::SqlBackend>::LEASE_WEBHOOKS)
                    .bind(token)
                    .bind(until)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(self.writer())
                    .await
                    .map_err(classify)?;
                rows.into_iter()
                    .map(|r| {
                        Ok(LeasedWebhook {
                            webhook: Webhook::try_from(r.webhook)?,
                            secret: r.secret,
                            token: r.lease_token.unwrap_or(token),
                            taken_seq: r.taken_seq,
                            retry_at: r.retry_at,
                        })
                    })
                    .collect()
            }

            async fn pending_deliveries(&self, id: WebhookId, limit: i64) -> Result<Vec<(Delivery, OutboxEvent)>> {
                let rows: Vec<PendingRow> = ::sqlx::query_as(
                    "SELECT d.id, d.webhook_id, d.store_id, d.seq, d.event_id, d.kind, d.status, d.attempts, d.next_attempt_at,
                            d.history, d.created_at, d.updated_at, e.payload, e.created_at AS event_created_at
                     FROM webhook_deliveries d JOIN outbox_events e ON e.store_id = d.store_id AND e.seq = d.seq
                     WHERE d.webhook_id = $1 AND d.status = 'pending' ORDER BY d.seq LIMIT $2",
                )
                .bind(id.as_uuid())
                .bind(limit)
                .fetch_all(self.writer())
                .await
                .map_err(classify)?;
                rows.into_iter()
                    .map(|r| {
                        let delivery = Delivery::try_from(r.delivery)?;
                        let event = OutboxEvent {
                            store_id: delivery.store_id,
                            seq: delivery.seq,
                            id: delivery.event_id,
                            kind: delivery.kind.clone(),
                            payload: r.payload,
                            created_at: r.event_created_at,
                        };
                        Ok((delivery, event))
                    })
                    .collect()
            }

            async fn finish_lease(&self, id: WebhookId, token: Uuid, taken_seq: i64, deliveries: &[Delivery]) -> Result<bool> {
                let mut tx = begin_write(self.writer()).await?;
                // The lease is checked (and the row locked) first, so a replay waits for
                // this write and never loses its due time to it.
                let held = ::sqlx::query("UPDATE webhooks SET lease_until = lease_until WHERE id = $1 AND lease_token = $2")
                    .bind(id.as_uuid())
                    .bind(token)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?
                    .rows_affected();
                if held == 0 {
                    return Ok(false);
                }
                for chunk in deliveries.chunks(OUTBOX_CHUNK / 2) {
                    let mut query = ::sqlx::QueryBuilder::<Db>::new(
                        "INSERT INTO webhook_deliveries (id, webhook_id, store_id, seq, event_id, kind, status, attempts,
                                                         next_attempt_at, last_status, last_error, history, created_at, updated_at) ",
                    );
                    let mut failed = None;
                    query.push_values(chunk, |mut row, d| {
                        let last = d.attempt_log.last();
                        let history = $crate::serde_json::to_string(&d.attempt_log);
                        let history = history.unwrap_or_else(|e| {
                            failed = Some(e.to_string());
                            String::new()
                        });
                        row.push_bind(d.id.as_uuid())
                            .push_bind(d.webhook_id.as_uuid())
                            .push_bind(d.store_id.as_uuid())
                            .push_bind(d.seq)
                            .push_bind(d.event_id.as_uuid())
                            .push_bind(d.kind.clone())
                            .push_bind(d.status.as_str())
                            .push_bind(d.attempts)
                            .push_bind(d.next_attempt_at)
                            .push_bind(last.and_then(|a| a.status))
                            .push_bind(last.and_then(|a| a.error.clone()))
                            .push_bind(history)
                            .push_bind(d.created_at)
                            .push_bind(d.updated_at);
                    });
                    if let Some(e) = failed {
                        return Err(StoreError::Internal(e));
                    }
                    query.push(
                        " ON CONFLICT (webhook_id, seq) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
                          next_attempt_at = excluded.next_attempt_at, last_status = excluded.last_status,
                          last_error = excluded.last_error, history = excluded.history, updated_at = excluded.updated_at",
                    );
                    query.build().execute(&mut *tx).await.map_err(classify)?;
                }
                ::sqlx::query(
                    "UPDATE webhooks SET taken_seq = $2, lease_token = NULL, lease_until = $3,
                       retry_at = (SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'pending')
                     WHERE id = $1",
                )
                .bind(id.as_uuid())
                .bind(taken_seq)
                // Ended now: the time also puts the webhook behind those served longer ago,
                // so a busy webhook cannot keep the workers from the others.
                .bind(clock::now())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
                tx.commit().await.map_err(classify)?;
                Ok(true)
            }

            async fn prune_outbox(&self, before: ::chrono::DateTime<::chrono::Utc>) -> Result<(u64, u64)> {
                let deliveries = delete_in_batches(
                    self.writer(),
                    "DELETE FROM webhook_deliveries WHERE id IN (
                         SELECT id FROM webhook_deliveries WHERE status <> 'pending' AND updated_at < $1 LIMIT $2)",
                    before,
                )
                .await?;
                let events = delete_in_batches(
                    self.writer(),
                    "DELETE FROM outbox_events WHERE id IN (
                         SELECT e.id FROM outbox_events e
                         WHERE e.created_at < $1
                           AND e.seq <= COALESCE((SELECT MIN(w.taken_seq) FROM webhooks w WHERE w.store_id = e.store_id), e.seq)
                           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                                           WHERE d.store_id = e.store_id AND d.seq = e.seq AND d.status = 'pending')
                         LIMIT $2)",
                    before,
                )
                .await?;
                Ok((deliveries, events))
            }

            async fn list_deliveries(&self, store: StoreId, id: WebhookId, status: Option<DeliveryStatus>, before_seq: Option<i64>, limit: i64) -> Result<Vec<Delivery>> {
                let mut query = ::sqlx::QueryBuilder::<Db>::new(concat!("SELECT ", delivery_columns!(), " FROM webhook_deliveries WHERE store_id = "));
                query.push_bind(store.as_uuid()).push(" AND webhook_id = ").push_bind(id.as_uuid());
                if let Some(status) = status {
                    query.push(" AND status = ").push_bind(status.as_str());
                }
                query.push(" AND seq < ").push_bind(before_seq.unwrap_or(i64::MAX));
                query.push(" ORDER BY seq DESC LIMIT ").push_bind(limit);
                let rows: Vec<DeliveryRow> = query.build_query_as().fetch_all(self.reader()).await.map_err(classify)?;
                rows.into_iter().map(Delivery::try_from).collect()
            }

            async fn get_delivery(&self, store: StoreId, id: WebhookId, delivery: DeliveryId) -> Result<Option<Delivery>> {
                let row: Option<DeliveryRow> = ::sqlx::query_as(concat!(
                    "SELECT ", delivery_columns!(), " FROM webhook_deliveries WHERE store_id = $1 AND webhook_id = $2 AND id = $3"
                ))
                .bind(store.as_uuid())
                .bind(id.as_uuid())
                .bind(delivery.as_uuid())
                .fetch_optional(self.reader())
                .await
                .map_err(classify)?;
                row.map(Delivery::try_from).transpose()
            }

            async fn replay_deliveries(&self, store: StoreId, id: WebhookId, which: Replay, now: ::chrono::DateTime<::chrono::Utc>) -> Result<u64> {
                let mut tx = begin_write(self.writer()).await?;
                // The webhook's row first, as `finish_lease` does: the two never interleave.
                let found = ::sqlx::query("UPDATE webhooks SET updated_at = updated_at WHERE store_id = $1 AND id = $2")
                    .bind(store.as_uuid())
                    .bind(id.as_uuid())
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?
                    .rows_affected();
                one_row(found, "webhook")?;
                let replayed = match which {
                    Replay::One(delivery) => ::sqlx::query(
                        "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $3, updated_at = $3
                         WHERE webhook_id = $1 AND id = $2 AND status <> 'pending'",
                    )
                    .bind(id.as_uuid())
                    .bind(delivery.as_uuid())
                    .bind(now),
                    Replay::AllDead => ::sqlx::query(
                        "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $2, updated_at = $2
                         WHERE webhook_id = $1 AND status = 'dead'",
                    )
                    .bind(id.as_uuid())
                    .bind(now),
                }
                .execute(&mut *tx)
                .await
                .map_err(classify)?
                .rows_affected();
                if replayed > 0 {
                    ::sqlx::query(
                        "UPDATE webhooks SET retry_at = CASE WHEN retry_at IS NULL OR retry_at > $2 THEN $2 ELSE retry_at END WHERE id = $1",
                    )
                    .bind(id.as_uuid())
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                }
                tx.commit().await.map_err(classify)?;
                Ok(replayed)
            }
        }
    };
}
