//! Tests of postal addresses and what labels print of them.
use super::*;

fn cc(s: &str) -> CountryCode {
    CountryCode::parse(s).unwrap()
}

#[test]
fn label_text_spells_in_latin_and_never_cuts() {
    assert_eq!(label_text("Łukasz  Wałęsa"), "Lukasz Walesa");
    assert_eq!(label_text(&"Щ".repeat(100)), "Shch".repeat(100));
    assert_eq!(label_text("Mohammed \u{FDFA}"), "Mohammed");
    assert_eq!(label_text("Zoë 😀"), "Zoë");
}

#[test]
fn a_field_that_would_not_fit_a_label_once_spelled_in_latin_is_refused() {
    let input = |line1: String| AddressInput {
        name: "李雷".into(),
        line1,
        line2: None,
        city: "北京".into(),
        region: None,
        postal_code: "100000".into(),
        country: "CN".into(),
        phone: None,
    };
    let checked = |i: AddressInput| Address::parse(&i).and_then(|a| a.check_label().map(|()| a));
    // 30 letters as entered, 120 spelled in Latin: the field's length, accepted.
    assert!(checked(input("Щ".repeat(30))).is_ok());
    assert_eq!(checked(input("Щ".repeat(31))), Err(AddressError::TooLongForLabel("line1")));
    // Stored before the check: parsed as it was, and the label shortens it as it did.
    let old = Address::parse(&input("Щ".repeat(40))).unwrap();
    assert_eq!(old.for_label().line1, "Shch".repeat(30));
    assert_eq!(AddressError::TooLongForLabel("line1").field(), Some("line1"));
    assert!(checked(input("朝阳路 5号".into())).is_ok());
    for nothing in ["🏠🏠🏠", "\u{FDFA}", "- . -"] {
        assert_eq!(checked(input(nothing.into())), Err(AddressError::Unprintable("line1")), "{nothing}");
    }
}

#[test]
fn postal_codes_per_country() {
    assert_eq!(normalize_postal_code(cc("US"), "10001").unwrap(), "10001");
    for odd in ["12345é678", "1234é5678", "10001\u{E0041}Z", "K1Aé0B1"] {
        for c in ["US", "CA", "GB", "DE", "JP"] {
            assert!(normalize_postal_code(cc(c), odd).is_err(), "{c} {odd}");
        }
    }
    assert_eq!(normalize_postal_code(cc("US"), "10001-1234").unwrap(), "10001-1234");
    assert!(normalize_postal_code(cc("US"), "1000").is_err());
    assert_eq!(normalize_postal_code(cc("CA"), "k1a0b1").unwrap(), "K1A 0B1");
    assert!(normalize_postal_code(cc("CA"), "D1A 0B1").is_err());
    assert_eq!(normalize_postal_code(cc("GB"), "sw1a1aa").unwrap(), "SW1A 1AA");
    assert_eq!(normalize_postal_code(cc("GB"), "M1 1AE").unwrap(), "M1 1AE");
    assert!(normalize_postal_code(cc("GB"), "12345").is_err());
    assert_eq!(normalize_postal_code(cc("DE"), "10115").unwrap(), "10115");
    assert!(normalize_postal_code(cc("DE"), "1011").is_err());
    assert_eq!(normalize_postal_code(cc("FR"), "75008").unwrap(), "75008");
    assert!(normalize_postal_code(cc("FR"), "7500A").is_err());
}

#[test]
fn unknown_country_is_rejected() {
    assert_eq!(CountryCode::parse("XX"), Err(AddressError::UnknownCountry));
    assert_eq!(CountryCode::parse("us"), Err(AddressError::UnknownCountry));
}

#[test]
fn us_address_needs_a_region_and_detects_po_boxes() {
    let mut input = AddressInput {
        name: "Ann Lee".into(),
        line1: "P.O. Box 12".into(),
        line2: None,
        city: "New York".into(),
        region: None,
        postal_code: "10001".into(),
        country: "US".into(),
        phone: None,
    };
    assert_eq!(Address::parse(&input), Err(AddressError::Missing("region")));
    input.region = Some("NY".into());
    assert!(Address::parse(&input).unwrap().is_po_box());
}
