//! The `key.$` expressions of payload templates (Parameters, ResultSelector, ItemSelector): a
//! path, or a call of an intrinsic function. [`Expr::parse`] reads one when the definition is
//! loaded, so a malformed call, an unknown or unsupported function, a wrong number of
//! arguments or a context path the executor does not provide is a parse error, not a failure
//! in the middle of a run.

use crate::TaskError;
use crate::path::JsonPath;
use serde_json::{Map, Value};

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Path(JsonPath),
    Literal(Value),
    Call(Func, Vec<Expr>),
    /// The first argument of `States.Format` written as a literal: the text around each `{}`
    /// (escaped braces `\{` `\}` are text).
    Template(Vec<String>),
}

/// The intrinsic functions the executor implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    JsonMerge,
    MathAdd,
    StringSplit,
    Uuid,
}

/// Name, function, least and most arguments.
const FUNCS: [(&str, Func, usize, usize); 14] = [
    ("States.Format", Func::Format, 1, usize::MAX),
    ("States.StringToJson", Func::StringToJson, 1, 1),
    ("States.JsonToString", Func::JsonToString, 1, 1),
    ("States.Array", Func::Array, 0, usize::MAX),
    ("States.ArrayPartition", Func::ArrayPartition, 2, 2),
    ("States.ArrayContains", Func::ArrayContains, 2, 2),
    ("States.ArrayRange", Func::ArrayRange, 3, 3),
    ("States.ArrayGetItem", Func::ArrayGetItem, 2, 2),
    ("States.ArrayLength", Func::ArrayLength, 1, 1),
    ("States.ArrayUnique", Func::ArrayUnique, 1, 1),
    ("States.JsonMerge", Func::JsonMerge, 3, 3),
    ("States.MathAdd", Func::MathAdd, 2, 2),
    ("States.StringSplit", Func::StringSplit, 2, 2),
    ("States.UUID", Func::Uuid, 0, 0),
];

/// Intrinsic functions of the language that the executor refuses when it loads a definition.
pub const UNSUPPORTED_INTRINSICS: [&str; 4] =
    ["States.Base64Encode", "States.Base64Decode", "States.Hash", "States.MathRandom"];

/// At most this many calls nest in one field (as on AWS).
const MAX_DEPTH: usize = 10;

fn fail(cause: impl Into<String>) -> TaskError {
    TaskError::new("States.IntrinsicFailure", cause)
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
    in_map: bool,
}

impl Expr {
    /// Parses the value of a `key.$` field: a path (`$...`, `$$...`) or an intrinsic call.
    /// `in_map` allows `$$.Map.Item...` (a Map state's ItemSelector).
    pub(crate) fn parse(text: &str, in_map: bool) -> Result<Expr, String> {
        if text.starts_with('$') {
            let p = JsonPath::parse(text)?;
            p.check_context(in_map)?;
            return Ok(Expr::Path(p));
        }
        if !text.starts_with("States.") {
            return Err(format!("{text:?} is neither a path nor an intrinsic function"));
        }
        let mut p = Parser { text, at: 0, in_map };
        let e = p.expr(0)?;
        p.skip_ws();
        match p.rest() {
            "" => Ok(e),
            rest => Err(format!("unexpected {rest:?} after the call in {text:?}")),
        }
    }

    pub(crate) fn eval(&self, input: &Value, ctx: &Value) -> Result<Value, TaskError> {
        match self {
            Expr::Path(p) => p.read(input, ctx).map_err(|e| TaskError::new("States.ParameterPathFailure", e)),
            Expr::Literal(v) => Ok(v.clone()),
            Expr::Template(pieces) => Ok(Value::String(pieces.join("{}"))),
            Expr::Call(Func::Format, args) => {
                let pieces = match &args[0] {
                    Expr::Template(p) => p.clone(),
                    other => match other.eval(input, ctx)? {
                        Value::String(s) => s.split("{}").map(str::to_owned).collect(),
                        v => return Err(fail(format!("States.Format needs a string template, got {v}"))),
                    },
                };
                let values = args[1..].iter().map(|a| a.eval(input, ctx)).collect::<Result<Vec<_>, _>>()?;
                if values.len() + 1 != pieces.len() {
                    return Err(fail(format!(
                        "States.Format has {} {{}} and {} values",
                        pieces.len() - 1,
                        values.len()
                    )));
                }
                let mut out = pieces[0].clone();
                for (v, piece) in values.iter().zip(&pieces[1..]) {
                    match v {
                        Value::String(s) => out.push_str(s),
                        Value::Object(_) | Value::Array(_) => {
                            return Err(fail("States.Format takes no objects or arrays"));
                        }
                        other => out.push_str(&other.to_string()),
                    }
                    out.push_str(piece);
                }
                Ok(Value::String(out))
            }
            Expr::Call(f, args) => apply(*f, args.iter().map(|a| a.eval(input, ctx)).collect::<Result<_, _>>()?),
        }
    }
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn skip_ws(&mut self) {
        self.at = self.text.len() - self.rest().trim_start().len();
    }

