//! Mail to the support address, as a case needs it: the sender, the subject, the text the
//! customer wrote (quoted history cut), the case a reply names (`[case <id>]` in the subject)
//! and the order ids it mentions. Parsed with `mail-parser` (MIME, encodings, charsets).

use super::AppError;
use crate::domain::{CaseId, OrderId};

/// The largest message accepted (SES receiving allows 40 MB; a case needs the words).
pub const MAX_RAW_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMail {
    pub from: String,
    pub subject: String,
    pub body: String,
    pub case_id: Option<CaseId>,
    pub order_ids: Vec<OrderId>,
}

/// ULID-shaped words of a text (26 Crockford base-32 characters).
fn ids(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| w.len() == 26)
}

pub fn parse(raw: &[u8]) -> Result<InboundMail, AppError> {
    if raw.is_empty() || raw.len() > MAX_RAW_BYTES {
        return Err(AppError::invalid_field("message", format!("a MIME message of 1 to {MAX_RAW_BYTES} bytes")));
    }
    let m = mail_parser::MessageParser::default()
        .parse(raw)
        .ok_or_else(|| AppError::invalid_field("message", "not a MIME message"))?;
    let from = m
        .from()
        .and_then(|f| f.first())
        .and_then(|a| a.address())
        .ok_or_else(|| AppError::invalid_field("from", "the message has no sender address"))?
        .to_owned();
    let subject: String = m.subject().unwrap_or_default().chars().filter(|c| !c.is_control()).take(200).collect();
    let text = m.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    // The customer's words: quoted history and the reply header above it dropped.
    let mut lines: Vec<&str> = Vec::new();
    for l in text.lines() {
        let t = l.trim_start();
        if t.starts_with('>') || (t.starts_with("On ") && t.trim_end().ends_with("wrote:")) {
            break;
        }
        lines.push(l.trim_end());
    }
    let body: String = lines.join("\n").trim().chars().filter(|c| !c.is_control() || *c == '\n').take(5000).collect();
    let body = if body.is_empty() { "(empty message)".to_owned() } else { body };
    let case_id = subject
        .split("[case ")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .and_then(|id| CaseId::parse(id.trim()).ok());
    let mut order_ids: Vec<OrderId> = Vec::new();
    for w in ids(&subject).chain(ids(&text)) {
        if let Ok(id) = OrderId::parse(w)
            && !order_ids.contains(&id)
            && case_id.as_ref().is_none_or(|c| c.as_str() != id.as_str())
        {
            order_ids.push(id);
        }
    }
    order_ids.truncate(5);
    Ok(InboundMail { from, subject, body, case_id, order_ids })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_names_its_case_and_loses_its_quote() {
        let case = CaseId::generate();
        let raw = format!(
            "From: Ann Lee <ann@example.com>\r\nTo: support@shop.example\r\nSubject: Re: Where is my parcel? [case {case}]\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nStill nothing, sorry!\r\n\r\nOn Tue, Support wrote:\r\n> We are looking.\r\n"
        );
        let m = parse(raw.as_bytes()).unwrap();
        assert_eq!(m.from, "ann@example.com");
        assert_eq!(m.case_id, Some(case));
        assert_eq!(m.body, "Still nothing, sorry!");
        assert!(m.order_ids.is_empty());
    }

    #[test]
    fn an_order_number_in_a_quoted_printable_body_is_found() {
        let order = OrderId::generate();
        let raw = format!(
            "From: ann@example.com\r\nSubject: =?utf-8?q?Probl=C3=A8me?=\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nMy order {order} arrived broken =E2=80=94 please help.\r\n"
        );
        let m = parse(raw.as_bytes()).unwrap();
        assert_eq!(m.subject, "Problème");
        assert_eq!(m.order_ids, vec![order]);
        assert!(m.body.contains("broken — please help"), "{}", m.body);
        assert!(parse(b"").is_err());
        assert!(parse(b"no headers at all").is_err());
    }
}
