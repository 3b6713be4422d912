//! Payload templates (Parameters, ResultSelector, ItemSelector): JSON objects whose `key.$`
//! fields hold a path or an intrinsic function ([`crate::intrinsic`]). [`check`] validates
//! one when the definition is loaded; [`resolve`] fills it in at run time.

use crate::TaskError;
use crate::intrinsic::Expr;
use serde_json::{Map, Value};

/// Checks a template: an object, every `key.$` a string that parses as an expression (`$$.Map`
/// paths only `in_map`, a Map state's ItemSelector).
pub(crate) fn check(t: &Value, in_map: bool) -> Result<(), String> {
    fn walk(v: &Value, in_map: bool) -> Result<(), String> {
        match v {
            Value::Object(m) => m.iter().try_for_each(|(k, v)| match (k.ends_with(".$"), v) {
                (true, Value::String(s)) => Expr::parse(s, in_map).map(drop).map_err(|e| format!("{k}: {e}")),
                (true, _) => Err(format!("{k} must be a string")),
                (false, v) => walk(v, in_map),
            }),
            Value::Array(a) => a.iter().try_for_each(|v| walk(v, in_map)),
            _ => Ok(()),
        }
    }
    if !t.is_object() {
        return Err("a payload template must be a JSON object".into());
    }
    walk(t, in_map)
}

/// Resolves a template against the state's effective input and the context object.
pub(crate) fn resolve(t: &Value, input: &Value, context: &Value) -> Result<Value, TaskError> {
    match t {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                if let Some(key) = k.strip_suffix(".$") {
                    let text = v.as_str().unwrap_or_default();
                    let expr = Expr::parse(text, true).map_err(|e| TaskError::new("States.IntrinsicFailure", e))?;
                    out.insert(key.to_owned(), expr.eval(input, context)?);
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
