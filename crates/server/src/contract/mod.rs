//! The API's contract: an OpenAPI 3.1 document built from the route table itself. Each
//! route's operation comes from its handler's types (the extractors say what it reads,
//! the return type what it answers), so a route cannot exist undocumented and a
//! documented shape cannot drift from the type that serializes it. The document is
//! served at `/api/v1/openapi.json`, and read by people at `/api/docs`.

pub mod inputs;
pub mod outputs;

use crate::routes::API_PREFIX;
use aide::openapi::{Info, MediaType, OpenApi, Operation, ReferenceOr, SchemaObject};
use aide::transform::TransformOperation;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use indexmap::IndexMap;
use serde_json::{Map, Value, json};
use sha2::Digest;
use std::sync::OnceLock;

/// The document, built once, as served.
pub struct Document {
    pub json: bytes::Bytes,
    etag: HeaderValue,
}

/// The document of this build.
pub fn document() -> &'static Document {
    static DOCUMENT: OnceLock<Document> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let value = openapi();
        let json = serde_json::to_vec_pretty(&value).unwrap_or_default();
        let digest = hex::encode(&sha2::Sha256::digest(&json)[..12]);
        Document {
            json: json.into(),
            etag: HeaderValue::from_str(&format!("\"{digest}\""))
                .unwrap_or(HeaderValue::from_static("\"\"")),
        }
    })
}

/// The document as a JSON value: what aide generates, finished by [`finish`].
pub fn openapi() -> Value {
    let mut api = OpenApi {
        info: Info {
            title: "comanda".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: Some(DESCRIPTION.to_owned()),
            ..Info::default()
        },
        ..OpenApi::default()
    };
    crate::routes::document_into(&mut api);
    let mut value = serde_json::to_value(&api).unwrap_or_default();
    finish(&mut value);
    value
}

const DESCRIPTION: &str = "The HTTP API of comanda, a point-of-sale and order-management \
system. Money is in integer minor units of the store's currency. Every write may carry an \
`Idempotency-Key`: a retry with the same key gets the first answer. Errors are \
`{\"error\": {\"code\", \"message\", \"details\"}}`. Lists are pages: pass the answer's \
`next` as `after` for the next page. See docs/api.md in the repository.";

/// What aide does not know: the API's prefix, the names of path parameters, the
/// `Idempotency-Key` of writes, the security schemes, and that answers hold no field
/// the document does not list.
fn finish(doc: &mut Value) {
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    if let Some(Value::Object(paths)) = root.remove("paths") {
        let mut prefixed: Map<String, Value> = paths
            .into_iter()
            .map(|(path, mut item)| {
                // `/` is the API's index: `/api/v1`, as the route table names it.
                let full = format!("{API_PREFIX}{path}")
                    .trim_end_matches('/')
                    .to_owned();
                if let Some(item) = item.as_object_mut() {
                    for (method, operation) in item.iter_mut() {
                        finish_operation(&full, method, operation);
                    }
                }
                (full, item)
            })
            .collect();
        let schemas = root
            .get("components")
            .and_then(|c| c.get("schemas"))
            .cloned()
            .unwrap_or_default();
        link_made_to_used(&mut prefixed, &schemas);
        root.insert("paths".to_owned(), Value::Object(prefixed));
        let tags: Vec<Value> = TAGS
            .iter()
            .map(|(name, description)| json!({ "name": name, "description": description }))
            .collect();
        root.insert("tags".to_owned(), Value::Array(tags));
    }
    let components = root
        .entry("components")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    if let Some(components) = components {
        components.insert("securitySchemes".to_owned(), security_schemes());
        components.insert("responses".to_owned(), error_responses());
        components.insert(
            "parameters".to_owned(),
            json!({ "IdempotencyKey": idempotency_key() }),
        );
        if let Some(Value::Object(schemas)) = components.get_mut("schemas") {
            for schema in schemas.values_mut() {
                tighten(schema);
            }
        }
    }
}

