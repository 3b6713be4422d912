//! Postal addresses: ISO 3166-1 alpha-2 country and per-country postal code checks.

use serde::{Deserialize, Serialize};
use std::fmt;

const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR \
BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM \
FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE \
KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX \
MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH \
SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN \
VU WF WS YE YT ZA ZM ZW";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("unknown country code")]
    UnknownCountry,
    #[error("postal code is not valid for {0}")]
    PostalCode(CountryCode),
    #[error("{0} is required")]
    Missing(&'static str),
    #[error("{0} is too long")]
    TooLong(&'static str),
    #[error("{0} is too long to print on a shipping label once spelled in Latin letters")]
    TooLongForLabel(&'static str),
    #[error("{0} has nothing a shipping label can print (letters or digits)")]
    Unprintable(&'static str),
    #[error("{0} holds control or invisible characters")]
    Control(&'static str),
}

impl AddressError {
    /// The address field at fault (`None` for the address as a whole).
    pub fn field(&self) -> Option<&'static str> {
        match self {
            AddressError::UnknownCountry => Some("country"),
            AddressError::PostalCode(_) => Some("postalCode"),
            AddressError::Missing(f)
            | AddressError::TooLong(f)
            | AddressError::TooLongForLabel(f)
            | AddressError::Unprintable(f)
            | AddressError::Control(f) => Some(f),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    pub fn parse(s: &str) -> Result<Self, AddressError> {
        let b = s.as_bytes();
        if b.len() == 2 && b.iter().all(u8::is_ascii_uppercase) && ISO_3166_ALPHA2.split(' ').any(|c| c == s) {
            Ok(CountryCode([b[0], b[1]]))
        } else {
            Err(AddressError::UnknownCountry)
        }
    }
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("ZZ")
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl Serialize for CountryCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CountryCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Checks and normalises a postal code for the countries we know the format of; elsewhere
/// accepts 2-10 letters, digits, spaces and hyphens.
pub fn normalize_postal_code(country: CountryCode, raw: &str) -> Result<String, AddressError> {
    let s = raw.trim().to_ascii_uppercase();
    let err = || AddressError::PostalCode(country);
    // Every known format is ASCII; slicing below relies on it.
    if !s.is_ascii() {
        return Err(err());
    }
    let digits = |t: &str, n: usize| t.len() == n && t.bytes().all(|b| b.is_ascii_digit());
    match country.as_str() {
        "US" => {
            let ok = digits(&s, 5) || (s.len() == 10 && digits(&s[..5], 5) && &s[5..6] == "-" && digits(&s[6..], 4));
            if ok { Ok(s) } else { Err(err()) }
        }
        "DE" | "FR" => {
            if digits(&s, 5) {
                Ok(s)
            } else {
                Err(err())
            }
        }
        "CA" => {
            // A1A 1A1; letters D F I O Q U never appear, W and Z never first.
            let compact: String = s.chars().filter(|c| *c != ' ').collect();
            let b = compact.as_bytes();
            let letter = |c: u8| c.is_ascii_uppercase() && !b"DFIOQU".contains(&c);
            let ok = b.len() == 6
                && letter(b[0])
                && !b"WZ".contains(&b[0])
                && b[1].is_ascii_digit()
                && letter(b[2])
                && b[3].is_ascii_digit()
                && letter(b[4])
                && b[5].is_ascii_digit()
                && (s.len() == 6 || (s.len() == 7 && s.as_bytes()[3] == b' '));
            if ok { Ok(format!("{} {}", &compact[..3], &compact[3..])) } else { Err(err()) }
        }
        "GB" => {
            // Outward code (A9, A99, AA9, AA99, A9A, AA9A) + inward code (9AA).
            let compact: String = s.chars().filter(|c| *c != ' ').collect();
            if !(5..=7).contains(&compact.len()) || !compact.is_ascii() {
                return Err(err());
            }
            let (out, inw) = compact.split_at(compact.len() - 3);
            let ib = inw.as_bytes();
            let inward_ok = ib[0].is_ascii_digit() && ib[1].is_ascii_uppercase() && ib[2].is_ascii_uppercase();
            let shape: String = out
                .bytes()
                .map(|c| {
                    if c.is_ascii_digit() {
                        '9'
                    } else if c.is_ascii_uppercase() {
                        'A'
                    } else {
                        '?'
                    }
                })
                .collect();
            let outward_ok = matches!(shape.as_str(), "A9" | "A99" | "AA9" | "AA99" | "A9A" | "AA9A");
            if inward_ok && outward_ok { Ok(format!("{out} {inw}")) } else { Err(err()) }
        }
        _ => {
            let ok =
                (2..=10).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-');
            if ok { Ok(s) } else { Err(err()) }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddressInput {
    pub name: String,
    pub line1: String,
    #[serde(default)]
    pub line2: Option<String>,
    pub city: String,
    #[serde(default)]
    pub region: Option<String>,
    pub postal_code: String,
    pub country: String,
    #[serde(default)]
    pub phone: Option<String>,
}

/// A validated postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub name: String,
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub postal_code: String,
    pub country: CountryCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl Address {
    /// The address as a carrier prints it: characters of the Latin-1 range as they are (é, ü,
    /// Ø), other letters and digits transliterated (Ł to L, Владимир to Vladimir, 李雷 to Li
    /// Lei), other symbols (emoji) left out. The order keeps the address as entered; this is
    /// only what goes on a label.
    pub fn for_label(&self) -> Address {
        // Whole: new orders are held to it at placement (`check_label`); an address stored
        // before that, over a field's length once spelled, is shortened as it was then.
        let spelled = |s: &str, max: usize| {
            let t = label_text(s);
            if t.chars().count() <= max { t } else { t.chars().take(max).collect::<String>().trim_end().to_owned() }
        };
        let name = spelled(&self.name, NAME_MAX);
        Address {
            name: if name.is_empty() { "Recipient".into() } else { name },
            line1: spelled(&self.line1, LINE_MAX),
            line2: self.line2.as_deref().map(|l| spelled(l, LINE_MAX)).filter(|l| !l.is_empty()),
            city: spelled(&self.city, CITY_MAX),
            region: self.region.as_deref().map(|r| spelled(r, REGION_MAX)).filter(|r| !r.is_empty()),
            ..self.clone()
        }
    }
}

/// `s` in characters a label prints (see `Address::for_label`), whitespace folded, whole (new
/// addresses are held to their fields' lengths as spelled: `Address::check_label`).
pub fn label_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, ' '..='~' | '\u{A0}'..='\u{FF}') {
            out.push(c);
        } else if let Some(t) = deunicode::deunicode_char(c) {
            // Letters and digits spelled in Latin (a syllable at most: a ligature that spells a
            // whole phrase is left out); punctuation (’ – “) as its ASCII look-alike;
            // pictographs, whose transliteration is a word (an emoji's name), left out.
            let spelled = t.trim().chars().count();
            if (c.is_alphanumeric() && spelled <= 6) || spelled == 1 {
                out.push_str(t);
            }
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Characters that change how text reads without showing: zero-width and joiner characters,
/// bidirectional controls, soft hyphens, fillers, tag characters. Refused in every text a person
/// enters (they spoof names on labels and in mails).
pub fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

fn required(field: &'static str, v: &str, max: usize) -> Result<String, AddressError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(AddressError::Missing(field));
    }
    if t.chars().any(|c| c.is_control() || invisible(c)) {
        return Err(AddressError::Control(field));
    }
    if t.chars().count() > max {
        return Err(AddressError::TooLong(field));
    }
    Ok(t.to_owned())
}

fn optional(field: &'static str, v: Option<&str>, max: usize) -> Result<Option<String>, AddressError> {
    match v.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => required(field, t, max).map(Some),
    }
}

impl From<&Address> for AddressInput {
    fn from(a: &Address) -> Self {
        AddressInput {
            name: a.name.clone(),
            line1: a.line1.clone(),
            line2: a.line2.clone(),
            city: a.city.clone(),
            region: a.region.clone(),
            postal_code: a.postal_code.clone(),
            country: a.country.to_string(),
            phone: a.phone.clone(),
        }
    }
}

/// Each field's length as entered, and (1.15.2) as a label spells it.
const NAME_MAX: usize = 100;
const LINE_MAX: usize = 120;
const CITY_MAX: usize = 80;
const REGION_MAX: usize = 64;

impl Address {
    pub fn parse(input: &AddressInput) -> Result<Self, AddressError> {
        let country = CountryCode::parse(input.country.trim())?;
        let region = optional("region", input.region.as_deref(), REGION_MAX)?;
        if matches!(country.as_str(), "US" | "CA") && region.is_none() {
            return Err(AddressError::Missing("region"));
        }
        Ok(Address {
            name: required("name", &input.name, NAME_MAX)?,
            line1: required("line1", &input.line1, LINE_MAX)?,
            line2: optional("line2", input.line2.as_deref(), LINE_MAX)?,
            city: required("city", &input.city, CITY_MAX)?,
            region,
            postal_code: normalize_postal_code(country, &input.postal_code)?,
            country,
            phone: optional("phone", input.phone.as_deref(), 32)?,
        })
    }

    /// What a new order's address must also be (1.15.2): every field at most its length once
    /// spelled in Latin letters for the label (a line in another script can grow several
    /// times over), and a street and city that print as something. Addresses stored before
    /// are not held to it (`for_label` shortens what is over).
    pub fn check_label(&self) -> Result<(), AddressError> {
        let fields = [
            ("name", Some(&self.name), NAME_MAX),
            ("line1", Some(&self.line1), LINE_MAX),
            ("line2", self.line2.as_ref(), LINE_MAX),
            ("city", Some(&self.city), CITY_MAX),
            ("region", self.region.as_ref(), REGION_MAX),
        ];
        for (field, value, max) in fields {
            let Some(v) = value else { continue };
            let printed = label_text(v);
            if printed.chars().count() > max {
                return Err(AddressError::TooLongForLabel(field));
            }
            if matches!(field, "line1" | "city") && !printed.chars().any(char::is_alphanumeric) {
                return Err(AddressError::Unprintable(field));
            }
        }
        Ok(())
    }

    /// True when the street lines name a post-office box (carriers' express services and
    /// installation services cannot deliver there).
    pub fn is_po_box(&self) -> bool {
        let norm = |s: &str| s.to_ascii_uppercase().replace(['.', ' '], "");
        [Some(&self.line1), self.line2.as_ref()].into_iter().flatten().any(|l| {
            let n = norm(l);
            n.starts_with("POBOX")
                || n.starts_with("POSTOFFICEBOX")
                || n.starts_with("POSTFACH")
                || n.starts_with("BOITEPOSTALE")
        })
    }
}

#[cfg(test)]
#[path = "address_tests.rs"]
mod tests;
