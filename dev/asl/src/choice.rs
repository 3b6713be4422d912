//! Choice rules: the typed model, their parsing, and their evaluation.

use crate::fields::{Fields, ParseError};
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

/// The comparison operators the executor supports. Each can also be written with a `Path`
/// suffix (`StringEqualsPath`), which makes the operand a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    StringEquals,
    NumericEquals,
    BooleanEquals,
    TimestampEquals,
    NumericLessThan,
    NumericGreaterThan,
    NumericLessThanEquals,
    NumericGreaterThanEquals,
    StringLessThan,
    StringGreaterThan,
    StringMatches,
    IsNull,
    IsString,
    IsNumeric,
    IsBoolean,
}

const OPERATORS: [(&str, Operator); 15] = [
    ("StringEquals", Operator::StringEquals),
    ("NumericEquals", Operator::NumericEquals),
    ("BooleanEquals", Operator::BooleanEquals),
    ("TimestampEquals", Operator::TimestampEquals),
    ("NumericLessThan", Operator::NumericLessThan),
    ("NumericGreaterThan", Operator::NumericGreaterThan),
    ("NumericLessThanEquals", Operator::NumericLessThanEquals),
    ("NumericGreaterThanEquals", Operator::NumericGreaterThanEquals),
    ("StringLessThan", Operator::StringLessThan),
    ("StringGreaterThan", Operator::StringGreaterThan),
    ("StringMatches", Operator::StringMatches),
    ("IsNull", Operator::IsNull),
    ("IsString", Operator::IsString),
    ("IsNumeric", Operator::IsNumeric),
    ("IsBoolean", Operator::IsBoolean),
];

impl Operator {
    pub fn from_name(name: &str) -> Option<Self> {
        OPERATORS.iter().find(|(n, _)| *n == name).map(|(_, o)| *o)
    }

    pub fn name(self) -> &'static str {
        OPERATORS.iter().find(|(_, o)| *o == self).map_or("", |(n, _)| n)
    }

    fn apply(self, v: &Value, arg: &Value) -> bool {
        use Operator::*;
        match self {
            StringEquals | NumericEquals | BooleanEquals | TimestampEquals => {
                v == arg || (v.as_f64().is_some() && v.as_f64() == arg.as_f64())
            }
            NumericLessThan => v.as_f64() < arg.as_f64(),
            NumericGreaterThan => v.as_f64() > arg.as_f64(),
            NumericLessThanEquals => v.as_f64() <= arg.as_f64(),
            NumericGreaterThanEquals => v.as_f64() >= arg.as_f64(),
            StringLessThan => v.as_str() < arg.as_str(),
            StringGreaterThan => v.as_str() > arg.as_str(),
            IsNull => v.is_null() == arg.as_bool().unwrap_or(true),
            IsString => v.is_string() == arg.as_bool().unwrap_or(true),
            IsNumeric => v.is_number() == arg.as_bool().unwrap_or(true),
            IsBoolean => v.is_boolean() == arg.as_bool().unwrap_or(true),
            StringMatches => glob(v.as_str().unwrap_or(""), arg.as_str().unwrap_or("")),
        }
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
    pub(crate) fn parse(f: &Fields) -> Result<Self, ParseError> {
        for (key, make) in [("And", ChoiceRule::And as fn(Vec<ChoiceRule>) -> ChoiceRule), ("Or", ChoiceRule::Or)] {
            if let Some(list) = f.array(key)? {
                let rules = (0..list.len()).map(|i| f.object_at(key, i).and_then(|x| Self::parse(&x)));
                return Ok(make(rules.collect::<Result<_, _>>()?));
            }
        }
        if f.has("Not") {
            return Ok(ChoiceRule::Not(Box::new(Self::parse(&f.object("Not")?)?)));
        }
        let variable = f.req_path("Variable")?;
        if f.has("IsPresent") {
            let present = f.bool("IsPresent")?.unwrap_or_default();
            return Ok(ChoiceRule::IsPresent { variable, present });
        }
        let mut found = None;
        for key in f.keys().filter(|k| !NOT_OPERATORS.contains(k)) {
            let (base, is_path) = match key.strip_suffix("Path") {
                Some(base) => (base, true),
                None => (key, false),
            };
            let operator =
                Operator::from_name(base).ok_or_else(|| f.invalid(key, "unsupported comparison operator"))?;
            if found.is_some() {
                return Err(f.invalid(key, "a choice rule has exactly one comparison operator"));
            }
            let operand = if is_path { Operand::Path(f.req_path(key)?) } else { Operand::Literal(f.value(key)) };
            found = Some((operator, operand));
        }
        let (operator, operand) = found.ok_or_else(|| f.invalid("Variable", "no comparison operator"))?;
        Ok(ChoiceRule::Compare { variable, operator, operand })
    }

    /// Evaluates the rule against the state's effective input.
    pub fn eval(&self, input: &Value, context: &Value) -> bool {
        match self {
            ChoiceRule::And(rules) => rules.iter().all(|r| r.eval(input, context)),
            ChoiceRule::Or(rules) => rules.iter().any(|r| r.eval(input, context)),
            ChoiceRule::Not(r) => !r.eval(input, context),
            ChoiceRule::IsPresent { variable, present } => variable.exists(input, context) == *present,
            ChoiceRule::Compare { variable, operator, operand } => {
                let Ok(v) = variable.read(input, context) else {
                    return false;
                };
                match operand {
                    Operand::Literal(arg) => operator.apply(&v, arg),
                    Operand::Path(p) => operator.apply(&v, &p.read(input, context).unwrap_or(Value::Null)),
                }
            }
        }
    }
}

fn glob(s: &str, pattern: &str) -> bool {
    match pattern.split_once('*') {
        None => s == pattern,
        Some((head, tail)) => {
            s.starts_with(head)
                && (0..=s.len() - head.len()).any(|i| s.get(head.len() + i..).is_some_and(|rest| glob(rest, tail)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::Fields;
    use serde_json::json;

    fn rule(v: Value) -> Result<ChoiceRule, ParseError> {
        let obj = v.as_object().cloned().unwrap_or_default();
        ChoiceRule::parse(&Fields::new("C", "Choices[0].", &obj))
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
        assert!(r.eval(&json!({"n": 3, "s": "abd", "m": 3}), &ctx));
        assert!(!r.eval(&json!({"n": 3, "s": "abc", "m": 3}), &ctx));
        assert!(!r.eval(&json!({"n": 3, "s": "abd", "m": 4}), &ctx));
        assert!(r.eval(&json!({"n": 2, "s": "x", "x": null}), &ctx));
        assert!(!r.eval(&json!({"s": "x", "x": 1}), &ctx), "a missing Variable compares false");
    }

    #[test]
    fn rejects_malformed_rules() {
        let e = rule(json!({"Variable": "$.a", "TimestampLessThan": "x", "Next": "N"})).unwrap_err();
        assert_eq!(e.field(), "Choices[0].TimestampLessThan");
        assert!(e.to_string().contains("unsupported comparison operator"), "{e}");
        let e = rule(json!({"Variable": "$.a", "StringEquals": "x", "IsNull": true})).unwrap_err();
        assert!(e.to_string().contains("exactly one"), "{e}");
        let e = rule(json!({"Variable": "a", "StringEquals": "x"})).unwrap_err();
        assert_eq!((e.state(), e.field()), ("C", "Choices[0].Variable"));
        let e = rule(json!({"And": [{"Variable": "$.a"}]})).unwrap_err();
        assert!(e.to_string().contains("no comparison operator"), "{e}");
        assert_eq!(e.field(), "Choices[0].And[0].Variable");
    }
}
