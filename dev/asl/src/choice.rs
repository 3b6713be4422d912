//! Choice rules: the typed model, their parsing, and their evaluation.

use crate::fields::{Fields, ParseError, unsupported_reason};
use crate::path::JsonPath;
use serde_json::Value;

/// A choice rule: a boolean combination of comparisons on one Variable each.
#[derive(Debug, Clone, PartialEq)]
pub enum ChoiceRule {
    And(Vec<ChoiceRule>),
    Or(Vec<ChoiceRule>),
    Not(Box<ChoiceRule>),
    /// `IsPresent`: whether the Variable exists (`true`) or does not (`false`).
    IsPresent {
        variable: JsonPath,
        present: bool,
    },
    Compare {
        variable: JsonPath,
        operator: Operator,
        operand: Operand,
    },
}

/// The comparison operators of the language. Each but `StringMatches` and the type tests
/// (`Is...`) can also be written with a `Path` suffix (`StringEqualsPath`), which makes the
/// operand a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    StringEquals,
    StringLessThan,
    StringGreaterThan,
    StringLessThanEquals,
    StringGreaterThanEquals,
    StringMatches,
    NumericEquals,
    NumericLessThan,
    NumericGreaterThan,
    NumericLessThanEquals,
    NumericGreaterThanEquals,
    BooleanEquals,
    TimestampEquals,
    TimestampLessThan,
    TimestampGreaterThan,
    TimestampLessThanEquals,
    TimestampGreaterThanEquals,
    IsNull,
    IsString,
    IsNumeric,
    IsBoolean,
    IsTimestamp,
}

/// What an operator compares: the operand's type (and the Variable's, for a match).
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Num,
    Bool,
    Time,
    Pattern,
    /// A type test; the operand is a boolean.
    Test(fn(&Value) -> bool),
}

/// Which orderings of Variable against operand make the comparison true.
#[derive(Clone, Copy)]
enum Cmp {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

fn is_timestamp(v: &Value) -> bool {
    v.as_str().and_then(timestamp).is_some()
}

use Operator as O;
const OPERATORS: [(&str, Operator, Kind, Cmp); 22] = [
    ("StringEquals", O::StringEquals, Kind::Str, Cmp::Eq),
    ("StringLessThan", O::StringLessThan, Kind::Str, Cmp::Lt),
    ("StringGreaterThan", O::StringGreaterThan, Kind::Str, Cmp::Gt),
    ("StringLessThanEquals", O::StringLessThanEquals, Kind::Str, Cmp::Le),
    ("StringGreaterThanEquals", O::StringGreaterThanEquals, Kind::Str, Cmp::Ge),
    ("StringMatches", O::StringMatches, Kind::Pattern, Cmp::Eq),
    ("NumericEquals", O::NumericEquals, Kind::Num, Cmp::Eq),
    ("NumericLessThan", O::NumericLessThan, Kind::Num, Cmp::Lt),
    ("NumericGreaterThan", O::NumericGreaterThan, Kind::Num, Cmp::Gt),
    ("NumericLessThanEquals", O::NumericLessThanEquals, Kind::Num, Cmp::Le),
    ("NumericGreaterThanEquals", O::NumericGreaterThanEquals, Kind::Num, Cmp::Ge),
    ("BooleanEquals", O::BooleanEquals, Kind::Bool, Cmp::Eq),
    ("TimestampEquals", O::TimestampEquals, Kind::Time, Cmp::Eq),
    ("TimestampLessThan", O::TimestampLessThan, Kind::Time, Cmp::Lt),
    ("TimestampGreaterThan", O::TimestampGreaterThan, Kind::Time, Cmp::Gt),
    ("TimestampLessThanEquals", O::TimestampLessThanEquals, Kind::Time, Cmp::Le),
    ("TimestampGreaterThanEquals", O::TimestampGreaterThanEquals, Kind::Time, Cmp::Ge),
    ("IsNull", O::IsNull, Kind::Test(Value::is_null), Cmp::Eq),
    ("IsString", O::IsString, Kind::Test(Value::is_string), Cmp::Eq),
    ("IsNumeric", O::IsNumeric, Kind::Test(Value::is_number), Cmp::Eq),
    ("IsBoolean", O::IsBoolean, Kind::Test(Value::is_boolean), Cmp::Eq),
    ("IsTimestamp", O::IsTimestamp, Kind::Test(is_timestamp), Cmp::Eq),
];

/// An RFC 3339 timestamp with an uppercase `T` and, without an offset, `Z`
/// (`2016-08-18T17:33:00Z`), as the language requires.
pub(crate) fn timestamp(s: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let upper = s.contains('T') && !s.contains(['t', 'z']);
    upper.then(|| chrono::DateTime::parse_from_rfc3339(s).ok()).flatten()
}

impl Operator {
    pub fn from_name(name: &str) -> Option<Self> {
        OPERATORS.iter().find(|(n, ..)| *n == name).map(|(_, o, ..)| *o)
    }

