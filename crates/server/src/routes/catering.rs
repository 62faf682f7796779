//! Catering through HTTP: caterer and client companies, and the contracts between them.
//! Two scopes meet here. The caterer's people act through the kitchen store of a
//! contract (403 outside their stores, like everywhere else); a client company's people
//! (role `client`) see only their own company's contracts, and another company's
//! contract is not there for them at all (404), so contract ids cannot be probed.

use crate::auth::extract::Auth;
use crate::auth::principal::Actor;
use crate::contract::outputs::Created;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::sale_catalog::{SaleCache, catalog_owner};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDateTime;
use comanda_domain::catering::{
    CateringError, Company, CompanyKind, Contract, ContractStatus, Terms,
};
use comanda_domain::{
    CompanyId, ContractId, Permission, ProductId, StoreId, ValidationError, clock,
};
use comanda_store::{CompanyFilter, StoreError};
use serde::Deserialize;
use serde_json::json;

const MAX_NAME_CHARS: usize = 120;
const LIST_LIMIT: i64 = 500;

pub fn catering_error(e: CateringError) -> ApiError {
    match e {
        CateringError::Invalid {
            field,
            code,
            message,
        } => ValidationError::new(field, code, message).into(),
        CateringError::PastCutoff { date, cutoff } => ApiError::conflict(
            "past_cutoff",
            format!("the quantity of {date} could be changed until {cutoff} (the kitchen's time)"),
        )
        .with_details(json!({ "date": date, "cutoff": cutoff })),
        CateringError::OutOfRange { quantity, min, max } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "quantity_out_of_range",
            format!("{quantity} meals is outside the contract's {min} to {max} a day"),
        )
        .with_details(json!({ "quantity": quantity, "min": min, "max": max })),
        CateringError::State(message) => ApiError::conflict("invalid_state", message),
        CateringError::Money(e) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "money_error",
            e.to_string(),
        ),
    }
}

/// A change based on an old version: the 409 every versioned write gives.
pub fn stale(entity: &'static str, current: i64) -> ApiError {
    StoreError::VersionMismatch { entity, current }.into()
}

fn contract_missing() -> ApiError {
    ApiError::not_found("contract not found")
}

/// The contract, if the actor may use `permission` on it: a client company's person on
/// their company's contracts, staff in the contract's kitchen store. Anyone else's is
/// not there (404): a 403 would tell whose kitchen it is.
pub async fn contract_for(
    state: &AppState,
    auth: &Auth,
    permission: Permission,
    id: ContractId,
) -> Result<Contract, ApiError> {
    auth.require(state, permission)?;
    let contract = state
        .storage
        .get_contract(id)
        .await?
        .ok_or_else(contract_missing)?;
    let theirs = match auth.actor.company_id {
        Some(company) => company == contract.client_id,
        None => auth.actor.can_access(contract.store_id),
    };
    if theirs {
        Ok(contract)
    } else {
        Err(contract_missing())
    }
}

/// Now, on the kitchen's clock: cut-offs are local times.
pub async fn kitchen_now(state: &AppState, store: StoreId) -> Result<NaiveDateTime, ApiError> {
    let shop = state
        .storage
        .get_store(store)
        .await?
        .ok_or_else(|| ApiError::not_found("store not found"))?;
    Ok(clock::now()
        .with_timezone(&shop.timezone.tz())
        .naive_local())
}

fn name(field: &str, text: &str) -> Result<String, ValidationError> {
    comanda_domain::validation::bounded_text(field, text, 1, MAX_NAME_CHARS)
}

// Companies.

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyBody {
    kind: CompanyKind,
    #[schemars(length(min = 1))]
    name: String,
    #[serde(default)]
    tax_id: Option<String>,
    /// A caterer's kitchen: required for caterers, refused for clients.
    #[serde(default)]
    store_id: Option<StoreId>,
}

