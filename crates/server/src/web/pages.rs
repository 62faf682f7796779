//! The apps' pages: a shell rendered on the server in the reader's language (labels,
//! the store's money format, the session's anti-forgery token), which a script of its
//! own then fills from the API. A page asked for without a session sends the browser to
//! sign in and back.

use super::assets;
use super::i18n;
use super::session::{self, LANG_COOKIE};
use crate::auth::extract::Auth;
use crate::auth::extract::{AuthAny, Terminal};
use crate::auth::principal::{Actor, Restriction};
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use comanda_domain::{Locale, Permission, Role, Store, StoreId};
use comanda_store::Limit;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// What every page carries.
pub struct Shell {
    pub locale: Locale,
    pub title: String,
    pub app: &'static str,
    css: String,
    common: String,
    /// The page's own scripts: `{app}.js`, then any `{app}-*.js`.
    scripts: Vec<String>,
    /// JSON for the script: store, money format, user, anti-forgery token.
    config: String,
    messages: &'static str,
}

impl Shell {
    fn new(locale: Locale, app: &'static str, title_id: &str, config: Value) -> Self {
        Self {
            locale,
            title: i18n::t(locale, title_id),
            app,
            css: assets::url("app.css"),
            common: assets::url("common.js"),
            scripts: assets::of_app(app),
            config: config.to_string().replace('<', "\\u003c"),
            messages: i18n::script_catalog(locale),
        }
    }

    pub fn t(&self, id: &str) -> String {
        i18n::t(self.locale, id)
    }

    pub fn lang(&self) -> &'static str {
        self.locale.tag()
    }

    pub fn css(&self) -> &str {
        &self.css
    }

    pub fn common(&self) -> &str {
        &self.common
    }

    pub fn scripts(&self) -> &[String] {
        &self.scripts
    }

    pub fn config(&self) -> &str {
        &self.config
    }

    pub fn messages(&self) -> &str {
        self.messages
    }

    /// The languages offered, this one first marked.
    pub fn languages(&self) -> Vec<(&'static str, &'static str, bool)> {
        Locale::ALL
            .into_iter()
            .map(|l| (l.tag(), language_name(l), l == self.locale))
            .collect()
    }
}

fn language_name(locale: Locale) -> &'static str {
    match locale {
        Locale::PtBr => "Português (Brasil)",
        Locale::EnUs => "English (US)",
        Locale::IdId => "Bahasa Indonesia",
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    shell: Shell,
    /// This browser is a registered terminal: staff may sign in with their PIN.
    terminal: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    shell: Shell,
    stores: Vec<Store>,
    office: bool,
    pos: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    shell: Shell,
}

#[derive(Template)]
#[template(path = "pin.html")]
struct PinPage {
    shell: Shell,
}

#[derive(Template)]
#[template(path = "pos.html")]
struct PosPage {
    shell: Shell,
}

#[derive(Template)]
#[template(path = "kds.html")]
struct KdsPage {
    shell: Shell,
}

#[derive(Template)]
#[template(path = "office.html")]
struct OfficePage {
    shell: Shell,
}

fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page did not render");
            ApiError::internal().into_response()
        }
    }
}

/// The reader's language: the one saved on their account (it follows them to any
/// terminal), else the one chosen in this browser, else the store's, else what the
/// browser asks for, else English.
fn locale_of(headers: &HeaderMap, reader: Option<&Actor>, store: Option<&Store>) -> Locale {
    if let Some(own) = reader.and_then(|r| r.locale) {
        return own;
    }
    if let Some(chosen) = session::cookie(headers, LANG_COOKIE).and_then(|t| t.parse().ok()) {
        return chosen;
    }
    if let Some(store) = store {
        return store.locale;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .into_iter()
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.split(';').next())
        .find_map(|tag| {
            let tag = tag.trim();
            Locale::ALL.into_iter().find(|l| {
                l.tag().eq_ignore_ascii_case(tag)
                    || l.tag()
                        .split('-')
                        .next()
                        .is_some_and(|lang| lang.eq_ignore_ascii_case(tag))
            })
        })
        .unwrap_or(Locale::EnUs)
}

