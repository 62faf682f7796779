//! What the extractors ask of a request, as the document shows it: the body, the query,
//! the path's parameters, and the credential.

use super::outputs::error_response;
use crate::auth::extract::{Auth, AuthAny, Person, RequestMeta, StoreReader, Terminal};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use aide::OperationInput;
use aide::generate::GenContext;
use aide::openapi::{Operation, RequestBody, Response};
use aide::operation::{ParamLocation, add_parameters, parameters_from_schema, set_body};
use schemars::JsonSchema;

/// The security schemes, as named in the document's components.
pub const BEARER: &str = "bearer";
pub const API_KEY: &str = "apiKey";
pub const DEVICE: &str = "deviceToken";
pub const SESSION: &str = "sessionCookie";
pub const CSRF: &str = "csrfToken";

/// Where an operation's path parameters wait, as schemas in path order, for the document
/// to name them from the path template (`ApiPath` sees the types, not the names).
pub const PATH_TYPES: &str = "x-comanda-path-types";

fn errors(ctx: &mut GenContext, statuses: &[u16]) -> Vec<(Option<u16>, Response)> {
    statuses
        .iter()
        .map(|&status| (Some(status), error_response(ctx, status)))
        .collect()
}

impl<T: JsonSchema> OperationInput for ApiJson<T> {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        let json_schema = ctx.schema.subschema_for::<T>();
        let body = RequestBody {
            content: super::media_of("application/json", json_schema),
            required: true,
            ..Default::default()
        };
        set_body(ctx, operation, body);
    }

    fn inferred_early_responses(
        ctx: &mut GenContext,
        _operation: &mut Operation,
    ) -> Vec<(Option<u16>, Response)> {
        errors(ctx, &[400, 413, 415, 422])
    }
}

impl<T: JsonSchema> OperationInput for ApiQuery<T> {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        let schema = ctx.schema.subschema_for::<T>();
        let params = parameters_from_schema(ctx, schema, ParamLocation::Query);
        add_parameters(ctx, operation, params);
    }

    fn inferred_early_responses(
        ctx: &mut GenContext,
        _operation: &mut Operation,
    ) -> Vec<(Option<u16>, Response)> {
        errors(ctx, &[400])
    }
}

impl<T: JsonSchema> OperationInput for ApiPath<T> {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        let schema = ctx.schema.subschema_for::<T>();
        let resolved = ctx.resolve_schema(&schema).clone();
        // A tuple is an array of its members' schemas; one value is its own schema.
        let members = resolved
            .get("prefixItems")
            .and_then(|items| items.as_array())
            .cloned()
            .unwrap_or_else(|| vec![schema.to_value()]);
        operation
            .extensions
            .insert(PATH_TYPES.to_owned(), serde_json::Value::Array(members));
    }

    fn inferred_early_responses(
        ctx: &mut GenContext,
        _operation: &mut Operation,
    ) -> Vec<(Option<u16>, Response)> {
        errors(ctx, &[400, 404])
    }
}

fn require_any(operation: &mut Operation, schemes: &[&[&str]]) {
    for alternative in schemes {
        let requirement = alternative
            .iter()
            .map(|scheme| ((*scheme).to_owned(), Vec::new()))
            .collect();
        operation.security.push(requirement);
    }
}

/// A credential extractor: the schemes that satisfy it (any one of the alternatives, each
/// alternative all of its schemes), and what it answers when they do not.
macro_rules! credential {
    ($(#[$doc:meta])* $extractor:ty, $schemes:expr, $refusals:expr) => {
        $(#[$doc])*
        impl OperationInput for $extractor {
            fn operation_input(_ctx: &mut GenContext, operation: &mut Operation) {
                require_any(operation, $schemes);
            }

            fn inferred_early_responses(
                ctx: &mut GenContext,
                _operation: &mut Operation,
            ) -> Vec<(Option<u16>, Response)> {
                errors(ctx, $refusals)
            }
        }
    };
}

credential!(
    /// A person's token, an API key, or the web apps' session cookie with its CSRF token.
    Auth,
    &[&[BEARER], &[API_KEY], &[SESSION, CSRF]],
    &[401, 403]
);
credential!(
    /// A person's token or session: API keys are refused with 403 `users_only`.
    Person,
    &[&[BEARER], &[SESSION, CSRF]],
    &[401, 403]
);
credential!(
    /// A person who may still owe a password change or a second factor.
    AuthAny,
    &[&[BEARER], &[SESSION, CSRF]],
    &[401, 403]
);
credential!(
    /// A registered terminal.
    Terminal,
    &[&[DEVICE]],
    &[401]
);
credential!(
    /// Whoever may read what a terminal sells: a person, a key, or the terminal itself.
    StoreReader,
    &[&[BEARER], &[API_KEY], &[SESSION, CSRF], &[DEVICE]],
    &[401, 403]
);

impl OperationInput for RequestMeta {}

/// `?status=` of the catalog's lists, as documented (the handler reads it as text).
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum ListStatus {
    Active,
    Archived,
    All,
}

/// `?format=` of a report, as documented.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum ReportFormat {
    Json,
    Html,
}

/// `?status=open,sent`: order statuses, comma-separated.
pub struct StatusList;

impl JsonSchema for StatusList {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StatusList".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<String> = comanda_domain::orders::OrderStatus::ALL
            .iter()
            .filter_map(|status| serde_json::to_value(status).ok())
            .filter_map(|name| name.as_str().map(str::to_owned))
            .collect();
        let one = names.join("|");
        schemars::json_schema!({
            "type": "string",
            "pattern": format!("^({one})(,({one}))*$"),
        })
    }
}
