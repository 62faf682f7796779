//! The behaviour every storage backend must show. Backends run it with
//! [`conformance_suite!`](crate::conformance_suite), each test on a fresh database that
//! has been migrated.

use crate::{BootstrapOutcome, EventFilter, Limit, Rotation, Storage, StoreError, UserFilter};
use chrono::{Duration, Utc};
use comanda_domain::identity::{
    NewApiKey, NewDevice, NewRefreshToken, NewSession, SecurityEvent, SecurityEventKind,
    SessionKind,
};
use comanda_domain::{
    ApiKeyId, DeviceId, DisplayName, EventId, Locale, Login, NewStore, NewUser, PasswordHash,
    Permission, PermissionSet, Role, Sealed, SessionId, StoreId, StoreName, StorePatch, Timezone,
    UserId, UserPatch,
};
use std::sync::Arc;

mod catalog;
pub use catalog::*;
mod idempotency;
pub use idempotency::*;
mod catalog_share;
pub use catalog_share::*;
mod orders;
pub use orders::*;
mod reports;
pub use reports::*;
mod outbox;
pub use outbox::*;
mod catering;
pub use catering::*;

/// A migrated, empty database for one test; dropping it removes the database.
pub trait Harness {
    fn storage(&self) -> Arc<dyn Storage>;

    /// Another storage on the same database, as a second instance or a restart sees it.
    fn reopen(&self) -> Reopened<'_>;
}

/// What [`Harness::reopen`] gives.
pub type Reopened<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Arc<dyn Storage>> + Send + 'a>>;

/// Generates one `#[tokio::test]` per conformance check for a backend. `$factory` is an
/// async fn returning `Option<impl Harness>`; `None` skips (the backend is not available
/// outside CI).
#[macro_export]
macro_rules! conformance_suite {
    ($factory:path) => {
        $crate::conformance_suite!(@each $factory;
            ping_answers,
            migrations_are_current_and_idempotent,
            store_round_trips,
            text_round_trips_verbatim,
            duplicate_store_code_conflicts_and_writes_nothing,
            unknown_store_is_none,
            stores_list_in_pages_without_gaps_or_repeats,
            store_update_checks_the_version,
            bootstrap_creates_the_first_store_and_owner_once,
            concurrent_bootstraps_create_one_owner,
            pool_stats_are_reported,
            stores_can_be_listed_for_a_scope,
            users_round_trip_with_their_stores,
            a_taken_login_conflicts,
            an_unknown_store_assignment_writes_nothing,
            users_list_by_store_and_by_shared_scope,
            user_updates_check_the_version_and_replace_stores,
            user_credentials_change_and_unknown_users_are_not_found,
            totp_steps_are_never_accepted_twice,
            recovery_codes_work_once,
            totp_secrets_are_resealed_only_as_they_were_read,
            refresh_tokens_rotate_and_reuse_revokes_the_family,
            concurrent_refreshes_with_one_token_revoke_the_family,
            a_token_spent_within_the_grace_names_its_one_successor,
            expired_or_wrong_refresh_tokens_are_invalid,
            sessions_are_listed_revoked_and_verified,
            devices_are_found_only_by_their_secret,
            api_keys_keep_their_scope_and_permissions,
            security_events_stay_in_their_stores,
            security_events_list_newest_first,
            server_secrets_keep_the_first_value,
            catalog_settings_start_from_defaults_and_check_the_version,
            tax_rates_round_trip_and_stay_while_products_use_them,
            categories_nest_without_loops_and_delete_only_when_empty,
            products_round_trip_and_keep_variant_ids,
            taken_codes_and_foreign_references_are_refused_naming_the_field,
            products_are_found_by_name_prefix_sku_and_barcode,
            modifier_groups_keep_option_ids_and_archive,
            the_menu_holds_the_active_catalog_and_its_revision_grows,
            imports_create_or_replace_by_sku_all_or_nothing,
            stock_moves_by_ledger_and_blocks_sales_when_out,
            low_stock_lists_what_is_at_or_below_its_threshold,
            transfers_move_stock_between_stores_by_sku,
            a_branch_sells_from_its_main_store_with_its_own_prices_and_stock,
            idempotency_keys_replay_refuse_and_expire,
            concurrent_claims_of_one_key_admit_one,
            a_purge_takes_every_expired_answer_and_no_other,
            concurrent_order_commits_number_and_chain_without_gaps,
            refused_commits_leave_the_rest_of_their_group_written,
            one_open_shift_per_terminal_numbered_and_versioned,
            sales_totals_move_by_compare_and_set_and_days_close_once,
            outbox_numbers_each_stores_events_and_copies_a_log_stretch_once,
            webhooks_are_leased_to_one_worker_and_a_lost_lease_writes_nothing,
            webhooks_change_by_version_and_stay_in_their_store,
            pruning_keeps_what_a_webhook_still_needs,
            leases_go_round_the_webhooks_with_work,
            contracts_and_service_days_round_trip_with_versions,
            client_people_belong_to_one_company,
            companies_stay_in_their_stores,
        );
        $crate::conformance_suite!(@harness $factory;
            store_dictionaries_pack_new_values_and_every_instance_reads_them,
        );
    };
    (@harness $factory:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let Some(harness) = $factory().await else { return };
                $crate::conformance::$check(&harness).await;
            }
        )*
    };
    (@each $factory:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let Some(harness) = $factory().await else { return };
                $crate::conformance::$check($crate::conformance::Harness::storage(&harness)).await;
            }
        )*
    };
}

fn new_store(code: &str) -> NewStore {
    NewStore::parse(
        code,
        &format!("Store {code}"),
        "BRL",
        "America/Sao_Paulo",
        "pt-BR",
    )
    .expect("valid test store")
}