/// A signed-in reader of a page; without a session the browser is sent to sign in.
pub struct Reader {
    actor: Arc<Actor>,
    csrf: String,
    auth: Auth,
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let to_login = |uri: &Uri| {
            let next = uri.path_and_query().map_or("/app", |p| p.as_str());
            let next: String = url_escape(next);
            Redirect::to(&format!("/app/login?next={next}")).into_response()
        };
        if session::access_token(&parts.headers).is_none() {
            return Err(to_login(&parts.uri));
        }
        let auth = match Auth::from_request_parts(parts, state).await {
            Ok(auth) => auth,
            Err(e) if e.status == StatusCode::UNAUTHORIZED => return Err(to_login(&parts.uri)),
            // A new password or a second factor comes first.
            Err(e) if RESTRICTIONS.contains(&e.code) => {
                return Err(Redirect::to("/app/account").into_response());
            }
            Err(e) => return Err(e.into_response()),
        };
        let csrf = match (auth.actor.session_id, state.signing_key()) {
            (Some(session), Ok(key)) => key.csrf_token(session.as_uuid()),
            _ => return Err(to_login(&parts.uri)),
        };
        Ok(Self {
            actor: auth.actor.clone(),
            csrf,
            auth,
        })
    }
}

const RESTRICTIONS: [&str; 2] = [
    Restriction::PasswordChangeRequired.code(),
    Restriction::TotpRequired.code(),
];

/// Enough escaping for a path and query put into a query parameter.
fn url_escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '/' | '-' | '_' | '.' => c.to_string(),
            other => {
                let mut buf = [0u8; 4];
                other
                    .encode_utf8(&mut buf)
                    .bytes()
                    .map(|b| format!("%{b:02X}"))
                    .collect()
            }
        })
        .collect()
}

