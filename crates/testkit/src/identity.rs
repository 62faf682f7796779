//! An organisation to test against: two stores, and a signed-in person in every role,
//! each through the real sign-in flow (password change, second factor where required).

use crate::TestServer;
use comanda_domain::{DisplayName, Login, NewStore, NewUser, Role, Secret, StoreId, UserId};
use comanda_server::AppState;
use comanda_server::auth::config::AuthConfig;
use comanda_server::auth::limiter::{Limiter, Rate};
use comanda_server::auth::totp;
use comanda_server::readiness::Readiness;
use comanda_store::Storage;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// A response, decoded.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    /// The error code of an error reply.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// A person of the organisation with a current session.
#[derive(Clone, Debug)]
pub struct Person {
    pub id: UserId,
    pub role: Role,
    pub login: String,
    pub password: String,
    pub token: String,
    pub refresh: String,
    pub totp_secret: Option<Secret>,
    pub recovery_codes: Vec<String>,
}

impl Person {
    /// A TOTP code for `step_offset` steps from now (0 = now); each step may be used once.
    pub fn totp(&self, step_offset: i64) -> String {
        let secret = self
            .totp_secret
            .as_ref()
            .expect("this person has a second factor");
        let step = totp::step_at(comanda_domain::clock::now().timestamp()) + step_offset;
        format!("{:06}", totp::code_at(secret, step).expect("valid secret"))
    }
}

pub struct Org {
    pub server: TestServer,
    pub storage: Arc<dyn Storage>,
    client: reqwest::Client,
    pub store_a: StoreId,
    pub store_b: StoreId,
    pub owner: Person,
    pub admin: Person,
    pub manager: Person,
    pub cashier: Person,
    pub waiter: Person,
    pub kitchen: Person,
}

/// Limits loose enough that tests never trip them unless they mean to.
pub fn relaxed_auth() -> AuthConfig {
    AuthConfig {
        login_per_ip: Rate::new(100_000, Duration::from_secs(1)),
        login_per_account: Rate::new(100_000, Duration::from_secs(1)),
        ..AuthConfig::default()
    }
}

pub const OWNER_PASSWORD: &str = "owner passphrase 0001";

impl Org {
    pub async fn new(storage: Arc<dyn Storage>) -> Self {
        Self::with(storage, relaxed_auth(), Limiter::local()).await
    }

    pub async fn with(storage: Arc<dyn Storage>, auth: AuthConfig, limiter: Limiter) -> Self {
        let main = NewStore::parse("main", "Loja Centro", "BRL", "America/Sao_Paulo", "pt-BR")
            .expect("valid store");
        let owner = NewUser {
            id: UserId::new(),
            login: Login::parse("login", "owner").expect("valid"),
            display_name: DisplayName::parse("display_name", "Dona").expect("valid"),
            password_hash: comanda_server::password::hash(&Secret::new(OWNER_PASSWORD))
                .await
                .expect("hash"),
            role: Role::Owner,
            all_stores: true,
            store_ids: vec![main.id],
            must_change_password: false,
            company_id: None,
        };
        storage.bootstrap(&main, &owner).await.expect("bootstrap");
        let state = AppState::with_auth(storage.clone(), Readiness::serving(), auth, limiter);
        let server = TestServer::with_state(state).await;
        let client = reqwest::Client::new();
        let mut org = Self {
            server,
            storage,
            client,
            store_a: main.id,
            store_b: main.id,
            owner: Person {
                id: owner.id,
                role: Role::Owner,
                login: "owner".into(),
                password: OWNER_PASSWORD.into(),
                token: String::new(),
                refresh: String::new(),
                totp_secret: None,
                recovery_codes: Vec::new(),
            },
            admin: placeholder(),
            manager: placeholder(),
            cashier: placeholder(),
            waiter: placeholder(),
            kitchen: placeholder(),
        };
        let owner = org.owner.clone();
        org.owner = org.complete_sign_in(owner).await;
        let b = org
            .call(
                Method::POST,
                "/api/v1/stores",
                Some(&org.owner.token.clone()),
                Some(json!({
                    "code": "filial", "name": "Loja Filial", "currency": "BRL",
                    "timezone": "America/Sao_Paulo", "locale": "pt-BR"
                })),
            )
            .await;
        assert_eq!(b.status, 201, "{b:?}");
        org.store_b = b.body["id"].as_str().expect("id").parse().expect("uuid");
        org.admin = org.hire("admin", Role::Admin, true, vec![]).await;
        let a = org.store_a;
        org.manager = org.hire("manager", Role::Manager, false, vec![a]).await;
        org.cashier = org.hire("cashier", Role::Cashier, false, vec![a]).await;
        org.waiter = org.hire("waiter", Role::Waiter, false, vec![a]).await;
        org.kitchen = org.hire("kitchen", Role::Kitchen, false, vec![a]).await;
        org
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        reply(request).await
    }

    pub async fn login(&self, login: &str, password: &str, totp: Option<&str>) -> Reply {
        let mut body = json!({ "login": login, "password": password });
        if let Some(code) = totp {
            body["totp"] = json!(code);
        }
        self.call(Method::POST, "/api/v1/auth/login", None, Some(body))
            .await
    }

