//! The behaviour every storage backend must show. Backends run it with
//! [`conformance_suite!`](crate::conformance_suite), each test on a fresh database that
//! has been migrated.

use crate::{BootstrapOutcome, Limit, Storage, StoreError};
use chrono::{Duration, Utc};
use comanda_domain::{
    DisplayName, Locale, Login, NewStore, NewUser, PasswordHash, Role, StoreId, StoreName,
    StorePatch, Timezone, UserId,
};
use std::sync::Arc;

/// A migrated, empty database for one test; dropping it removes the database.
pub trait Harness {
    fn storage(&self) -> Arc<dyn Storage>;
}

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
        );
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
        .list_stores(None, Limit::new(Some(10)))
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
        let page = db.list_stores(after, limit).await.expect("list");
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
    let stores = db.list_stores(None, Limit::new(None)).await.expect("list");
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
    let stores = db.list_stores(None, Limit::new(None)).await.expect("list");
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