/// `POST /companies`: a caterer (with its kitchen store) or a client company.
pub async fn create_company(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CompanyBody>,
) -> Result<Created<Company>, ApiError> {
    auth.require(&state, Permission::CompanyManage)?;
    let name = name("name", &body.name)?;
    let tax_id = body
        .tax_id
        .as_deref()
        .map(|t| self::name("tax_id", t))
        .transpose()?;
    match (body.kind, body.store_id) {
        (CompanyKind::Caterer, None) => {
            return Err(ValidationError::new(
                "store_id",
                "required",
                "a caterer cooks in one of the stores",
            )
            .into());
        }
        (CompanyKind::Client, Some(_)) => {
            return Err(ValidationError::new(
                "store_id",
                "not_for_clients",
                "a client company has no kitchen",
            )
            .into());
        }
        (CompanyKind::Caterer, Some(store)) => {
            auth.require_in(&state, Permission::CompanyManage, store)?;
        }
        (CompanyKind::Client, None) => {}
    }
    let now = clock::now();
    let company = Company {
        id: CompanyId::new(),
        kind: body.kind,
        name,
        tax_id,
        store_id: body.store_id,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let company = state
        .storage
        .create_company(&company, auth.actor.user_id)
        .await?;
    Ok(Created(company))
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyQuery {
    kind: Option<CompanyKind>,
}

/// The companies `actor` may see: a client company's person their own; staff of some
/// stores the caterers cooking there and the clients those stores serve or registered;
/// all-stores staff every one.
fn visible_companies(actor: &Actor, mut filter: CompanyFilter) -> CompanyFilter {
    match actor.company_id {
        Some(own) if filter.id.is_none_or(|id| id == own) => filter.id = Some(own),
        Some(_) => filter.stores = Some(Vec::new()),
        None => filter.stores = actor.store_scope().map(<[StoreId]>::to_vec),
    }
    filter
}

/// `GET /companies`: the companies the caller may see, by name.
pub async fn list_companies(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<CompanyQuery>,
) -> Result<Json<crate::extract::PageView<Company>>, ApiError> {
    auth.require(&state, Permission::CateringRead)?;
    let filter = CompanyFilter {
        kind: query.kind,
        ..CompanyFilter::default()
    };
    let companies = state
        .storage
        .list_companies(&visible_companies(&auth.actor, filter), LIST_LIMIT)
        .await?;
    Ok(Json(crate::extract::PageView::whole(companies)))
}

/// The company, if `auth` may see it (else 404, so ids cannot be probed).
pub async fn visible_company(
    state: &AppState,
    auth: &Auth,
    id: CompanyId,
) -> Result<Option<Company>, ApiError> {
    let filter = CompanyFilter {
        id: Some(id),
        ..CompanyFilter::default()
    };
    let mut found = state
        .storage
        .list_companies(&visible_companies(&auth.actor, filter), 1)
        .await?;
    Ok(found.pop())
}

async fn company_for(state: &AppState, auth: &Auth, id: CompanyId) -> Result<Company, ApiError> {
    auth.require(state, Permission::CateringRead)?;
    visible_company(state, auth, id)
        .await?
        .ok_or_else(|| ApiError::not_found("company not found"))
}

pub async fn get_company(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<CompanyId>,
) -> Result<Json<Company>, ApiError> {
    company_for(&state, &auth, id).await.map(Json)
}

/// `GET /companies/{id}/contracts`: the company's contracts the actor may see.
pub async fn company_contracts(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<CompanyId>,
) -> Result<Json<crate::extract::PageView<Contract>>, ApiError> {
    let company = company_for(&state, &auth, id).await?;
    let contracts: Vec<Contract> = state
        .storage
        .contracts_of(company.id, LIST_LIMIT)
        .await?
        .into_iter()
        .filter(|c| auth.actor.company_id.is_some() || auth.actor.can_access(c.store_id))
        .collect();
    Ok(Json(crate::extract::PageView::whole(contracts)))
}

// Contracts.

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractBody {
    caterer_id: CompanyId,
    client_id: CompanyId,
    terms: Terms,
    #[serde(default)]
    product_id: Option<ProductId>,
}

async fn company_of_kind(
    state: &AppState,
    auth: &Auth,
    field: &'static str,
    id: CompanyId,
    kind: CompanyKind,
) -> Result<Company, ApiError> {
    match visible_company(state, auth, id).await? {
        Some(company) if company.kind == kind => Ok(company),
        _ => Err(
            ValidationError::new(field, "unknown_company", "no such company of this kind").into(),
        ),
    }
}

/// Terms the kitchen can bill: valid, and in the kitchen store's currency.
async fn checked_terms(state: &AppState, store: StoreId, terms: &Terms) -> Result<(), ApiError> {
    terms.validate().map_err(catering_error)?;
    let currency = SaleCache::catalog(state, store).await?.currency;
    if terms.price_per_meal.currency != currency {
        return Err(ValidationError::new(
            "terms.price_per_meal.currency",
            "currency_mismatch",
            format!("the kitchen sells in {currency}"),
        )
        .into());
    }
    Ok(())
}

/// The meal is a product of the kitchen's catalog.
async fn checked_product(
    state: &AppState,
    store: StoreId,
    product: Option<ProductId>,
) -> Result<(), ApiError> {
    let Some(product) = product else {
        return Ok(());
    };
    let owner = catalog_owner(state, store).await?;
    match state.storage.get_product(owner, product).await? {
        Some(_) => Ok(()),
        None => Err(ValidationError::new(
            "product_id",
            "unknown_product",
            "no such product in the kitchen's catalog",
        )
        .into()),
    }
}

/// `POST /contracts`: the caterer's kitchen managers sign a client.
pub async fn create_contract(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<ContractBody>,
) -> Result<Created<Contract>, ApiError> {
    auth.require(&state, Permission::CateringManage)?;
    let caterer = company_of_kind(
        &state,
        &auth,
        "caterer_id",
        body.caterer_id,
        CompanyKind::Caterer,
    )
    .await?;
    let client = company_of_kind(
        &state,
        &auth,
        "client_id",
        body.client_id,
        CompanyKind::Client,
    )
    .await?;
    let store = caterer.store_id.ok_or_else(|| {
        ValidationError::new(
            "caterer_id",
            "no_kitchen",
            "the caterer has no kitchen store",
        )
    })?;
    auth.require_in(&state, Permission::CateringManage, store)?;
    checked_terms(&state, store, &body.terms).await?;
    checked_product(&state, store, body.product_id).await?;
    let now = clock::now();
    let contract = Contract {
        id: ContractId::new(),
        caterer_id: caterer.id,
        client_id: client.id,
        store_id: store,
        status: ContractStatus::Active,
        terms: body.terms,
        product_id: body.product_id,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let contract = state.storage.create_contract(&contract).await?;
    Ok(Created(contract))
}

pub async fn get_contract(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ContractId>,
) -> Result<Json<Contract>, ApiError> {
    contract_for(&state, &auth, Permission::CateringRead, id)
        .await
        .map(Json)
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractPatch {
    /// The version the change is based on.
    version: i64,
    #[serde(default)]
    status: Option<ContractStatus>,
    #[serde(default)]
    terms: Option<Terms>,
    #[serde(default)]
    product_id: Option<ProductId>,
}

/// `PATCH /contracts/{id}`: new terms (for days generated from now on), pause, resume,
/// terminate. Pausing cancels the days not yet confirmed; terminating, every day not yet
/// served. A terminated contract stays terminated.
pub async fn update_contract(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ContractId>,
    ApiJson(patch): ApiJson<ContractPatch>,
) -> Result<Json<Contract>, ApiError> {
    let mut contract = contract_for(&state, &auth, Permission::CateringManage, id).await?;
    if contract.version != patch.version {
        return Err(stale("contract", contract.version));
    }
    if contract.status == ContractStatus::Terminated {
        return Err(ApiError::conflict(
            "contract_terminated",
            "a terminated contract does not change",
        ));
    }
    if let Some(terms) = patch.terms {
        checked_terms(&state, contract.store_id, &terms).await?;
        contract.terms = terms;
    }
    if patch.product_id.is_some() {
        checked_product(&state, contract.store_id, patch.product_id).await?;
        contract.product_id = patch.product_id;
    }
    let ending = patch.status.filter(|s| *s != ContractStatus::Active);
    if let Some(status) = patch.status {
        contract.status = status;
    }
    contract.version += 1;
    contract.updated_at = clock::now();
    let contract = state
        .storage
        .save_contract(&contract, patch.version)
        .await?;
    if let Some(status) = ending {
        super::service_days::cancel_upcoming(&state, &contract, status).await?;
    }
    Ok(Json(contract))
}
