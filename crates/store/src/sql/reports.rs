/// `ReportRepo`; expanded inside [`impl_sql_repos!`](crate::impl_sql_repos).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_sql_reports {
    ($storage:ty) => {
        use ::comanda_domain::reports::{Dimension, TotalRow, Totals};
        use ::comanda_domain::shifts::Shift;
        use ::comanda_domain::ShiftId;
        use $crate::{ReportRepo, SalesPosition, ZReport};

        /// The shift `sql` finds by store (`$1`) and `id` (`$2`).
        async fn one_shift(pool: &::sqlx::Pool<Db>, sql: &'static str, store: StoreId, id: Uuid) -> Result<Option<Shift>> {
            let row: Option<(String,)> = ::sqlx::query_as(sql)
                .bind(store.as_uuid())
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(classify)?;
            row.map(|(text,)| $crate::documents::from_text("shift", &text)).transpose()
        }

        fn shift_event(kind: &str, shift: &Shift) -> Result<NewOutboxEvent> {
            Ok(NewOutboxEvent {
                kind: kind.to_owned(),
                payload: $crate::serde_json::to_value(shift).map_err(|e| StoreError::Internal(e.to_string()))?,
                at: clock::now(),
            })
        }

        #[derive(::sqlx::FromRow)]
        struct PositionRow {
            applied_seq: i64,
            day: i64,
            day_from_seq: i64,
            day_opened_at: ::chrono::DateTime<::chrono::Utc>,
        }

        impl From<PositionRow> for SalesPosition {
            fn from(r: PositionRow) -> Self {
                SalesPosition { applied_seq: r.applied_seq, day: r.day, day_from_seq: r.day_from_seq, day_opened_at: r.day_opened_at }
            }
        }

        #[derive(::sqlx::FromRow)]
        struct ZRow {
            store_id: Uuid,
            number: i64,
            from_seq: i64,
            to_seq: i64,
            opened_at: ::chrono::DateTime<::chrono::Utc>,
            closed_at: ::chrono::DateTime<::chrono::Utc>,
            closed_by: Option<Uuid>,
            document: String,
        }

        impl From<ZRow> for ZReport {
            fn from(r: ZRow) -> Self {
                ZReport {
                    store_id: StoreId::from_uuid(r.store_id),
                    number: r.number,
                    from_seq: r.from_seq,
                    to_seq: r.to_seq,
                    opened_at: r.opened_at,
                    closed_at: r.closed_at,
                    closed_by: r.closed_by.map(UserId::from_uuid),
                    document: r.document,
                }
            }
        }

        macro_rules! z_columns {
            () => {
                "store_id, number, from_seq, to_seq, opened_at, closed_at, closed_by, document"
            };
        }

        const POSITION: &str = "SELECT applied_seq, day, day_from_seq, day_opened_at FROM sales_positions WHERE store_id = $1";

        #[::async_trait::async_trait]
        impl ReportRepo for $storage {
            async fn open_shift(&self, shift: &Shift) -> Result<Shift> {
                // Numbers are the next of the store's; two terminals opening at once may
                // pick the same one, and the second tries again.
                let mut attempts = 0;
                loop {
                    let (last,): (Option<i64>,) = ::sqlx::query_as("SELECT MAX(number) FROM shifts WHERE store_id = $1")
                        .bind(shift.store_id.as_uuid())
                        .fetch_one(self.writer())
                        .await
                        .map_err(classify)?;
                    let mut numbered = shift.clone();
                    numbered.number = last.unwrap_or(0) + 1;
                    let mut tx = begin_write(self.writer()).await?;
                    let written = ::sqlx::query(
                        "INSERT INTO shifts (id, store_id, number, device_id, status, day, opened_at, version, document)
                         VALUES ($1, $2, $3, $4, 'open', NULL, $5, $6, $7)",
                    )
                    .bind(numbered.id.as_uuid())
                    .bind(numbered.store_id.as_uuid())
                    .bind(numbered.number)
                    .bind(numbered.device_id.as_uuid())
                    .bind(numbered.opened_at)
                    .bind(numbered.version)
                    .bind($crate::documents::to_text(&numbered)?)
                    .execute(&mut *tx)
                    .await
                    .map_err(missing_store);
                    attempts += 1;
                    match written {
                        Ok(_) => {
                            append_outbox(&mut tx, numbered.store_id, &[shift_event("shift.opened", &numbered)?]).await?;
                            tx.commit().await.map_err(classify)?;
                            return Ok(numbered);
                        }
                        Err(StoreError::Conflict { field: "number", .. }) if attempts < 5 => continue,
                        Err(e) => return Err(e),
                    }
                }
            }

            async fn get_shift(&self, store: StoreId, id: ShiftId) -> Result<Option<Shift>> {
                one_shift(self.reader(), "SELECT document FROM shifts WHERE store_id = $1 AND id = $2", store, id.as_uuid()).await
            }

            async fn open_shift_of(&self, store: StoreId, device: DeviceId) -> Result<Option<Shift>> {
                one_shift(self.reader(), "SELECT document FROM shifts WHERE store_id = $1 AND device_id = $2 AND status = 'open'", store, device.as_uuid()).await
            }

            async fn save_shift(&self, shift: &Shift, expected_version: i64) -> Result<Shift> {
                let status = match shift.status {
                    ::comanda_domain::shifts::ShiftStatus::Open => "open",
                    ::comanda_domain::shifts::ShiftStatus::Closed => "closed",
                };
                let mut tx = begin_write(self.writer()).await?;
                let written = ::sqlx::query(
                    "UPDATE shifts SET status = $3, day = $4, version = $5, document = $6
                     WHERE id = $1 AND store_id = $2 AND version = $7",
                )
                .bind(shift.id.as_uuid())
                .bind(shift.store_id.as_uuid())
                .bind(status)
                .bind(shift.day)
                .bind(shift.version)
                .bind($crate::documents::to_text(shift)?)
                .bind(expected_version)
                .execute(&mut *tx)
                .await
                .map_err(classify)?
                .rows_affected();
                if written == 1 {
                    if shift.status == ::comanda_domain::shifts::ShiftStatus::Closed {
                        append_outbox(&mut tx, shift.store_id, &[shift_event("shift.closed", shift)?]).await?;
                    }
                    tx.commit().await.map_err(classify)?;
                    return Ok(shift.clone());
                }
                drop(tx);
                let current = self.get_shift(shift.store_id, shift.id).await?.map(|s| s.version);
                Err(StoreError::stale_or_missing("shift", current))
            }

            async fn list_shifts(&self, store: StoreId, day: Option<i64>) -> Result<Vec<Shift>> {
                let rows: Vec<(String,)> = match day {
                    None => ::sqlx::query_as("SELECT document FROM shifts WHERE store_id = $1 AND status = 'open' ORDER BY number")
                        .bind(store.as_uuid())
                        .fetch_all(self.reader())
                        .await,
                    Some(day) => ::sqlx::query_as("SELECT document FROM shifts WHERE store_id = $1 AND day = $2 ORDER BY number")
                        .bind(store.as_uuid())
                        .bind(day)
                        .fetch_all(self.reader())
                        .await,
                }
                .map_err(classify)?;
                $crate::documents::documents("shift", rows)
            }

            async fn sales_position(&self, store: StoreId) -> Result<SalesPosition> {
                let row: Option<PositionRow> = ::sqlx::query_as(POSITION)
                    .bind(store.as_uuid())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)?;
                if let Some(row) = row {
                    return Ok(row.into());
                }
                ::sqlx::query(
                    "INSERT INTO sales_positions (store_id, applied_seq, day, day_from_seq, day_opened_at)
                     VALUES ($1, 0, 1, 0, $2) ON CONFLICT (store_id) DO NOTHING",
                )
                .bind(store.as_uuid())
                .bind(clock::now())
                .execute(self.writer())
                .await
                .map_err(missing_store)?;
                let row: PositionRow = ::sqlx::query_as(POSITION)
                    .bind(store.as_uuid())
                    .fetch_one(self.writer())
                    .await
                    .map_err(classify)?;
                Ok(row.into())
            }

            async fn apply_sales(&self, store: StoreId, from: SalesPosition, to_seq: i64, changes: &Totals, stock: &[NewMovement], settled: &[::comanda_domain::OrderId]) -> Result<bool> {
                let mut tx = begin_write(self.writer()).await?;
                let moved = ::sqlx::query(
                    "UPDATE sales_positions SET applied_seq = $2 WHERE store_id = $1 AND applied_seq = $3 AND day = $4",
                )
                .bind(store.as_uuid())
                .bind(to_seq)
                .bind(from.applied_seq)
                .bind(from.day)
                .execute(&mut *tx)
                .await
                .map_err(classify)?
                .rows_affected();
                if moved == 0 {
                    return Ok(false);
                }
                for ((dimension, key), t) in &changes.rows {
                    ::sqlx::query(
                        "INSERT INTO sales_totals (store_id, day, dimension, key, label, count, quantity, amount, tax, extra)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                         ON CONFLICT (store_id, day, dimension, key) DO UPDATE SET
                           label = CASE WHEN excluded.label = '' THEN sales_totals.label ELSE excluded.label END,
                           count = sales_totals.count + excluded.count,
                           quantity = sales_totals.quantity + excluded.quantity,
                           amount = sales_totals.amount + excluded.amount,
                           tax = sales_totals.tax + excluded.tax,
                           extra = sales_totals.extra + excluded.extra",
                    )
                    .bind(store.as_uuid())
                    .bind(from.day)
                    .bind(dimension.as_str())
                    .bind(key)
                    .bind(&t.label)
                    .bind(t.count)
                    .bind(t.quantity)
                    .bind(t.amount)
                    .bind(t.tax)
                    .bind(t.extra)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                }
                // One look at the catalog per variant and batch, not per line sold.
                let mut known: HashMap<VariantId, Option<Stocked>> = HashMap::new();
                let mut moved = Vec::new();
                for m in stock {
                    if !known.contains_key(&m.variant_id) {
                        let item = stocked_if_known(&mut tx, store, m.variant_id).await?.filter(|i| i.track_stock);
                        known.insert(m.variant_id, item);
                    }
                    if let Some(Some(item)) = known.get(&m.variant_id) {
                        moved.push(write_movement(&mut tx, store, m, item, false).await?);
                    }
                }
                note_low_stock(&mut tx, store, &moved).await?;
                give_holds_back(&mut tx, store, settled).await?;
                tx.commit().await.map_err(classify)?;
                Ok(true)
            }

            async fn sales_totals(&self, store: StoreId, day: i64) -> Result<Vec<TotalRow>> {
                let rows: Vec<(String, String, String, i64, i64, i64, i64, i64)> = ::sqlx::query_as(
                    "SELECT dimension, key, label, count, quantity, amount, tax, extra FROM sales_totals
                     WHERE store_id = $1 AND day = $2",
                )
                .bind(store.as_uuid())
                .bind(day)
                .fetch_all(self.reader())
                .await
                .map_err(classify)?;
                rows.into_iter()
                    .map(|(dimension, key, label, count, quantity, amount, tax, extra)| {
                        let dimension: Dimension = dimension
                            .parse()
                            .map_err(|()| StoreError::Internal(format!("unknown sales dimension {dimension:?}")))?;
                        Ok(TotalRow {
                            dimension,
                            key,
                            total: ::comanda_domain::reports::Total { label, count, quantity, amount, tax, extra },
                        })
                    })
                    .collect()
            }

            async fn close_day(
                &self,
                store: StoreId,
                at: SalesPosition,
                closed_at: ::chrono::DateTime<::chrono::Utc>,
                closed_by: Option<UserId>,
                document: &str,
            ) -> Result<bool> {
                let mut tx = begin_write(self.writer()).await?;
                let moved = ::sqlx::query(
                    "UPDATE sales_positions SET day = day + 1, day_from_seq = applied_seq, day_opened_at = $4
                     WHERE store_id = $1 AND applied_seq = $2 AND day = $3",
                )
                .bind(store.as_uuid())
                .bind(at.applied_seq)
                .bind(at.day)
                .bind(closed_at)
                .execute(&mut *tx)
                .await
                .map_err(classify)?
                .rows_affected();
                if moved == 0 {
                    return Ok(false);
                }
                ::sqlx::query(
                    "INSERT INTO z_reports (store_id, number, from_seq, to_seq, opened_at, closed_at, closed_by, document)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(store.as_uuid())
                .bind(at.day)
                .bind(at.day_from_seq)
                .bind(at.applied_seq)
                .bind(at.day_opened_at)
                .bind(closed_at)
                .bind(closed_by.map(|u| u.as_uuid()))
                .bind(document)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
                let report: $crate::serde_json::Value = $crate::serde_json::from_str(document).unwrap_or($crate::serde_json::Value::Null);
                let closed = NewOutboxEvent {
                    kind: "day.closed".to_owned(),
                    payload: $crate::serde_json::json!({
                        "number": at.day,
                        "opened_at": at.day_opened_at,
                        "closed_at": closed_at,
                        "closed_by": closed_by,
                        "report": report,
                    }),
                    at: closed_at,
                };
                append_outbox(&mut tx, store, &[closed]).await?;
                tx.commit().await.map_err(classify)?;
                Ok(true)
            }

            async fn z_reports(&self, store: StoreId, before: Option<i64>, limit: i64) -> Result<Vec<ZReport>> {
                let rows: Vec<ZRow> = ::sqlx::query_as(concat!("SELECT ", z_columns!(), " FROM z_reports WHERE store_id = $1 AND number < $2 ORDER BY number DESC LIMIT $3"))
                    .bind(store.as_uuid())
                    .bind(before.unwrap_or(i64::MAX))
                    .bind(limit)
                    .fetch_all(self.reader())
                    .await
                    .map_err(classify)?;
                Ok(rows.into_iter().map(ZReport::from).collect())
            }

            async fn processor_event_seen(&self, provider: &str, id: &str) -> Result<bool> {
                let row: Option<(String,)> = ::sqlx::query_as("SELECT kind FROM processor_events WHERE provider = $1 AND event_id = $2")
                    .bind(provider)
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)?;
                Ok(row.is_some())
            }

            async fn note_processor_event(&self, provider: &str, id: &str, kind: &str) -> Result<bool> {
                let written = ::sqlx::query(
                    "INSERT INTO processor_events (provider, event_id, kind, received_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (provider, event_id) DO NOTHING",
                )
                .bind(provider)
                .bind(id)
                .bind(kind)
                .bind(clock::now())
                .execute(self.writer())
                .await
                .map_err(classify)?
                .rows_affected();
                Ok(written == 1)
            }

            async fn z_report(&self, store: StoreId, number: i64) -> Result<Option<ZReport>> {
                let row: Option<ZRow> = ::sqlx::query_as(concat!("SELECT ", z_columns!(), " FROM z_reports WHERE store_id = $1 AND number = $2"))
                    .bind(store.as_uuid())
                    .bind(number)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)?;
                Ok(row.map(ZReport::from))
            }
        }
    };
}
