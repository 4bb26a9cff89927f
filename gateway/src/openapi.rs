//! The OpenAPI 3 document, generated from the handlers and DTOs, served at `/api/v1/openapi.json`, and the
//! self-contained docs page at `/docs` that renders it (no CDN).

use axum::Json;
use axum::extract::State;
use axum::response::{Html, IntoResponse};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Components, Ref, RefOr};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::envelope::ErrorDetails;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "I Know API",
        version = "v1",
        description = "Who is that actor and where do I know them from? Every response carries `X-Request-ID`; \
            successes are `{data, meta, pagination?}`, failures `{error: {code, message, details?, timestamp, \
            requestId}}`."
    ),
    paths(
        crate::routes::actors::get_actor,
        crate::routes::actors::search_actors,
        crate::routes::content::get_content,
        crate::routes::content::search_content,
        crate::routes::episodes::list_episodes,
        crate::routes::identify::identify,
        crate::routes::users::register,
        crate::routes::users::verify_email,
        crate::routes::users::me,
        crate::routes::users::update_me,
        crate::routes::users::export_me,
        crate::routes::users::delete_me,
        crate::routes::library::list_watchlist,
        crate::routes::library::add_to_watchlist,
        crate::routes::library::update_watchlist_item,
        crate::routes::library::remove_from_watchlist,
        crate::routes::library::list_history,
        crate::routes::library::record_view,
        crate::routes::library::delete_history_entry,
        crate::routes::insights::known_from,
        crate::routes::insights::familiar_faces,
        crate::routes::insights::actor_stats,
        crate::routes::auth::login,
        crate::routes::auth::refresh,
        crate::routes::auth::logout,
        crate::routes::auth::request_password_reset,
        crate::routes::auth::confirm_password_reset,
        crate::health::health,
        crate::metrics::render,
    ),
    modifiers(&BearerAuth, &RouteErrorDetails),
    tags(
        (name = "users", description = "Accounts: registration, email verification, the caller's own account"),
        (name = "auth", description = "Sessions: log-in, refresh, log-out, password reset"),
        (name = "library", description = "The caller's watchlist and viewing history (history older than 90 days is \
            premium), and where the caller knows an actor from"),
        (name = "actors", description = "Actors and their filmographies, in the seed's field names (`bio`, \
            `photoUrl`, `birthDate`, `lastVerified`, `knownFor` as titles; filmography entries with `contentId`, \
            `title`, `type`, `year`, `roleName`, `isMainRole`, `characterType`, `episodeCount`). Deprecated, removed \
            in the next minor version: `biography` and `profileImageUrl` (aliases of `bio` and `photoUrl`) and a \
            filmography entry's `content` object. `knownFor` was a list of title objects until this version: they \
            are `knownForContent` now."),
        (name = "content", description = "Movies, series and episodes with their cast"),
        (name = "identify", description = "Who plays a character in a title, or who a free-text question names"),
        (name = "operations", description = "Health and metrics"),
    )
)]
struct ApiDoc;

/// The `bearerAuth` scheme of the authenticated routes: an access token from log-in or refresh.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearerAuth",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("The `accessToken` of a session (HS256 JWT, 15 minutes)"))
                    .build(),
            ),
        );
    }
}

/// The error details route families define (`ErrorDetails::Route`): each joins the `oneOf` of `ErrorDetails`.
struct RouteErrorDetails;

impl RouteErrorDetails {
    fn add<T: ToSchema>(components: &mut Components) {
        let mut schemas = vec![(T::name().into_owned(), T::schema())];
        T::schemas(&mut schemas);
        for (name, schema) in schemas {
            components.schemas.entry(name).or_insert(schema);
        }
        if let Some(RefOr::T(Schema::OneOf(details))) = components.schemas.get_mut(&ErrorDetails::name().into_owned()) {
            details.items.push(Ref::from_schema_name(T::name()).into());
        }
    }
}

impl Modify for RouteErrorDetails {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        Self::add::<crate::routes::library::dto::ExistingItemDetails>(components);
    }
}

