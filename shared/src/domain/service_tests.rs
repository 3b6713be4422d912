use super::*;

fn slot(s: &str) -> SlotId {
    SlotId::parse(s).expect("a slot id")
}

#[test]
fn slot_ids_round_trip_and_refuse_what_is_not_one() {
    for s in ["US.20261210.0800", "US-100.20270101.1345", "GB-SW.20261231.0000"] {
        assert_eq!(slot(s).to_string(), s);
    }
    for s in [
        "",
        "US",
        "US.20261210",
        "US.20261310.0800",
        "us.20261210.0800",
        "US.20261210.0810",
        "US.20261210.2400",
        "US.2026121.0800",
        "US.20261210.0800.x",
        "US-abc.20261210.0800",
    ] {
        assert!(SlotId::parse(s).is_none(), "{s}");
    }
    assert_eq!(parse_hhmm("24:00"), Some(1440));
    assert_eq!(parse_hhmm("7:00"), None);
    assert_eq!(parse_hhmm("07:61"), None);
}

#[test]
fn the_longest_matching_region_serves_an_address() {
    let spec = ServiceSpec {
        duration_minutes: 60,
        skills: vec![],
        regions: vec!["US".into(), "US-1".into(), "US-100".into(), "CA-M".into()],
    };
    assert_eq!(spec.region_for("US", "10001"), Some("US-100"));
    assert_eq!(spec.region_for("US", "11201"), Some("US-1"));
    assert_eq!(spec.region_for("US", "94103"), Some("US"));
    assert_eq!(spec.region_for("CA", "m5v 2t6"), Some("CA-M"));
    assert_eq!(spec.region_for("CA", "V6B"), None);
    assert_eq!(spec.region_for("GB", "SW1"), None);
    assert!(spec.validate().is_ok());
    for bad in [
        ServiceSpec { duration_minutes: 10, ..spec.clone() },
        ServiceSpec { regions: vec![], ..spec.clone() },
        ServiceSpec { regions: vec!["usa".into()], ..spec.clone() },
        ServiceSpec { skills: vec!["TV".into()], ..spec.clone() },
    ] {
        assert!(bad.validate().is_err(), "{bad:?}");
    }
}

#[test]
fn a_window_fits_a_visit_with_its_skills_and_minutes() {
    let spec = ServiceSpec { duration_minutes: 120, skills: vec!["tv-mount".into()], regions: vec!["US".into()] };
    let w = Window {
        slot: slot("US.20261210.0800"),
        end: 12 * 60,
        capacity_minutes: 480,
        booked_minutes: 360,
        skills: vec!["tv-mount".into(), "wiring".into()],
    };
    assert!(w.fits(&spec));
    assert!(!Window { booked_minutes: 361, ..w.clone() }.fits(&spec), "minutes");
    assert!(!Window { skills: vec!["wiring".into()], ..w.clone() }.fits(&spec), "skills");
    assert!(!Window { end: 9 * 60, ..w.clone() }.fits(&spec), "a visit longer than the window");
}

#[test]
fn visits_move_forward_only() {
    use VisitStatus::*;
    for (from, to, ok) in [
        (Scheduled, Dispatched, true),
        (Scheduled, Failed, true),
        (Dispatched, Completed, true),
        (Dispatched, Scheduled, false),
        (Completed, Failed, false),
        (Failed, Completed, false),
        (Cancelled, Dispatched, false),
    ] {
        assert_eq!(from.may_become(to), ok, "{from:?} -> {to:?}");
    }
}

#[test]
fn bookings_are_netted_per_window() {
    let (a, b) = (slot("US.20261210.0800"), slot("US.20261210.1300"));
    let bk = |s: &SlotId, m: u32, hold: bool| SlotBooking { slot: s.clone(), minutes: m, hold };
    assert_eq!(net(&[bk(&a, 120, false), bk(&a, 120, true)]), vec![]);
    assert_eq!(
        net(&[bk(&a, 120, false), bk(&a, 60, true), bk(&b, 60, true)]),
        vec![bk(&a, 60, false), bk(&b, 60, true)]
    );
}
