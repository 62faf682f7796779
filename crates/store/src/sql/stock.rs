/// `StockRepo`; expanded inside [`impl_sql_repos!`](crate::impl_sql_repos).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_sql_stock {
    ($storage:ty) => {
        use $crate::catalog_rows::{MovementRow, StockLevelRow};
        use $crate::{StockFilter, StockRepo, Transfer};
        use ::comanda_domain::catalog::stock::{Movement, MovementKind, NewMovement, StockLevel};
        use ::comanda_domain::StockMovementId;

        /// What the ledger needs to know about a variant of the catalog this store sells from
        /// (its own, or the one it follows): stock is always the store's own.
        struct Stocked {
            product: Uuid,
            track_stock: bool,
            sell_when_out: bool,
        }

        async fn stocked(conn: &mut Conn, store: StoreId, variant: VariantId, field: String) -> Result<Stocked> {
            stocked_if_known(conn, store, variant)
                .await?
                .ok_or_else(|| StoreError::invalid(field, "unknown", "no variant with this id in this store"))
        }

        async fn stocked_if_known(conn: &mut Conn, store: StoreId, variant: VariantId) -> Result<Option<Stocked>> {
            let row: Option<(Uuid, bool, bool)> = ::sqlx::query_as(
                "SELECT p.id, p.track_stock, p.sell_when_out FROM product_variants v JOIN products p ON p.id = v.product_id
                 WHERE v.id = $1 AND v.store_id = COALESCE((SELECT source_id FROM catalog_follows WHERE store_id = $2), $2)",
            )
            .bind(variant.as_uuid())
            .bind(store.as_uuid())
            .fetch_optional(&mut *conn)
            .await
            .map_err(classify)?;
            Ok(row.map(|(product, track_stock, sell_when_out)| Stocked { product, track_stock, sell_when_out }))
        }

        /// Appends one movement and moves the on-hand quantity with it. Row locks on the
        /// level (PostgreSQL) or the single writer (SQLite) keep `on_hand_after` exact.
        async fn append_movement(conn: &mut Conn, store: StoreId, m: &NewMovement, index: usize) -> Result<Movement> {
            let item = stocked(conn, store, m.variant_id, format!("movements[{index}].variant_id")).await?;
            write_movement(conn, store, m, &item, true).await
        }

        /// Writes a movement of a known variant; with `enforce`, a sale that would take a
        /// product that may not be sold when out below what open orders hold is refused. Sales already
        /// made (read from the order log) are written whatever the stock says.
        async fn write_movement(conn: &mut Conn, store: StoreId, m: &NewMovement, item: &Stocked, enforce: bool) -> Result<Movement> {
            let now = clock::now();
            let (on_hand, held): (i64, i64) = ::sqlx::query_as(
                "INSERT INTO stock_levels (store_id, variant_id, product_id, on_hand, low_threshold, updated_at)
                 VALUES ($1, $2, $3, $4, NULL, $5)
                 ON CONFLICT (store_id, variant_id) DO UPDATE SET on_hand = stock_levels.on_hand + $4, updated_at = $5
                 RETURNING on_hand, held",
            )
            .bind(store.as_uuid())
            .bind(m.variant_id.as_uuid())
            .bind(item.product)
            .bind(m.quantity)
            .bind(now)
            .fetch_one(&mut *conn)
            .await
            .map_err(classify)?;
            let selling = matches!(m.kind, MovementKind::Sale | MovementKind::TransferOut);
            // What open orders hold is not for sale a second time.
            if enforce && selling && item.track_stock && !item.sell_when_out && on_hand - held < 0 {
                return Err($crate::group_commit::out_of_stock(m.variant_id, Some((on_hand - m.quantity, held))));
            }
            let id = StockMovementId::new();
            ::sqlx::query_as::<_, MovementRow>(concat!(
                "INSERT INTO stock_movements (id, store_id, variant_id, kind, quantity, on_hand_after, reason, reference, actor_id, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ",
                $crate::movement_columns!()
            ))
            .bind(id.as_uuid())
            .bind(store.as_uuid())
            .bind(m.variant_id.as_uuid())
            .bind(m.kind.as_str())
            .bind(m.quantity)
            .bind(on_hand)
            .bind(m.reason.as_deref())
            .bind(m.reference.as_deref())
            .bind(m.actor.map(|a| a.as_uuid()))
            .bind(now)
            .fetch_one(&mut *conn)
            .await
            .map_err(classify)?
            .try_into()
        }

        /// Gives back what the `settled` orders held: their sale took the units from
        /// stock in the same write.
        async fn give_holds_back(conn: &mut Conn, store: StoreId, settled: &[::comanda_domain::OrderId]) -> Result<()> {
            let mut returned: ::std::collections::BTreeMap<Uuid, i64> = ::std::collections::BTreeMap::new();
            for orders in settled.chunks(500) {
                let mut query = ::sqlx::QueryBuilder::<Db>::new("DELETE FROM stock_holds WHERE store_id = ");
                query.push_bind(store.as_uuid()).push(" AND order_id IN (");
                let mut ids = query.separated(", ");
                for order in orders {
                    ids.push_bind(order.as_uuid());
                }
                query.push(") RETURNING variant_id, quantity");
                let rows: Vec<(Uuid, i64)> = query.build_query_as().fetch_all(&mut *conn).await.map_err(classify)?;
                for (variant, units) in rows {
                    let total = returned.entry(variant).or_default();
                    *total = total.saturating_add(units);
                }
            }
            for (variant, units) in returned {
                ::sqlx::query("UPDATE stock_levels SET held = CASE WHEN held > $3 THEN held - $3 ELSE 0 END WHERE store_id = $1 AND variant_id = $2")
                    .bind(store.as_uuid())
                    .bind(variant)
                    .bind(units)
                    .execute(&mut *conn)
                    .await
                    .map_err(classify)?;
            }
            Ok(())
        }

        #[::async_trait::async_trait]
        impl StockRepo for $storage {
            async fn record_movements(&self, store: StoreId, movements: &[NewMovement]) -> Result<Vec<Movement>> {
                let mut tx = begin_write(self.writer()).await?;
                let mut recorded = Vec::with_capacity(movements.len());
                for (i, m) in movements.iter().enumerate() {
                    recorded.push(append_movement(&mut tx, store, m, i).await?);
                }
                note_low_stock(&mut tx, store, &recorded).await?;
                tx.commit().await.map_err(classify)?;
                Ok(recorded)
            }

            async fn transfer_stock(&self, transfer: &Transfer) -> Result<Vec<Movement>> {
                let reference = format!("transfer {}", StockMovementId::new());
                let mut tx = begin_write(self.writer()).await?;
                let mut outgoing = Vec::with_capacity(transfer.lines.len());
                let mut incoming = Vec::with_capacity(transfer.lines.len());
                for (i, line) in transfer.lines.iter().enumerate() {
                    let sku: Option<(Option<String>,)> = ::sqlx::query_as("SELECT sku FROM product_variants WHERE id = $1 AND store_id = COALESCE((SELECT source_id FROM catalog_follows WHERE store_id = $2), $2)")
                        .bind(line.variant_id.as_uuid())
                        .bind(transfer.from.as_uuid())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(classify)?;
                    let field = format!("lines[{i}].variant_id");
                    let sku = match sku {
                        None => return Err(StoreError::invalid(field, "unknown", "no variant with this id in this store")),
                        Some((None,)) => return Err(StoreError::invalid(field, "no_sku", "only variants with a SKU can be transferred: the SKU finds them in the other store")),
                        Some((Some(sku),)) => sku,
                    };
                    let target: Option<(Uuid,)> = ::sqlx::query_as("SELECT id FROM product_variants WHERE store_id = COALESCE((SELECT source_id FROM catalog_follows WHERE store_id = $1), $1) AND sku = $2 AND NOT archived")
                        .bind(transfer.to.as_uuid())
                        .bind(&sku)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(classify)?;
                    let Some((target,)) = target else {
                        return Err(StoreError::invalid(field, "not_in_destination", format!("the receiving store has no product with SKU {sku}")));
                    };
                    let out = NewMovement {
                        variant_id: line.variant_id,
                        kind: MovementKind::TransferOut,
                        quantity: -line.quantity,
                        reason: transfer.reason.clone(),
                        reference: Some(reference.clone()),
                        actor: transfer.actor,
                    };
                    outgoing.push(append_movement(&mut tx, transfer.from, &out, i).await?);
                    let into = NewMovement { variant_id: VariantId::from_uuid(target), kind: MovementKind::TransferIn, quantity: line.quantity, ..out };
                    incoming.push(append_movement(&mut tx, transfer.to, &into, i).await?);
                }
                // The sending store's head first, then nothing else: the receiving
                // store's stock only went up.
                note_low_stock(&mut tx, transfer.from, &outgoing).await?;
                tx.commit().await.map_err(classify)?;
                outgoing.extend(incoming);
                Ok(outgoing)
            }

            async fn in_stock(&self, store: StoreId) -> Result<Vec<VariantId>> {
                let rows: Vec<(Uuid,)> = ::sqlx::query_as("SELECT variant_id FROM stock_levels WHERE store_id = $1 AND on_hand - held > 0")
                    .bind(store.as_uuid())
                    .fetch_all(self.reader())
                    .await
                    .map_err(classify)?;
                Ok(rows.into_iter().map(|(v,)| VariantId::from_uuid(v)).collect())
            }

            async fn stock_levels(&self, store: StoreId, filter: StockFilter, after: Option<VariantId>, limit: Limit) -> Result<Page<StockLevel, VariantId>> {
                let mut query = ::sqlx::QueryBuilder::<Db>::new(concat!("SELECT ", $crate::stock_level_columns!(), " FROM stock_levels WHERE store_id = "));
                query.push_bind(store.as_uuid());
                if filter.low_only {
                    query.push(" AND low_threshold IS NOT NULL AND on_hand <= low_threshold");
                }
                if let Some(after) = after {
                    query.push(" AND variant_id > ").push_bind(after.as_uuid());
                }
                query.push(" ORDER BY variant_id LIMIT ").push_bind(limit.probe());
                let rows: Vec<StockLevelRow> = query.build_query_as().fetch_all(self.reader()).await.map_err(classify)?;
                let levels: Vec<StockLevel> = rows.into_iter().map(StockLevel::from).collect();
                Ok(Page::from_probe(levels, limit, |l| l.variant_id))
            }

            async fn set_low_threshold(&self, store: StoreId, variant: VariantId, threshold: Option<i64>) -> Result<StockLevel> {
                let mut tx = begin_write(self.writer()).await?;
                let item = stocked(&mut tx, store, variant, "variant_id".into()).await?;
                let row = ::sqlx::query_as::<_, StockLevelRow>(concat!(
                    "INSERT INTO stock_levels (store_id, variant_id, product_id, on_hand, low_threshold, updated_at)
                     VALUES ($1, $2, $3, 0, $4, $5)
                     ON CONFLICT (store_id, variant_id) DO UPDATE SET low_threshold = $4, updated_at = $5
                     RETURNING ",
                    $crate::stock_level_columns!()
                ))
                .bind(store.as_uuid())
                .bind(variant.as_uuid())
                .bind(item.product)
                .bind(threshold)
                .bind(clock::now())
                .fetch_one(&mut *tx)
                .await
                .map_err(classify)?;
                tx.commit().await.map_err(classify)?;
                Ok(row.into())
            }

            async fn stock_movements(&self, store: StoreId, variant: Option<VariantId>, before: Option<StockMovementId>, limit: Limit) -> Result<Page<Movement, StockMovementId>> {
                let mut query = ::sqlx::QueryBuilder::<Db>::new(concat!("SELECT ", $crate::movement_columns!(), " FROM stock_movements WHERE store_id = "));
                query.push_bind(store.as_uuid());
                if let Some(variant) = variant {
                    query.push(" AND variant_id = ").push_bind(variant.as_uuid());
                }
                if let Some(before) = before {
                    query.push(" AND id < ").push_bind(before.as_uuid());
                }
                query.push(" ORDER BY id DESC LIMIT ").push_bind(limit.probe());
                let rows: Vec<MovementRow> = query.build_query_as().fetch_all(self.reader()).await.map_err(classify)?;
                let movements = rows.into_iter().map(Movement::try_from).collect::<Result<Vec<_>>>()?;
                Ok(Page::from_probe(movements, limit, |m| m.id))
            }
        }
    };
}