fn new_owner(login: &str) -> NewUser {
    NewUser {
        id: UserId::new(),
        login: Login::parse("login", login).expect("valid login"),
        display_name: DisplayName::parse("display_name", "Dona Maria").expect("valid name"),
        password_hash: PasswordHash(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".into(),
        ),
        role: Role::Owner,
        all_stores: true,
        store_ids: vec![],
        must_change_password: true,
        company_id: None,
    }
}

pub async fn ping_answers(db: Arc<dyn Storage>) {
    db.ping().await.expect("ping");
}

pub async fn migrations_are_current_and_idempotent(db: Arc<dyn Storage>) {
    let status = db.migration_status().await.expect("status");
    assert!(status.is_current(), "{:?}", status.problem());
    assert!(!status.migrations.is_empty());
    assert!(status.migrations.iter().all(|m| m.applied_at.is_some()));
    assert_eq!(
        db.migrate().await.expect("second migrate"),
        Vec::<i64>::new()
    );
}

pub async fn store_round_trips(db: Arc<dyn Storage>) {
    let new = new_store("centro");
    let before = Utc::now() - Duration::seconds(1);
    let created = db.create_store(&new).await.expect("create");
    assert_eq!(created.id, new.id);
    assert_eq!(created.code, new.code);
    assert_eq!(created.version, 1);
    assert_eq!(created.created_at, created.updated_at);
    assert!(created.created_at > before && created.created_at <= Utc::now());

    let fetched = db.get_store(new.id).await.expect("get").expect("exists");
    assert_eq!(
        fetched, created,
        "what is read back equals what create returned"
    );
    assert_eq!(fetched.currency, new.currency);
    assert_eq!(fetched.timezone, new.timezone);
    assert_eq!(fetched.locale, Locale::PtBr);
}

pub async fn text_round_trips_verbatim(db: Arc<dyn Storage>) {
    let mut new = new_store("texto");
    let name = "Bar do Zé 🍺 \"O'Brien\"; DROP TABLE stores;--";
    new.name = StoreName::parse("name", name).expect("valid name");
    db.create_store(&new).await.expect("create");
    let fetched = db.get_store(new.id).await.expect("get").expect("exists");
    assert_eq!(fetched.name.as_str(), name);
}

pub async fn duplicate_store_code_conflicts_and_writes_nothing(db: Arc<dyn Storage>) {
    db.create_store(&new_store("centro")).await.expect("first");
    let twin = new_store("centro");
    let err = db.create_store(&twin).await.expect_err("duplicate code");
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                entity: "store",
                field: "code"
            }
        ),
        "{err:?}"
    );
    assert_eq!(db.get_store(twin.id).await.expect("get"), None);
    let all = db
        .list_stores(None, None, Limit::new(Some(10)))
        .await
        .expect("list");
    assert_eq!(all.items.len(), 1);
}

pub async fn unknown_store_is_none(db: Arc<dyn Storage>) {
    assert_eq!(db.get_store(StoreId::new()).await.expect("get"), None);
}

pub async fn stores_list_in_pages_without_gaps_or_repeats(db: Arc<dyn Storage>) {
    let mut created = Vec::new();
    for i in 0..5 {
        let store = db
            .create_store(&new_store(&format!("loja-{i}")))
            .await
            .expect("create");
        created.push(store.id);
    }
    let limit = Limit::new(Some(2));
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = db.list_stores(None, after, limit).await.expect("list");
        pages += 1;
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|s| s.id));
        match page.next {
            Some(cursor) => after = Some(cursor),
            None => break,
        }
        assert!(pages < 10, "pagination does not terminate");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created, "creation order, each store once");
}

pub async fn store_update_checks_the_version(db: Arc<dyn Storage>) {
    let store = db.create_store(&new_store("centro")).await.expect("create");
    let patch = StorePatch {
        name: Some(StoreName::parse("name", "Centro Novo").expect("valid")),
        timezone: Some(Timezone::parse("timezone", "Asia/Jakarta").expect("valid")),
        locale: Some(Locale::IdId),
    };
    let updated = db.update_store(store.id, 1, &patch).await.expect("update");
    assert_eq!(updated.version, 2);
    assert_eq!(updated.name.as_str(), "Centro Novo");
    assert_eq!(updated.timezone.name(), "Asia/Jakarta");
    assert_eq!(updated.locale, Locale::IdId);
    assert_eq!(updated.created_at, store.created_at);
    assert!(updated.updated_at >= store.updated_at);
    assert_eq!(
        db.get_store(store.id).await.expect("get"),
        Some(updated.clone())
    );

    let stale = db.update_store(store.id, 1, &StorePatch::default()).await;
    assert!(
        matches!(
            stale,
            Err(StoreError::VersionMismatch {
                entity: "store",
                current: 2
            })
        ),
        "{stale:?}"
    );
    let missing = db.update_store(StoreId::new(), 1, &patch).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { entity: "store" })),
        "{missing:?}"
    );
}

pub async fn bootstrap_creates_the_first_store_and_owner_once(db: Arc<dyn Storage>) {
    assert!(!db.is_bootstrapped().await.expect("check"));
    let store = new_store("main");
    let mut owner = new_owner("Owner");
    owner.store_ids = vec![store.id];
    assert_eq!(
        db.bootstrap(&store, &owner).await.expect("bootstrap"),
        BootstrapOutcome::Created
    );
    assert!(db.is_bootstrapped().await.expect("check"));

    let user = db
        .find_user_by_login(&Login::parse("login", "OWNER").expect("valid"))
        .await
        .expect("find")
        .expect("owner exists");
    assert_eq!(user.id, owner.id);
    assert_eq!(user.role, Role::Owner);
    assert!(user.all_stores && user.must_change_password && !user.disabled);
    assert_eq!(user.password_hash, owner.password_hash);
    assert_eq!(user.store_ids, vec![store.id]);
    assert!(db.get_store(store.id).await.expect("get").is_some());

    let again = db
        .bootstrap(&new_store("other"), &new_owner("another"))
        .await
        .expect("second");
    assert_eq!(again, BootstrapOutcome::AlreadyDone);
    let stores = db
        .list_stores(None, None, Limit::new(None))
        .await
        .expect("list");
    assert_eq!(stores.items.len(), 1, "a second bootstrap creates nothing");
    let nobody = Login::parse("login", "another").expect("valid");
    assert!(
        db.find_user_by_login(&nobody)
            .await
            .expect("find")
            .is_none()
    );
}

