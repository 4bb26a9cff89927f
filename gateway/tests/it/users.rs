//! The user routes through HTTP against a real user-identity: registration and its validation, the caller's
//! own account (read, change, export, delete), isolation between users, email verification and password reset
//! (tokens read from the notifications exchange), and revocation of access tokens.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Listener, PASSWORD, data_of, error_code, failing_fields, spawn_identity};

const ME: &str = "/api/v1/users/me";
const EXPORT: &str = "/api/v1/users/me/export";

fn assert_user_shape(user: &Value) {
    let keys: Vec<&str> = user.as_object().unwrap().keys().map(String::as_str).collect();
    let mut keys = keys.clone();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "createdAt",
            "email",
            "emailVerified",
            "id",
            "lastLogin",
            "preferences",
            "subscriptionExpires",
            "subscriptionTier",
            "updatedAt",
            "username"
        ]
    );
    assert!(user["preferences"].is_object());
    assert_eq!(user["subscriptionTier"], "free");
    assert!(user["subscriptionExpires"].is_null());
    assert!(!user.to_string().contains("$argon2"));
}

#[tokio::test]
async fn register_returns_201_with_the_user_and_rejects_every_bad_field() {
    let app = spawn_identity().await;
    let body = json!({"email": "reg@example.com", "username": "reg", "password": PASSWORD, "acceptTerms": true});
    let (status, created) = app.post("/api/v1/users/register", body.clone()).await;
    assert_eq!(status, 201, "{created}");
    let user = data_of(&created);
    assert_user_shape(user);
    assert_eq!((user["email"].as_str(), user["username"].as_str()), (Some("reg@example.com"), Some("reg")));
    assert_eq!(user["emailVerified"], false);
    assert!(user["lastLogin"].is_null(), "never logged in");
    assert!(!created.to_string().contains(PASSWORD));

    // Duplicates pass through.
    let (status, dup) = app.post("/api/v1/users/register", body).await;
    assert_eq!((status, error_code(&dup).as_str()), (409, "DUPLICATE_EMAIL"));
    let again = json!({"email": "other@example.com", "username": "reg", "password": PASSWORD, "acceptTerms": true});
    let (status, dup) = app.post("/api/v1/users/register", again).await;
    assert_eq!((status, error_code(&dup).as_str()), (409, "DUPLICATE_USERNAME"));

    // Identity's validation lists every failing field.
    let bad = json!({"email": "not-an-email", "username": "x", "password": "short", "acceptTerms": false});
    let (status, invalid) = app.post("/api/v1/users/register", bad).await;
    assert_eq!((status, error_code(&invalid).as_str()), (400, "VALIDATION_ERROR"));
    let mut fields = failing_fields(&invalid);
    fields.sort();
    assert_eq!(fields, ["acceptTerms", "email", "password", "username"]);

    // Missing, unknown and mistyped keys are fields too.
    let (status, invalid) = app.post("/api/v1/users/register", json!({"email": "a@example.com", "admin": true})).await;
    assert_eq!(status, 400);
    let mut fields = failing_fields(&invalid);
    fields.sort();
    assert_eq!(fields, ["acceptTerms", "admin", "password", "username"]);
    let typed = json!({"email": "a@example.com", "username": "abc", "password": PASSWORD, "acceptTerms": "yes"});
    let (status, invalid) = app.post("/api/v1/users/register", typed).await;
    assert_eq!((status, failing_fields(&invalid)), (400, vec!["acceptTerms".to_owned()]));
}

#[tokio::test]
async fn bodies_that_are_not_json_objects_are_validation_errors() {
    let app = spawn_identity().await;
    let url = format!("{}/api/v1/auth/login", app.base);
    let cases: [(&str, Option<&str>); 4] = [
        ("login=a&password=b", Some("application/x-www-form-urlencoded")),
        ("{\"login\": \"a\"", Some("application/json")),
        ("[1, 2]", Some("application/json")),
        ("{}", None),
    ];
    for (body, content_type) in cases {
        let mut req = app.http.post(&url).body(body.to_owned());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(error_code(&v), "VALIDATION_ERROR");
        assert!(!failing_fields(&v).is_empty());
    }
}