/// Links each operation that makes a resource (answering it with its `id`) to the
/// operations on it and under it, so that a client (or a fuzzer, statefully) can follow
/// from `POST .../orders` to `GET .../orders/{order_id}`, its lines, its payments.
fn link_made_to_used(paths: &mut Map<String, Value>, schemas: &Value) {
    let mut links: Vec<(String, String, String, Value)> = Vec::new();
    for (made_at, item) in paths.iter() {
        let Some(post) = item.get("post") else {
            continue;
        };
        let Some((status, answer)) = post["responses"]
            .as_object()
            .into_iter()
            .flatten()
            .find(|(code, _)| *code == "201" || *code == "200")
        else {
            continue;
        };
        let schema = &answer["content"]["application/json"]["schema"];
        let named = schema["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .map_or(schema, |name| &schemas[name]);
        if named["properties"].get("id").is_none() {
            continue;
        }
        for (used_at, used) in paths.iter() {
            let Some(rest) = used_at.strip_prefix(made_at.as_str()) else {
                continue;
            };
            // The resource itself and what is directly under it.
            if rest.matches('/').count() > 2 {
                continue;
            }
            let Some(param) = rest.strip_prefix("/{").and_then(|r| r.split('}').next()) else {
                continue;
            };
            for (method, operation) in used.as_object().into_iter().flatten() {
                let Some(target) = operation["operationId"].as_str() else {
                    continue;
                };
                let mut parameters = Map::new();
                for name in path_names(used_at) {
                    let value = if name == param {
                        "$response.body#/id".to_owned()
                    } else {
                        format!("$request.path.{name}")
                    };
                    parameters.insert(name.to_owned(), Value::String(value));
                }
                links.push((
                    made_at.clone(),
                    status.clone(),
                    format!("{method}{}", rest.replace(['{', '}', '/', '.', '-'], "_")),
                    json!({ "operationId": target, "parameters": parameters }),
                ));
            }
        }
    }
    for (path, status, name, link) in links {
        if let Some(answer) = paths
            .get_mut(&path)
            .and_then(|item| item.get_mut("post"))
            .and_then(|post| post.get_mut("responses"))
            .and_then(|responses| responses.get_mut(&status))
            .and_then(Value::as_object_mut)
        {
            let all = answer.entry("links").or_insert_with(|| json!({}));
            if let Some(all) = all.as_object_mut() {
                all.insert(name, link);
            }
        }
    }
}

fn finish_operation(path: &str, method: &str, operation: &mut Value) {
    let Some(op) = operation.as_object_mut() else {
        return;
    };
    op.entry("operationId")
        .or_insert_with(|| Value::String(operation_id(method, path)));
    op.entry("summary").or_insert_with(|| {
        let short = path.trim_start_matches(API_PREFIX);
        let short = short
            .strip_prefix("/stores/{store_id}")
            .filter(|s| !s.is_empty())
            .unwrap_or(short);
        Value::String(format!(
            "{} {}",
            method.to_uppercase(),
            if short.is_empty() { "/" } else { short }
        ))
    });
    op.insert("tags".to_owned(), json!([tag_of(path)]));
    let types = match op.remove(inputs::PATH_TYPES) {
        Some(Value::Array(types)) => types,
        _ => Vec::new(),
    };
    let mut parameters: Vec<Value> = path_names(path)
        .enumerate()
        .map(|(i, name)| {
            let schema = types
                .get(i)
                .cloned()
                .unwrap_or_else(|| json!({ "type": "string" }));
            json!({ "name": name, "in": "path", "required": true, "schema": schema })
        })
        .collect();
    if let Some(Value::Array(others)) = op.remove("parameters") {
        parameters.extend(
            others
                .into_iter()
                .filter(|p| p["in"] != "path")
                .map(|mut p| {
                    // A query parameter is there or not: it has no null.
                    if let Some(Value::Object(schema)) = p.get_mut("schema") {
                        if let Some(Value::Array(types)) = schema.get_mut("type") {
                            types.retain(|t| t != "null");
                        }
                        if let Some(Value::Array(choices)) = schema.get_mut("anyOf") {
                            choices.retain(|c| c.get("type") != Some(&json!("null")));
                        }
                        if schema.get("default") == Some(&Value::Null) {
                            schema.remove("default");
                        }
                    }
                    // The server refuses control characters in a query, not in a header.
                    if p["in"] == "query"
                        && let Some(schema) = p.get_mut("schema")
                    {
                        tighten(schema);
                    }
                    p
                }),
        );
    }
    if method != "get" {
        parameters.push(json!({ "$ref": "#/components/parameters/IdempotencyKey" }));
        if let Some(Value::Object(responses)) = op.get_mut("responses") {
            for status in ["409", "422"] {
                if !responses.contains_key(status) {
                    responses.insert(status.to_owned(), error_ref(status));
                }
            }
        }
    }
    if !parameters.is_empty() {
        op.insert("parameters".to_owned(), Value::Array(parameters));
    }
    if let Some(Value::Object(responses)) = op.get_mut("responses") {
        // Every route may answer 503 while the server starts or when an answer takes
        // too long.
        responses.entry("503").or_insert_with(|| error_ref("503"));
        // Signing in takes its credential in the body: a wrong one is 401 too.
        if tag_of(path) == "Signing in" {
            responses.entry("401").or_insert_with(|| error_ref("401"));
        }
    }
    if let Some(Value::Object(content)) =
        op.get_mut("requestBody").and_then(|b| b.get_mut("content"))
    {
        for media in content.values_mut() {
            if let Some(schema) = media.get_mut("schema") {
                tighten(schema);
            }
        }
    }
    if let Some(Value::Object(responses)) = op.get_mut("responses") {
        // Errors all have one shape: each status is described once, in the components.
        for (status, response) in responses.iter_mut() {
            if status.starts_with('4') || status.starts_with('5') {
                *response = error_ref(status);
            }
        }
        for response in responses.values_mut() {
            if response.get("description") == Some(&Value::String(String::new())) {
                response["description"] = Value::String("Success".to_owned());
            }
            if let Some(Value::Object(content)) = response.get_mut("content") {
                for media in content.values_mut() {
                    if let Some(schema) = media.get_mut("schema") {
                        tighten(schema);
                    }
                }
            }
        }
    }
}

fn error_ref(status: &str) -> Value {
    json!({ "$ref": format!("#/components/responses/{}", error_name(status)) })
}

fn idempotency_key() -> Value {
    json!({
        "name": "Idempotency-Key",
        "in": "header",
        "required": false,
        "description": "1 to 255 printable characters, such as a UUID. A retry with the \
    same key and body gets the first answer (with `Idempotent-Replayed: true`); the same key \
    with another body is 422 `idempotency_key_reused`; while the first is still running, 409.",
        "schema": { "type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$" }
    })
}

/// `Error404` for "404".
fn error_name(status: &str) -> String {
    format!("Error{status}")
}

/// Every error status any operation answers, once.
fn error_responses() -> Value {
    let mut all = Map::new();
    for status in outputs::ERROR_STATUSES {
        all.insert(
            error_name(&status.to_string()),
            json!({
                "description": outputs::error_description(status),
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } }
            }),
        );
    }
    Value::Object(all)
}

