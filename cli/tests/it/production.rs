//! `iknow up` in production refuses the development JWT secrets before starting anything.

use iknow::up::Platform;
use iknow_common::config::Settings;

fn production(vars: &[(&str, &str)]) -> Settings {
    let mut env = vec![("IKNOW__ENVIRONMENT".to_owned(), "production".to_owned())];
    env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Settings::load_with(None, env).unwrap()
}

#[tokio::test]
async fn production_with_the_default_secrets_refuses_to_start_naming_the_setting() {
    iknow_common::telemetry::init_for_tests();
    let Err(e) = Platform::start(&production(&[])).await else { panic!("started with the development secret") };
    assert!(format!("{e:#}").contains("IKNOW__IDENTITY__JWT_SECRET"), "{e:#}");

    let long = "a-production-secret-of-at-least-32-bytes";
    let Err(e) = Platform::start(&production(&[("IKNOW__IDENTITY__JWT_SECRET", long)])).await else {
        panic!("started with the gateway's development secret")
    };
    assert!(format!("{e:#}").contains("IKNOW__GATEWAY__JWT_SECRET"), "{e:#}");

    let Err(e) =
        Platform::start(&production(&[("IKNOW__IDENTITY__JWT_SECRET", long), ("IKNOW__GATEWAY__JWT_SECRET", "short")]))
            .await
    else {
        panic!("started with a short secret")
    };
    assert!(format!("{e:#}").contains("IKNOW__GATEWAY__JWT_SECRET"), "{e:#}");
}
