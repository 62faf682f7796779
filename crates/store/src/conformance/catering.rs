//! Catering companies, contracts and service days on every backend.

use super::new_store;
use crate::{CompanyFilter, NewOutboxEvent, Storage, StoreError};
use chrono::{NaiveDate, NaiveTime, Weekday};
use comanda_domain::catering::{
    Company, CompanyKind, Contract, ContractStatus, ServiceDay, Terms, Weekdays,
};
use comanda_domain::{CompanyId, ContractId, Currency, Money, StoreId, clock};
use std::sync::Arc;

fn company(kind: CompanyKind, name: &str, store: Option<StoreId>) -> Company {
    let now = clock::now();
    Company {
        id: CompanyId::new(),
        kind,
        name: name.into(),
        tax_id: None,
        store_id: store,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

fn terms() -> Terms {
    Terms {
        starts_on: date(1),
        ends_on: None,
        weekdays: Weekdays::of(&[Weekday::Mon, Weekday::Wed]),
        price_per_meal: Money::new(2_500, Currency::Brl),
        min_daily: 10,
        max_daily: 100,
        default_daily: 40,
        notice_days: 1,
        cutoff: NaiveTime::from_hms_opt(10, 0, 0).expect("time"),
    }
}

/// An active contract between `caterer` and `client`, cooked in the caterer's store.
fn contract(caterer: &Company, client: &Company) -> Contract {
    let now = clock::now();
    Contract {
        id: ContractId::new(),
        caterer_id: caterer.id,
        client_id: client.id,
        store_id: caterer.store_id.expect("a caterer's kitchen"),
        status: ContractStatus::Active,
        terms: terms(),
        product_id: None,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// A store-scoped person sees the caterers of their stores and the clients their stores
/// serve or their stores' people registered; nothing of another store's.
pub async fn companies_stay_in_their_stores(db: Arc<dyn Storage>) {
    use comanda_domain::{DisplayName, Login, NewUser, PasswordHash, Role, UserId};
    let a = db.create_store(&new_store("loja-a")).await.expect("a").id;
    let b = db.create_store(&new_store("loja-b")).await.expect("b").id;
    let admin_of = |login: &str, store: StoreId| NewUser {
        id: UserId::new(),
        login: Login::parse("login", login).expect("login"),
        display_name: DisplayName::parse("display_name", login).expect("name"),
        password_hash: PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        role: Role::Admin,
        all_stores: false,
        store_ids: vec![store],
        must_change_password: false,
        company_id: None,
    };
    let admin_a = db.create_user(&admin_of("ana", a)).await.expect("ana").id;
    let admin_b = db.create_user(&admin_of("bia", b)).await.expect("bia").id;
    let make = |kind, name: &'static str, store, by| {
        let db = db.clone();
        async move {
            db.create_company(&company(kind, name, store), by)
                .await
                .expect("company")
        }
    };
    let owner = db
        .create_user(&super::new_owner("dona"))
        .await
        .expect("owner");
    let caterer_a = make(CompanyKind::Caterer, "Cozinha A", Some(a), None).await;
    let caterer_b = make(CompanyKind::Caterer, "Cozinha B", Some(b), None).await;
    make(CompanyKind::Client, "Registered in A", None, Some(admin_a)).await;
    let served_by_a = make(CompanyKind::Client, "Served by A", None, Some(owner.id)).await;
    make(CompanyKind::Client, "Registered in B", None, Some(admin_b)).await;
    let served_by_b = make(CompanyKind::Client, "Served by B", None, None).await;
    let from_a_to_b = make(CompanyKind::Client, "To B from A", None, Some(admin_a)).await;
    make(CompanyKind::Client, "Nobody's yet", None, None).await;
    make(
        CompanyKind::Client,
        "Owner's prospect",
        None,
        Some(owner.id),
    )
    .await;
    for (caterer, client) in [
        (&caterer_a, &served_by_a),
        (&caterer_b, &served_by_b),
        (&caterer_b, &from_a_to_b),
    ] {
        db.create_contract(&contract(caterer, client))
            .await
            .expect("contract");
    }
    let names = |filter: CompanyFilter| {
        let db = db.clone();
        async move {
            db.list_companies(&filter, 100)
                .await
                .expect("list")
                .into_iter()
                .map(|c| c.name)
                .collect::<Vec<_>>()
        }
    };
    let scoped = |stores: Vec<StoreId>| CompanyFilter {
        stores: Some(stores),
        ..CompanyFilter::default()
    };
    assert_eq!(names(CompanyFilter::default()).await.len(), 9);
    assert_eq!(
        names(scoped(vec![b])).await,
        [
            "Cozinha B",
            "Nobody's yet",
            "Owner's prospect",
            "Registered in B",
            "Served by B",
            "To B from A"
        ]
    );
    assert_eq!(
        names(scoped(vec![a])).await,
        [
            "Cozinha A",
            "Nobody's yet",
            "Owner's prospect",
            "Registered in A",
            "Served by A",
            "To B from A"
        ]
    );
    let another_stores = CompanyFilter {
        id: Some(caterer_a.id),
        ..scoped(vec![b])
    };
    assert!(names(another_stores).await.is_empty());
    let own = CompanyFilter {
        id: Some(caterer_b.id),
        kind: Some(CompanyKind::Caterer),
        ..scoped(vec![b])
    };
    assert_eq!(names(own).await, ["Cozinha B"]);
    assert!(names(scoped(Vec::new())).await.is_empty());
}

fn date(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, d).expect("date")
}

pub async fn contracts_and_service_days_round_trip_with_versions(db: Arc<dyn Storage>) {
    let kitchen = db.create_store(&new_store("cozinha")).await.expect("store");
    let caterer = db
        .create_company(
            &company(CompanyKind::Caterer, "Sabor & Cia", Some(kitchen.id)),
            None,
        )
        .await
        .expect("caterer");
    let client = db
        .create_company(&company(CompanyKind::Client, "Acme", None), None)
        .await
        .expect("client");
    let other = db
        .create_company(&company(CompanyKind::Client, "Beta", None), None)
        .await
        .expect("client");
    let clients = db
        .list_companies(
            &CompanyFilter {
                kind: Some(CompanyKind::Client),
                ..CompanyFilter::default()
            },
            10,
        )
        .await
        .expect("list");
    let names: Vec<&str> = clients.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Acme", "Beta"]);
    let all = db.list_companies(&CompanyFilter::default(), 10).await;
    assert_eq!(all.expect("all").len(), 3);
    assert_eq!(
        db.get_company(client.id).await.expect("get"),
        Some(client.clone())
    );

    let terms = terms();
    let contract = contract(&caterer, &client);
    db.create_contract(&contract).await.expect("contract");
    let orphan = Contract {
        id: ContractId::new(),
        client_id: CompanyId::new(),
        ..contract.clone()
    };
    assert!(db.create_contract(&orphan).await.is_err(), "unknown client");
    assert_eq!(
        db.contracts_of(client.id, 10)
            .await
            .expect("of client")
            .len(),
        1
    );
    assert_eq!(
        db.contracts_of(caterer.id, 10)
            .await
            .expect("of caterer")
            .len(),
        1
    );
    assert!(
        db.contracts_of(other.id, 10)
            .await
            .expect("of other")
            .is_empty()
    );

    let mut paused = contract.clone();
    paused.status = ContractStatus::Paused;
    paused.version = 2;
    db.save_contract(&paused, 1).await.expect("save");
    assert!(matches!(
        db.save_contract(&paused, 1).await,
        Err(StoreError::VersionMismatch { current: 2, .. })
    ));
    assert_eq!(
        db.get_contract(contract.id)
            .await
            .expect("get")
            .map(|c| c.status),
        Some(ContractStatus::Paused)
    );

    let days: Vec<ServiceDay> = terms
        .service_dates(date(1), date(14))
        .into_iter()
        .map(|d| ServiceDay::scheduled(d, &terms))
        .collect();
    assert_eq!(days.len(), 4, "Wed 2, Mon 7, Wed 9, Mon 14");
    assert_eq!(
        db.add_service_days(contract.id, &days).await.expect("add"),
        4
    );
    assert_eq!(
        db.add_service_days(contract.id, &days)
            .await
            .expect("again"),
        0,
        "generated once"
    );
    let stored = db
        .service_days(contract.id, date(3), date(9))
        .await
        .expect("range");
    let dates: Vec<NaiveDate> = stored.iter().map(|d| d.date).collect();
    assert_eq!(dates, [date(7), date(9)]);

    let mut day = stored[0].clone();
    day.confirm(&terms, 60, date(1).and_hms_opt(9, 0, 0).expect("time"))
        .expect("confirm");
    day.version = 2;
    let confirmed = NewOutboxEvent {
        kind: "catering.day_confirmed".into(),
        payload: serde_json::json!({ "contract_id": contract.id, "date": day.date, "expected": 60 }),
        at: clock::now(),
    };
    db.save_service_day(&paused, &day, 1, Some(&confirmed))
        .await
        .expect("save");
    assert!(matches!(
        db.save_service_day(&paused, &day, 1, Some(&confirmed))
            .await,
        Err(StoreError::VersionMismatch { current: 2, .. })
    ));
    let again = db
        .service_days(contract.id, date(7), date(7))
        .await
        .expect("day");
    assert_eq!((again[0].expected, again[0].version), (60, 2));
    let events = db.outbox_after(kitchen.id, 0, 10).await.expect("outbox");
    assert_eq!(events.len(), 1, "the refused save wrote no event");
    assert_eq!(events[0].kind, "catering.day_confirmed");
}

/// A client company's person belongs to exactly one company; staff to none.
pub async fn client_people_belong_to_one_company(db: Arc<dyn Storage>) {
    use comanda_domain::{DisplayName, Login, NewUser, PasswordHash, Role, UserId};
    let client = db
        .create_company(&company(CompanyKind::Client, "Acme", None), None)
        .await
        .expect("client");
    let person = |login: &str, role: Role, company_id: Option<CompanyId>| NewUser {
        id: UserId::new(),
        login: Login::parse("login", login).expect("login"),
        display_name: DisplayName::parse("display_name", login).expect("name"),
        password_hash: PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        role,
        all_stores: false,
        store_ids: vec![],
        must_change_password: false,
        company_id,
    };
    let stored = db
        .create_user(&person("acme.rh", Role::Client, Some(client.id)))
        .await
        .expect("client person");
    assert_eq!(
        (stored.role, stored.company_id),
        (Role::Client, Some(client.id))
    );
    assert_eq!(
        db.get_user(stored.id)
            .await
            .expect("get")
            .map(|u| u.company_id),
        Some(Some(client.id))
    );
    for (login, role, company) in [
        ("nobody.client", Role::Client, None),
        ("waiter.acme", Role::Waiter, Some(client.id)),
        ("ghost.client", Role::Client, Some(CompanyId::new())),
    ] {
        assert!(
            db.create_user(&person(login, role, company)).await.is_err(),
            "{login} refused by the schema"
        );
        assert!(
            db.find_user_by_login(&Login::parse("login", login).expect("login"))
                .await
                .expect("find")
                .is_none()
        );
    }
}
