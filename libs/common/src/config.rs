//! Layered configuration: embedded defaults < optional file < `IKNOW__SECTION__KEY` environment variables.

use std::path::Path;

use serde::de::DeserializeOwned;

/// The defaults every component starts from, compiled into each binary.
pub const DEFAULTS: &str = include_str!("../../../config/default.toml");

/// Environment variable naming an optional configuration file.
pub const CONFIG_FILE_ENV: &str = "IKNOW_CONFIG";

/// The merged configuration tree; read a component's part with [`Settings::section`].
#[derive(Debug, Clone)]
pub struct Settings(config::Config);

impl Settings {
    /// Loads defaults, then `file` (or the file named by `IKNOW_CONFIG`), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, config::ConfigError> {
        let env_file = std::env::var_os(CONFIG_FILE_ENV).map(std::path::PathBuf::from);
        let file = file.map(Path::to_path_buf).or(env_file);
        Self::load_with(file.as_deref(), std::env::vars())
    }

    /// Like [`Settings::load`] with an explicit environment, so tests need not touch the process's.
    pub fn load_with(
        file: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, config::ConfigError> {
        let mut builder =
            config::Config::builder().add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        if let Some(file) = file {
            builder = builder.add_source(config::File::from(file).required(true));
        }
        let env: config::Map<String, String> = vars.into_iter().filter(|(k, _)| k.starts_with("IKNOW__")).collect();
        builder = builder.add_source(
            config::Environment::with_prefix("IKNOW")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(Some(env)),
        );
        Ok(Self(builder.build()?))
    }

    /// Deserialises one top-level section (`catalog`, `gateway`, ...).
    pub fn section<T: DeserializeOwned>(&self, key: &str) -> Result<T, config::ConfigError> {
        self.0.get(key)
    }

    /// `development` or `production`.
    pub fn environment(&self) -> String {
        self.0.get_string("environment").unwrap_or_else(|_| "development".into())
    }

    /// Sets one key (dotted path), for tests and for `iknow up` wiring services together.
    pub fn with_override(self, key: &str, value: impl Into<config::Value>) -> Result<Self, config::ConfigError> {
        let cfg = config::Config::builder().add_source(self.0).set_override(key, value)?.build()?;
        Ok(Self(cfg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Gateway {
        http_addr: String,
        downstream_timeout_ms: u64,
    }

    #[test]
    fn environment_overrides_defaults() {
        let vars = [
            ("IKNOW__GATEWAY__HTTP_ADDR".to_string(), "0.0.0.0:8080".to_string()),
            ("IKNOW__GATEWAY__DOWNSTREAM_TIMEOUT_MS".to_string(), "123".to_string()),
            ("UNRELATED".to_string(), "x".to_string()),
        ];
        let s = Settings::load_with(None, vars).unwrap();
        let g: Gateway = s.section("gateway").unwrap();
        assert_eq!(g.http_addr, "0.0.0.0:8080");
        assert_eq!(g.downstream_timeout_ms, 123);
    }

    #[test]
    fn file_overrides_defaults_and_env_overrides_file() {
        let dir = std::env::temp_dir().join(format!("iknow-cfg-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(&file, "[gateway]\nhttp_addr = \"1.2.3.4:1\"\ndownstream_timeout_ms = 7\n").unwrap();
        let vars = [("IKNOW__GATEWAY__DOWNSTREAM_TIMEOUT_MS".to_string(), "9".to_string())];
        let g: Gateway = Settings::load_with(Some(&file), vars).unwrap().section("gateway").unwrap();
        assert_eq!(g.http_addr, "1.2.3.4:1");
        assert_eq!(g.downstream_timeout_ms, 9);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn override_sets_a_key() {
        let s = Settings::load_with(None, []).unwrap().with_override("gateway.http_addr", "x:1").unwrap();
        let g: Gateway = s.section("gateway").unwrap();
        assert_eq!(g.http_addr, "x:1");
    }

    #[test]
    fn load_reads_the_given_file_over_the_defaults() {
        let dir = std::env::temp_dir().join(format!("iknow-cfg-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(&file, "environment = \"production\"\n[gateway]\nhttp_addr = \"5.6.7.8:9\"\n").unwrap();
        let s = Settings::load(Some(&file)).unwrap();
        std::fs::remove_dir_all(dir).unwrap();
        let g: Gateway = s.section("gateway").unwrap();
        assert_eq!(g.http_addr, "5.6.7.8:9");
        assert_eq!(s.environment(), "production");
        assert!(Settings::load(Some(Path::new("/nonexistent/iknow.toml"))).is_err(), "a named file must exist");
    }

    #[test]
    fn the_environment_is_development_by_default() {
        assert_eq!(Settings::load_with(None, []).unwrap().environment(), "development");
    }
}