/// The document, with bounds only known at run time filled in (the latest accepted `year`).
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serialises");
    let max_year = iknow_common::rules::years::max_year();
    document_rate_limits(&mut doc);
    // utoipa drops `deprecated` beside a `$ref`; OpenAPI 3.1 allows it there.
    if let Some(content) = doc.pointer_mut("/components/schemas/FilmographyEntry/properties/content") {
        content["deprecated"] = true.into();
    }
    if let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) {
        for op in paths.values_mut().filter_map(|item| item.get_mut("get")) {
            let Some(params) = op.get_mut("parameters").and_then(|p| p.as_array_mut()) else { continue };
            for p in params.iter_mut().filter(|p| p["name"] == "year") {
                if let Some(schema) = p.get_mut("schema").and_then(|s| s.as_object_mut()) {
                    schema.insert("maximum".into(), max_year.into());
                }
            }
        }
    }
    doc
}

/// Adds the 429 answer of the rate limits (see [`crate::rate_limit`]) to every operation under `/api/v1`.
fn document_rate_limits(doc: &mut serde_json::Value) {
    let header = |description: &str| serde_json::json!({ "description": description, "schema": { "type": "integer", "minimum": 0 } });
    let too_many = serde_json::json!({
        "description": "`RATE_LIMIT_EXCEEDED`: too many requests in the current window",
        "headers": {
            "RateLimit-Limit": header("Requests allowed in the window"),
            "RateLimit-Remaining": header("Requests left in the window"),
            "RateLimit-Reset": header("Seconds until the window resets"),
            "Retry-After": header("Seconds to wait before retrying"),
        },
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorResponse" } } },
    });
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else { return };
    for (path, item) in paths.iter_mut() {
        if crate::rate_limit::classify(path).is_none() {
            continue;
        }
        let Some(item) = item.as_object_mut() else { continue };
        for op in item.values_mut() {
            if let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut()) {
                responses.insert("429".into(), too_many.clone());
            }
        }
    }
}

/// The OpenAPI document of this API.
pub async fn openapi_json(State(state): State<AppState>) -> impl IntoResponse {
    Json(state.openapi.as_ref().clone())
}

/// A readable rendering of the OpenAPI document.
pub async fn docs() -> Html<&'static str> {
    Html(include_str!("../static/docs.html"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn authenticated_routes_use_the_bearer_scheme_and_nullable_fields_are_marked() {
        let doc = super::document();
        assert_eq!(doc["components"]["securitySchemes"]["bearerAuth"]["scheme"], "bearer");
        for (path, method) in [
            ("/api/v1/users/me", "get"),
            ("/api/v1/users/me", "patch"),
            ("/api/v1/users/me", "delete"),
            ("/api/v1/users/me/export", "get"),
        ] {
            let op = &doc["paths"][path][method];
            assert_eq!(op["security"][0]["bearerAuth"], serde_json::json!([]), "{method} {path}");
            assert!(op["responses"]["401"].is_object(), "{method} {path}");
        }
        assert!(doc["paths"]["/api/v1/auth/login"]["post"]["security"].is_null());
        let user = &doc["components"]["schemas"]["User"];
        for nullable in ["lastLogin", "subscriptionExpires"] {
            assert!(user["properties"][nullable].to_string().contains("null"), "{nullable}: {user}");
            assert!(user["required"].as_array().unwrap().contains(&nullable.into()), "{nullable} is always sent");
        }
        let library = &doc["components"]["schemas"]["LibraryExport"];
        assert!(library["required"].as_array().unwrap().contains(&"watchlist".into()), "{library}");
        assert_eq!(doc["components"]["schemas"]["RegisterRequest"]["additionalProperties"], false);
    }

    #[test]
    fn error_details_list_the_envelope_s_and_the_route_families_details() {
        let doc = super::document();
        let schemas = &doc["components"]["schemas"];
        let refs: Vec<&str> =
            schemas["ErrorDetails"]["oneOf"].as_array().unwrap().iter().map(|r| r["$ref"].as_str().unwrap()).collect();
        assert_eq!(
            refs,
            [
                "#/components/schemas/FieldDetails",
                "#/components/schemas/TierDetails",
                "#/components/schemas/ExistingItemDetails"
            ]
        );
        for name in ["FieldDetails", "FieldError", "TierDetails", "ExistingItemDetails", "WatchlistItem"] {
            assert!(schemas[name].is_object(), "{name}");
        }
        assert_eq!(
            schemas["ExistingItemDetails"]["properties"]["existingItem"]["$ref"],
            "#/components/schemas/WatchlistItem"
        );
    }
}
