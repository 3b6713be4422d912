//! Mail to the support address, as a case needs it: the sender, the subject, the text the
//! customer wrote (quoted history cut), the case a reply names (`[case <id>]` in the subject),
//! the order ids it mentions, and what SES receiving said of the sender (its verdict headers,
//! which SES puts above everything the sender wrote). Parsed with `mail-parser` (MIME,
//! encodings, charsets).

use super::AppError;
use crate::domain::{CaseId, OrderId};

/// The largest message accepted (SES receiving allows 40 MB; a case needs the words).
pub const MAX_RAW_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMail {
    pub from: String,
    pub subject: String,
    pub body: String,
    /// Every `[case <id>]` the subject names, the last first (a reply's own marker is last).
    pub case_ids: Vec<CaseId>,
    pub order_ids: Vec<OrderId>,
    pub sender: SenderCheck,
    pub message_id: Option<String>,
}

/// What SES receiving found out about the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderCheck {
    /// The From domain passed DMARC, and the spam and virus scans passed.
    Verified,
    /// SES checked and something failed (the reason, for the log).
    Failed(String),
    /// No SES verdict headers (a message that did not come through SES receiving).
    Unchecked,
}

/// The first value of a header (SES prepends its own: a sender's copy further down never wins).
fn first_header(m: &mail_parser::Message<'_>, name: &str) -> Option<String> {
    let h = m.headers().iter().find(|h| h.name.as_str().eq_ignore_ascii_case(name))?;
    let raw = m.raw_message().get(h.offset_start as usize..h.offset_end as usize)?;
    Some(String::from_utf8_lossy(raw).split_whitespace().collect::<Vec<_>>().join(" "))
}

