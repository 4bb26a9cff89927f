//! Profile update (username, partial preferences), the GDPR export and account deletion.

use iknow_common::Error;
use iknow_proto::identity::v1::{
    DeleteUserRequest, ExportUserRequest, GetUserRequest, RefreshRequest, RequestPasswordResetRequest,
    UpdateUserRequest, User,
};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_no_secret, failing_fields, spawn};

async fn update(app: &TestApp, id: &str, username: Option<&str>, prefs: Option<Value>) -> Result<User, tonic::Status> {
    let request = UpdateUserRequest {
        id: id.into(),
        username: username.map(str::to_owned),
        preferences_json: prefs.map(|p| p.to_string()),
    };
    app.client.clone().update_user(request).await.map(tonic::Response::into_inner)
}

fn prefs(user: &User) -> Value {
    serde_json::from_str(&user.preferences_json).unwrap()
}

async fn stored_prefs(app: &TestApp) -> Value {
    sqlx::query_scalar("SELECT preferences FROM users ORDER BY id LIMIT 1").fetch_one(&app.pool).await.unwrap()
}

#[tokio::test]
async fn username_changes_and_duplicates_conflict() {
    let app = spawn().await;
    let user = app.register("pam@example.com", "pam").await;
    app.register("quin@example.com", "quin").await;

    let renamed = update(&app, &user.id, Some("pam_2"), None).await.expect("renamed");
    assert_eq!(renamed.username, "pam_2");
    assert!(renamed.updated_at > user.updated_at, "updated_at bumped");
    app.login("pam_2", PASSWORD).await.expect("logs in with the new name");

    let status = update(&app, &user.id, Some("quin"), None).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::AlreadyExists);
    assert_eq!(Error::from_status(&status).code(), "DUPLICATE_USERNAME");
    let status = update(&app, &user.id, Some("no spaces"), None).await.unwrap_err();
    assert_eq!(failing_fields(&status), ["username"]);

    // Neither field, or the same values: the user comes back unchanged.
    let current = app.client.clone().get_user(GetUserRequest { id: user.id.clone() }).await.unwrap().into_inner();
    assert_eq!(current.username, "pam_2");
    let same = update(&app, &user.id, None, None).await.unwrap();
    assert_eq!(same, current);
    let same = update(&app, &user.id, Some("pam_2"), Some(json!({"ui": {"theme": "system"}}))).await.unwrap();
    assert_eq!(same, current);

    let status = update(&app, &uuid::Uuid::now_v7().to_string(), Some("newname"), None).await.unwrap_err();
    assert_eq!(Error::from_status(&status).code(), "USER_NOT_FOUND");
    let status = update(&app, "not-a-uuid", None, None).await.unwrap_err();
    assert_eq!(failing_fields(&status), ["id"]);
}

#[tokio::test]
async fn preferences_merge_partially() {
    let app = spawn().await;
    let user = app.register("rae@example.com", "rae").await;
    let defaults = prefs(&user);

    let dark = update(&app, &user.id, None, Some(json!({"ui": {"theme": "dark"}}))).await.unwrap();
    let mut expected = defaults.clone();
    expected["ui"]["theme"] = json!("dark");
    assert_eq!(prefs(&dark), expected);
    assert!(dark.updated_at > user.updated_at);

    let public = update(
        &app,
        &user.id,
        None,
        Some(json!({"privacy": {"profileVisibility": "public"}, "discovery": {"preferredLanguages": ["pt", "en"]}})),
    )
    .await
    .unwrap();
    expected["privacy"]["profileVisibility"] = json!("public");
    expected["discovery"]["preferredLanguages"] = json!(["pt", "en"]);
    assert_eq!(prefs(&public), expected, "the earlier change is kept");
    assert_eq!(stored_prefs(&app).await, expected);
    let got = app.client.clone().get_user(GetUserRequest { id: user.id.clone() }).await.unwrap().into_inner();
    assert_eq!(prefs(&got), expected);
}