    /// Creates a person through the API (as the owner) and signs them in fully.
    pub async fn hire(
        &self,
        login: &str,
        role: Role,
        all_stores: bool,
        stores: Vec<StoreId>,
    ) -> Person {
        let password = format!("{login} first pass 123");
        let created = self
            .call(
                Method::POST,
                "/api/v1/users",
                Some(&self.owner.token),
                Some(json!({
                    "login": login, "display_name": login, "role": role, "all_stores": all_stores,
                    "store_ids": stores, "password": password,
                })),
            )
            .await;
        assert_eq!(created.status, 201, "{created:?}");
        let person = Person {
            id: created.body["user"]["id"]
                .as_str()
                .expect("id")
                .parse()
                .expect("uuid"),
            role,
            login: login.to_owned(),
            password,
            token: String::new(),
            refresh: String::new(),
            totp_secret: None,
            recovery_codes: Vec::new(),
        };
        self.complete_sign_in(person).await
    }

    /// Signs in and settles what the server requires: a new password, a second factor.
    pub async fn complete_sign_in(&self, mut person: Person) -> Person {
        let signed_in = self.login(&person.login, &person.password, None).await;
        assert_eq!(signed_in.status, 200, "{signed_in:?}");
        person.token = signed_in.body["access_token"]
            .as_str()
            .expect("token")
            .to_owned();
        person.refresh = signed_in.body["refresh_token"]
            .as_str()
            .expect("refresh")
            .to_owned();
        let requires: Vec<String> = signed_in.body["requires"]
            .as_array()
            .expect("requires")
            .iter()
            .filter_map(|r| r.as_str().map(str::to_owned))
            .collect();
        if requires.iter().any(|r| r == "password_change") {
            let new_password = format!("{} changed pass 456", person.login);
            let changed = self
                .call(
                    Method::POST,
                    "/api/v1/me/password",
                    Some(&person.token),
                    Some(json!({
                        "current_password": person.password, "new_password": new_password,
                    })),
                )
                .await;
            assert_eq!(changed.status, 204, "{changed:?}");
            person.password = new_password;
        }
        if requires.iter().any(|r| r == "totp_enrolment") {
            let (secret, codes) = self.enrol_totp(&person.token).await;
            person.totp_secret = Some(secret);
            person.recovery_codes = codes;
        }
        person
    }

    /// Starts and confirms TOTP enrolment with the current code.
    pub async fn enrol_totp(&self, token: &str) -> (Secret, Vec<String>) {
        let started = self
            .call(
                Method::POST,
                "/api/v1/me/totp",
                Some(token),
                Some(json!({})),
            )
            .await;
        assert_eq!(started.status, 200, "{started:?}");
        let secret = Secret::new(started.body["secret"].as_str().expect("secret"));
        let step = totp::step_at(comanda_domain::clock::now().timestamp());
        let code = format!("{:06}", totp::code_at(&secret, step).expect("valid"));
        let confirmed = self
            .call(
                Method::POST,
                "/api/v1/me/totp/confirm",
                Some(token),
                Some(json!({ "code": code })),
            )
            .await;
        assert_eq!(confirmed.status, 200, "{confirmed:?}");
        let codes = confirmed.body["recovery_codes"]
            .as_array()
            .expect("codes")
            .iter()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect();
        (secret, codes)
    }

    pub fn people(&self) -> [&Person; 6] {
        [
            &self.owner,
            &self.admin,
            &self.manager,
            &self.cashier,
            &self.waiter,
            &self.kitchen,
        ]
    }
}

/// Sends a request and decodes the answer: JSON, `null` for an empty body, or a string
/// for another type of content (a CSV file).
pub async fn reply(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let stream = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if stream {
        // A stream's body never ends: its status and headers are the answer.
        return Reply {
            status,
            headers,
            body: Value::Null,
        };
    }
    let json = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("application/json"));
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else if !json {
        Value::String(text)
    } else {
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("status {status}: not JSON ({e}): {text}"))
    };
    Reply {
        status,
        body,
        headers,
    }
}

fn placeholder() -> Person {
    Person {
        id: UserId::new(),
        role: Role::Kitchen,
        login: String::new(),
        password: String::new(),
        token: String::new(),
        refresh: String::new(),
        totp_secret: None,
        recovery_codes: Vec::new(),
    }
}

/// Calls under the API path of the organisation's first store (`/api/v1/stores/{store_a}`).
pub struct InStore<'a> {
    pub org: &'a Org,
    pub base: String,
}

impl<'a> InStore<'a> {
    pub fn new(org: &'a Org) -> Self {
        Self {
            org,
            base: format!("/api/v1/stores/{}", org.store_a),
        }
    }

    pub async fn call(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        self.org
            .call(method, &format!("{}{path}", self.base), Some(token), body)
            .await
    }

    /// The answer's body; the test fails unless it is 200 or 201.
    pub async fn ok(&self, token: &str, method: Method, path: &str, body: Value) -> Value {
        let r = self.call(token, method, path, Some(body)).await;
        assert!(r.status == 200 || r.status == 201, "{path}: {r:?}");
        r.body
    }
}

/// An amount in reais, as the API takes money.
pub fn brl(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "BRL" })
}