/// The groups of the reference, in the order it shows them.
const TAGS: [(&str, &str); 15] = [
    ("API", "This document and the API's index."),
    (
        "Signing in",
        "Passwords with a second factor, staff PINs on a terminal, rotating refresh tokens.",
    ),
    (
        "Own account",
        "What a signed-in person may change of their own.",
    ),
    (
        "Stores",
        "Stores, their staff and their registered terminals.",
    ),
    (
        "People",
        "Staff accounts, roles by store, PINs and second factors.",
    ),
    ("Integrations", "API keys and the security log."),
    (
        "Catalog",
        "Tax rates, categories, modifier groups, products, the menu a terminal loads, CSV and JSON files.",
    ),
    (
        "Stock",
        "Levels, the ledger of movements, transfers between stores.",
    ),
    ("Floor", "Service areas, tables and the live floor."),
    (
        "Orders",
        "Orders priced by the server, kept as a hash-chained log of events, with versions.",
    ),
    (
        "Payments",
        "Tenders, the age check, refunds, closing an order, receipts; Stripe's events.",
    ),
    (
        "Shifts and reports",
        "Cash drawers, X reports and the Z report that closes the day.",
    ),
    (
        "Kitchen display",
        "Each station's tickets and their live stream.",
    ),
    (
        "Webhooks",
        "Outbound webhooks, their deliveries, and the outbox for polling.",
    ),
    (
        "Catering",
        "Companies, contracts, service days and monthly statements.",
    ),
];

