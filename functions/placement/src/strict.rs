//! Strict JSON: before a body reaches its type, every object is checked for duplicate keys and
//! every `null` for a field the contract declares nullable; then the typed parse names the
//! field it refused. A rejection names the field's path, for example `lines[1].quantity`.

use serde::de::{DeserializeOwned, DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

/// Fields the contract declares `[string, "null"]` (address parts).
const NULLABLE: &[&str] = &["line2", "region", "phone"];

/// Why a body was refused: the field's path (empty for the body itself) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub field: String,
    pub detail: String,
}

/// Parses `bytes` as `T`, refusing duplicate keys, unexpected nulls and anything `T` refuses.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    let found = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let walked =
        Walk { path: String::new(), nullable: false, found: &found }.deserialize(&mut de).and_then(|()| de.end());
    if let Err(e) = walked {
        return Err(found.into_inner().unwrap_or_else(|| Refusal { field: String::new(), detail: syntax(&e) }));
    }
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| Refusal { field: String::new(), detail: syntax(&e) })?;
    typed(value)
}

/// A parsed body as `T`, integral floats taken as integers; a refusal names the field path.
pub fn typed<T: DeserializeOwned>(mut value: serde_json::Value) -> Result<T, Refusal> {
    integral(&mut value);
    serde_path_to_error::deserialize::<_, T>(Objects(value)).map_err(|e| {
        let inner = e.inner().to_string();
        let mut field = e.path().to_string();
        if field == "." {
            field = String::new();
        }
        // An unknown, missing or repeated field is named by the message, not the path (which
        // is its parent).
        if let Some(name) = named_field(&inner)
            && !(field == name || field.ends_with(&format!(".{name}")))
        {
            field = join(&field, name);
        }
        // A map key refused (a channel that does not exist as a key): the path cannot say which
        // key (`channelSafetyStock.?`); the message can.
        if let (Some(parent), Some(key)) = (field.strip_suffix(".?"), variant_named(&inner)) {
            field = format!("{parent}.{key}");
        }
        // Any other refused key (an id that is not one): its map is the field.
        if let Some(parent) = field.strip_suffix(".?") {
            field = parent.to_owned();
        }
        Refusal { field, detail: strip_position(&inner) }
    })
}

/// The value an "unknown variant `x`" message names.
fn variant_named(message: &str) -> Option<&str> {
    let p = "unknown variant `";
    message.find(p).map(|i| &message[i + p.len()..]).and_then(|r| r.split('`').next())
}

/// The field a serde message names: "unknown field `x`", "missing field `x`", "duplicate field
/// `x`".
pub fn named_field(message: &str) -> Option<&str> {
    ["unknown field `", "missing field `", "duplicate field `"]
        .iter()
        .find_map(|p| message.find(p).map(|i| &message[i + p.len()..]))
        .and_then(|r| r.split('`').next())
}

impl From<Refusal> for crate::problem::Problem {
    fn from(r: Refusal) -> Self {
        let detail = if r.field.is_empty() { r.detail.clone() } else { format!("{}: {}", r.field, r.detail) };
        let p = crate::problem::Problem::bad_request(format!("invalid JSON body: {detail}"));
        if r.field.is_empty() { p } else { p.with("field", r.field.into()) }
    }
}

/// JSON Schema counts `43.0` as an integer: integral floats become integers before the typed
/// parse, so an integer field accepts them as the contract says it may.
fn integral(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                // In range and whole: exact as an i64.
                #[allow(clippy::cast_possible_truncation)]
                let i = f as i64;
                *v = serde_json::Value::from(i);
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(integral),
        serde_json::Value::Object(o) => o.values_mut().for_each(integral),
        _ => {}
    }
}

/// A JSON value that only fills a struct from an object: serde would also fill one from an
/// array, by position, past every key check.
struct Objects(serde_json::Value);