fn sender_check(m: &mail_parser::Message<'_>) -> SenderCheck {
    let auth = first_header(m, "Authentication-Results");
    let virus = first_header(m, "X-SES-Virus-Verdict");
    let spam = first_header(m, "X-SES-Spam-Verdict");
    let ses_auth = auth.as_deref().filter(|a| a.trim_start().to_ascii_lowercase().starts_with("amazonses.com"));
    if ses_auth.is_none() && virus.is_none() && spam.is_none() {
        return SenderCheck::Unchecked;
    }
    if virus.as_deref().map(str::trim) != Some("PASS") {
        return SenderCheck::Failed(format!("virus verdict {}", virus.unwrap_or_else(|| "missing".into())));
    }
    if spam.as_deref().map(str::trim) == Some("FAIL") {
        return SenderCheck::Failed("spam verdict FAIL".into());
    }
    match ses_auth {
        Some(a) if a.to_ascii_lowercase().split([';', ' ']).any(|t| t == "dmarc=pass") => SenderCheck::Verified,
        Some(_) => SenderCheck::Failed("the sender's domain did not pass DMARC".into()),
        None => SenderCheck::Failed("no SES authentication results".into()),
    }
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
    // Exactly one sender: two From headers, or two addresses in one, leave who wrote unclear.
    let from_headers = m.headers().iter().filter(|h| h.name.as_str().eq_ignore_ascii_case("From")).count();
    let addresses = m.from().map(|f| f.iter().count()).unwrap_or(0);
    if from_headers != 1 || addresses != 1 {
        return Err(AppError::invalid_field("from", "a message from exactly one sender address"));
    }
    let from = m
        .from()
        .and_then(|f| f.first())
        .and_then(|a| a.address())
        .ok_or_else(|| AppError::invalid_field("from", "the message has no sender address"))?
        .to_owned();
    let message_id = m.message_id().map(|id| id.chars().filter(|c| !c.is_control()).take(200).collect::<String>());
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
    let words: Vec<char> = lines.join("\n").trim().chars().filter(|c| !c.is_control() || *c == '\n').collect();
    // A case message holds 5000 characters: a longer mail is cut, and says so (the whole mail
    // stays in the inbound mail bucket), never cut without a word.
    let body: String = if words.len() > 5000 {
        let note = format!("\n[cut here: the mail has {} characters; the whole mail is kept as received]", words.len());
        words.iter().take(5000 - note.chars().count()).chain(note.chars().collect::<Vec<_>>().iter()).collect()
    } else {
        words.into_iter().collect()
    };
    let body = if body.is_empty() { "(empty message)".to_owned() } else { body };
    let lower = subject.to_ascii_lowercase();
    let mut case_ids: Vec<CaseId> = lower
        .match_indices("[case ")
        .filter_map(|(i, m)| subject.get(i + m.len()..))
        .filter_map(|rest| rest.split(']').next())
        .filter_map(|id| CaseId::parse(id.trim()).ok())
        .collect();
    case_ids.reverse();
    case_ids.dedup();
    let mut order_ids: Vec<OrderId> = Vec::new();
    for w in ids(&subject).chain(ids(&text)) {
        if let Ok(id) = OrderId::parse(w)
            && !order_ids.contains(&id)
            && !case_ids.iter().any(|c| c.as_str() == id.as_str())
        {
            order_ids.push(id);
        }
    }
    order_ids.truncate(5);
    let sender = sender_check(&m);
    Ok(InboundMail { from, subject, body, case_ids, order_ids, sender, message_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mail_longer_than_a_message_is_cut_and_says_so() {
        let raw = format!(
            "From: ann@example.com\r\nTo: support@shop.example\r\nSubject: A long story\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
            "word ".repeat(1500)
        );
        let body = parse(raw.as_bytes()).unwrap().body;
        assert_eq!(body.chars().count(), 5000);
        assert!(body.starts_with("word word"));
        assert!(
            body.ends_with("[cut here: the mail has 7499 characters; the whole mail is kept as received]"),
            "{body}"
        );
        let short = "From: ann@example.com\r\nTo: support@shop.example\r\nSubject: Short\r\n\r\nThanks!\r\n";
        assert_eq!(parse(short.as_bytes()).unwrap().body, "Thanks!");
    }

    #[test]
    fn a_reply_names_its_case_and_loses_its_quote() {
        let case = CaseId::generate();
        let raw = format!(
            "From: Ann Lee <ann@example.com>\r\nTo: support@shop.example\r\nSubject: Re: Where is my parcel? [case {case}]\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nStill nothing, sorry!\r\n\r\nOn Tue, Support wrote:\r\n> We are looking.\r\n"
        );
        let m = parse(raw.as_bytes()).unwrap();
        assert_eq!(m.from, "ann@example.com");
        assert_eq!(m.case_ids, vec![case]);
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
        assert_eq!(m.sender, SenderCheck::Unchecked);
    }

    #[test]
    fn japanese_mail_decodes() {
        let mut raw = b"From: ann@example.com\r\nSubject: =?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=\r\nContent-Type: text/plain; charset=shift_jis\r\n\r\n".to_vec();
        raw.extend_from_slice(&[0x93, 0xFA, 0x96, 0x7B, 0x8C, 0xEA, b'\r', b'\n']);
        let m = parse(&raw).unwrap();
        assert_eq!(m.subject, "日本語");
        assert_eq!(m.body, "日本語");
    }

    #[test]
    fn only_the_verdict_ses_wrote_counts() {
        let ses = |auth: &str| {
            format!(
                "Authentication-Results: amazonses.com;\r\n spf=pass smtp.mailfrom=example.com;\r\n dkim=pass header.i=@example.com;\r\n {auth}\r\nX-SES-Spam-Verdict: PASS\r\nX-SES-Virus-Verdict: PASS\r\n"
            )
        };
        let body = "From: ann@example.com\r\nSubject: hi\r\n\r\nhello\r\n";
        let ok = format!("{}{body}", ses("dmarc=pass header.from=example.com"));
        assert_eq!(parse(ok.as_bytes()).unwrap().sender, SenderCheck::Verified);
        // A forger's own "pass" below SES's "fail" changes nothing.
        let forged = format!(
            "{}Authentication-Results: amazonses.com; dmarc=pass\r\n{body}",
            ses("dmarc=fail header.from=example.com")
        );
        assert!(matches!(parse(forged.as_bytes()).unwrap().sender, SenderCheck::Failed(_)));
        let virus =
            format!("{}X-SES-Virus-Verdict: FAIL\r\n{body}", "Authentication-Results: amazonses.com; dmarc=pass\r\n");
        assert!(matches!(parse(virus.as_bytes()).unwrap().sender, SenderCheck::Failed(_)));
    }
}
