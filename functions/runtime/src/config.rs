//! Typed configuration, read from the environment once at cold start. Every variable a
//! function needs is required: a missing or malformed one fails the cold start with a message
//! naming it, never a request later, and never a silently skipped side effect.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("unknown function {0}")]
    UnknownFunction(String),
    #[error("{0}")]
    Init(String),
}

/// The variables this process was started with (a snapshot: read once).
#[derive(Debug, Clone, Default)]
pub struct Config {
    vars: HashMap<String, String>,
}

/// Where and what the store is.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub table: String,
    /// DynamoDB Local when set (local runs and tests); AWS otherwise.
    pub endpoint: Option<String>,
}

impl Config {
    pub fn from_env() -> Self {
        Config { vars: std::env::vars().collect() }
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Config { vars: pairs.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect() }
    }

    /// Every variable, unordered.
    pub fn vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.vars.insert(name.to_owned(), value.into());
    }

    pub fn remove(&mut self, name: &str) {
        self.vars.remove(name);
    }

    /// A required variable (empty counts as missing).
    pub fn require(&self, name: &'static str) -> Result<&str, ConfigError> {
        self.vars.get(name).map(String::as_str).filter(|v| !v.trim().is_empty()).ok_or(ConfigError::Missing(name))
    }

    /// A variable with a documented default.
    pub fn or(&self, name: &str, default: &'static str) -> String {
        self.vars.get(name).filter(|v| !v.trim().is_empty()).cloned().unwrap_or_else(|| default.to_owned())
    }

    /// An endpoint override (only set locally).
    pub fn endpoint(&self, name: &str) -> Option<String> {
        self.vars.get(name).filter(|v| !v.trim().is_empty()).cloned()
    }

    /// A comma-separated list that must have at least one entry.
    pub fn list(&self, name: &'static str) -> Result<Vec<String>, ConfigError> {
        let v: Vec<String> =
            self.require(name)?.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        if v.is_empty() {
            return Err(ConfigError::Missing(name));
        }
        Ok(v)
    }

    pub fn store(&self) -> Result<StoreConfig, ConfigError> {
        Ok(StoreConfig { table: self.require("TABLE_NAME")?.to_owned(), endpoint: self.endpoint("DYNAMODB_ENDPOINT") })
    }

    /// Local runs use fake static credentials and a fixed region.
    pub fn local(&self) -> bool {
        self.endpoint("DYNAMODB_ENDPOINT").is_some()
    }
}