#[tokio::test]
async fn every_invalid_preference_and_the_username_are_listed() {
    let app = spawn().await;
    let user = app.register("sol@example.com", "sol").await;
    let patch = json!({
        "ui": {"colour": "red", "language": "english"},
        "privacy": {"profileVisibility": "everyone"},
        "notifications": {"email": "yes"},
        "unknown": true
    });
    let status = update(&app, &user.id, Some("x"), Some(patch)).await.unwrap_err();
    let mut fields = failing_fields(&status);
    fields.sort();
    assert_eq!(
        fields,
        [
            "preferences.notifications.email",
            "preferences.privacy.profileVisibility",
            "preferences.ui.colour",
            "preferences.ui.language",
            "preferences.unknown",
            "username",
        ]
    );
    let status = update(&app, &user.id, None, Some(json!(["not", "an", "object"]))).await.unwrap_err();
    assert_eq!(failing_fields(&status), ["preferences"]);
    let request = UpdateUserRequest { id: user.id.clone(), username: None, preferences_json: Some("{oops".into()) };
    let status = app.client.clone().update_user(request).await.unwrap_err();
    assert_eq!(failing_fields(&status), ["preferences"]);
    // Nothing was written.
    assert_eq!(stored_prefs(&app).await, prefs(&user));
    let name: String = sqlx::query_scalar("SELECT username FROM users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(name, "sol");
}

#[tokio::test]
async fn export_holds_everything_but_secrets() {
    let app = spawn().await;
    let user = app.register("tia@example.com", "tia").await;
    let session = app.login("tia", PASSWORD).await.unwrap();
    update(&app, &user.id, None, Some(json!({"ui": {"theme": "light"}}))).await.unwrap();
    app.client
        .clone()
        .request_password_reset(RequestPasswordResetRequest { email: "tia@example.com".into() })
        .await
        .unwrap();

    let text =
        app.client.clone().export_user(ExportUserRequest { id: user.id.clone() }).await.unwrap().into_inner().json;
    let doc: Value = serde_json::from_str(&text).expect("JSON document");
    let u = &doc["user"];
    assert_eq!(u["id"], user.id.as_str());
    assert_eq!(u["email"], "tia@example.com");
    assert_eq!(u["username"], "tia");
    assert_eq!(u["emailVerified"], false);
    assert_eq!(u["loginCount"], 1);
    assert_eq!(u["subscriptionTier"], "free");
    assert!(u["subscriptionExpires"].is_null());
    assert!(u["lastLogin"].is_string() && u["createdAt"].is_string() && u["updatedAt"].is_string());
    assert_eq!(u["preferences"]["ui"]["theme"], "light");
    let keys: Vec<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
    assert!(keys.iter().all(|k| !k.to_lowercase().contains("hash") && !k.to_lowercase().contains("token")), "{keys:?}");
    let sessions = doc["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0]["familyId"].is_string() && sessions[0]["expiresAt"].is_string());
    assert!(sessions[0]["revokedAt"].is_null() && sessions[0]["usedAt"].is_null());
    assert_eq!(doc["pending"], json!({"emailVerification": true, "passwordReset": true}));

    // No hash of any kind, no token.
    assert_no_secret(&text);
    let (verification, reset): (String, String) =
        sqlx::query_as("SELECT email_verification_token_hash, password_reset_token_hash FROM users")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(!text.contains(&verification) && !text.contains(&reset));
    let refresh_hash: Vec<u8> =
        sqlx::query_scalar("SELECT token_hash FROM refresh_tokens").fetch_one(&app.pool).await.unwrap();
    let hex: String = refresh_hash.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!text.contains(&hex));
    assert!(!text.contains(&session.refresh_token) && !text.contains(&session.access_token));

    let status =
        app.client.clone().export_user(ExportUserRequest { id: uuid::Uuid::now_v7().to_string() }).await.unwrap_err();
    assert_eq!(Error::from_status(&status).code(), "USER_NOT_FOUND");
}

#[tokio::test]
async fn delete_needs_the_password() {
    let app = spawn().await;
    let user = app.register("uma@example.com", "uma").await;
    app.login("uma", PASSWORD).await.unwrap();
    let mut client = app.client.clone();
    let status = client
        .delete_user(DeleteUserRequest { id: user.id.clone(), password: "Wrong-Password-9".into() })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
    let e = Error::from_status(&status);
    assert_eq!((e.code(), e.http_status().as_u16()), ("INVALID_CREDENTIALS", 403));
    let status =
        client.delete_user(DeleteUserRequest { id: user.id.clone(), password: String::new() }).await.unwrap_err();
    assert_eq!(failing_fields(&status), ["password"]);
    let status =
        client.delete_user(DeleteUserRequest { id: "nope".into(), password: String::new() }).await.unwrap_err();
    assert_eq!(failing_fields(&status), ["id", "password"]);
    let status = client
        .delete_user(DeleteUserRequest { id: uuid::Uuid::now_v7().to_string(), password: PASSWORD.into() })
        .await
        .unwrap_err();
    assert_eq!(Error::from_status(&status).code(), "USER_NOT_FOUND");

    let (users, tokens, outbox): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM refresh_tokens), \
         (SELECT count(*) FROM outbox WHERE routing_key = 'user.deleted')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((users, tokens, outbox), (1, 1, 0), "nothing changed");
    app.login("uma", PASSWORD).await.expect("still there");
}

#[tokio::test]
async fn delete_erases_the_user_and_announces_it() {
    let app = spawn().await;
    let user = app.register("val@example.com", "val").await;
    let other = app.register("wes@example.com", "wes").await;
    let session = app.login("val", PASSWORD).await.unwrap();
    app.login("wes", PASSWORD).await.unwrap();
    let mut events = app.listen_events("user.deleted").await;

    let mut client = app.client.clone();
    client.delete_user(DeleteUserRequest { id: user.id.clone(), password: PASSWORD.into() }).await.expect("deleted");

    let event = events.next_json().await;
    assert_eq!(event["type"], "user.deleted");
    assert_eq!(event["userId"], user.id.as_str());
    assert!(event["deletedAt"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().is_ok());
    assert_eq!(event.as_object().unwrap().len(), 3, "no personal data beyond the id: {event}");

    let ids: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM users").fetch_all(&app.pool).await.unwrap();
    assert_eq!(ids, [other.id.parse::<uuid::Uuid>().unwrap()]);
    let tokens: i64 = sqlx::query_scalar("SELECT count(*) FROM refresh_tokens WHERE user_id = $1")
        .bind(user.id.parse::<uuid::Uuid>().unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(tokens, 0, "refresh tokens go with the user");
    let status = client.refresh(RefreshRequest { refresh_token: session.refresh_token.clone() }).await.unwrap_err();
    assert_eq!(Error::from_status(&status).code(), "INVALID_TOKEN");
    assert_eq!(app.login("val", PASSWORD).await.unwrap_err().code(), "INVALID_CREDENTIALS");
    let status = client.get_user(GetUserRequest { id: user.id.clone() }).await.unwrap_err();
    assert_eq!(Error::from_status(&status).code(), "USER_NOT_FOUND");
    app.login("wes", PASSWORD).await.expect("the other user is untouched");
}