    pub fn name(self) -> &'static str {
        self.spec().0
    }

    fn spec(self) -> (&'static str, Kind, Cmp) {
        let (n, _, k, c) = OPERATORS.iter().find(|(_, o, ..)| *o == self).copied().unwrap_or(OPERATORS[0]);
        (n, k, c)
    }

    /// The operand's type, for the error when a literal is of another.
    fn operand(self) -> (&'static str, fn(&Value) -> bool) {
        match self.spec().1 {
            Kind::Str | Kind::Pattern => ("a string", Value::is_string),
            Kind::Num => ("a number", Value::is_number),
            Kind::Bool | Kind::Test(_) => ("a boolean", Value::is_boolean),
            Kind::Time => ("a timestamp (2016-08-18T17:33:00Z)", is_timestamp),
        }
    }

    /// A Variable of another type than the operator compares makes the comparison false.
    fn apply(self, v: &Value, arg: &Value) -> bool {
        let (_, kind, cmp) = self.spec();
        let order = match kind {
            Kind::Str => v.as_str().zip(arg.as_str()).map(|(a, b)| a.cmp(b)),
            Kind::Num => v.as_f64().zip(arg.as_f64()).and_then(|(a, b)| a.partial_cmp(&b)),
            Kind::Bool => v.as_bool().zip(arg.as_bool()).map(|(a, b)| a.cmp(&b)),
            Kind::Time => v.as_str().and_then(timestamp).zip(arg.as_str().and_then(timestamp)).map(|(a, b)| a.cmp(&b)),
            Kind::Pattern => return v.as_str().zip(arg.as_str()).is_some_and(|(s, p)| glob(s, p)),
            Kind::Test(test) => return Some(test(v)) == arg.as_bool(),
        };
        order.is_some_and(|o| match cmp {
            Cmp::Eq => o.is_eq(),
            Cmp::Lt => o.is_lt(),
            Cmp::Gt => o.is_gt(),
            Cmp::Le => o.is_le(),
            Cmp::Ge => o.is_ge(),
        })
    }
}

/// What a Variable is compared with: a literal, or (for `...Path` operators) a path.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Literal(Value),
    Path(JsonPath),
}

/// Fields of a comparison rule that are not its operator.
const NOT_OPERATORS: [&str; 3] = ["Variable", "Next", "Comment"];

