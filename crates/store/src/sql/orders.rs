/// `OrderRepo`; expanded inside [`impl_sql_repos!`](crate::impl_sql_repos).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_sql_orders {
    ($storage:ty) => {
        use $crate::orders::order_from_stored;
        use $crate::{CommitOutcome, DiningTable, OrderCommit, OrderFilter, OrderRepo, Respond, ServiceArea, TableDraft};
        use ::comanda_domain::orders::chain::{LoggedEvent, GENESIS};
        use $crate::group_commit::{statements, CommitJob, LogHead, Prepared};
        use ::comanda_domain::orders::Order;
        use ::comanda_domain::{OrderId, ServiceAreaId, TableId};

        type AreaRow = (Uuid, Uuid, String, i32, bool);
        type TableRow = (Uuid, Uuid, Option<Uuid>, String, i32, i32, bool, i64);
        type EventRow = (Uuid, i64, Uuid, String, Vec<u8>, Option<Uuid>, Option<Uuid>, ::chrono::DateTime<::chrono::Utc>, Vec<u8>);


        fn area(row: AreaRow) -> ServiceArea {
            ServiceArea { id: ServiceAreaId::from_uuid(row.0), store_id: StoreId::from_uuid(row.1), name: row.2, position: row.3, archived: row.4 }
        }

        fn table(row: TableRow) -> DiningTable {
            DiningTable {
                id: TableId::from_uuid(row.0),
                store_id: StoreId::from_uuid(row.1),
                area_id: row.2.map(ServiceAreaId::from_uuid),
                name: row.3,
                seats: row.4,
                position: row.5,
                archived: row.6,
                version: row.7,
            }
        }

        fn logged(dictionaries: &$crate::packed::Dictionaries, row: EventRow) -> Result<LoggedEvent> {
            Ok(LoggedEvent {
                store_id: StoreId::from_uuid(row.0),
                seq: row.1,
                order_id: OrderId::from_uuid(row.2),
                kind: row.3,
                payload: dictionaries.unpack_text("event payload", row.4)?,
                actor: row.5.map(UserId::from_uuid),
                device: row.6.map(DeviceId::from_uuid),
                at: row.7,
                hash: row.8,
            })
        }

        async fn check_area(conn: &mut Conn, store: StoreId, area: Option<ServiceAreaId>) -> Result<()> {
            if let Some(area) = area {
                if present(conn, "SELECT id FROM service_areas WHERE store_id = ", store, &[area.as_uuid()]).await?.is_empty() {
                    return Err(StoreError::invalid("area_id", "unknown", "no such area in this store"));
                }
            }
            Ok(())
        }

        type VersionedQuery<'q> = ::sqlx::query::Query<'q, Db, <Db as ::sqlx::Database>::Arguments<'q>>;

        /// Creates a versioned row (`expected` 0: `insert`, which must not overwrite one
        /// that exists) or changes it (`update`, whose last parameter is the version it
        /// must still have); `bind` binds the values both share. The rows written.
        async fn save_versioned<'q>(
            pool: &::sqlx::Pool<Db>,
            expected: i64,
            insert: &'q str,
            update: &'q str,
            bind: impl Fn(VersionedQuery<'q>) -> VersionedQuery<'q>,
        ) -> Result<u64> {
            Ok(if expected == 0 {
                bind(::sqlx::query(insert)).execute(pool).await.map_err(missing_store)?.rows_affected()
            } else {
                bind(::sqlx::query(update)).bind(expected).execute(pool).await.map_err(classify)?.rows_affected()
            })
        }

        /// Keeps the write's answer for its key, in the write's transaction. `Err(outcome)`
        /// when the key already holds another answer (the caller then rolls back).
        async fn keep_answer(conn: &mut Conn, claim: &$crate::IdempotencyClaim, answer: &$crate::group_commit::Answer, dictionaries: &$crate::packed::Dictionaries) -> Result<::std::result::Result<(), CommitOutcome>> {
            let kept = ::sqlx::query(statements::KEEP_ANSWER)
                .bind(claim.key_id())
                .bind(&claim.request_hash)
                .bind(i32::from(answer.response.status))
                .bind(answer.response.headers_text()?)
                .bind(&answer.packed_body)
                .bind(clock::now().timestamp_millis())
                .bind(claim.lease_until.timestamp_millis())
                .bind(claim.expires_at.timestamp_millis())
                .execute(&mut *conn)
                .await
                .map_err(classify)?
                .rows_affected();
            if kept == 1 {
                return Ok(Ok(()));
            }
            let row: Option<$crate::group_commit::KeyRow> = ::sqlx::query_as(statements::READ_KEY)
                .bind(claim.key_id())
                .fetch_optional(&mut *conn)
                .await
                .map_err(classify)?;
            read_dictionaries(&mut *conn, dictionaries, dictionaries.missing(row.iter().filter_map(|r| r.3.as_deref()))).await?;
            Ok(Err($crate::group_commit::key_taken(claim, row, dictionaries)?))
        }

        async fn take_head(conn: &mut Conn, store: StoreId) -> Result<LogHead> {
            let (seq, hash, last_number): (i64, Vec<u8>, i64) = ::sqlx::query_as(statements::TAKE_HEAD)
                .bind(store.as_uuid())
                .bind(GENESIS.to_vec())
                .fetch_one(&mut *conn)
                .await
                .map_err(missing_store)?;
            Ok(LogHead { seq, hash, last_number })
        }

        /// Writes one order: a new one, or a change checked against its version.
        async fn write_order(conn: &mut Conn, store: StoreId, order: &Order, document: &$crate::group_commit::Document, expected: Option<i64>) -> Result<()> {
            let Some(expected) = expected else {
                ::sqlx::query(statements::INSERT_ORDER)
                    .bind(order.id.as_uuid())
                    .bind(store.as_uuid())
                    .bind(order.number)
                    .bind(order.kind.as_str())
                    .bind(order.status.as_str())
                    .bind(order.table_id.map(|t| t.as_uuid()))
                    .bind(order.opened_by.map(|u| u.as_uuid()))
                    .bind(document.due)
                    .bind(order.version)
                    .bind(order.opened_at)
                    .bind(order.updated_at)
                    .bind(&document.packed)
                    .bind(document.in_kitchen)
                    .execute(&mut *conn)
                    .await
                    .map_err(classify)?;
                return Ok(());
            };
            let updated = ::sqlx::query(statements::UPDATE_ORDER)
                .bind(order.id.as_uuid())
                .bind(store.as_uuid())
                .bind(order.status.as_str())
                .bind(order.table_id.map(|t| t.as_uuid()))
                .bind(document.due)
                .bind(order.version)
                .bind(order.updated_at)
                .bind(&document.packed)
                .bind(expected)
                .bind(document.in_kitchen)
                .execute(&mut *conn)
                .await
                .map_err(classify)?
                .rows_affected();
            if updated == 1 {
                return Ok(());
            }
            let current: Option<(i64,)> = ::sqlx::query_as(statements::ORDER_VERSION)
                .bind(order.id.as_uuid())
                .bind(store.as_uuid())
                .fetch_optional(&mut *conn)
                .await
                .map_err(classify)?;
            Err($crate::group_commit::stale(current.map(|(v,)| v)))
        }

        /// One commit inside the group's transaction, continuing the store's chain from
        /// `head` (advanced only if the commit is written). The answer is known before
        /// anything is written: the key is taken first, then the orders, then the events
        /// in one statement. A refusal after the key was taken gives the key back (one
        /// order) or rolls back to the savepoint the caller set (several orders).
        async fn commit_in(conn: &mut Conn, job: &CommitJob, head: &mut LogHead) -> Result<CommitOutcome> {
            let commit = &job.commit;
            let prepared = Prepared::new(job, head)?;
            if let Some(claim) = &commit.idempotency {
                if let Err(outcome) = keep_answer(&mut *conn, claim, &prepared.answer, &job.dictionaries).await? {
                    return Ok(outcome);
                }
            }
            for ((order, document), write) in prepared.orders.iter().zip(&prepared.documents).zip(&commit.orders) {
                if let Err(e) = write_order(&mut *conn, commit.store, order, document, write.expected_version).await {
                    if let (Some(claim), 1) = (&commit.idempotency, commit.orders.len()) {
                        ::sqlx::query(statements::GIVE_KEY_BACK)
                            .bind(claim.key_id())
                            .execute(&mut *conn)
                            .await
                            .map_err(classify)?;
                    }
                    return Err(e);
                }
            }
            hold_stock(&mut *conn, commit.store, &job.holds).await?;
            if !prepared.events.is_empty() {
                let mut insert = ::sqlx::QueryBuilder::<Db>::new(statements::INSERT_EVENTS);
                insert.push_values(prepared.events.iter().zip(job.packed_payloads()), |mut row, (e, packed)| {
                    row.push_bind(e.store_id.as_uuid())
                        .push_bind(e.seq)
                        .push_bind(e.order_id.as_uuid())
                        .push_bind(e.kind.clone())
                        .push_bind(packed.to_vec())
                        .push_bind(e.actor.map(|a| a.as_uuid()))
                        .push_bind(e.device.map(|d| d.as_uuid()))
                        .push_bind(e.at)
                        .push_bind(e.hash.clone());
                });
                insert.build().execute(&mut *conn).await.map_err(classify)?;
            }
            *head = prepared.head.clone();
            Ok(prepared.committed())
        }

        /// Moves the units the commit's orders hold; `OutOfStock` when one is not
        /// available (the caller's savepoint undoes the rest of the commit).
        async fn hold_stock(conn: &mut Conn, store: StoreId, holds: &[$crate::orders::StockHold]) -> Result<()> {
            if holds.is_empty() {
                return Ok(());
            }
            let mut stored = Vec::with_capacity(holds.len());
            for hold in holds {
                let rows: Vec<(Uuid, i64)> = ::sqlx::query_as(statements::READ_HOLDS)
                    .bind(hold.order.as_uuid())
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(classify)?;
                stored.push(rows.into_iter().map(|(v, n)| (::comanda_domain::VariantId::from_uuid(v), n)).collect());
            }
            let changes = $crate::group_commit::HoldChanges::of(holds, &stored);
            for (variant, units) in &changes.moves {
                let moved = ::sqlx::query(statements::MOVE_HELD)
                    .bind(store.as_uuid())
                    .bind(variant.as_uuid())
                    .bind(*units)
                    .execute(&mut *conn)
                    .await
                    .map_err(classify)?
                    .rows_affected();
                if moved == 0 && *units > 0 {
                    let level: Option<(i64, i64)> = ::sqlx::query_as(statements::READ_LEVEL)
                        .bind(store.as_uuid())
                        .bind(variant.as_uuid())
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(classify)?;
                    return Err($crate::group_commit::out_of_stock(*variant, level));
                }
            }
            for (order, variant, units) in &changes.put {
                ::sqlx::query(statements::PUT_HOLD)
                    .bind(store.as_uuid())
                    .bind(order.as_uuid())
                    .bind(variant.as_uuid())
                    .bind(*units)
                    .execute(&mut *conn)
                    .await
                    .map_err(classify)?;
            }
            for (order, variant) in &changes.drop {
                ::sqlx::query(statements::DROP_HOLD)
                    .bind(order.as_uuid())
                    .bind(variant.as_uuid())
                    .execute(&mut *conn)
                    .await
                    .map_err(classify)?;
            }
            Ok(())
        }

        /// Writes every queued commit in one transaction and answers them once it is
        /// committed: one fsync for many orders.
        /// The committer keeps one connection from group to group (taking one from the
        /// pool costs a round trip to check it). If the kept one has gone bad (the
        /// database restarted), its `BEGIN` fails before anything of the group was sent,
        /// so the group starts again on a fresh one; after any other failure the
        /// connection is let go.
        /// A backend's [`AtOnce`]($crate::group_commit::AtOnce) writer is tried first;
        /// when it gives a group up, the group is written statement by statement.
        async fn group_commits(
            pool: ::sqlx::Pool<Db>,
            mut jobs: $crate::tokio::sync::mpsc::Receiver<CommitJob>,
            tail: ::std::sync::Arc<$crate::log_tail::LogTail>,
            mut at_once: Option<Box<dyn $crate::group_commit::AtOnce<Db>>>,
        ) {
            let mut held: Option<::sqlx::pool::PoolConnection<Db>> = None;
            while let Some(first) = jobs.recv().await {
                let group = $crate::group_commit::gather(first, &mut jobs);
                let mut outcomes = Err(StoreError::Unavailable("no connection for the commit".into()));
                for fresh in [false, true] {
                    if fresh || held.is_none() {
                        match pool.acquire().await {
                            Ok(conn) => held = Some(conn),
                            Err(e) => {
                                outcomes = Err(classify(e));
                                break;
                            }
                        }
                    }
                    let Some(conn) = held.as_mut() else { break };
                    if let Some(writer) = at_once.as_mut() {
                        if let Some(written) = writer.write(&mut **conn, &group).await {
                            outcomes = Ok(written);
                            break;
                        }
                    }
                    let begun = match begin_on(conn).await {
                        Ok(tx) => {
                            outcomes = commit_group(tx, &group).await;
                            true
                        }
                        Err(e) => {
                            outcomes = Err(e);
                            false
                        }
                    };
                    if outcomes.is_err() {
                        held = None;
                    }
                    if begun {
                        break;
                    }
                }
                $crate::group_commit::answer(group, outcomes, &tail);
            }
        }

        async fn begin_on(conn: &mut ::sqlx::pool::PoolConnection<Db>) -> Result<::sqlx::Transaction<'_, Db>> {
            match <$storage as $crate::sql::SqlBackend>::BEGIN_WRITE {
                Some(statement) => ::sqlx::Connection::begin_with(&mut **conn, statement).await,
                None => ::sqlx::Connection::begin(&mut **conn).await,
            }
            .map_err(classify)
        }

        async fn commit_group(mut tx: ::sqlx::Transaction<'_, Db>, group: &[CommitJob]) -> Result<Vec<Result<CommitOutcome>>> {
            let mut heads: HashMap<StoreId, (LogHead, bool)> = HashMap::new();
            let mut outcomes = Vec::with_capacity(group.len());
            for job in group {
                let store = job.commit.store;
                if !heads.contains_key(&store) {
                    let head = take_head(&mut tx, store).await?;
                    heads.insert(store, (head, false));
                }
                let Some((head, moved)) = heads.get_mut(&store) else { continue };
                let several = job.needs_savepoint();
                if several {
                    ::sqlx::query(statements::SAVEPOINT).execute(&mut *tx).await.map_err(classify)?;
                }
                let outcome = commit_in(&mut tx, job, head).await;
                let written = match $crate::group_commit::step(&outcome, several) {
                    $crate::group_commit::Step::Moved => true,
                    $crate::group_commit::Step::Refused => false,
                    $crate::group_commit::Step::FailGroup(e) => return Err(e),
                };
                *moved |= written;
                if several {
                    let end = if written { statements::RELEASE } else { statements::ROLLBACK_TO };
                    ::sqlx::query(end).execute(&mut *tx).await.map_err(classify)?;
                }
                outcomes.push(outcome);
            }
            for (store, (head, moved)) in &heads {
                if *moved {
                    ::sqlx::query(<$storage as $crate::sql::SqlBackend>::MOVE_HEAD)
                        .bind(store.as_uuid())
                        .bind(head.seq)
                        .bind(&head.hash)
                        .bind(head.last_number)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                }
            }
            tx.commit().await.map_err(classify)?;
            Ok(outcomes)
        }

        /// One range of an order list, newest first, cut at `probe` rows: the store's
        /// orders of `status` (the (store, status, id) index, where the table is only
        /// checked) or, without one, the (store, id) or (store, table, id) index.
        fn list_range<'q>(query: &mut ::sqlx::QueryBuilder<'q, Db>, store: StoreId, status: Option<&'q str>, filter: &OrderFilter, before: Option<OrderId>, probe: i64) {
            let plain = <$storage as $crate::sql::SqlBackend>::NOT_AN_INDEX;
            query.push("SELECT id, document FROM orders WHERE store_id = ").push_bind(store.as_uuid());
            if let Some(status) = status {
                query.push(" AND status = ").push_bind(status);
            }
            if let Some(table) = filter.table {
                let plain = if status.is_some() { plain } else { "" };
                query.push(format!(" AND {plain}table_id = ")).push_bind(table.as_uuid());
            }
            if let Some(kind) = filter.kind {
                query.push(format!(" AND {plain}kind = ")).push_bind(kind.as_str());
            }
            if let Some(user) = filter.opened_by {
                query.push(format!(" AND {plain}opened_by = ")).push_bind(user.as_uuid());
            }
            if let Some(from) = filter.opened_from {
                query.push(" AND opened_at >= ").push_bind(from);
            }
            if let Some(until) = filter.opened_until {
                query.push(" AND opened_at < ").push_bind(until);
            }
            if let Some(before) = before {
                query.push(" AND id < ").push_bind(before.as_uuid());
            }
            query.push(" ORDER BY id DESC LIMIT ").push_bind(probe);
        }

        #[::async_trait::async_trait]
        impl OrderRepo for $storage {
            async fn create_area(&self, store: StoreId, name: &str, position: i32) -> Result<ServiceArea> {
                let row: AreaRow = ::sqlx::query_as("INSERT INTO service_areas (id, store_id, name, position, archived, created_at) VALUES ($1, $2, $3, $4, FALSE, $5) RETURNING id, store_id, name, position, archived")
                    .bind(ServiceAreaId::new().as_uuid())
                    .bind(store.as_uuid())
                    .bind(name)
                    .bind(position)
                    .bind(clock::now())
                    .fetch_one(self.writer())
                    .await
                    .map_err(missing_store)?;
                Ok(area(row))
            }

            async fn list_areas(&self, store: StoreId) -> Result<Vec<ServiceArea>> {
                let rows: Vec<AreaRow> = ::sqlx::query_as("SELECT id, store_id, name, position, archived FROM service_areas WHERE store_id = $1 ORDER BY position, name, id")
                    .bind(store.as_uuid())
                    .fetch_all(self.reader())
                    .await
                    .map_err(classify)?;
                Ok(rows.into_iter().map(area).collect())
            }

            async fn create_table(&self, store: StoreId, draft: &TableDraft) -> Result<DiningTable> {
                let mut tx = begin_write(self.writer()).await?;
                check_area(&mut tx, store, draft.area_id).await?;
                let row: TableRow = ::sqlx::query_as(
                    "INSERT INTO dining_tables (id, store_id, area_id, name, seats, position, archived, version, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8) RETURNING id, store_id, area_id, name, seats, position, archived, version",
                )
                .bind(TableId::new().as_uuid())
                .bind(store.as_uuid())
                .bind(draft.area_id.map(|a| a.as_uuid()))
                .bind(&draft.name)
                .bind(draft.seats)
                .bind(draft.position)
                .bind(draft.archived)
                .bind(clock::now())
                .fetch_one(&mut *tx)
                .await
                .map_err(classify)?;
                tx.commit().await.map_err(classify)?;
                Ok(table(row))
            }

            async fn update_table(&self, store: StoreId, id: TableId, expected_version: i64, draft: &TableDraft) -> Result<DiningTable> {
                let mut tx = begin_write(self.writer()).await?;
                owned(&mut tx, "SELECT id FROM dining_tables WHERE store_id = ", store, id.as_uuid(), "table").await?;
                check_area(&mut tx, store, draft.area_id).await?;
                let row: Option<TableRow> = ::sqlx::query_as(
                    "UPDATE dining_tables SET area_id = $3, name = $4, seats = $5, position = $6, archived = $7, version = version + 1
                     WHERE id = $1 AND store_id = $2 AND version = $8 RETURNING id, store_id, area_id, name, seats, position, archived, version",
                )
                .bind(id.as_uuid())
                .bind(store.as_uuid())
                .bind(draft.area_id.map(|a| a.as_uuid()))
                .bind(&draft.name)
                .bind(draft.seats)
                .bind(draft.position)
                .bind(draft.archived)
                .bind(expected_version)
                .fetch_optional(&mut *tx)
                .await
                .map_err(classify)?;
                let Some(row) = row else {
                    let (current,): (i64,) = ::sqlx::query_as("SELECT version FROM dining_tables WHERE id = $1")
                        .bind(id.as_uuid())
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(classify)?;
                    return Err(StoreError::VersionMismatch { entity: "table", current });
                };
                tx.commit().await.map_err(classify)?;
                Ok(table(row))
            }

            async fn get_table(&self, store: StoreId, id: TableId) -> Result<Option<DiningTable>> {
                let row: Option<TableRow> = ::sqlx::query_as("SELECT id, store_id, area_id, name, seats, position, archived, version FROM dining_tables WHERE id = $1 AND store_id = $2")
                    .bind(id.as_uuid())
                    .bind(store.as_uuid())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)?;
                Ok(row.map(table))
            }

            async fn list_tables(&self, store: StoreId) -> Result<Vec<DiningTable>> {
                let rows: Vec<TableRow> = ::sqlx::query_as("SELECT id, store_id, area_id, name, seats, position, archived, version FROM dining_tables WHERE store_id = $1 ORDER BY position, name, id")
                    .bind(store.as_uuid())
                    .fetch_all(self.reader())
                    .await
                    .map_err(classify)?;
                Ok(rows.into_iter().map(table).collect())
            }

            async fn order_policy(&self, store: StoreId) -> Result<::comanda_domain::orders::commands::OrderPolicy> {
                let row: Option<(i32, bool, i64)> = ::sqlx::query_as("SELECT discount_approval_above, void_needs_approval, version FROM order_settings WHERE store_id = $1")
                    .bind(store.as_uuid())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)?;
                let mut policy = ::comanda_domain::orders::commands::OrderPolicy::default();
                if let Some((above, void, version)) = row {
                    policy.discount_approval_above = u32::try_from(above)
                        .ok()
                        .and_then(::comanda_domain::tax::Rate::from_units)
                        .ok_or_else(|| StoreError::Internal(format!("unreadable approval threshold {above}")))?;
                    policy.void_needs_approval = void;
                    policy.version = version;
                }
                Ok(policy)
            }

            async fn set_order_policy(&self, store: StoreId, expected_version: i64, policy: &::comanda_domain::orders::commands::OrderPolicy) -> Result<::comanda_domain::orders::commands::OrderPolicy> {
                let above = i32::try_from(policy.discount_approval_above.units()).map_err(|e| StoreError::Internal(e.to_string()))?;
                let written = save_versioned(
                    self.writer(),
                    expected_version,
                    "INSERT INTO order_settings (store_id, discount_approval_above, void_needs_approval, version) VALUES ($1, $2, $3, 1) ON CONFLICT (store_id) DO NOTHING",
                    "UPDATE order_settings SET discount_approval_above = $2, void_needs_approval = $3, version = version + 1 WHERE store_id = $1 AND version = $4",
                    |q| q.bind(store.as_uuid()).bind(above).bind(policy.void_needs_approval),
                )
                .await?;
                let saved = self.order_policy(store).await?;
                if written == 0 {
                    return Err(StoreError::VersionMismatch { entity: "order settings", current: saved.version });
                }
                Ok(saved)
            }

            async fn get_order(&self, store: StoreId, id: OrderId) -> Result<Option<Order>> {
                let row: Option<(Vec<u8>,)> = ::sqlx::query_as("SELECT document FROM orders WHERE id = $1 AND store_id = $2")
                    .bind(id.as_uuid())
                    .bind(store.as_uuid())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)?;
                let dictionaries = &self.commit_queue().dictionaries;
                read_dictionaries_from(self.reader(), dictionaries, row.iter().map(|(stored,)| stored.as_slice())).await?;
                row.map(|(stored,)| order_from_stored(dictionaries, stored)).transpose()
            }

            async fn list_orders(&self, store: StoreId, filter: &OrderFilter, before: Option<OrderId>, limit: Limit) -> Result<Page<Order, OrderId>> {
                let probe = i64::from(limit.get()) + 1;
                let mut query = ::sqlx::QueryBuilder::<Db>::new("");
                if filter.statuses.len() < 2 {
                    list_range(&mut query, store, filter.statuses.first().map(|s| s.as_str()), filter, before, probe);
                } else {
                    // Each status is its own range of the (store, status, id) index,
                    // newest first and cut at the page size, so a list of what is open
                    // reads what is open, however many orders the store has sold.
                    query.push("SELECT id, document FROM (");
                    for (n, status) in filter.statuses.iter().enumerate() {
                        if n > 0 {
                            query.push(" UNION ALL ");
                        }
                        query.push("SELECT id, document FROM (");
                        list_range(&mut query, store, Some(status.as_str()), filter, before, probe);
                        query.push(format!(") AS arm{n}"));
                    }
                    query.push(") AS listed ORDER BY id DESC LIMIT ").push_bind(probe);
                }
                let rows: Vec<(Uuid, Vec<u8>)> = query.build_query_as().fetch_all(self.reader()).await.map_err(classify)?;
                let dictionaries = &self.commit_queue().dictionaries;
                read_dictionaries_from(self.reader(), dictionaries, rows.iter().map(|(_, stored)| stored.as_slice())).await?;
                let orders = rows.into_iter().map(|(_, stored)| order_from_stored(dictionaries, stored)).collect::<Result<Vec<_>>>()?;
                Ok(Page::from_probe(orders, limit, |o| o.id))
            }

            async fn commit_orders(&self, commit: OrderCommit, respond: Box<Respond>) -> Result<CommitOutcome> {
                let (reply, answer) = $crate::tokio::sync::oneshot::channel();
                let job = CommitJob::new(commit, respond, reply, &self.commit_queue().dictionaries)?;
                let pool = self.writer().clone();
                let tail = self.commit_queue().tail.clone();
                match self.commit_queue().submit(job, |jobs| {
                    if let Some(jobs) = self.start_committer(jobs, tail.clone()) {
                        $crate::tokio::spawn(group_commits(pool, jobs, tail, self.group_at_once()));
                    }
                }) {
                    Ok(()) => answer.await.map_err(|_| StoreError::Unavailable("the commit task stopped".into()))?,
                    // No runtime to run the group commits on, or the queue is full: alone.
                    Err(job) => {
                        let (reply, answer) = $crate::tokio::sync::oneshot::channel();
                        let job = CommitJob { reply, ..*job };
                        let outcomes = match begin_write(self.writer()).await {
                            Ok(tx) => commit_group(tx, ::std::slice::from_ref(&job)).await,
                            Err(e) => Err(e),
                        };
                        $crate::group_commit::answer(vec![job], outcomes, &self.commit_queue().tail);
                        answer.await.map_err(|_| StoreError::Unavailable("the commit was dropped".into()))?
                    }
                }
            }

            async fn order_events(&self, store: StoreId, order: OrderId) -> Result<Vec<LoggedEvent>> {
                // By the order alone: with the store in the condition too, a planner
                // without statistics may choose the log's primary key (store, seq) and
                // read the store's whole log. Order ids are unique across stores; the
                // store is checked on what comes back.
                let rows: Vec<EventRow> = ::sqlx::query_as(concat!("SELECT ", "store_id, seq, order_id, kind, payload, actor_id, device_id, at, hash", " FROM order_events WHERE order_id = $1 ORDER BY seq"))
                    .bind(order.as_uuid())
                    .fetch_all(self.reader())
                    .await
                    .map_err(classify)?;
                let dictionaries = &self.commit_queue().dictionaries;
                read_dictionaries_from(self.reader(), dictionaries, rows.iter().map(|row| row.4.as_slice())).await?;
                rows.into_iter().filter(|row| StoreId::from_uuid(row.0) == store).map(|row| logged(dictionaries, row)).collect()
            }

            async fn log_after(&self, store: StoreId, after_seq: i64, limit: i64) -> Result<Vec<LoggedEvent>> {
                let rows: Vec<EventRow> = ::sqlx::query_as(concat!("SELECT ", "store_id, seq, order_id, kind, payload, actor_id, device_id, at, hash", " FROM order_events WHERE store_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"))
                    .bind(store.as_uuid())
                    .bind(after_seq)
                    .bind(limit)
                    .fetch_all(self.reader())
                    .await
                    .map_err(classify)?;
                let dictionaries = &self.commit_queue().dictionaries;
                read_dictionaries_from(self.reader(), dictionaries, rows.iter().map(|row| row.4.as_slice())).await?;
                rows.into_iter().map(|row| logged(dictionaries, row)).collect()
            }

            async fn log_head(&self, store: StoreId) -> Result<Option<(i64, Vec<u8>)>> {
                ::sqlx::query_as("SELECT seq, hash FROM order_log_heads WHERE store_id = $1")
                    .bind(store.as_uuid())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)
            }

            async fn kitchen_orders(&self, store: StoreId) -> Result<(i64, Vec<Order>)> {
                // One statement, so one snapshot on both databases.
                let index = if <$storage as $crate::sql::SqlBackend>::INDEXED_BY { " INDEXED BY orders_kitchen" } else { "" };
                let rows: Vec<(i64, Option<Vec<u8>>)> = ::sqlx::query_as(&format!(
                    "SELECT h.seq, o.document FROM order_log_heads h
                     LEFT JOIN orders o{index} ON o.store_id = h.store_id AND o.in_kitchen = TRUE
                         AND o.status IN ('sent', 'ready', 'served', 'paid')
                     WHERE h.store_id = $1
                     ORDER BY o.number",
                ))
                .bind(store.as_uuid())
                .fetch_all(self.reader())
                .await
                .map_err(classify)?;
                let seq = rows.first().map_or(0, |(seq, _)| *seq);
                let dictionaries = &self.commit_queue().dictionaries;
                read_dictionaries_from(self.reader(), dictionaries, rows.iter().filter_map(|(_, stored)| stored.as_deref())).await?;
                let orders = rows.into_iter().filter_map(|(_, stored)| stored).map(|stored| order_from_stored(dictionaries, stored)).collect::<Result<Vec<_>>>()?;
                Ok((seq, orders))
            }

            async fn bumps_between(&self, store: StoreId, from: ::chrono::DateTime<::chrono::Utc>, until: ::chrono::DateTime<::chrono::Utc>) -> Result<Vec<LoggedEvent>> {
                // The kind is written out, not bound: it is what lets the planner use
                // the index of bumps alone.
                let rows: Vec<EventRow> = ::sqlx::query_as(
                    "SELECT store_id, seq, order_id, kind, payload, actor_id, device_id, at, hash FROM order_events
                     WHERE store_id = $1 AND kind = 'bumped' AND at >= $2 AND at < $3 ORDER BY seq",
                )
                .bind(store.as_uuid())
                .bind(from)
                .bind(until)
                .fetch_all(self.reader())
                .await
                .map_err(classify)?;
                let dictionaries = &self.commit_queue().dictionaries;
                read_dictionaries_from(self.reader(), dictionaries, rows.iter().map(|row| row.4.as_slice())).await?;
                rows.into_iter().map(|row| logged(dictionaries, row)).collect()
            }

            async fn list_stations(&self, store: StoreId) -> Result<Vec<::comanda_domain::orders::kitchen::Station>> {
                let rows: Vec<(String, String, i32, i32, i32, i64)> = ::sqlx::query_as(
                    "SELECT code, name, warn_after_s, late_after_s, position, version FROM kitchen_stations WHERE store_id = $1 ORDER BY position, code",
                )
                .bind(store.as_uuid())
                .fetch_all(self.reader())
                .await
                .map_err(classify)?;
                rows.into_iter()
                    .map(|(code, name, warn, late, position, version)| {
                        Ok(::comanda_domain::orders::kitchen::Station {
                            code,
                            name,
                            warn_after_s: u32::try_from(warn).map_err(|e| StoreError::Internal(e.to_string()))?,
                            late_after_s: u32::try_from(late).map_err(|e| StoreError::Internal(e.to_string()))?,
                            position,
                            version,
                        })
                    })
                    .collect()
            }

            async fn put_station(&self, store: StoreId, station: &::comanda_domain::orders::kitchen::Station, expected_version: i64) -> Result<::comanda_domain::orders::kitchen::Station> {
                let warn = i32::try_from(station.warn_after_s).map_err(|e| StoreError::Internal(e.to_string()))?;
                let late = i32::try_from(station.late_after_s).map_err(|e| StoreError::Internal(e.to_string()))?;
                let written = save_versioned(
                    self.writer(),
                    expected_version,
                    "INSERT INTO kitchen_stations (store_id, code, name, warn_after_s, late_after_s, position, version) VALUES ($1, $2, $3, $4, $5, $6, 1) ON CONFLICT (store_id, code) DO NOTHING",
                    "UPDATE kitchen_stations SET name = $3, warn_after_s = $4, late_after_s = $5, position = $6, version = version + 1 WHERE store_id = $1 AND code = $2 AND version = $7",
                    |q| q.bind(store.as_uuid()).bind(&station.code).bind(&station.name).bind(warn).bind(late).bind(station.position),
                )
                .await?;
                let saved = self.list_stations(store).await?.into_iter().find(|s| s.code == station.code);
                match saved {
                    Some(saved) if written == 1 => Ok(saved),
                    Some(saved) => Err(StoreError::VersionMismatch { entity: "station", current: saved.version }),
                    None => Err(StoreError::VersionMismatch { entity: "station", current: 0 }),
                }
            }

            fn log_tail(&self) -> ::std::sync::Arc<$crate::log_tail::LogTail> {
                let tail = self.commit_queue().tail.clone();
                self.follow_other_instances(&tail);
                tail
            }

            async fn refresh_packing_dictionaries(&self, rule: &$crate::packed::Renewal) -> Result<Vec<StoreId>> {
                type Newest = (Uuid, i64, Option<i64>, Option<::chrono::DateTime<::chrono::Utc>>, Option<i64>);
                let dictionaries = &self.commit_queue().dictionaries;
                // Each store with a log, and its newest dictionary if it has one.
                let stores: Vec<Newest> = ::sqlx::query_as(
                    "SELECT h.store_id, h.last_number, d.number, d.made_at, d.last_order FROM order_log_heads h
                     LEFT JOIN packing_dictionaries d
                       ON d.number = (SELECT max(n.number) FROM packing_dictionaries n WHERE n.store_id = h.store_id)",
                )
                .fetch_all(self.reader())
                .await
                .map_err(classify)?;
                let now = clock::now();
                let mut made = Vec::new();
                for (store, last_number, number, made_at, last_order) in stores {
                    let store = StoreId::from_uuid(store);
                    if let Some(number) = number {
                        // Another instance's, or this one's before a restart.
                        if dictionaries.known(number).is_none() {
                            let mut conn = self.reader().acquire().await.map_err(classify)?;
                            read_dictionaries(&mut *conn, dictionaries, vec![number]).await?;
                        }
                        if let Some(newest) = dictionaries.known(number) {
                            dictionaries.use_for(store, newest);
                        }
                    }
                    let newest = made_at.zip(last_order);
                    if !rule.due(last_number, newest, now) {
                        continue;
                    }
                    let documents: Vec<(Vec<u8>,)> = ::sqlx::query_as("SELECT document FROM orders WHERE store_id = $1 ORDER BY number DESC LIMIT $2")
                        .bind(store.as_uuid())
                        .bind($crate::packed::RECENT_ORDERS)
                        .fetch_all(self.reader())
                        .await
                        .map_err(classify)?;
                    let events: Vec<(String, Vec<u8>)> = ::sqlx::query_as("SELECT kind, payload FROM order_events WHERE store_id = $1 ORDER BY seq DESC LIMIT $2")
                        .bind(store.as_uuid())
                        .bind($crate::packed::RECENT_EVENTS)
                        .fetch_all(self.reader())
                        .await
                        .map_err(classify)?;
                    let values = documents.iter().map(|(d,)| d.as_slice()).chain(events.iter().map(|(_, p)| p.as_slice()));
                    read_dictionaries_from(self.reader(), dictionaries, values).await?;
                    // The latest payloads of each kind, and the documents, oldest first.
                    let mut kinds: Vec<String> = Vec::new();
                    let mut samples = Vec::new();
                    for (kind, payload) in events {
                        if kinds.iter().filter(|k| **k == kind).count() < $crate::packed::SAMPLES_OF_A_KIND {
                            samples.push(dictionaries.unpack(payload)?);
                            kinds.push(kind);
                        }
                    }
                    samples.reverse();
                    let documents = rule.samples_of(documents.into_iter().rev().map(|(d,)| dictionaries.unpack(d)).collect::<Result<Vec<_>>>()?);
                    let content = $crate::packed::dictionary_content(&samples, &documents);
                    let (number,): (i64,) = ::sqlx::query_as(
                        "INSERT INTO packing_dictionaries (store_id, made_at, last_order, content) VALUES ($1, $2, $3, $4) RETURNING number",
                    )
                    .bind(store.as_uuid())
                    .bind(now)
                    .bind(last_number)
                    .bind($crate::packed::pack(&content)?)
                    .fetch_one(self.writer())
                    .await
                    .map_err(classify)?;
                    // Committed before any value names it.
                    dictionaries.use_for(store, dictionaries.learn(number, &content));
                    made.push(store);
                }
                Ok(made)
            }

            async fn logged_stores(&self) -> Result<Vec<StoreId>> {
                let rows: Vec<(Uuid,)> = ::sqlx::query_as("SELECT store_id FROM order_log_heads ORDER BY store_id")
                    .fetch_all(self.reader())
                    .await
                    .map_err(classify)?;
                Ok(rows.into_iter().map(|(id,)| StoreId::from_uuid(id)).collect())
            }
        }
    };
}