    fn expr(&mut self, depth: usize) -> Result<Expr, String> {
        self.skip_ws();
        let rest = self.rest();
        if rest.starts_with('$') {
            let end = path_end(rest);
            let p = JsonPath::parse(rest[..end].trim_end())?;
            p.check_context(self.in_map)?;
            self.at += end;
            Ok(Expr::Path(p))
        } else if rest.starts_with('\'') {
            Ok(Expr::Literal(Value::String(unescape(self.string()?))))
        } else if rest.starts_with("States.") {
            self.call(depth)
        } else {
            let end = rest.find([',', ')']).unwrap_or(rest.len());
            let word = rest[..end].trim_end();
            let v =
                serde_json::from_str::<Value>(word).ok().filter(|v| !v.is_object() && !v.is_array() && !v.is_string());
            let v = v.ok_or_else(|| format!("bad argument {word:?} in {:?}", self.text))?;
            self.at += end;
            Ok(Expr::Literal(v))
        }
    }

    /// A quoted string; returns its text with the escapes as written.
    fn string(&mut self) -> Result<&'a str, String> {
        let body = &self.rest()[1..];
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' => {
                    self.at += i + 2;
                    return Ok(&body[..i]);
                }
                '\\' => match chars.next() {
                    Some((_, '\'' | '{' | '}' | '\\')) => {}
                    _ => return Err(format!("open escape \\ in {:?}", self.text)),
                },
                _ => {}
            }
        }
        Err(format!("unclosed string in {:?}", self.text))
    }

    fn call(&mut self, depth: usize) -> Result<Expr, String> {
        if depth >= MAX_DEPTH {
            return Err(format!("more than {MAX_DEPTH} nested intrinsic functions in {:?}", self.text));
        }
        let rest = self.rest();
        let open = rest.find('(').ok_or_else(|| format!("{rest:?} is not a call"))?;
        let name = rest[..open].trim();
        if UNSUPPORTED_INTRINSICS.contains(&name) {
            return Err(format!("{name} is not supported by the local executor"));
        }
        let &(_, func, least, most) =
            FUNCS.iter().find(|f| f.0 == name).ok_or_else(|| format!("unknown intrinsic function {name}"))?;
        self.at += open + 1;
        let mut args = Vec::new();
        self.skip_ws();
        if self.rest().starts_with(')') {
            self.at += 1;
        } else {
            loop {
                let template = func == Func::Format && args.is_empty() && self.rest().starts_with('\'');
                args.push(if template { Expr::Template(pieces(self.string()?)) } else { self.expr(depth + 1)? });
                self.skip_ws();
                match self.rest().chars().next() {
                    Some(',') => self.at += 1,
                    Some(')') => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(format!("expected , or ) in {:?}", self.text)),
                }
            }
        }
        if args.len() < least || args.len() > most {
            let want = if least == most { least.to_string() } else { format!("at least {least}") };
            return Err(format!("{name} takes {want} argument(s), not {}", args.len()));
        }
        match (func, args.as_slice()) {
            (Func::Format, [Expr::Template(p), rest @ ..]) if p.len() != rest.len() + 1 => {
                Err(format!("{name}: the template has {} {{}} but {} value(s) follow", p.len() - 1, rest.len()))
            }
            (Func::JsonToString, [a]) if !matches!(a, Expr::Path(_)) => Err(format!("{name} takes a path")),
            (Func::JsonMerge, [_, _, Expr::Literal(deep)]) if deep != &Value::Bool(false) => {
                Err(format!("{name}: only the shallow merge (false) exists"))
            }
            _ => Ok(Expr::Call(func, args)),
        }
    }
}

/// Where a path argument ends: at the first `,` or `)` outside brackets.
fn path_end(s: &str) -> usize {
    let (mut depth, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        match c {
            '\'' if depth > 0 => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth -= 1,
            ',' | ')' if depth == 0 && !quoted => return i,
            _ => {}
        }
    }
    s.len()
}

