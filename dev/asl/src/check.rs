//! Static checks of a definition, on the typed model.

use crate::model::{Definition, State};
use serde_json::Value;
use std::collections::BTreeSet;

/// What a static check needs to know about the world.
pub struct CheckContext<'a> {
    /// Resolves a Task's resource to whether it names a known function or integration. It
    /// gets the Task state's JSON as written (for integration parameters such as a QueueUrl).
    pub resource_ok: &'a dyn Fn(&str, &Value) -> Result<(), String>,
    /// Error names handlers can raise (plus `States.*` and `Lambda.*`).
    pub known_errors: &'a BTreeSet<String>,
}

/// Checks a definition: it parses into the model (every state has a known Type, the fields
/// it needs and none the executor does not implement or its type cannot have, exactly one
/// of Next or End, well-formed Retry/Catch, choice rules, paths and payload templates),
/// StartAt and every Next/Default/Catch target exist, every state is reachable, Task
/// resources are known, and Retry/Catch errors are ones our handlers raise.
pub fn check(def: &Value, ctx: &CheckContext) -> Vec<String> {
    match Definition::parse_all(def) {
        Ok(d) => check_definition(&d, ctx),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

/// [`check`] on a definition already parsed.
pub fn check_definition(def: &Definition, ctx: &CheckContext) -> Vec<String> {
    let mut problems = Vec::new();
    check_machine(def, ctx, "", &mut problems);
    problems
}

const STATES_ERRORS: [&str; 10] = [
    "States.ALL",
    "States.Timeout",
    "States.TaskFailed",
    "States.Permissions",
    "States.ResultPathMatchFailure",
    "States.ParameterPathFailure",
    "States.BranchFailed",
    "States.NoChoiceMatched",
    "States.IntrinsicFailure",
    "States.HeartbeatTimeout",
];

fn check_machine(m: &Definition, ctx: &CheckContext, prefix: &str, problems: &mut Vec<String>) {
    if !m.states.contains_key(&m.start_at) {
        problems.push(format!("{prefix}StartAt {} is not a state", m.start_at));
    }
    let mut reachable = BTreeSet::from([m.start_at.as_str()]);
    for (name, s) in &m.states {
        let at = format!("{prefix}{name}");
        if let State::Task(t) = s
            && let Err(e) = (ctx.resource_ok)(&t.resource, &t.source)
        {
            problems.push(format!("{at}: {e}"));
        }
        let rules = s.retry().iter().map(|r| ("Retry", &r.error_equals));
        for (field, errors) in rules.chain(s.catch().iter().map(|c| ("Catch", &c.error_equals))) {
            for e in errors {
                let ok =
                    STATES_ERRORS.contains(&e.as_str()) || e.starts_with("Lambda.") || ctx.known_errors.contains(e);
                if !ok {
                    problems.push(format!("{at}: {field} matches {e:?}, which no handler raises"));
                }
            }
        }
        for t in s.targets() {
            if !m.states.contains_key(t) {
                problems.push(format!("{at}: Next {t:?} is not a state"));
            }
            reachable.insert(t);
        }
        for (label, nested) in s.nested() {
            check_machine(nested, ctx, &format!("{at}/{label}/"), problems);
        }
    }
    for name in m.states.keys() {
        if !reachable.contains(name.as_str()) {
            problems.push(format!("{prefix}{name}: unreachable"));
        }
    }
}