/// The group an API path belongs to.
fn tag_of(path: &str) -> &'static str {
    let rest = path.trim_start_matches(API_PREFIX);
    let mut segments = rest.split('/').filter(|s| !s.is_empty());
    let first = segments.next().unwrap_or_default();
    let in_store = crate::routes::store_section(path);
    match (first, in_store) {
        ("auth" | "device", _) => "Signing in",
        ("me", _) => "Own account",
        ("users", _) => "People",
        ("api-keys" | "audit", _) => "Integrations",
        ("companies" | "contracts", _) => "Catering",
        ("webhooks", _) => "Payments",
        ("stores", Some("catalog")) if rest.contains("/catalog/stock") => "Stock",
        ("stores", Some("catalog")) => "Catalog",
        ("stores", Some("areas" | "tables" | "floor")) => "Floor",
        ("stores", Some("orders"))
            if ["/payments", "/age-check", "/refunds", "/close", "/receipt"]
                .iter()
                .any(|p| rest.contains(p)) =>
        {
            "Payments"
        }
        ("stores", Some("orders" | "order-settings")) => "Orders",
        ("stores", Some("shifts" | "reports")) => "Shifts and reports",
        ("stores", Some("kds")) => "Kitchen display",
        ("stores", Some("webhooks" | "events")) => "Webhooks",
        ("stores", _) => "Stores",
        _ => "API",
    }
}

