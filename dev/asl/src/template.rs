//! Resolving Parameters/ResultSelector/ItemSelector templates: `key.$` fields are paths or
//! the intrinsic functions our definitions use.

use crate::TaskError;
use crate::path;
use serde_json::{Map, Value};

fn err(e: &str, c: impl Into<String>) -> TaskError {
    TaskError::new(e, c)
}

/// Resolves a template against the state's effective input and the context object.
pub(crate) fn resolve(t: &Value, input: &Value, context: &Value) -> Result<Value, TaskError> {
    match t {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                if let Some(key) = k.strip_suffix(".$") {
                    let expr = v.as_str().ok_or_else(|| err("States.Runtime", format!("{k} must be a string")))?;
                    out.insert(key.to_owned(), expression(expr, input, context)?);
                } else {
                    out.insert(k.clone(), resolve(v, input, context)?);
                }
            }
            Ok(Value::Object(out))
        }
        Value::Array(a) => Ok(Value::Array(a.iter().map(|x| resolve(x, input, context)).collect::<Result<_, _>>()?)),
        other => Ok(other.clone()),
    }
}

fn expression(expr: &str, input: &Value, context: &Value) -> Result<Value, TaskError> {
    let read = |p: &str| path::read(p, input, context).map_err(|e| err("States.ParameterPathFailure", e));
    if expr.starts_with('$') {
        return read(expr);
    }
    intrinsic(expr, &read)
}

/// Map's ItemSelector refers to the current item as `$$.Map.Item.Value`; the executor keeps
/// it under `$.__item`.
pub(crate) fn rewrite_map_refs(t: &Value) -> Value {
    match t {
        Value::String(s) => {
            Value::String(s.replace("$$.Map.Item.Value", "$.__item").replace("$$.Map.Item.Index", "$.__index"))
        }
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), rewrite_map_refs(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(rewrite_map_refs).collect()),
        other => other.clone(),
    }
}

/// The intrinsic functions our definitions use: States.Format, States.StringToJson,
/// States.JsonToString, States.Array, States.UUID.
fn intrinsic(expr: &str, read: &dyn Fn(&str) -> Result<Value, TaskError>) -> Result<Value, TaskError> {
    let open = expr.find('(').ok_or_else(|| err("States.IntrinsicFailure", format!("not an intrinsic: {expr}")))?;
    let name = &expr[..open];
    let inner =
        expr[open + 1..].strip_suffix(')').ok_or_else(|| err("States.IntrinsicFailure", "unclosed intrinsic"))?;
    let args = split_args(inner)?
        .into_iter()
        .map(|a| {
            let a = a.trim();
            if let Some(s) = a.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
                Ok(Value::String(s.replace("\\'", "'")))
            } else if a.starts_with('$') {
                read(a)
            } else if a.starts_with("States.") {
                intrinsic(a, read)
            } else {
                serde_json::from_str(a).map_err(|_| err("States.IntrinsicFailure", format!("bad argument {a}")))
            }
        })
        .collect::<Result<Vec<Value>, TaskError>>()?;
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match name {
        "States.Format" => {
            let fmt = args
                .first()
                .and_then(Value::as_str)
                .ok_or_else(|| err("States.IntrinsicFailure", "Format needs a template"))?;
            let mut out = String::new();
            let mut rest = args[1..].iter();
            let mut parts = fmt.split("{}").peekable();
            while let Some(p) = parts.next() {
                out.push_str(p);
                if parts.peek().is_some() {
                    out.push_str(
                        &rest
                            .next()
                            .map(text)
                            .ok_or_else(|| err("States.IntrinsicFailure", "too few Format arguments"))?,
                    );
                }
            }
            Ok(Value::String(out))
        }
        "States.StringToJson" => serde_json::from_str(args.first().and_then(Value::as_str).unwrap_or("null"))
            .map_err(|e| err("States.IntrinsicFailure", e.to_string())),
        "States.JsonToString" => Ok(Value::String(args.first().map(|v| v.to_string()).unwrap_or_default())),
        "States.Array" => Ok(Value::Array(args)),
        "States.UUID" => Ok(Value::String(ulid::Ulid::new().to_string())),
        other => Err(err("States.IntrinsicFailure", format!("unsupported intrinsic {other}"))),
    }
}

fn split_args(s: &str) -> Result<Vec<String>, TaskError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    let mut quoted = false;
    let mut prev = ' ';
    for c in s.chars() {
        match c {
            '\'' if prev != '\\' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                out.push(std::mem::take(&mut cur));
                prev = c;
                continue;
            }
            _ => {}
        }
        cur.push(c);
        prev = c;
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    Ok(out)
}