impl<'de> serde::Deserializer<'de> for Objects {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            serde_json::Value::Object(m) => v.visit_map(ObjectAccess { entries: m.into_iter(), value: None }),
            serde_json::Value::Array(a) => {
                // Every element is taken: a fixed-size list (a day's opening and closing time)
                // with more elements is refused, never cut short.
                let len = a.len();
                let mut seq = ArrayAccess(a.into_iter());
                let out = v.visit_seq(&mut seq)?;
                match seq.0.len() {
                    0 => Ok(out),
                    _ => Err(serde::de::Error::invalid_length(len, &"fewer elements in the list")),
                }
            }
            other => serde::Deserializer::deserialize_any(other, v),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            serde_json::Value::Object(_) => self.deserialize_any(v),
            other => Err(serde_json::Error::invalid_type(unexpected(&other), &"an object")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            serde_json::Value::Null => v.visit_none(),
            other => v.visit_some(Objects(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, v: V) -> Result<V::Value, Self::Error> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Self::Error> {
        serde::Deserializer::deserialize_enum(self.0, name, variants, v)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

fn unexpected(v: &serde_json::Value) -> serde::de::Unexpected<'_> {
    use serde::de::Unexpected as U;
    match v {
        serde_json::Value::Null => U::Unit,
        serde_json::Value::Bool(b) => U::Bool(*b),
        serde_json::Value::Number(_) => U::Other("a number"),
        serde_json::Value::String(s) => U::Str(s),
        serde_json::Value::Array(_) => U::Seq,
        serde_json::Value::Object(_) => U::Map,
    }
}

struct ArrayAccess(std::vec::IntoIter<serde_json::Value>);

impl<'de> SeqAccess<'de> for ArrayAccess {
    type Error = serde_json::Error;
    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, Self::Error> {
        self.0.next().map(|v| seed.deserialize(Objects(v))).transpose()
    }
}

struct ObjectAccess {
    entries: serde_json::map::IntoIter,
    value: Option<serde_json::Value>,
}

impl<'de> MapAccess<'de> for ObjectAccess {
    type Error = serde_json::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        match self.entries.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(serde::de::value::StringDeserializer::<serde_json::Error>::new(k)).map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Self::Error> {
        seed.deserialize(Objects(self.value.take().unwrap_or(serde_json::Value::Null)))
    }
}

fn syntax(e: &serde_json::Error) -> String {
    format!("the body is not valid JSON ({})", strip_position(&e.to_string()))
}

fn strip_position(s: &str) -> String {
    s.split(" at line ").next().unwrap_or(s).to_owned()
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_owned() } else { format!("{parent}.{key}") }
}

struct Walk<'a> {
    path: String,
    nullable: bool,
    found: &'a RefCell<Option<Refusal>>,
}

impl Walk<'_> {
    fn refuse<E: serde::de::Error>(&self, detail: &str) -> E {
        *self.found.borrow_mut() = Some(Refusal { field: self.path.clone(), detail: detail.to_owned() });
        E::custom(detail)
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        if self.nullable { Ok(()) } else { Err(self.refuse("null is not allowed here; omit the field instead")) }
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        while seq
            .next_element_seed(Walk { path: format!("{}[{i}]", self.path), nullable: false, found: self.found })?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = join(&self.path, &key);
            if !seen.insert(key.clone()) {
                *self.found.borrow_mut() = Some(Refusal { field: path, detail: "the key appears twice".into() });
                return Err(A::Error::custom("duplicate key"));
            }
            let nullable = NULLABLE.contains(&key.as_str());
            map.next_value_seed(Walk { path, nullable, found: self.found })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    /// Anything: for tests of the walk alone.
    #[derive(Deserialize)]
    struct Any(#[allow(dead_code)] serde_json::Value);

    fn refusal(body: &str) -> Refusal {
        parse::<Any>(body.as_bytes()).err().expect("refused")
    }

    #[test]
    fn duplicate_keys_and_nulls_are_refused_by_path() {
        assert_eq!(refusal(r#"{"a": 1, "a": 2}"#).field, "a");
        assert_eq!(refusal(r#"{"lines": [{"sku": "A"}, {"sku": "B", "sku": "C"}]}"#).field, "lines[1].sku");
        assert_eq!(refusal(r#"{"email": null}"#).field, "email");
        assert!(parse::<Any>(br#"{"shippingAddress": {"line2": null}}"#).is_ok());
        assert_eq!(refusal("{").field, "");
    }

    #[test]
    fn typed_errors_name_the_field() {
        #[derive(Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Line {
            quantity: u32,
        }
        #[derive(Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Body {
            lines: Vec<Line>,
        }
        let e = parse::<Body>(br#"{"lines": [{"quantity": 1}, {"quantity": "x"}]}"#).unwrap_err();
        assert_eq!(e.field, "lines[1].quantity");
        let e = parse::<Body>(br#"{"lines": [], "extra": 1}"#).unwrap_err();
        assert_eq!(e.field, "extra");
        assert_eq!(parse::<Body>(br#"{"lines": [{"quantity": 43.0}]}"#).unwrap().lines[0].quantity, 43);
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Order {
            lines: Option<Vec<oms_shared::domain::pricing::LineRequest>>,
        }
        let e = parse::<Order>(br#"{"lines": [{"sku": "A", "quantity": 100}]}"#).unwrap_err();
        assert_eq!(e.field, "lines[0].quantity", "{e:?}");
        // A struct is filled from an object only, never from an array by position.
        assert!(parse::<Body>(br#"[[{"quantity": 1}]]"#).is_err());
        let e = parse::<Body>(br#"{"lines": [[1]]}"#).unwrap_err();
        assert_eq!(e.field, "lines[0]", "{e:?}");
        // A map key that is not one of its enum's values is named by the key.
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Stock {
            #[serde(rename = "channelSafetyStock")]
            channel_safety_stock: std::collections::BTreeMap<oms_shared::domain::Channel, u32>,
        }
        let e = parse::<Stock>(br#"{"channelSafetyStock": {"web": 1, "bogus": 2}}"#).unwrap_err();
        assert_eq!(e.field, "channelSafetyStock.bogus", "{e:?}");
        assert_eq!(parse::<Body>(br#"{"lines": [{"quantity": 4.5}]}"#).unwrap_err().field, "lines[0].quantity");
    }
}
