/// `OrderRepo`; expanded inside [`impl_sql_repos!`](crate::impl_sql_repos).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_sql_orders {
    ($storage:ty) => {
        use $crate::orders::{order_due, order_from_text, order_to_text, payload_text};
        use $crate::{CommitOutcome, DiningTable, OrderCommit, OrderFilter, OrderRepo, Respond, ServiceArea, TableDraft};
        use ::comanda_domain::orders::chain::{event_hash, LoggedEvent, GENESIS};
        use ::comanda_domain::orders::Order;
        use ::comanda_domain::{OrderId, ServiceAreaId, TableId};

        type AreaRow = (Uuid, Uuid, String, i32, bool);
        type TableRow = (Uuid, Uuid, Option<Uuid>, String, i32, i32, bool, i64);
        type EventRow = (Uuid, i64, Uuid, String, String, Option<Uuid>, Option<Uuid>, ::chrono::DateTime<::chrono::Utc>, Vec<u8>, Vec<u8>);


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

        fn logged(row: EventRow) -> LoggedEvent {
            LoggedEvent {
                store_id: StoreId::from_uuid(row.0),
                seq: row.1,
                order_id: OrderId::from_uuid(row.2),
                kind: row.3,
                payload: row.4,
                actor: row.5.map(UserId::from_uuid),
                device: row.6.map(DeviceId::from_uuid),
                at: row.7,
                prev_hash: row.8,
                hash: row.9,
            }
        }

        async fn check_area(conn: &mut Conn, store: StoreId, area: Option<ServiceAreaId>) -> Result<()> {
            if let Some(area) = area {
                if present(conn, "SELECT id FROM service_areas WHERE store_id = ", store, &[area.as_uuid()]).await?.is_empty() {
                    return Err(StoreError::invalid("area_id", "unknown", "no such area in this store"));
                }
            }
            Ok(())
        }

        fn table_conflict(e: ::sqlx::Error) -> StoreError {
            match classify(e) {
                StoreError::Conflict { .. } => StoreError::invalid("name", "duplicate", "another table of this store has this name"),
                other => other,
            }
        }

        /// Keeps the write's answer for its key, in the write's transaction. `Err(outcome)`
        /// when the key already holds another answer (the caller then rolls back).
        async fn keep_answer(conn: &mut Conn, claim: &$crate::IdempotencyClaim, response: &$crate::StoredResponse) -> Result<::std::result::Result<(), CommitOutcome>> {
            let now = clock::now().timestamp_millis();
            // A new key, an expired one, or this request's own claim (same request, not
            // finished) takes the answer; anything else is someone else's.
            let kept = ::sqlx::query(
                "INSERT INTO idempotency_keys (scope, key, request_hash, status, headers, body, created_at, lease_until, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (scope, key) DO UPDATE
                 SET request_hash = excluded.request_hash, status = excluded.status, headers = excluded.headers, body = excluded.body,
                     created_at = excluded.created_at, lease_until = excluded.lease_until, expires_at = excluded.expires_at
                 WHERE idempotency_keys.expires_at <= excluded.created_at
                    OR (idempotency_keys.status IS NULL AND idempotency_keys.request_hash = excluded.request_hash)",
            )
            .bind(&claim.scope)
            .bind(&claim.key)
            .bind(&claim.request_hash)
            .bind(i32::from(response.status))
            .bind(response.headers_text()?)
            .bind(&response.body)
            .bind(now)
            .bind(claim.lease_until.timestamp_millis())
            .bind(claim.expires_at.timestamp_millis())
            .execute(&mut *conn)
            .await
            .map_err(classify)?
            .rows_affected();
            if kept == 1 {
                return Ok(Ok(()));
            }
            let row: Option<(Vec<u8>, Option<i32>, Option<String>, Option<Vec<u8>>)> =
                ::sqlx::query_as("SELECT request_hash, status, headers, body FROM idempotency_keys WHERE scope = $1 AND key = $2")
                    .bind(&claim.scope)
                    .bind(&claim.key)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(classify)?;
            Ok(Err(match row {
                Some((hash, _, _, _)) if hash != claim.request_hash => CommitOutcome::KeyTaken { mismatch: true },
                Some((_, Some(status), headers, body)) => CommitOutcome::Replayed($crate::StoredResponse::from_row(status, headers, body)?),
                _ => CommitOutcome::KeyTaken { mismatch: false },
            }))
        }

        /// Where a store's log stands inside a group commit.
        #[derive(Clone)]
        struct Head {
            seq: i64,
            hash: Vec<u8>,
            last_number: i64,
        }

        /// Takes a store's log head for the group (a row lock on PostgreSQL).
        async fn take_head(conn: &mut Conn, store: StoreId) -> Result<Head> {
            let (seq, hash, last_number): (i64, Vec<u8>, i64) = ::sqlx::query_as(
                "INSERT INTO order_log_heads (store_id, seq, hash, last_number) VALUES ($1, 0, $2, 0)
                 ON CONFLICT (store_id) DO UPDATE SET seq = order_log_heads.seq
                 RETURNING seq, hash, last_number",
            )
            .bind(store.as_uuid())
            .bind(GENESIS.to_vec())
            .fetch_one(&mut *conn)
            .await
            .map_err(missing_store)?;
            Ok(Head { seq, hash, last_number })
        }

        /// Writes one order: a new one, or a change checked against its version.
        async fn write_order(conn: &mut Conn, store: StoreId, order: &Order, expected: Option<i64>) -> Result<()> {
            let document = order_to_text(order)?;
            let total = order_due(order)?;
            let Some(expected) = expected else {
                ::sqlx::query(
                    "INSERT INTO orders (id, store_id, number, kind, status, table_id, opened_by, total, version, opened_at, updated_at, document)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(order.id.as_uuid())
                .bind(store.as_uuid())
                .bind(order.number)
                .bind(order.kind.as_str())
                .bind(order.status.as_str())
                .bind(order.table_id.map(|t| t.as_uuid()))
                .bind(order.opened_by.map(|u| u.as_uuid()))
                .bind(total)
                .bind(order.version)
                .bind(order.opened_at)
                .bind(order.updated_at)
                .bind(document)
                .execute(&mut *conn)
                .await
                .map_err(classify)?;
                return Ok(());
            };
            let updated = ::sqlx::query(
                "UPDATE orders SET status = $3, table_id = $4, total = $5, version = $6, updated_at = $7, document = $8
                 WHERE id = $1 AND store_id = $2 AND version = $9",
            )
            .bind(order.id.as_uuid())
            .bind(store.as_uuid())
            .bind(order.status.as_str())
            .bind(order.table_id.map(|t| t.as_uuid()))
            .bind(total)
            .bind(order.version)
            .bind(order.updated_at)
            .bind(document)
            .bind(expected)
            .execute(&mut *conn)
            .await
            .map_err(classify)?
            .rows_affected();
            if updated == 1 {
                return Ok(());
            }
            let current: Option<(i64,)> = ::sqlx::query_as("SELECT version FROM orders WHERE id = $1 AND store_id = $2")
                .bind(order.id.as_uuid())
                .bind(store.as_uuid())
                .fetch_optional(&mut *conn)
                .await
                .map_err(classify)?;
            Err(match current {
                Some((current,)) => StoreError::VersionMismatch { entity: "order", current },
                None => StoreError::NotFound { entity: "order" },
            })
        }

        /// One commit inside the group's transaction, continuing the store's chain from
        /// `head` (advanced only if the commit is written). Numbers, sequence and hashes
        /// are worked out first, so the answer is known before anything is written: the
        /// key is taken first, then the orders, then the events in one statement. A
        /// refusal after the key was taken gives the key back (one order) or rolls back
        /// to the savepoint the caller set (several orders).
        async fn commit_in(conn: &mut Conn, commit: &OrderCommit, respond: &Respond, head: &mut Head) -> Result<CommitOutcome> {
            let store = commit.store;
            let mut orders: Vec<Order> = commit.orders.iter().map(|w| w.order.clone()).collect();
            let mut next = head.clone();
            for (order, write) in orders.iter_mut().zip(&commit.orders) {
                if write.expected_version.is_none() {
                    next.last_number += 1;
                    order.number = next.last_number;
                }
            }
            let at = clock::now();
            let mut logged_events = Vec::with_capacity(commit.events.len());
            for (index, event) in &commit.events {
                let order_id = orders.get(*index).map(|o| o.id).ok_or_else(|| StoreError::Internal("event for no order".into()))?;
                next.seq += 1;
                let payload = payload_text(event)?;
                let hash = event_hash(&next.hash, store, next.seq, order_id, event.kind, &payload, commit.actor, commit.device, at);
                logged_events.push(LoggedEvent {
                    store_id: store,
                    seq: next.seq,
                    order_id,
                    kind: event.kind.to_owned(),
                    payload,
                    actor: commit.actor,
                    device: commit.device,
                    at,
                    prev_hash: ::std::mem::replace(&mut next.hash, hash.clone()),
                    hash,
                });
            }
            let response = respond(&orders)?;
            if let Some(claim) = &commit.idempotency {
                if let Err(outcome) = keep_answer(&mut *conn, claim, &response).await? {
                    return Ok(outcome);
                }
            }
            for (order, write) in orders.iter().zip(&commit.orders) {
                if let Err(e) = write_order(&mut *conn, store, order, write.expected_version).await {
                    if let (Some(claim), 1) = (&commit.idempotency, commit.orders.len()) {
                        ::sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2")
                            .bind(&claim.scope)
                            .bind(&claim.key)
                            .execute(&mut *conn)
                            .await
                            .map_err(classify)?;
                    }
                    return Err(e);
                }
            }
            if !logged_events.is_empty() {
                let mut insert = ::sqlx::QueryBuilder::<Db>::new("INSERT INTO order_events (store_id, seq, order_id, kind, payload, actor_id, device_id, at, prev_hash, hash) ");
                insert.push_values(&logged_events, |mut row, e| {
                    row.push_bind(e.store_id.as_uuid())
                        .push_bind(e.seq)
                        .push_bind(e.order_id.as_uuid())
                        .push_bind(e.kind.clone())
                        .push_bind(e.payload.clone())
                        .push_bind(e.actor.map(|a| a.as_uuid()))
                        .push_bind(e.device.map(|d| d.as_uuid()))
                        .push_bind(e.at)
                        .push_bind(e.prev_hash.clone())
                        .push_bind(e.hash.clone());
                });
                insert.build().execute(&mut *conn).await.map_err(classify)?;
            }
            *head = next;
            Ok(CommitOutcome::Committed { orders, events: logged_events, response })
        }

        /// Writes every queued commit in one transaction and answers them once it is
        /// committed: one fsync for many orders. A version conflict or a taken key fails
        /// its own commit only; a database error fails the group (nothing of it is
        /// written, and every commit in it may be retried).
        async fn group_commits(pool: ::sqlx::Pool<Db>, mut jobs: $crate::tokio::sync::mpsc::Receiver<$crate::orders::CommitJob>) {
            while let Some(first) = jobs.recv().await {
                let mut group = vec![first];
                while group.len() < $crate::orders::MAX_GROUP {
                    match jobs.try_recv() {
                        Ok(job) => group.push(job),
                        Err(_) => break,
                    }
                }
                answer_group(&pool, group).await;
            }
        }

        async fn answer_group(pool: &::sqlx::Pool<Db>, group: Vec<$crate::orders::CommitJob>) {
            match commit_group(pool, &group).await {
                Ok(outcomes) => {
                    for (job, outcome) in group.into_iter().zip(outcomes) {
                        let _ = job.reply.send(outcome);
                    }
                }
                Err(e) => {
                    let message = e.to_string();
                    for job in group {
                        let _ = job.reply.send(Err(StoreError::Unavailable(message.clone())));
                    }
                }
            }
        }

        async fn commit_group(pool: &::sqlx::Pool<Db>, group: &[$crate::orders::CommitJob]) -> Result<Vec<Result<CommitOutcome>>> {
            let mut tx = pool.begin().await.map_err(classify)?;
            let mut heads: HashMap<StoreId, (Head, bool)> = HashMap::new();
            let mut outcomes = Vec::with_capacity(group.len());
            for job in group {
                let store = job.commit.store;
                if !heads.contains_key(&store) {
                    let head = take_head(&mut tx, store).await?;
                    heads.insert(store, (head, false));
                }
                let Some((head, moved)) = heads.get_mut(&store) else { continue };
                let several = job.commit.orders.len() > 1;
                if several {
                    ::sqlx::query("SAVEPOINT several_orders").execute(&mut *tx).await.map_err(classify)?;
                }
                let outcome = commit_in(&mut tx, &job.commit, &*job.respond, head).await;
                match &outcome {
                    Ok(CommitOutcome::Committed { .. }) => *moved = true,
                    Ok(_) | Err(StoreError::VersionMismatch { .. } | StoreError::NotFound { .. }) => {}
                    Err(e) if !several => return Err(StoreError::Unavailable(e.to_string())),
                    Err(_) => {}
                }
                if several {
                    let end = if matches!(outcome, Ok(CommitOutcome::Committed { .. })) {
                        "RELEASE SAVEPOINT several_orders"
                    } else {
                        "ROLLBACK TO SAVEPOINT several_orders"
                    };
                    ::sqlx::query(end).execute(&mut *tx).await.map_err(classify)?;
                }
                outcomes.push(outcome);
            }
            for (store, (head, moved)) in &heads {
                if *moved {
                    ::sqlx::query("UPDATE order_log_heads SET seq = $2, hash = $3, last_number = $4 WHERE store_id = $1")
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
                let mut tx = self.writer().begin().await.map_err(classify)?;
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
                .map_err(table_conflict)?;
                tx.commit().await.map_err(classify)?;
                Ok(table(row))
            }

            async fn update_table(&self, store: StoreId, id: TableId, expected_version: i64, draft: &TableDraft) -> Result<DiningTable> {
                let mut tx = self.writer().begin().await.map_err(classify)?;
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
                .map_err(table_conflict)?;
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
                let written = if expected_version == 0 {
                    ::sqlx::query("INSERT INTO order_settings (store_id, discount_approval_above, void_needs_approval, version) VALUES ($1, $2, $3, 1) ON CONFLICT (store_id) DO NOTHING")
                        .bind(store.as_uuid())
                        .bind(above)
                        .bind(policy.void_needs_approval)
                        .execute(self.writer())
                        .await
                        .map_err(missing_store)?
                        .rows_affected()
                } else {
                    ::sqlx::query("UPDATE order_settings SET discount_approval_above = $2, void_needs_approval = $3, version = version + 1 WHERE store_id = $1 AND version = $4")
                        .bind(store.as_uuid())
                        .bind(above)
                        .bind(policy.void_needs_approval)
                        .bind(expected_version)
                        .execute(self.writer())
                        .await
                        .map_err(classify)?
                        .rows_affected()
                };
                let saved = self.order_policy(store).await?;
                if written == 0 {
                    return Err(StoreError::VersionMismatch { entity: "order settings", current: saved.version });
                }
                Ok(saved)
            }

            async fn get_order(&self, store: StoreId, id: OrderId) -> Result<Option<Order>> {
                let row: Option<(String,)> = ::sqlx::query_as("SELECT document FROM orders WHERE id = $1 AND store_id = $2")
                    .bind(id.as_uuid())
                    .bind(store.as_uuid())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)?;
                row.map(|(text,)| order_from_text(&text)).transpose()
            }

            async fn list_orders(&self, store: StoreId, filter: &OrderFilter, before: Option<OrderId>, limit: Limit) -> Result<Page<Order, OrderId>> {
                let mut query = ::sqlx::QueryBuilder::<Db>::new("SELECT document FROM orders WHERE store_id = ");
                query.push_bind(store.as_uuid());
                if !filter.statuses.is_empty() {
                    query.push(" AND status IN (");
                    let mut list = query.separated(", ");
                    for status in &filter.statuses {
                        list.push_bind(status.as_str());
                    }
                    query.push(")");
                }
                if let Some(table) = filter.table {
                    query.push(" AND table_id = ").push_bind(table.as_uuid());
                }
                if let Some(kind) = filter.kind {
                    query.push(" AND kind = ").push_bind(kind.as_str());
                }
                if let Some(user) = filter.opened_by {
                    query.push(" AND opened_by = ").push_bind(user.as_uuid());
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
                query.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit.get()) + 1);
                let rows: Vec<(String,)> = query.build_query_as().fetch_all(self.reader()).await.map_err(classify)?;
                let orders = rows.iter().map(|(text,)| order_from_text(text)).collect::<Result<Vec<_>>>()?;
                Ok(Page::from_probe(orders, limit, |o| o.id))
            }

            async fn commit_orders(&self, commit: OrderCommit, respond: Box<Respond>) -> Result<CommitOutcome> {
                let (reply, answer) = $crate::tokio::sync::oneshot::channel();
                let job = $crate::orders::CommitJob { commit, respond, reply };
                let pool = self.writer().clone();
                match self.commit_queue().submit(job, move |jobs| {
                    $crate::tokio::spawn(group_commits(pool, jobs));
                }) {
                    Ok(()) => answer.await.map_err(|_| StoreError::Unavailable("the commit task stopped".into()))?,
                    // No runtime to run the group commits on, or the queue is full: alone.
                    Err(job) => {
                        let (reply, answer) = $crate::tokio::sync::oneshot::channel();
                        let job = $crate::orders::CommitJob { reply, ..*job };
                        answer_group(self.writer(), vec![job]).await;
                        answer.await.map_err(|_| StoreError::Unavailable("the commit was dropped".into()))?
                    }
                }
            }

            async fn order_events(&self, store: StoreId, order: OrderId) -> Result<Vec<LoggedEvent>> {
                let rows: Vec<EventRow> = ::sqlx::query_as(concat!("SELECT ", "store_id, seq, order_id, kind, payload, actor_id, device_id, at, prev_hash, hash", " FROM order_events WHERE order_id = $1 AND store_id = $2 ORDER BY seq"))
                    .bind(order.as_uuid())
                    .bind(store.as_uuid())
                    .fetch_all(self.reader())
                    .await
                    .map_err(classify)?;
                Ok(rows.into_iter().map(logged).collect())
            }

            async fn log_after(&self, store: StoreId, after_seq: i64, limit: i64) -> Result<Vec<LoggedEvent>> {
                let rows: Vec<EventRow> = ::sqlx::query_as(concat!("SELECT ", "store_id, seq, order_id, kind, payload, actor_id, device_id, at, prev_hash, hash", " FROM order_events WHERE store_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"))
                    .bind(store.as_uuid())
                    .bind(after_seq)
                    .bind(limit)
                    .fetch_all(self.reader())
                    .await
                    .map_err(classify)?;
                Ok(rows.into_iter().map(logged).collect())
            }

            async fn log_head(&self, store: StoreId) -> Result<Option<(i64, Vec<u8>)>> {
                ::sqlx::query_as("SELECT seq, hash FROM order_log_heads WHERE store_id = $1")
                    .bind(store.as_uuid())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)
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