/// The store a page is about, if the reader may do `permission` there.
async fn store_for(
    state: &AppState,
    reader: &Reader,
    store: StoreId,
    permission: Permission,
) -> Result<Store, Response> {
    reader
        .auth
        .require_in(state, permission, store)
        .map_err(IntoResponse::into_response)?;
    match state.storage.get_store(store).await {
        Ok(Some(store)) => Ok(store),
        Ok(None) => Err(ApiError::not_found("no such store").into_response()),
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

/// What a page's script needs to know of the store and the reader.
fn config(store: &Store, locale: Locale, reader: &Reader, extra: Value) -> Value {
    let currency = store.currency;
    let (group, decimal, space) = match locale {
        Locale::EnUs => (",", ".", ""),
        Locale::PtBr | Locale::IdId => (".", ",", "\u{a0}"),
    };
    let mut config = json!({
        "api": format!("/api/v1/stores/{}", store.id),
        "store": { "id": store.id, "name": store.name.as_str(), "timezone": store.timezone },
        "locale": locale.tag(),
        "money": {
            "currency": currency.code(),
            "symbol": currency.symbol(locale),
            "places": currency.minor_units(),
            "group": group,
            "decimal": decimal,
            "space": space,
        },
        "user": {
            "id": reader.actor.user_id,
            "role": reader.actor.role,
            "manager": reader.actor.may(Permission::DeviceManage),
            // What the pages offer: a button the reader's role may not use is not shown.
            "may": Permission::ALL
                .into_iter()
                .filter(|p| reader.actor.may(*p))
                .map(Permission::as_str)
                .collect::<Vec<_>>(),
        },
        "device": reader.actor.device_id,
        "csrf": reader.csrf,
    });
    if let (Some(fields), Value::Object(more)) = (config.as_object_mut(), extra) {
        fields.extend(more);
    }
    config
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct LoginQuery {
    next: Option<String>,
}

/// `next` if it is a page of this site's apps: never a redirect elsewhere after signing in.
fn local_path(next: Option<String>) -> Option<String> {
    next.filter(|n| n.starts_with("/app") && !n.starts_with("//"))
}

/// `GET /app/login`
pub async fn login(headers: HeaderMap, Query(query): Query<LoginQuery>) -> Response {
    let locale = locale_of(&headers, None, None);
    // Only a path on this site: never a redirect elsewhere after signing in.
    let resume = local_path(query.next);
    let terminal = session::cookie(&headers, session::DEVICE_COOKIE).is_some();
    // A terminal whose staff session ended mid-service goes back to its PIN screen.
    let to_pin = terminal
        && resume
            .as_deref()
            .is_some_and(|n| !n.starts_with("/app/pin"));
    let next = resume.unwrap_or_else(|| "/app".to_owned());
    let config = json!({ "next": next, "to_pin": to_pin });
    let shell = Shell::new(locale, "login", "login-title", config);
    render(&LoginPage { shell, terminal })
}

/// `GET /app/pin`: staff sign in with their PIN on a registered terminal; a browser that
/// is not one signs in with a password instead.
pub async fn pin(
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
    terminal: Result<Terminal, ApiError>,
) -> Response {
    let Ok(terminal) = terminal else {
        return Redirect::to("/app/login").into_response();
    };
    let locale = locale_of(&headers, None, None);
    let config = json!({
        "store": { "id": terminal.device.store_id },
        "terminal": terminal.device.name,
        "next": local_path(query.next).unwrap_or_else(|| "/app".to_owned()),
    });
    render(&PinPage {
        shell: Shell::new(locale, "pin", "pin-title", config),
    })
}

/// `GET /app/account`: one's password and second factor; open to a session that must
/// change the one or set up the other before anything else.
pub async fn account(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<AuthAny, ApiError>,
) -> Response {
    let to_login = || Redirect::to("/app/login?next=/app/account").into_response();
    let (Some(_), Ok(auth)) = (session::access_token(&headers), auth) else {
        return to_login();
    };
    let csrf = match (auth.actor.session_id, state.signing_key()) {
        (Some(session), Ok(key)) => key.csrf_token(session.as_uuid()),
        _ => return to_login(),
    };
    let locale = locale_of(&headers, Some(&auth.actor), None);
    let config = json!({ "csrf": csrf, "locale": auth.actor.locale });
    let shell = Shell::new(locale, "account", "account-title", config);
    render(&AccountPage { shell })
}

/// `GET /app`: straight to the reader's app when there is one store, else a choice.
pub async fn home(State(state): State<AppState>, headers: HeaderMap, reader: Reader) -> Response {
    let stores = match state
        .storage
        .list_stores(reader.actor.store_scope(), None, Limit::new(Some(200)))
        .await
    {
        Ok(page) => page.items,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let kitchen = reader.actor.role == Some(Role::Kitchen);
    let pos = reader.actor.may(Permission::OrderTake) || reader.actor.may(Permission::PaymentTake);
    let office = reader.actor.may(Permission::ReportRead);
    if let [store] = stores.as_slice() {
        let app = if kitchen {
            "kds"
        } else if pos {
            "pos"
        } else {
            "office"
        };
        return Redirect::to(&format!("/app/stores/{}/{app}", store.id)).into_response();
    }
    let locale = locale_of(&headers, Some(&reader.actor), stores.first());
    let shell = Shell::new(locale, "home", "home-title", json!({ "csrf": reader.csrf }));
    render(&HomePage {
        shell,
        stores,
        office,
        pos,
    })
}

/// A store's app page for a reader who may do `permission` there.
#[allow(clippy::too_many_arguments)]
async fn store_page<P: Template>(
    state: &AppState,
    headers: &HeaderMap,
    reader: &Reader,
    store: StoreId,
    permission: Permission,
    app: &'static str,
    extra: Value,
    page: impl FnOnce(Shell) -> P,
) -> Response {
    let store = match store_for(state, reader, store, permission).await {
        Ok(store) => store,
        Err(response) => return response,
    };
    let locale = locale_of(headers, Some(&reader.actor), Some(&store));
    let config = config(&store, locale, reader, extra);
    render(&page(Shell::new(
        locale,
        app,
        &format!("{app}-title"),
        config,
    )))
}

/// `GET /app/stores/{store_id}/pos`
pub async fn pos(
    State(state): State<AppState>,
    headers: HeaderMap,
    reader: Reader,
    Path(store): Path<StoreId>,
) -> Response {
    let page = |shell| PosPage { shell };
    store_page(
        &state,
        &headers,
        &reader,
        store,
        Permission::OrderRead,
        "pos",
        json!({}),
        page,
    )
    .await
}

/// `GET /app/stores/{store_id}/kds`: the first station's screen, or the pass.
pub async fn kds_default(
    State(state): State<AppState>,
    reader: Reader,
    Path(store): Path<StoreId>,
) -> Response {
    if let Err(response) = store_for(&state, &reader, store, Permission::OrderRead).await {
        return response;
    }
    let first = match state.storage.list_stations(store).await {
        Ok(stations) => stations.into_iter().next().map(|s| s.code),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let station = first.unwrap_or_else(|| comanda_domain::orders::kitchen::EXPO.to_owned());
    Redirect::to(&format!("/app/stores/{store}/kds/{station}")).into_response()
}

/// `GET /app/stores/{store_id}/kds/{station}`
pub async fn kds(
    State(state): State<AppState>,
    headers: HeaderMap,
    reader: Reader,
    Path((store, station)): Path<(StoreId, String)>,
) -> Response {
    let extra = json!({ "station": station });
    let page = |shell| KdsPage { shell };
    store_page(
        &state,
        &headers,
        &reader,
        store,
        Permission::OrderRead,
        "kds",
        extra,
        page,
    )
    .await
}

/// `GET /app/stores/{store_id}/office`
pub async fn office(
    State(state): State<AppState>,
    headers: HeaderMap,
    reader: Reader,
    Path(store): Path<StoreId>,
) -> Response {
    let page = |shell| OfficePage { shell };
    store_page(
        &state,
        &headers,
        &reader,
        store,
        Permission::ReportRead,
        "office",
        json!({}),
        page,
    )
    .await
}
