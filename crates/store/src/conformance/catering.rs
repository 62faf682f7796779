//! Catering companies, contracts and service days on every backend.

use super::new_store;
use crate::{NewOutboxEvent, Storage, StoreError};
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

fn date(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, d).expect("date")
}

pub async fn contracts_and_service_days_round_trip_with_versions(db: Arc<dyn Storage>) {
    let kitchen = db.create_store(&new_store("cozinha")).await.expect("store");
    let caterer = db
        .create_company(&company(
            CompanyKind::Caterer,
            "Sabor & Cia",
            Some(kitchen.id),
        ))
        .await
        .expect("caterer");
    let client = db
        .create_company(&company(CompanyKind::Client, "Acme", None))
        .await
        .expect("client");
    let other = db
        .create_company(&company(CompanyKind::Client, "Beta", None))
        .await
        .expect("client");
    let clients = db
        .list_companies(Some(CompanyKind::Client), 10)
        .await
        .expect("list");
    let names: Vec<&str> = clients.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Acme", "Beta"]);
    assert_eq!(db.list_companies(None, 10).await.expect("all").len(), 3);
    assert_eq!(
        db.get_company(client.id).await.expect("get"),
        Some(client.clone())
    );

    let now = clock::now();
    let terms = Terms {
        starts_on: date(1),
        ends_on: None,
        weekdays: Weekdays::of(&[Weekday::Mon, Weekday::Wed]),
        price_per_meal: Money::new(2_500, Currency::Brl),
        min_daily: 10,
        max_daily: 100,
        default_daily: 40,
        notice_days: 1,
        cutoff: NaiveTime::from_hms_opt(10, 0, 0).expect("time"),
    };
    let contract = Contract {
        id: ContractId::new(),
        caterer_id: caterer.id,
        client_id: client.id,
        store_id: kitchen.id,
        status: ContractStatus::Active,
        terms: terms.clone(),
        product_id: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
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
        .create_company(&company(CompanyKind::Client, "Acme", None))
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