/// A quoted string's value: `\'` `\{` `\}` `\\` stand for the character.
fn unescape(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' { chars.next().unwrap_or('\\') } else { c });
    }
    out
}

/// A literal Format template split at its unescaped `{}`.
fn pieces(raw: &str) -> Vec<String> {
    let (mut out, mut cur) = (Vec::new(), String::new());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => cur.push(chars.next().unwrap_or('\\')),
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push(std::mem::take(&mut cur));
            }
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn int(v: &Value, what: &str) -> Result<i64, TaskError> {
    v.as_i64().ok_or_else(|| fail(format!("{what} must be an integer, got {v}")))
}

fn array<'v>(v: &'v Value, what: &str) -> Result<&'v Vec<Value>, TaskError> {
    v.as_array().ok_or_else(|| fail(format!("{what} must be an array, got {v}")))
}

fn apply(f: Func, args: Vec<Value>) -> Result<Value, TaskError> {
    let arg = |i: usize| &args[i];
    Ok(match f {
        Func::Format => return Err(fail("States.Format is evaluated with its template")),
        Func::StringToJson => match arg(0) {
            Value::String(s) => serde_json::from_str(s).map_err(|e| fail(format!("States.StringToJson: {e}")))?,
            v => return Err(fail(format!("States.StringToJson takes a string, got {v}"))),
        },
        Func::JsonToString => Value::String(arg(0).to_string()),
        Func::Array => Value::Array(args),
        Func::ArrayPartition => {
            let size = int(arg(1), "the chunk size").ok().filter(|n| *n > 0);
            let size = size.ok_or_else(|| fail("the chunk size must be a positive integer"))?;
            let chunks = array(arg(0), "the first argument")?.chunks(usize::try_from(size).unwrap_or(usize::MAX));
            Value::Array(chunks.map(|c| Value::Array(c.to_vec())).collect())
        }
        Func::ArrayContains => Value::Bool(array(arg(0), "the first argument")?.contains(arg(1))),
        Func::ArrayRange => {
            let (start, end, step) = (int(arg(0), "start")?, int(arg(1), "end")?, int(arg(2), "step")?);
            if step == 0 {
                return Err(fail("the step must not be 0"));
            }
            let n = (i128::from(end) - i128::from(start)) / i128::from(step) + 1;
            if n > 1000 {
                return Err(fail("the range has more than 1000 items"));
            }
            let items =
                (0..i64::try_from(n.max(0)).unwrap_or(0)).map_while(|i| i.checked_mul(step)?.checked_add(start));
            Value::Array(items.map(Value::from).collect())
        }
        Func::ArrayGetItem => {
            let i = usize::try_from(int(arg(1), "the index")?).map_err(|_| fail("the index must not be negative"))?;
            array(arg(0), "the first argument")?.get(i).cloned().ok_or_else(|| fail(format!("no item {i}")))?
        }
        Func::ArrayLength => Value::from(array(arg(0), "the argument")?.len()),
        Func::ArrayUnique => {
            let mut out: Vec<Value> = Vec::new();
            for v in array(arg(0), "the argument")? {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
            Value::Array(out)
        }
        Func::JsonMerge => {
            let (Value::Object(a), Value::Object(b)) = (arg(0), arg(1)) else {
                return Err(fail("States.JsonMerge merges two objects"));
            };
            if arg(2) != &Value::Bool(false) {
                return Err(fail("States.JsonMerge: only the shallow merge (false) exists"));
            }
            let mut out: Map<String, Value> = a.clone();
            out.extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
            Value::Object(out)
        }
        Func::MathAdd => {
            let sum = int(arg(0), "the first value")?.checked_add(int(arg(1), "the second value")?);
            Value::from(sum.ok_or_else(|| fail("States.MathAdd overflows"))?)
        }
        Func::StringSplit => {
            let (Value::String(s), Value::String(by)) = (arg(0), arg(1)) else {
                return Err(fail("States.StringSplit takes two strings"));
            };
            let parts = s.split(|c| by.contains(c)).filter(|p| !p.is_empty());
            Value::Array(parts.map(|p| Value::String(p.to_owned())).collect())
        }
        Func::Uuid => Value::String(uuid_v4()),
    })
}

/// A random (version 4) UUID, as `States.UUID` returns.
fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}
