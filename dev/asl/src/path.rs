//! The subset of JSONPath that ASL uses: `$`, `$.a.b`, `$['a']`, `$.a[0]`, and `$$` for the
//! context object; plus ResultPath assignment. [`JsonPath`] is a path parsed once (at
//! definition parse time); [`read()`], [`exists()`] and [`write()`] parse on every call.

use serde_json::{Map, Value};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn parse(path: &str) -> Result<Vec<Seg>, String> {
    let rest = path.strip_prefix('$').ok_or_else(|| format!("path {path:?} must start with $"))?;
    let mut segs = Vec::new();
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                    j += 1;
                }
                if j == start {
                    return Err(format!("empty segment in {path:?}"));
                }
                segs.push(Seg::Key(rest[start..j].to_owned()));
                i = j;
            }
            b'[' => {
                let end = rest[i..].find(']').map(|e| e + i).ok_or_else(|| format!("unclosed [ in {path:?}"))?;
                let inner = &rest[i + 1..end];
                if let Some(k) = inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
                    segs.push(Seg::Key(k.to_owned()));
                } else {
                    segs.push(Seg::Index(inner.parse().map_err(|_| format!("bad index in {path:?}"))?));
                }
                i = end + 1;
            }
            _ => return Err(format!("unexpected character in {path:?}")),
        }
    }
    Ok(segs)
}

/// A parsed path: into the state's input (`$...`) or into the context object (`$$...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    context: bool,
    segs: Vec<Seg>,
}

impl JsonPath {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (context, segs) = match text.strip_prefix("$$") {
            Some(r) => (true, parse(&format!("${r}"))?),
            None => (false, parse(text)?),
        };
        Ok(JsonPath { text: text.to_owned(), context, segs })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the path reads the context object (`$$`).
    pub fn is_context(&self) -> bool {
        self.context
    }

    /// Reads the path from `input` (or from `context` for a `$$` path).
    pub fn read(&self, input: &Value, context: &Value) -> Result<Value, String> {
        let mut cur = if self.context { context } else { input };
        for s in &self.segs {
            cur = match s {
                Seg::Key(k) => cur.get(k),
                Seg::Index(i) => cur.get(*i),
            }
            .ok_or_else(|| format!("path {} not found in input", self.text))?;
        }
        Ok(cur.clone())
    }

    /// The keys of the path, in order; `None` for an array index.
    fn keys(&self) -> impl Iterator<Item = Option<&str>> {
        self.segs.iter().map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        })
    }

    /// Whether the path is one a ResultPath can write: into the input, by keys only.
    pub(crate) fn check_writable(&self) -> Result<(), String> {
        if self.context {
            return Err(format!("{} writes the context object; a ResultPath writes into the input", self.text));
        }
        if self.keys().any(|k| k.is_none()) {
            return Err(format!("{} indexes an array; the local executor writes by keys only", self.text));
        }
        Ok(())
    }

    /// For a `$$` path: whether the local executor provides that part of the context object
    /// (`$$.Execution.Id`, `.Input`, `.Name`, `.StartTime`; `$$.Map.Item.Index` and `.Value`
    /// where `in_map_selector`).
    pub(crate) fn check_context(&self, in_map_selector: bool) -> Result<(), String> {
        if !self.context {
            return Ok(());
        }
        let keys: Vec<_> = self.keys().collect();
        let ok = match keys.as_slice() {
            [] | [Some("Execution")] => true,
            [Some("Execution"), Some("Input"), ..] => true,
            [Some("Execution"), Some("Id" | "Name" | "StartTime")] => true,
            [Some("Map"), rest @ ..] if in_map_selector => {
                matches!(rest, [] | [Some("Item")] | [Some("Item"), Some("Index")] | [Some("Item"), Some("Value"), ..])
            }
            _ => false,
        };
        if ok {
            return Ok(());
        }
        let map = if in_map_selector { "" } else { " ($$.Map only in a Map state's ItemSelector)" };
        Err(format!(
            "the local executor's context object has no {}: it provides $$.Execution.Id, .Input, .Name and .StartTime{map}",
            self.text
        ))
    }

    pub fn exists(&self, input: &Value, context: &Value) -> bool {
        self.read(input, context).is_ok()
    }

    /// Writes `value` at the path in `target` (ResultPath semantics: `$` replaces the whole
    /// input).
    pub fn write(&self, target: Value, value: Value) -> Result<Value, String> {
        if self.context {
            return Err(format!("unexpected character in {:?}", self.text));
        }
        let path = &self.text;
        let segs = &self.segs;
        if segs.is_empty() {
            return Ok(value);
        }
        let mut root = target;
        let mut cur = &mut root;
        for (n, s) in segs.iter().enumerate() {
            let last = n == segs.len() - 1;
            match s {
                Seg::Key(k) => {
                    let obj = cur.as_object_mut().ok_or_else(|| format!("ResultPath {path}: not an object at {k}"))?;
                    if last {
                        obj.insert(k.clone(), value);
                        return Ok(root);
                    }
                    cur = obj.entry(k.clone()).or_insert_with(|| Value::Object(Map::new()));
                }
                Seg::Index(_) => return Err(format!("ResultPath {path} cannot index arrays")),
            }
        }
        Ok(root)
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Reads `path` from `input` (or from `context` when it starts with `$$`).
pub fn read(path: &str, input: &Value, context: &Value) -> Result<Value, String> {
    JsonPath::parse(path)?.read(input, context)
}

pub fn exists(path: &str, input: &Value, context: &Value) -> bool {
    read(path, input, context).is_ok()
}

/// Writes `value` at `path` in `target` (ResultPath semantics: `$` replaces the whole input).
pub fn write(path: &str, target: Value, value: Value) -> Result<Value, String> {
    JsonPath::parse(path)?.write(target, value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_and_writes() {
        let v = json!({"a": {"b": [1, {"c": "x"}]}});
        assert_eq!(read("$.a.b[1].c", &v, &Value::Null).unwrap(), json!("x"));
        assert_eq!(read("$['a']", &v, &Value::Null).unwrap(), v["a"]);
        assert_eq!(read("$$.Execution.Id", &Value::Null, &json!({"Execution": {"Id": "e"}})).unwrap(), json!("e"));
        assert!(read("$.nope", &v, &Value::Null).is_err());
        assert_eq!(write("$.r.s", json!({"a": 1}), json!(2)).unwrap(), json!({"a": 1, "r": {"s": 2}}));
        assert_eq!(write("$", json!({"a": 1}), json!(2)).unwrap(), json!(2));
    }

    #[test]
    fn parsed_paths_keep_their_text_and_root() {
        let p = JsonPath::parse("$$.Map.Item.Value").unwrap();
        assert!(p.is_context());
        assert_eq!(p.to_string(), "$$.Map.Item.Value");
        assert!(p.write(json!({}), json!(1)).is_err());
        assert!(JsonPath::parse("a.b").is_err());
        assert!(JsonPath::parse("$.a[").is_err());
        assert!(JsonPath::parse("$..a").is_err());
    }
}
