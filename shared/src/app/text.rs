//! Free text a person types (notes, reasons, case subjects): one rule for every field.

use super::AppError;

/// Free text from a person: trimmed, 1 to `max` characters, no control characters other than
/// line breaks, no invisible formatting characters (zero-width, bidirectional overrides).
pub fn text(field: &str, s: &str, max: usize) -> Result<String, AppError> {
    let t = s.trim_matches(|c: char| c.is_whitespace() || invisible(c));
    if t.chars().any(invisible) {
        return Err(AppError::invalid_field(field, "invisible formatting characters are not allowed"));
    }
    if t.is_empty() || t.chars().count() > max {
        return Err(AppError::invalid_field(field, format!("must be 1-{max} characters, not blank")));
    }
    if t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(AppError::invalid_field(field, "control characters other than line breaks are not allowed"));
    }
    Ok(t.to_owned())
}

fn invisible(c: char) -> bool {
    crate::domain::address::invisible(c)
}
