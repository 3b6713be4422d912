//! Item mapping through `serde_dynamo`: a domain value plus its keys, flattened into one item.

use super::keys::Key;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub type Attrs = HashMap<String, AttributeValue>;

/// A stored item: keys, entity name, optional TTL, and the entity's own fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Item<T> {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(rename = "GSI1PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
    #[serde(rename = "GSI2PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi2pk: Option<String>,
    #[serde(rename = "GSI2SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi2sk: Option<String>,
    #[serde(rename = "GSI3PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi3pk: Option<String>,
    #[serde(rename = "GSI3SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi3sk: Option<String>,
    #[serde(rename = "expiresAt", default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    pub entity: String,
    #[serde(flatten)]
    pub data: T,
}

impl<T> Item<T> {
    pub fn new(key: Key, entity: &str, data: T) -> Self {
        Item {
            pk: key.pk,
            sk: key.sk,
            gsi1pk: None,
            gsi1sk: None,
            gsi2pk: None,
            gsi2sk: None,
            gsi3pk: None,
            gsi3sk: None,
            expires_at: None,
            entity: entity.to_owned(),
            data,
        }
    }
    pub fn gsi1(mut self, pk: String, sk: String) -> Self {
        self.gsi1pk = Some(pk);
        self.gsi1sk = Some(sk);
        self
    }
    pub fn gsi2(mut self, pk: String, sk: String) -> Self {
        self.gsi2pk = Some(pk);
        self.gsi2sk = Some(sk);
        self
    }
    pub fn gsi3(mut self, pk: String, sk: String) -> Self {
        self.gsi3pk = Some(pk);
        self.gsi3sk = Some(sk);
        self
    }
    pub fn ttl(mut self, epoch_seconds: i64) -> Self {
        self.expires_at = Some(epoch_seconds);
        self
    }
}

impl<T: Serialize> Item<T> {
    pub fn to_attrs(&self) -> Result<Attrs, serde_dynamo::Error> {
        serde_dynamo::to_item(self)
    }
}

pub fn from_attrs<T: DeserializeOwned>(attrs: Attrs) -> Result<Item<T>, serde_dynamo::Error> {
    serde_dynamo::from_item(attrs)
}

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn key_attrs(key: &Key) -> Attrs {
    HashMap::from([(super::keys::PK.to_owned(), s(&key.pk)), (super::keys::SK.to_owned(), s(&key.sk))])
}