/// `{store_id}` and the like, in order.
pub fn path_names(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

/// `get_stores_store_id_orders` for `GET /api/v1/stores/{store_id}/orders`.
fn operation_id(method: &str, path: &str) -> String {
    let rest = path.trim_start_matches(API_PREFIX);
    let mut id = method.to_owned();
    for part in rest.split(|c: char| !c.is_ascii_alphanumeric()) {
        if !part.is_empty() {
            id.push('_');
            id.push_str(part);
        }
    }
    id
}

/// What the server enforces of every value, said where the types cannot:
///
/// - an object schema that lists its properties has no others: an answer with a field
///   the document does not list then fails its check, and so does a request;
/// - an integer's format bounds it (`uint32` is at most 4294967295, not any integer);
/// - text holds no control characters but tab and line breaks (`crate::extract` refuses
///   them in every body and query).
fn tighten(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let kind = |name: &str| match map.get("type") {
                Some(Value::String(t)) => t == name,
                Some(Value::Array(ts)) => ts.iter().any(|t| t == name),
                _ => false,
            };
            let is_object = kind("object");
            let is_text = kind("string");
            let is_integer = kind("integer");
            if is_object
                && map.contains_key("properties")
                && !map.contains_key("additionalProperties")
                && !map.contains_key("unevaluatedProperties")
            {
                map.insert("additionalProperties".to_owned(), Value::Bool(false));
            }
            if is_text
                && !["format", "pattern", "enum", "const"]
                    .iter()
                    .any(|k| map.contains_key(*k))
            {
                map.insert("pattern".to_owned(), Value::String(NO_CONTROLS.to_owned()));
            }
            if is_integer {
                let bounds = match map.get("format").and_then(Value::as_str) {
                    Some("uint8") => Some((0, i64::from(u8::MAX))),
                    Some("uint16") => Some((0, i64::from(u16::MAX))),
                    Some("uint32") => Some((0, i64::from(u32::MAX))),
                    Some("int32") => Some((i64::from(i32::MIN), i64::from(i32::MAX))),
                    _ => None,
                };
                if let Some((low, high)) = bounds {
                    map.entry("minimum").or_insert_with(|| json!(low));
                    map.entry("maximum").or_insert_with(|| json!(high));
                }
            }
            for value in map.values_mut() {
                tighten(value);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(tighten),
        _ => {}
    }
}

/// Text without control characters, tab and line breaks excepted.
const NO_CONTROLS: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

fn security_schemes() -> Value {
    json!({
        inputs::BEARER: {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": "A person's access token from POST /api/v1/auth/login or /auth/pin; renew it with /auth/refresh."
        },
        inputs::API_KEY: {
            "type": "http", "scheme": "bearer", "bearerFormat": "cmd_key",
            "description": "An integration's API key (POST /api/v1/api-keys), sent as `Authorization: Bearer <key>`."
        },
        inputs::DEVICE: {
            "type": "apiKey", "in": "header", "name": crate::auth::extract::DEVICE_TOKEN,
            "description": "A registered terminal's token (POST /api/v1/stores/{store_id}/devices)."
        },
        inputs::SESSION: {
            "type": "apiKey", "in": "cookie", "name": crate::web::session::ACCESS_COOKIE,
            "description": "The web apps' session; a change also needs the CSRF token."
        },
        inputs::CSRF: {
            "type": "apiKey", "in": "header", "name": crate::web::session::CSRF_HEADER,
            "description": "The session's anti-forgery token, required with the session cookie on every change."
        }
    })
}

/// One media type with its schema.
pub fn media_of(kind: &str, json_schema: schemars::Schema) -> IndexMap<String, MediaType> {
    IndexMap::from_iter([(
        kind.to_owned(),
        MediaType {
            schema: Some(SchemaObject {
                json_schema,
                example: None,
                external_docs: None,
            }),
            ..Default::default()
        },
    )])
}

/// Media types with their schemas, for an operation's body or answer.
pub fn media(kinds: &[(&str, Value)]) -> IndexMap<String, MediaType> {
    kinds
        .iter()
        .flat_map(|(kind, schema)| {
            let json_schema = schemars::Schema::try_from(schema.clone())
                .unwrap_or_else(|_| schemars::Schema::from(true));
            media_of(kind, json_schema)
        })
        .collect()
}

/// Documents an answer the handler builds by hand (its type says `Response`).
pub fn answer(operation: &mut Operation, status: u16, description: &str, kinds: &[(&str, Value)]) {
    respond(operation, status, description, media(kinds));
}

/// Documents an answer the handler builds by hand as JSON of type `T`.
pub fn answer_json<T: schemars::JsonSchema>(
    operation: &mut Operation,
    status: u16,
    description: &str,
) {
    let json_schema = aide::generate::in_context(|ctx| ctx.schema.subschema_for::<T>());
    respond(
        operation,
        status,
        description,
        media_of("application/json", json_schema),
    );
}

fn respond(
    operation: &mut Operation,
    status: u16,
    description: &str,
    content: IndexMap<String, MediaType>,
) {
    let responses = operation.responses.get_or_insert_with(Default::default);
    responses.responses.insert(
        aide::openapi::StatusCode::Code(status),
        ReferenceOr::Item(aide::openapi::Response {
            description: description.to_owned(),
            content,
            ..Default::default()
        }),
    );
}

/// Adds another form of an answer already documented (HTML beside JSON, say).
pub fn add_media(operation: &mut Operation, status: u16, kind: &str, schema: Value) {
    let Some(responses) = operation.responses.as_mut() else {
        return;
    };
    if let Some(ReferenceOr::Item(response)) = responses
        .responses
        .get_mut(&aide::openapi::StatusCode::Code(status))
    {
        response.content.extend(media(&[(kind, schema)]));
    }
}

/// The document's word for a page: HTML.
pub fn answers_html(mut op: TransformOperation<'_>) -> TransformOperation<'_> {
    answer(
        op.inner_mut(),
        200,
        "A page to show or print",
        &[("text/html", json!({ "type": "string" }))],
    );
    op
}

/// The document's word for a live stream: server-sent events until the client leaves.
pub fn answers_events(mut op: TransformOperation<'_>) -> TransformOperation<'_> {
    answer(
        op.inner_mut(),
        200,
        "Server-sent events: each `data` is one JSON change; a comment every few seconds keeps the connection open",
        &[(
            "text/event-stream",
            json!({
                "type": "object",
                "properties": {
                    "event": { "type": "string" },
                    "data": { "type": "string" },
                    "id": { "type": "string" },
                    "retry": { "type": "integer" }
                }
            }),
        )],
    );
    op
}

/// The document's word for this document.
pub fn answers_document(mut op: TransformOperation<'_>) -> TransformOperation<'_> {
    answer(
        op.inner_mut(),
        200,
        "This OpenAPI 3.1 document, with `ETag`",
        &[("application/json", json!({ "type": "object" }))],
    );
    answer(op.inner_mut(), 304, "The client's copy is current", &[]);
    revalidated(op.inner_mut());
    op
}

/// An answer that carries an `ETag` and is revalidated with `If-None-Match` (304 while the
/// client's copy is current).
pub fn revalidated(operation: &mut Operation) {
    operation.parameters.push(header_parameter(
        "If-None-Match",
        "The `ETag` of the copy the client holds",
        false,
    ));
    let Some(responses) = operation.responses.as_mut() else {
        return;
    };
    for status in [200, 304] {
        if let Some(ReferenceOr::Item(response)) = responses
            .responses
            .get_mut(&aide::openapi::StatusCode::Code(status))
        {
            response.headers.insert(
                "ETag".to_owned(),
                ReferenceOr::Item(aide::openapi::Header {
                    description: Some("This version of the resource".to_owned()),
                    style: aide::openapi::HeaderStyle::Simple,
                    required: true,
                    deprecated: None,
                    format: text_schema(),
                    example: None,
                    examples: IndexMap::default(),
                    extensions: IndexMap::default(),
                }),
            );
        }
    }
}

/// A text header an operation reads.
pub fn header_parameter(
    name: &str,
    description: &str,
    required: bool,
) -> ReferenceOr<aide::openapi::Parameter> {
    ReferenceOr::Item(aide::openapi::Parameter::Header {
        parameter_data: aide::openapi::ParameterData {
            name: name.to_owned(),
            description: Some(description.to_owned()),
            required,
            format: text_schema(),
            extensions: IndexMap::default(),
            deprecated: None,
            example: None,
            examples: IndexMap::default(),
            explode: None,
        },
        style: aide::openapi::HeaderStyle::Simple,
    })
}

fn text_schema() -> aide::openapi::ParameterSchemaOrContent {
    aide::openapi::ParameterSchemaOrContent::Schema(SchemaObject {
        json_schema: schemars::json_schema!({ "type": "string" }),
        example: None,
        external_docs: None,
    })
}

/// `GET /api/v1/openapi.json`.
pub async fn serve(headers: HeaderMap) -> Response {
    let doc = document();
    let headers_out = [
        (header::ETAG, doc.etag.clone()),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == doc.etag.as_bytes())
    {
        return (StatusCode::NOT_MODIFIED, headers_out).into_response();
    }
    (
        headers_out,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        doc.json.clone(),
    )
        .into_response()
}

/// `GET /api/docs`: the reference, rendered in the browser by Redoc from the document,
/// with its script inside the page (no CDN, nothing fetched but the document).
pub async fn docs_page() -> Response {
    static PAGE: OnceLock<bytes::Bytes> = OnceLock::new();
    let page = PAGE.get_or_init(|| {
        aide::redoc::Redoc::new(format!("{API_PREFIX}/openapi.json"))
            .with_title("comanda API")
            .html()
            .into()
    });
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                 img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:",
            ),
        ],
        page.clone(),
    )
        .into_response()
}