pub async fn concurrent_bootstraps_create_one_owner(db: Arc<dyn Storage>) {
    let attempts = (0..8).map(|i| {
        let db = Arc::clone(&db);
        tokio::spawn(async move {
            db.bootstrap(
                &new_store(&format!("main-{i}")),
                &new_owner(&format!("owner{i}")),
            )
            .await
        })
    });
    let mut created = 0;
    for attempt in attempts {
        match attempt.await.expect("task") {
            Ok(BootstrapOutcome::Created) => created += 1,
            Ok(BootstrapOutcome::AlreadyDone) => {}
            Err(e) => panic!("bootstrap failed instead of deferring: {e:?}"),
        }
    }
    assert_eq!(created, 1);
    let stores = db
        .list_stores(None, None, Limit::new(None))
        .await
        .expect("list");
    assert_eq!(stores.items.len(), 1);
}

pub async fn pool_stats_are_reported(db: Arc<dyn Storage>) {
    db.ping().await.expect("ping");
    let stats = db.pool_stats();
    assert!(!stats.is_empty());
    for s in stats {
        assert!(s.max >= 1 && s.size <= s.max && s.idle <= s.size, "{s:?}");
    }
}

async fn two_stores(db: &Arc<dyn Storage>) -> (StoreId, StoreId) {
    let a = db
        .create_store(&new_store("loja-a"))
        .await
        .expect("store a");
    let b = db
        .create_store(&new_store("loja-b"))
        .await
        .expect("store b");
    (a.id, b.id)
}

fn staff(login: &str, role: Role, stores: Vec<StoreId>) -> NewUser {
    NewUser {
        role,
        all_stores: false,
        store_ids: stores,
        must_change_password: false,
        company_id: None,
        ..new_owner(login)
    }
}

pub async fn stores_can_be_listed_for_a_scope(db: Arc<dyn Storage>) {
    let (a, b) = two_stores(&db).await;
    let only_a = db
        .list_stores(Some(&[a]), None, Limit::new(None))
        .await
        .expect("list");
    assert_eq!(
        only_a.items.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![a]
    );
    let none = db
        .list_stores(Some(&[]), None, Limit::new(None))
        .await
        .expect("list");
    assert!(none.items.is_empty());
    let all = db
        .list_stores(None, None, Limit::new(None))
        .await
        .expect("list");
    assert_eq!(all.items.len(), 2);
    let _ = b;
}

pub async fn users_round_trip_with_their_stores(db: Arc<dyn Storage>) {
    let (a, b) = two_stores(&db).await;
    let new = staff("Caixa.Ana", Role::Cashier, vec![a, b]);
    let created = db.create_user(&new).await.expect("create");
    assert_eq!(created.id, new.id);
    assert_eq!(created.login.as_str(), "caixa.ana");
    assert_eq!(created.role, Role::Cashier);
    assert_eq!(created.version, 1);
    let mut stores = vec![a, b];
    stores.sort();
    assert_eq!(created.store_ids, stores);
    assert!(!created.totp_enabled() && created.pin_hash.is_none() && !created.disabled);
    assert_eq!(
        db.get_user(new.id).await.expect("get"),
        Some(created.clone())
    );
    let by_login = db.find_user_by_login(&new.login).await.expect("find");
    assert_eq!(by_login, Some(created));
    assert_eq!(db.get_user(UserId::new()).await.expect("get"), None);
}

pub async fn a_taken_login_conflicts(db: Arc<dyn Storage>) {
    db.create_user(&staff("maria", Role::Waiter, vec![]))
        .await
        .expect("first");
    let err = db
        .create_user(&staff("MARIA", Role::Waiter, vec![]))
        .await
        .expect_err("taken");
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                entity: "user",
                field: "login"
            }
        ),
        "{err:?}"
    );
}

pub async fn an_unknown_store_assignment_writes_nothing(db: Arc<dyn Storage>) {
    let user = staff("joao", Role::Waiter, vec![StoreId::new()]);
    let err = db.create_user(&user).await.expect_err("unknown store");
    assert!(
        matches!(err, StoreError::NotFound { entity: "store" }),
        "{err:?}"
    );
    assert_eq!(
        db.get_user(user.id).await.expect("get"),
        None,
        "the transaction rolled back"
    );
}