impl ChoiceRule {
    /// Parses a rule; `f` reads the rule object (its fields are named e.g. `Choices[0].And[1]`).
    /// Only a `top` rule (an element of Choices) has Next.
    pub(crate) fn parse(f: &Fields, top: bool) -> Result<Self, ParseError> {
        if !top && f.has("Next") {
            return Err(f.invalid("Next", "only a rule of Choices has Next, not one nested in And, Or or Not"));
        }
        for (key, make) in [("And", ChoiceRule::And as fn(Vec<ChoiceRule>) -> ChoiceRule), ("Or", ChoiceRule::Or)] {
            if let Some(list) = f.array(key)? {
                f.only("a choice rule", &[key, "Next", "Comment"])?;
                if list.is_empty() {
                    return Err(f.invalid(key, "needs at least one rule"));
                }
                let rules = (0..list.len()).map(|i| f.object_at(key, i).and_then(|x| Self::parse(&x, false)));
                return Ok(make(rules.collect::<Result<_, _>>()?));
            }
        }
        if f.has("Not") {
            f.only("a choice rule", &["Not", "Next", "Comment"])?;
            return Ok(ChoiceRule::Not(Box::new(Self::parse(&f.object("Not")?, false)?)));
        }
        if let Some((key, reason)) = f.keys().find_map(|k| Some((k, unsupported_reason(k)?))) {
            return Err(f.unsupported(key, reason));
        }
        let variable = f.req_path("Variable")?;
        if f.has("IsPresent") {
            f.only("a choice rule", &["Variable", "IsPresent", "Next", "Comment"])?;
            let present = f.bool("IsPresent")?.unwrap_or_default();
            return Ok(ChoiceRule::IsPresent { variable, present });
        }
        let mut found = None;
        for key in f.keys().filter(|k| !NOT_OPERATORS.contains(k)) {
            let (operator, is_path) = match Operator::from_name(key) {
                Some(o) => (o, false),
                None => match key.strip_suffix("Path").and_then(Operator::from_name) {
                    Some(o) if matches!(o.spec().1, Kind::Pattern | Kind::Test(_)) => {
                        return Err(f.invalid(key, format!("{} has no Path form", o.name())));
                    }
                    Some(o) => (o, true),
                    None => return Err(f.invalid(key, "unsupported comparison operator")),
                },
            };
            if found.is_some() {
                return Err(f.invalid(key, "a choice rule has exactly one comparison operator"));
            }
            let operand = if is_path {
                Operand::Path(f.req_path(key)?)
            } else {
                let (expected, ok) = operator.operand();
                let v = f.value(key);
                if !ok(&v) {
                    return Err(f.wrong(key, expected));
                }
                Operand::Literal(v)
            };
            found = Some((operator, operand));
        }
        let (operator, operand) = found.ok_or_else(|| f.invalid("Variable", "no comparison operator"))?;
        Ok(ChoiceRule::Compare { variable, operator, operand })
    }