#[tokio::test]
async fn me_answers_the_callers_own_account_and_patch_changes_only_it() {
    let app = spawn_identity().await;
    let (a, b) = (app.account("alice").await, app.account("bob").await);
    let (status, body) = app.call(Method::GET, ME, None, Some(&a.access)).await;
    assert_eq!(status, 200);
    let me = data_of(&body);
    assert_user_shape(me);
    assert_eq!((me["id"].as_str(), me["username"].as_str()), (Some(a.id.as_str()), Some("alice")));
    assert!(me["lastLogin"].is_string(), "logged in once");

    let change = json!({"username": "alice2", "preferences": {}});
    let (status, body) = app.call(Method::PATCH, ME, Some(change), Some(&a.access)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(data_of(&body)["username"], "alice2");
    let (_, body) = app.call(Method::GET, ME, None, Some(&b.access)).await;
    assert_eq!(
        (data_of(&body)["id"].as_str(), data_of(&body)["username"].as_str()),
        (Some(b.id.as_str()), Some("bob"))
    );

    // Validation: unknown top-level keys here, identity's rules for the rest; a taken name is a conflict.
    let (status, body) =
        app.call(Method::PATCH, ME, Some(json!({"id": b.id, "email": "x@y.z"})), Some(&a.access)).await;
    assert_eq!(status, 400);
    let mut fields = failing_fields(&body);
    fields.sort();
    assert_eq!(fields, ["email", "id"]);
    let (status, body) = app.call(Method::PATCH, ME, Some(json!({"preferences": 3})), Some(&a.access)).await;
    assert_eq!((status, failing_fields(&body)), (400, vec!["preferences".to_owned()]));
    let (status, body) = app.call(Method::PATCH, ME, Some(json!({"username": "x"})), Some(&a.access)).await;
    assert_eq!((status, error_code(&body).as_str()), (400, "VALIDATION_ERROR"));
    assert!(failing_fields(&body).contains(&"username".to_owned()));
    let (status, body) = app.call(Method::PATCH, ME, Some(json!({"username": "bob"})), Some(&a.access)).await;
    assert_eq!((status, error_code(&body).as_str()), (409, "DUPLICATE_USERNAME"));
    // Without a token nothing changes.
    let (status, body) = app.call(Method::PATCH, ME, Some(json!({"username": "zed"})), None).await;
    assert_eq!((status, error_code(&body).as_str()), (401, "UNAUTHORIZED"));
}

#[tokio::test]
async fn export_holds_only_the_caller_and_delete_needs_the_callers_password() {
    let app = spawn_identity().await;
    let (a, b) = (app.account("exporter").await, app.account("bystander").await);
    let (status, body) = app.call(Method::GET, EXPORT, None, Some(&a.access)).await;
    assert_eq!(status, 200, "{body}");
    let data = data_of(&body);
    assert!(data["exportedAt"].is_string());
    assert_eq!(data["library"], json!({"watchlist": [], "history": []}), "nothing on the library yet");
    let text = data["identity"].to_string();
    assert!(text.contains(&a.id) && text.contains(&a.email));
    assert!(!text.contains(&b.id) && !text.contains(&b.email) && !text.contains("bystander"));
    assert!(!text.contains("$argon2") && !text.contains(&a.refresh));

    // A's token with B's password deletes nobody.
    let (status, body) =
        app.call(Method::DELETE, ME, Some(json!({"password": "Bystander-Pass-1"})), Some(&a.access)).await;
    assert_eq!((status, error_code(&body).as_str()), (403, "INVALID_CREDENTIALS"));
    let (status, body) = app.call(Method::DELETE, ME, Some(json!({})), Some(&a.access)).await;
    assert_eq!((status, failing_fields(&body)), (400, vec!["password".to_owned()]));
    let (status, _) = app.call(Method::GET, ME, None, Some(&b.access)).await;
    assert_eq!(status, 200);

    // Deletion ends every session: the old access token is refused everywhere, log-in fails.
    let (status, body) = app.call(Method::DELETE, ME, Some(json!({"password": PASSWORD})), Some(&a.access)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(data_of(&body), &json!({"deleted": true}));
    for (method, path, body) in [
        (Method::GET, ME, None),
        (Method::PATCH, ME, Some(json!({"username": "ghost"}))),
        (Method::GET, EXPORT, None),
        (Method::DELETE, ME, Some(json!({"password": PASSWORD}))),
    ] {
        let (status, reply) = app.call(method.clone(), path, body, Some(&a.access)).await;
        assert_eq!((status, error_code(&reply).as_str()), (401, "INVALID_TOKEN"), "{method} {path}");
    }
    let (status, body) = app.post("/api/v1/auth/login", json!({"login": "exporter", "password": PASSWORD})).await;
    assert_eq!((status, error_code(&body).as_str()), (401, "INVALID_CREDENTIALS"));
    let (status, body) = app.post("/api/v1/auth/refresh", json!({"refreshToken": a.refresh})).await;
    assert_eq!((status, error_code(&body).as_str()), (401, "INVALID_TOKEN"));
    // B is untouched.
    let (status, body) = app.call(Method::GET, ME, None, Some(&b.access)).await;
    assert_eq!((status, data_of(&body)["id"].as_str()), (200, Some(b.id.as_str())));
}

#[tokio::test]
async fn email_verification_takes_the_mailed_token_and_rejects_others() {
    let app = spawn_identity().await;
    let mut mails = Listener::bind(&app.identity().notifications_exchange, "email.verification").await;
    let a = app.account("verifier").await;
    let mail = mails.next_json().await;
    assert_eq!(mail["userId"], a.id.as_str());
    let token = mail["token"].as_str().unwrap();

    let (status, body) = app.post("/api/v1/users/verify-email", json!({"token": "not-a-token"})).await;
    assert_eq!((status, failing_fields(&body)), (400, vec!["token".to_owned()]));
    let (status, body) = app.post("/api/v1/users/verify-email", json!({"token": token})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((data_of(&body)["id"].as_str(), &data_of(&body)["emailVerified"]), (Some(a.id.as_str()), &json!(true)));
    let (status, body) = app.post("/api/v1/users/verify-email", json!({"token": token})).await;
    assert_eq!((status, failing_fields(&body)), (400, vec!["token".to_owned()]), "single use");
}

#[tokio::test]
async fn password_reset_is_202_for_any_email_and_its_confirmation_revokes_access_tokens() {
    let app = spawn_identity().await;
    let mut mails = Listener::bind(&app.identity().notifications_exchange, "email.password_reset").await;
    let a = app.account("forgetful").await;
    let (known_status, known) = app.post("/api/v1/auth/password-reset", json!({"email": a.email})).await;
    let (unknown_status, unknown) =
        app.post("/api/v1/auth/password-reset", json!({"email": "ghost@example.com"})).await;
    assert_eq!((known_status, unknown_status), (202, 202));
    assert_eq!((&known["data"], &unknown["data"]), (&json!({"accepted": true}), &json!({"accepted": true})));
    let mail = mails.next_json().await;
    assert_eq!(mail["userId"], a.id.as_str());
    let token = mail["token"].as_str().unwrap().to_owned();

    let confirm = "/api/v1/auth/password-reset/confirm";
    let (status, body) = app.post(confirm, json!({"token": "wrong", "newPassword": "New-Horse-99"})).await;
    assert_eq!((status, failing_fields(&body)), (400, vec!["token".to_owned()]));
    let (status, body) = app.post(confirm, json!({"token": token, "newPassword": "weak"})).await;
    assert_eq!((status, failing_fields(&body)), (400, vec!["newPassword".to_owned()]));
    let (status, body) = app.post(confirm, json!({"token": token, "newPassword": "New-Horse-99"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(data_of(&body), &json!({"passwordChanged": true}));

    let (status, body) = app.call(Method::GET, ME, None, Some(&a.access)).await;
    assert_eq!((status, error_code(&body).as_str()), (401, "INVALID_TOKEN"), "the old access token is revoked");
    let (status, body) = app.post("/api/v1/auth/refresh", json!({"refreshToken": a.refresh})).await;
    assert_eq!((status, error_code(&body).as_str()), (401, "INVALID_TOKEN"));
    let (status, _) = app.post("/api/v1/auth/login", json!({"login": "forgetful", "password": PASSWORD})).await;
    assert_eq!(status, 401, "the old password is gone");
    // A session opened after the revocation's second works.
    iknow_testkit::eventually(10, || async {
        let (status, body) =
            app.post("/api/v1/auth/login", json!({"login": "forgetful", "password": "New-Horse-99"})).await;
        assert_eq!(status, 200);
        let access = body["data"]["accessToken"].as_str().unwrap().to_owned();
        (app.call(Method::GET, ME, None, Some(&access)).await.0 == 200).then_some(())
    })
    .await;
}