pub async fn users_list_by_store_and_by_shared_scope(db: Arc<dyn Storage>) {
    let (a, b) = two_stores(&db).await;
    let owner = db.create_user(&new_owner("dona")).await.expect("owner");
    let in_a = db
        .create_user(&staff("ana", Role::Cashier, vec![a]))
        .await
        .expect("a");
    let in_b = db
        .create_user(&staff("bia", Role::Waiter, vec![b]))
        .await
        .expect("b");
    let in_both = db
        .create_user(&staff("caio", Role::Manager, vec![a, b]))
        .await
        .expect("ab");
    let ids = |page: crate::Page<comanda_domain::User, UserId>| {
        page.items.into_iter().map(|u| u.id).collect::<Vec<_>>()
    };

    let store_a = UserFilter {
        store: Some(a),
        ..UserFilter::default()
    };
    assert_eq!(
        ids(db
            .list_users(&store_a, None, Limit::new(None))
            .await
            .expect("list")),
        vec![in_a.id, in_both.id]
    );
    let shared = UserFilter {
        sharing_any_of: Some(vec![b]),
        ..UserFilter::default()
    };
    assert_eq!(
        ids(db
            .list_users(&shared, None, Limit::new(None))
            .await
            .expect("list")),
        vec![in_b.id, in_both.id]
    );
    let nothing = UserFilter {
        sharing_any_of: Some(vec![]),
        ..UserFilter::default()
    };
    assert!(
        ids(db
            .list_users(&nothing, None, Limit::new(None))
            .await
            .expect("list"))
        .is_empty()
    );

    let everyone = UserFilter::default();
    let first = db
        .list_users(&everyone, None, Limit::new(Some(3)))
        .await
        .expect("page 1");
    let rest = db
        .list_users(&everyone, first.next, Limit::new(Some(3)))
        .await
        .expect("page 2");
    let mut all = ids(first);
    all.extend(ids(rest));
    assert_eq!(all, vec![owner.id, in_a.id, in_b.id, in_both.id]);
}

pub async fn user_updates_check_the_version_and_replace_stores(db: Arc<dyn Storage>) {
    let (a, b) = two_stores(&db).await;
    let user = db
        .create_user(&staff("ana", Role::Cashier, vec![a]))
        .await
        .expect("create");
    let patch = UserPatch {
        display_name: Some(DisplayName::parse("display_name", "Ana Souza").expect("valid")),
        role: Some(Role::Manager),
        all_stores: None,
        store_ids: Some(vec![b]),
    };
    let updated = db.update_user(user.id, 1, &patch).await.expect("update");
    assert_eq!((updated.version, updated.role), (2, Role::Manager));
    assert_eq!(updated.display_name.as_str(), "Ana Souza");
    assert_eq!(updated.store_ids, vec![b]);
    let stale = db.update_user(user.id, 1, &UserPatch::default()).await;
    assert!(
        matches!(
            stale,
            Err(StoreError::VersionMismatch {
                entity: "user",
                current: 2
            })
        ),
        "{stale:?}"
    );
    let missing = db.update_user(UserId::new(), 1, &patch).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { entity: "user" })),
        "{missing:?}"
    );
    let bad_store = UserPatch {
        store_ids: Some(vec![StoreId::new()]),
        ..UserPatch::default()
    };
    let err = db
        .update_user(user.id, 2, &bad_store)
        .await
        .expect_err("unknown store");
    assert!(
        matches!(err, StoreError::NotFound { entity: "store" }),
        "{err:?}"
    );
    let after = db.get_user(user.id).await.expect("get").expect("exists");
    assert_eq!(
        (after.version, after.store_ids),
        (2, vec![b]),
        "a failed update changes nothing"
    );
}