    /// Evaluates the rule against the state's effective input. A Variable (or operand path)
    /// that is not there is an error (`States.Runtime` on AWS); And and Or stop at the first
    /// rule that decides, so an IsPresent before a comparison guards it.
    pub fn eval(&self, input: &Value, context: &Value) -> Result<bool, String> {
        match self {
            ChoiceRule::And(rules) => {
                for r in rules {
                    if !r.eval(input, context)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            ChoiceRule::Or(rules) => {
                for r in rules {
                    if r.eval(input, context)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            ChoiceRule::Not(r) => Ok(!r.eval(input, context)?),
            ChoiceRule::IsPresent { variable, present } => Ok(variable.exists(input, context) == *present),
            ChoiceRule::Compare { variable, operator, operand } => {
                let v = variable.read(input, context).map_err(|e| format!("Variable {variable}: {e}"))?;
                Ok(match operand {
                    Operand::Literal(arg) => operator.apply(&v, arg),
                    Operand::Path(p) => operator.apply(&v, &p.read(input, context)?),
                })
            }
        }
    }
}

/// StringMatches: `*` matches any run of characters; `\*` and `\\` stand for `*` and `\`.
fn glob(s: &str, pattern: &str) -> bool {
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            '\\' => Some(chars.next().unwrap_or('\\')),
            '*' => None,
            c => Some(c),
        });
    }
    let s: Vec<char> = s.chars().collect();
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while i < s.len() {
        if j < tokens.len() && tokens[j] == Some(s[i]) {
            (i, j) = (i + 1, j + 1);
        } else if j < tokens.len() && tokens[j].is_none() {
            (star, mark, j) = (Some(j), i, j + 1);
        } else if let Some(at) = star {
            (j, mark) = (at + 1, mark + 1);
            i = mark;
        } else {
            return false;
        }
    }
    tokens[j..].iter().all(Option::is_none)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::Fields;
    use serde_json::json;

    fn rule(v: Value) -> Result<ChoiceRule, ParseError> {
        let obj = v.as_object().cloned().unwrap_or_default();
        ChoiceRule::parse(&Fields::new("C", "Choices[0].", &obj), true)
    }

    #[test]
    fn parses_and_evaluates_rules() {
        let r = rule(json!({"And": [
            {"Variable": "$.n", "NumericGreaterThanEquals": 2},
            {"Not": {"Variable": "$.s", "StringMatches": "a*c"}},
            {"Or": [{"Variable": "$.x", "IsPresent": true}, {"Variable": "$.n", "NumericEqualsPath": "$.m"}]}
        ], "Next": "X"}))
        .unwrap();
        let ctx = Value::Null;
        assert_eq!(r.eval(&json!({"n": 3, "s": "abd", "m": 3}), &ctx), Ok(true));
        assert_eq!(r.eval(&json!({"n": 3, "s": "abc", "m": 3}), &ctx), Ok(false));
        assert_eq!(r.eval(&json!({"n": 3, "s": "abd", "m": 4}), &ctx), Ok(false));
        assert_eq!(r.eval(&json!({"n": 2, "s": "x", "x": null}), &ctx), Ok(true));
        assert!(r.eval(&json!({"s": "x", "x": 1}), &ctx).is_err(), "a missing Variable is a run-time error");
        let wrong_type = rule(json!({"Variable": "$.n", "NumericLessThan": 5, "Next": "X"})).unwrap();
        assert_eq!(wrong_type.eval(&json!({"n": "abc"}), &ctx), Ok(false), "a string is no number");
    }

    #[test]
    fn globs_with_escapes() {
        assert!(glob("log-1.txt", "log-*.txt"));
        assert!(glob("a*b", "a\\*b"));
        assert!(!glob("axb", "a\\*b"));
        assert!(glob("", "*"));
        assert!(glob("abcabc", "*abc"));
        assert!(!glob("abcab", "*abc"));
    }

    #[test]
    fn rejects_malformed_rules() {
        let e = rule(json!({"Variable": "$.a", "StringContains": "x", "Next": "N"})).unwrap_err();
        assert_eq!(e.field(), "Choices[0].StringContains");
        assert!(e.to_string().contains("unsupported comparison operator"), "{e}");
        let e = rule(json!({"Variable": "$.a", "StringEquals": "x", "IsNull": true})).unwrap_err();
        assert!(e.to_string().contains("exactly one"), "{e}");
        let e = rule(json!({"Variable": "a", "StringEquals": "x"})).unwrap_err();
        assert_eq!((e.state(), e.field()), ("C", "Choices[0].Variable"));
        let e = rule(json!({"And": [{"Variable": "$.a"}]})).unwrap_err();
        assert!(e.to_string().contains("no comparison operator"), "{e}");
        assert_eq!(e.field(), "Choices[0].And[0].Variable");
        let e = rule(json!({"Variable": "$.a", "TimestampLessThan": "x", "Next": "N"})).unwrap_err();
        assert_eq!(e.to_string(), "C: Choices[0].TimestampLessThan must be a timestamp (2016-08-18T17:33:00Z)");
        let e = rule(json!({"Variable": "$.a", "IsNullPath": "$.b", "Next": "N"})).unwrap_err();
        assert_eq!(e.to_string(), "C: Choices[0].IsNullPath: IsNull has no Path form");
        let e = rule(json!({"Not": {"Variable": "$.a", "IsNull": true, "Next": "N"}, "Next": "N"})).unwrap_err();
        assert_eq!(e.field(), "Choices[0].Not.Next");
        let e = rule(json!({"Or": [], "Next": "N"})).unwrap_err();
        assert_eq!(e.to_string(), "C: Choices[0].Or: needs at least one rule");
        let e = rule(json!({"Condition": "{% $x %}", "Next": "N"})).unwrap_err();
        assert!(matches!(e, ParseError::Unsupported { .. }), "{e}");
    }
}