pub async fn user_credentials_change_and_unknown_users_are_not_found(db: Arc<dyn Storage>) {
    let user = db
        .create_user(&staff("ana", Role::Cashier, vec![]))
        .await
        .expect("create");
    db.set_password(user.id, &PasswordHash("$argon2id$new".into()), true)
        .await
        .expect("password");
    db.set_disabled(user.id, true).await.expect("disable");
    db.set_pin(user.id, Some(&PasswordHash("$argon2id$pin".into())))
        .await
        .expect("pin");
    let got = db.get_user(user.id).await.expect("get").expect("exists");
    assert_eq!(got.password_hash.as_str(), "$argon2id$new");
    assert!(got.must_change_password && got.disabled);
    assert_eq!(
        got.pin_hash.as_ref().map(|h| h.as_str()),
        Some("$argon2id$pin")
    );
    assert!(
        got.version > user.version,
        "credential changes bump the version"
    );
    db.set_disabled(user.id, false).await.expect("enable");
    db.set_pin(user.id, None).await.expect("clear pin");
    let got = db.get_user(user.id).await.expect("get").expect("exists");
    assert!(!got.disabled && got.pin_hash.is_none());

    assert_eq!(got.locale, None, "the store's language until one is chosen");
    db.set_locale(user.id, Some(Locale::IdId))
        .await
        .expect("locale");
    let chosen = db.get_user(user.id).await.expect("get").expect("exists");
    assert_eq!(chosen.locale, Some(Locale::IdId));
    assert_eq!(chosen.version, got.version, "a preference is not an edit");
    let by_login = db
        .find_user_by_login(&chosen.login)
        .await
        .expect("find")
        .expect("exists");
    assert_eq!(by_login.locale, Some(Locale::IdId));
    db.set_locale(user.id, None).await.expect("clear locale");
    let cleared = db.get_user(user.id).await.expect("get").expect("exists");
    assert_eq!(cleared.locale, None);

    let ghost = UserId::new();
    assert!(matches!(
        db.set_disabled(ghost, true).await,
        Err(StoreError::NotFound { entity: "user" })
    ));
    assert!(matches!(
        db.set_password(ghost, &got.password_hash, false).await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn totp_steps_are_never_accepted_twice(db: Arc<dyn Storage>) {
    let user = db
        .create_user(&staff("ana", Role::Admin, vec![]))
        .await
        .expect("create");
    db.set_totp_pending(user.id, Some(&Sealed::from_stored("PENDINGSECRET")))
        .await
        .expect("pending");
    let pending = db.get_user(user.id).await.expect("get").expect("exists");
    assert_eq!(
        pending.totp_pending_secret.as_ref().map(Sealed::stored),
        Some("PENDINGSECRET")
    );
    assert!(!pending.totp_enabled());

    db.enable_totp(
        user.id,
        &Sealed::from_stored("ACTIVESECRET"),
        100,
        &[[1; 32], [2; 32]],
    )
    .await
    .expect("enable");
    let enabled = db.get_user(user.id).await.expect("get").expect("exists");
    assert!(enabled.totp_enabled() && enabled.totp_pending_secret.is_none());
    assert_eq!(enabled.totp_last_step, Some(100));

    assert!(
        !db.advance_totp_step(user.id, 100).await.expect("same step"),
        "the enrolment code is spent"
    );
    assert!(!db.advance_totp_step(user.id, 99).await.expect("older step"));
    assert!(db.advance_totp_step(user.id, 101).await.expect("next step"));
    assert!(!db.advance_totp_step(user.id, 101).await.expect("replay"));

    db.disable_totp(user.id).await.expect("disable");
    let off = db.get_user(user.id).await.expect("get").expect("exists");
    assert!(!off.totp_enabled() && off.totp_last_step.is_none());
    assert!(
        !db.use_recovery_code(user.id, &[1; 32]).await.expect("code"),
        "codes go with the factor"
    );
}

/// Stored TOTP secrets are listed and sealed again in place, unless they changed since
/// they were read.
pub async fn totp_secrets_are_resealed_only_as_they_were_read(db: Arc<dyn Storage>) {
    let ana = db
        .create_user(&staff("ana", Role::Admin, vec![]))
        .await
        .expect("create");
    let bia = db
        .create_user(&staff("bia", Role::Admin, vec![]))
        .await
        .expect("create");
    db.create_user(&staff("caio", Role::Admin, vec![]))
        .await
        .expect("create");
    let old = Sealed::from_stored("PLAIN");
    db.enable_totp(ana.id, &old, 1, &[]).await.expect("enable");
    db.set_totp_pending(bia.id, Some(&old))
        .await
        .expect("pending");
    let listed = db.totp_secrets().await.expect("list");
    assert_eq!(listed.len(), 2, "only people with a secret");
    let new = Sealed::from_stored("sealed:v1:k:NEW");
    assert!(
        db.reseal_totp_secrets(ana.id, (Some(&old), None), (Some(&new), None))
            .await
            .expect("reseal")
    );
    let stale = db
        .reseal_totp_secrets(bia.id, (Some(&old), None), (Some(&new), None))
        .await
        .expect("reseal");
    assert!(
        !stale,
        "bia's secret is pending, not active: nothing replaced"
    );
    let after = db.get_user(ana.id).await.expect("get").expect("exists");
    assert_eq!(
        after.totp_secret.as_ref().map(Sealed::stored),
        Some(new.stored())
    );
    let bia = db.get_user(bia.id).await.expect("get").expect("exists");
    assert_eq!(bia.totp_pending_secret, Some(old));
}

pub async fn recovery_codes_work_once(db: Arc<dyn Storage>) {
    let user = db
        .create_user(&staff("ana", Role::Owner, vec![]))
        .await
        .expect("create");
    db.enable_totp(user.id, &Sealed::from_stored("S"), 1, &[[7; 32], [8; 32]])
        .await
        .expect("enable");
    assert!(
        db.use_recovery_code(user.id, &[7; 32])
            .await
            .expect("first use")
    );
    assert!(
        !db.use_recovery_code(user.id, &[7; 32])
            .await
            .expect("second use")
    );
    assert!(
        !db.use_recovery_code(user.id, &[9; 32])
            .await
            .expect("unknown")
    );
    let other = db
        .create_user(&staff("bia", Role::Owner, vec![]))
        .await
        .expect("create");
    assert!(
        !db.use_recovery_code(other.id, &[8; 32])
            .await
            .expect("someone else's")
    );
    // Re-enrolling replaces the codes.
    db.enable_totp(user.id, &Sealed::from_stored("S2"), 2, &[[9; 32]])
        .await
        .expect("re-enable");
    assert!(
        !db.use_recovery_code(user.id, &[8; 32])
            .await
            .expect("old code")
    );
    assert!(
        db.use_recovery_code(user.id, &[9; 32])
            .await
            .expect("new code")
    );
}

fn new_session(user: UserId, kind: SessionKind, device: Option<DeviceId>) -> NewSession {
    NewSession {
        id: SessionId::new(),
        user_id: user,
        kind,
        device_id: device,
        mfa_verified: false,
        expires_at: Utc::now() + Duration::days(30),
        ip: Some("203.0.113.9".into()),
        user_agent: Some("test".into()),
    }
}

/// A second use of a spent refresh token counts as theft at once.
const NO_GRACE: Duration = Duration::zero();

fn refresh(secret: u8) -> NewRefreshToken {
    NewRefreshToken {
        id: uuid::Uuid::now_v7(),
        secret_hash: [secret; 32],
        expires_at: Utc::now() + Duration::days(30),
    }
}

pub async fn refresh_tokens_rotate_and_reuse_revokes_the_family(db: Arc<dyn Storage>) {
    let user = db
        .create_user(&staff("ana", Role::Cashier, vec![]))
        .await
        .expect("create");
    let first = refresh(1);
    let session = db
        .create_session(&new_session(user.id, SessionKind::Password, None), &first)
        .await
        .expect("session");
    assert!(session.is_active(Utc::now()));
    assert_eq!(session.ip.as_deref(), Some("203.0.113.9"));

    let second = refresh(2);
    let rotated = db
        .rotate_refresh_token(first.id, &first.secret_hash, &second, NO_GRACE)
        .await
        .expect("rotate");
    assert!(
        matches!(&rotated, Rotation::Rotated(s) if s.id == session.id),
        "{rotated:?}"
    );

    let third = refresh(3);
    let reused = db
        .rotate_refresh_token(first.id, &first.secret_hash, &third, NO_GRACE)
        .await
        .expect("reuse");
    assert!(
        matches!(&reused, Rotation::Reused(s) if s.id == session.id && s.revoked_at.is_some()),
        "{reused:?}"
    );
    let revoked = db
        .get_session(session.id)
        .await
        .expect("get")
        .expect("exists");
    assert!(
        !revoked.is_active(Utc::now()),
        "the whole family is revoked"
    );

    let after = db
        .rotate_refresh_token(second.id, &second.secret_hash, &refresh(4), NO_GRACE)
        .await
        .expect("second");
    assert_eq!(
        after,
        Rotation::Invalid,
        "the legitimate successor dies with the family"
    );
    let unstored = db
        .rotate_refresh_token(third.id, &third.secret_hash, &refresh(5), NO_GRACE)
        .await
        .expect("third");
    assert_eq!(
        unstored,
        Rotation::Invalid,
        "the token offered with the reuse was never stored"
    );
}

/// Presents `first` twice at the same moment, offering one successor each; what each
/// presentation led to, in the order of `offered`.
async fn race(
    db: &Arc<dyn Storage>,
    first: &NewRefreshToken,
    offered: [NewRefreshToken; 2],
    grace: Duration,
) -> Vec<Rotation> {
    let racers = offered.map(|next| {
        let db = Arc::clone(db);
        let first = first.clone();
        tokio::spawn(async move {
            db.rotate_refresh_token(first.id, &first.secret_hash, &next, grace)
                .await
        })
    });
    let mut rotations = Vec::new();
    for racer in racers {
        rotations.push(racer.await.expect("task").expect("rotate"));
    }
    rotations
}

pub async fn concurrent_refreshes_with_one_token_revoke_the_family(db: Arc<dyn Storage>) {
    let user = db
        .create_user(&staff("ana", Role::Cashier, vec![]))
        .await
        .expect("create");
    for round in 0..5u8 {
        let first = refresh(round);
        let session = db
            .create_session(&new_session(user.id, SessionKind::Password, None), &first)
            .await
            .expect("session");
        let mut rotated = 0;
        let mut reused = 0;
        for rotation in race(&db, &first, [refresh(100), refresh(101)], NO_GRACE).await {
            match rotation {
                Rotation::Rotated(_) => rotated += 1,
                Rotation::Reused(_) => reused += 1,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!((rotated, reused), (1, 1), "round {round}");
        let s = db
            .get_session(session.id)
            .await
            .expect("get")
            .expect("exists");
        assert!(s.revoked_at.is_some());
    }
}

/// Two renewals with one token at the same moment (a page reloading while its stream
/// renewed, two tabs) are not theft: within the grace both get the token that replaced
/// it, nothing more is stored, and the family lives on through that successor.
pub async fn a_token_spent_within_the_grace_names_its_one_successor(db: Arc<dyn Storage>) {
    let grace = Duration::seconds(10);
    let user = db
        .create_user(&staff("ana", Role::Cashier, vec![]))
        .await
        .expect("create");
    for round in 0..5u8 {
        let first = refresh(round);
        let session = db
            .create_session(&new_session(user.id, SessionKind::Password, None), &first)
            .await
            .expect("session");
        let offered = [refresh(100 + round), refresh(200 + round)];
        let mut stored = None;
        let mut replayed = None;
        let rotations = race(&db, &first, offered.clone(), grace).await;
        for (rotation, next) in rotations.into_iter().zip(&offered) {
            match rotation {
                Rotation::Rotated(s) if s.id == session.id => stored = Some(next.clone()),
                Rotation::Replayed {
                    session: s,
                    successor,
                } if s.id == session.id => {
                    replayed = Some(successor);
                }
                other => panic!("round {round}: {other:?}"),
            }
        }
        let stored = stored.expect("one request spent the token");
        assert_eq!(
            replayed,
            Some(stored.id),
            "round {round}: the other is given its successor"
        );

        let late = db
            .rotate_refresh_token(first.id, &first.secret_hash, &refresh(50), grace)
            .await
            .expect("again");
        assert!(
            matches!(late, Rotation::Replayed { successor, .. } if successor == stored.id),
            "{late:?}"
        );
        let onwards = db
            .rotate_refresh_token(stored.id, &stored.secret_hash, &refresh(60), grace)
            .await
            .expect("successor");
        assert!(
            matches!(onwards, Rotation::Rotated(_)),
            "the family goes on: {onwards:?}"
        );
        let active = db
            .get_session(session.id)
            .await
            .expect("get")
            .expect("exists");
        assert!(active.revoked_at.is_none(), "round {round}");

        // Past the grace (none here), the first token again is theft.
        let stolen = db
            .rotate_refresh_token(first.id, &first.secret_hash, &refresh(70), NO_GRACE)
            .await
            .expect("reuse");
        assert!(matches!(stolen, Rotation::Reused(_)), "{stolen:?}");
    }
}

pub async fn expired_or_wrong_refresh_tokens_are_invalid(db: Arc<dyn Storage>) {
    let user = db
        .create_user(&staff("ana", Role::Cashier, vec![]))
        .await
        .expect("create");
    let mut expired = refresh(1);
    expired.expires_at = Utc::now() - Duration::seconds(1);
    db.create_session(&new_session(user.id, SessionKind::Password, None), &expired)
        .await
        .expect("session");
    assert_eq!(
        db.rotate_refresh_token(expired.id, &expired.secret_hash, &refresh(2), NO_GRACE)
            .await
            .expect("rotate"),
        Rotation::Invalid
    );

    let good = refresh(3);
    let session = db
        .create_session(&new_session(user.id, SessionKind::Password, None), &good)
        .await
        .expect("session");
    assert_eq!(
        db.rotate_refresh_token(good.id, &[9; 32], &refresh(4), NO_GRACE)
            .await
            .expect("wrong secret"),
        Rotation::Invalid
    );
    assert!(
        db.get_session(session.id)
            .await
            .expect("get")
            .expect("exists")
            .revoked_at
            .is_none(),
        "a wrong secret proves nothing; no revocation"
    );
    assert_eq!(
        db.rotate_refresh_token(uuid::Uuid::now_v7(), &[3; 32], &refresh(5), NO_GRACE)
            .await
            .expect("unknown"),
        Rotation::Invalid
    );
    db.revoke_session(session.id, "logout")
        .await
        .expect("revoke");
    assert_eq!(
        db.rotate_refresh_token(good.id, &good.secret_hash, &refresh(6), NO_GRACE)
            .await
            .expect("revoked"),
        Rotation::Invalid
    );
}

pub async fn sessions_are_listed_revoked_and_verified(db: Arc<dyn Storage>) {
    let (a, _) = two_stores(&db).await;
    let user = db
        .create_user(&staff("ana", Role::Cashier, vec![a]))
        .await
        .expect("create");
    let creator = db.create_user(&new_owner("dona")).await.expect("owner");
    let device = db
        .create_device(&NewDevice {
            id: DeviceId::new(),
            store_id: a,
            name: "Caixa 1".into(),
            secret_hash: [5; 32],
            created_by: creator.id,
        })
        .await
        .expect("device");
    let s1 = db
        .create_session(
            &new_session(user.id, SessionKind::Password, None),
            &refresh(1),
        )
        .await
        .expect("s1");
    let s2 = db
        .create_session(
            &new_session(user.id, SessionKind::Pin, Some(device.id)),
            &refresh(2),
        )
        .await
        .expect("s2");
    let s3 = db
        .create_session(
            &new_session(user.id, SessionKind::Password, None),
            &refresh(3),
        )
        .await
        .expect("s3");
    assert_eq!(s2.device_id, Some(device.id));
    let listed: Vec<SessionId> = db
        .list_active_sessions(user.id)
        .await
        .expect("list")
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, vec![s3.id, s2.id, s1.id], "newest first");

    assert!(!s1.mfa_verified);
    db.mark_session_mfa_verified(s1.id).await.expect("verify");
    assert!(
        db.get_session(s1.id)
            .await
            .expect("get")
            .expect("exists")
            .mfa_verified
    );

    assert_eq!(
        db.revoke_device_sessions(device.id, "device revoked")
            .await
            .expect("device"),
        1
    );
    assert_eq!(
        db.revoke_user_sessions(user.id, "password changed", Some(s1.id))
            .await
            .expect("others"),
        1
    );
    let listed: Vec<SessionId> = db
        .list_active_sessions(user.id)
        .await
        .expect("list")
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, vec![s1.id]);
    assert!(db.revoke_session(s1.id, "logout").await.expect("revoke"));
    assert!(
        !db.revoke_session(s1.id, "logout").await.expect("again"),
        "already revoked"
    );
}

pub async fn devices_are_found_only_by_their_secret(db: Arc<dyn Storage>) {
    let (a, b) = two_stores(&db).await;
    let creator = db.create_user(&new_owner("dona")).await.expect("owner");
    let new = NewDevice {
        id: DeviceId::new(),
        store_id: a,
        name: "Caixa 1".into(),
        secret_hash: [5; 32],
        created_by: creator.id,
    };
    let device = db.create_device(&new).await.expect("create");
    assert_eq!(
        (device.store_id, device.name.as_str(), device.revoked_at),
        (a, "Caixa 1", None)
    );
    assert_eq!(
        db.find_device(new.id, &[5; 32]).await.expect("find"),
        Some(device.clone())
    );
    assert_eq!(
        db.find_device(new.id, &[6; 32])
            .await
            .expect("wrong secret"),
        None
    );
    assert_eq!(
        db.list_devices(a).await.expect("list"),
        vec![device.clone()]
    );
    assert!(db.list_devices(b).await.expect("list").is_empty());
    assert!(db.revoke_device(new.id).await.expect("revoke"));
    assert!(!db.revoke_device(new.id).await.expect("again"));
    assert!(
        db.get_device(new.id)
            .await
            .expect("get")
            .expect("exists")
            .revoked_at
            .is_some()
    );
}

pub async fn api_keys_keep_their_scope_and_permissions(db: Arc<dyn Storage>) {
    let (a, b) = two_stores(&db).await;
    let creator = db.create_user(&new_owner("dona")).await.expect("owner");
    let permissions: PermissionSet = [Permission::StoreRead, Permission::AuditRead]
        .into_iter()
        .collect();
    let new = NewApiKey {
        id: ApiKeyId::new(),
        name: "iFood".into(),
        secret_hash: [4; 32],
        permissions,
        all_stores: false,
        store_ids: vec![a, b],
        created_by: creator.id,
        expires_at: None,
    };
    let key = db.create_api_key(&new).await.expect("create");
    assert_eq!(key.permissions, permissions);
    let mut stores = vec![a, b];
    stores.sort();
    assert_eq!(key.store_ids, stores);
    assert!(key.is_active(Utc::now()) && key.last_used_at.is_none());
    assert_eq!(
        db.find_api_key(new.id, &[4; 32]).await.expect("find"),
        Some(key.clone())
    );
    assert_eq!(
        db.find_api_key(new.id, &[0; 32])
            .await
            .expect("wrong secret"),
        None
    );
    db.touch_api_key(new.id).await.expect("touch");
    assert!(
        db.list_api_keys().await.expect("list")[0]
            .last_used_at
            .is_some()
    );
    assert_eq!(
        db.get_api_key(new.id)
            .await
            .expect("get")
            .map(|k| k.store_ids),
        Some(stores)
    );
    assert_eq!(db.get_api_key(ApiKeyId::new()).await.expect("get"), None);
    assert!(db.revoke_api_key(new.id).await.expect("revoke"));
    let revoked = db
        .find_api_key(new.id, &[4; 32])
        .await
        .expect("find")
        .expect("exists");
    assert!(!revoked.is_active(Utc::now()));

    let bad = NewApiKey {
        id: ApiKeyId::new(),
        store_ids: vec![StoreId::new()],
        ..new
    };
    assert!(matches!(
        db.create_api_key(&bad).await,
        Err(StoreError::NotFound { entity: "store" })
    ));
    assert_eq!(
        db.list_api_keys().await.expect("list").len(),
        1,
        "nothing written"
    );
}

pub async fn security_events_list_newest_first(db: Arc<dyn Storage>) {
    let user = UserId::new();
    let mut ids = Vec::new();
    for i in 0..5 {
        let event = SecurityEvent {
            id: EventId::new(),
            at: comanda_domain::clock::now(),
            kind: if i % 2 == 0 {
                SecurityEventKind::LoginFailed
            } else {
                SecurityEventKind::LoginSucceeded
            },
            actor_user_id: (i < 3).then_some(user),
            actor_api_key_id: None,
            store_id: None,
            subject_user_id: None,
            login: Some("ana".into()),
            ip: Some("198.51.100.7".into()),
            request_id: Some(format!("req-{i}")),
            details: serde_json::json!({ "attempt": i }),
        };
        db.record_security_event(&event).await.expect("record");
        ids.push(event.id);
    }
    let first = db
        .list_security_events(&EventFilter::default(), None, Limit::new(Some(3)))
        .await
        .expect("page");
    assert_eq!(
        first.items.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![ids[4], ids[3], ids[2]]
    );
    assert_eq!(first.items[0].details["attempt"], 4);
    assert_eq!(first.items[1].kind, SecurityEventKind::LoginSucceeded);
    let rest = db
        .list_security_events(&EventFilter::default(), first.next, Limit::new(Some(3)))
        .await
        .expect("page");
    assert_eq!(
        rest.items.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![ids[1], ids[0]]
    );
    assert_eq!(rest.next, None);
    let mine = db
        .list_security_events(
            &EventFilter {
                user: Some(user),
                ..EventFilter::default()
            },
            None,
            Limit::new(None),
        )
        .await
        .expect("filtered");
    assert_eq!(mine.items.len(), 3);
}

/// A store-scoped reader sees the events of their stores and of their stores' people,
/// never another store's, nor those of all-stores people, keys or unknown logins.
pub async fn security_events_stay_in_their_stores(db: Arc<dyn Storage>) {
    let (a, b) = two_stores(&db).await;
    let owner = db.create_user(&new_owner("dona")).await.expect("owner").id;
    let only_a = db
        .create_user(&staff("ana", Role::Admin, vec![a]))
        .await
        .expect("a")
        .id;
    let only_b = db
        .create_user(&staff("bia", Role::Admin, vec![b]))
        .await
        .expect("b")
        .id;
    let both = db
        .create_user(&staff("caio", Role::Manager, vec![a, b]))
        .await
        .expect("both")
        .id;
    let event =
        |store: Option<StoreId>, actor: Option<UserId>, subject: Option<UserId>| SecurityEvent {
            id: EventId::new(),
            at: comanda_domain::clock::now(),
            kind: SecurityEventKind::LoginFailed,
            actor_user_id: actor,
            actor_api_key_id: None,
            store_id: store,
            subject_user_id: subject,
            login: None,
            ip: None,
            request_id: None,
            details: serde_json::json!({}),
        };
    let key = SecurityEvent {
        actor_api_key_id: Some(ApiKeyId::new()),
        ..event(None, None, None)
    };
    let events = [
        ("in a", event(Some(a), Some(owner), None)),
        ("in b", event(Some(b), Some(only_a), None)),
        ("b's person", event(None, Some(only_b), None)),
        ("a's person on b's", event(None, Some(only_a), Some(only_b))),
        ("owner on b's", event(None, Some(owner), Some(only_b))),
        ("shared person", event(None, None, Some(both))),
        ("unknown login", event(None, None, None)),
        ("key", key),
    ];
    for (_, e) in &events {
        db.record_security_event(e).await.expect("record");
    }
    let seen = |stores: Option<Vec<StoreId>>, user: Option<UserId>| {
        let db = db.clone();
        let events = &events;
        async move {
            let page = db
                .list_security_events(&EventFilter { user, stores }, None, Limit::new(None))
                .await
                .expect("list");
            let mut names: Vec<&str> = events
                .iter()
                .filter(|(_, e)| page.items.iter().any(|i| i.id == e.id))
                .map(|(name, _)| *name)
                .collect();
            names.sort_unstable();
            names
        }
    };
    assert_eq!(seen(None, None).await.len(), events.len());
    assert_eq!(
        seen(Some(vec![b]), None).await,
        ["b's person", "in b", "shared person"]
    );
    assert_eq!(seen(Some(vec![a]), None).await, ["in a", "shared person"]);
    assert_eq!(
        seen(Some(vec![b]), Some(only_a)).await,
        ["in b"],
        "a filter by another store's person shows only what happened in the reader's store"
    );
    assert!(seen(Some(Vec::new()), None).await.is_empty());
}

pub async fn server_secrets_keep_the_first_value(db: Arc<dyn Storage>) {
    let first = db
        .server_secret("token_signing_key", &[1, 2, 3])
        .await
        .expect("first");
    let second = db
        .server_secret("token_signing_key", &[9, 9, 9])
        .await
        .expect("second");
    assert_eq!(
        (first.as_slice(), second.as_slice()),
        (&[1u8, 2, 3][..], &[1u8, 2, 3][..])
    );
    assert_eq!(
        db.server_secret("other", &[4]).await.expect("other"),
        vec![4]
    );
}
