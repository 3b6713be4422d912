use super::*;
use crate::domain::money::Currency;
use crate::domain::pricing::{LineRequest, price_lines, tests::product, totals};
use crate::domain::{CountryCode, Quantity};
use std::collections::HashMap;

fn usd(a: i64) -> Money {
    Money::new(a, Currency::USD).unwrap()
}

fn lines(req: &[(&str, u32)]) -> Vec<OrderLine> {
    let catalog: HashMap<Sku, _> = [product("TV", 100_000), product("CONSOLE", 50_000), product("CABLE", 999)]
        .into_iter()
        .map(|p| (p.sku.clone(), p))
        .collect();
    let req: Vec<LineRequest> = req
        .iter()
        .map(|(s, q)| LineRequest { sku: Sku::parse(s).unwrap(), quantity: Quantity::new(*q).unwrap() })
        .collect();
    price_lines(&catalog, &req, CountryCode::parse("US").unwrap()).unwrap()
}

fn promo(id: &str, discount: Discount, target: Target, stackable: bool) -> Promotion {
    Promotion {
        id: id.into(),
        name: id.into(),
        codes: vec![],
        discount,
        target,
        min_spend: None,
        channels: vec![],
        customer_groups: vec![],
        starts_at: None,
        ends_at: None,
        stackable,
        usage_limit: None,
        per_customer_limit: None,
        active: true,
        version: 1,
        updated_at: chrono::Utc::now(),
    }
}

fn basket(l: &[OrderLine]) -> Basket<'_> {
    Basket { lines: l, channel: Channel::Web, customer_group: "standard", now: chrono::Utc::now() }
}

#[test]
fn a_bundle_discounts_the_paired_units_only_and_tax_follows() {
    let bundle = promo(
        "console-with-tv",
        Discount::Percent { basis_points: 2000 },
        Target::Bundle { requires: Sku::parse("TV").unwrap(), discounted: Sku::parse("CONSOLE").unwrap() },
        false,
    );
    let mut ls = lines(&[("TV", 1), ("CONSOLE", 2)]);
    assert_eq!(bundle.check(&basket(&ls)), Ok(()));
    let applied = apply_promotions(&mut ls, &[(&bundle, None)]).unwrap();
    retax(&mut ls, 800).unwrap();
    // One console of two is paired with the TV: 20% of 500.00.
    assert_eq!(applied[0].amount, usd(10_000));
    assert_eq!(ls[1].discount, Some(usd(10_000)));
    assert_eq!(ls[1].tax, usd(7_200)); // 8% of 900.00
    let t = totals(&ls, usd(0)).unwrap();
    assert_eq!(t.discount, Some(usd(10_000)));
    assert_eq!(t.total.amount(), 200_000 - 10_000 + 8_000 + 7_200);
    // Without the TV the bundle does not apply.
    let alone = lines(&[("CONSOLE", 1)]);
    assert_eq!(bundle.check(&basket(&alone)), Err(NotApplicable::NothingQualifies));
}

#[test]
fn a_fixed_amount_is_spread_over_the_lines_and_adds_up() {
    let p = promo("ten-off", Discount::Fixed { amount: usd(1_000) }, Target::Order {}, true);
    let mut ls = lines(&[("TV", 1), ("CABLE", 3)]);
    apply_promotions(&mut ls, &[(&p, None)]).unwrap();
    let sum: i64 = ls.iter().filter_map(|l| l.discount).map(|d| d.amount()).sum();
    assert_eq!(sum, 1_000);
    // Never more than the goods cost.
    let big = promo("huge", Discount::Fixed { amount: usd(10_000_000) }, Target::Order {}, true);
    let mut ls = lines(&[("CABLE", 1)]);
    apply_promotions(&mut ls, &[(&big, None)]).unwrap();
    assert_eq!(ls[0].net().amount(), 0);
}

#[test]
fn conditions_window_channel_group_and_minimum_spend() {
    let ls = lines(&[("CABLE", 1)]);
    let mut p = promo("p", Discount::Percent { basis_points: 1000 }, Target::Order {}, true);
    p.min_spend = Some(usd(5_000));
    assert!(matches!(p.check(&basket(&ls)), Err(NotApplicable::MinSpend(_))));
    p.min_spend = None;
    p.channels = vec![Channel::App];
    assert_eq!(p.check(&basket(&ls)), Err(NotApplicable::Channel));
    p.channels = vec![];
    p.customer_groups = vec!["gold".into()];
    assert_eq!(p.check(&basket(&ls)), Err(NotApplicable::Group));
    p.customer_groups = vec![];
    p.ends_at = Some(chrono::Utc::now() - chrono::Duration::minutes(1));
    assert_eq!(p.check(&basket(&ls)), Err(NotApplicable::OutsideWindow));
    p.ends_at = None;
    p.active = false;
    assert_eq!(p.check(&basket(&ls)), Err(NotApplicable::Inactive));
}

#[test]
fn an_exclusive_promotion_applies_alone_when_it_gives_more() {
    let a = promo("a", Discount::Percent { basis_points: 500 }, Target::Order {}, true);
    let b = promo("b", Discount::Percent { basis_points: 500 }, Target::Order {}, true);
    let x = promo("x", Discount::Percent { basis_points: 1500 }, Target::Order {}, false);
    let ls = lines(&[("TV", 1)]);
    let chosen = choose(&[&a, &b, &x], &ls).unwrap();
    assert_eq!(chosen.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["x"]);
    let y = promo("y", Discount::Percent { basis_points: 900 }, Target::Order {}, false);
    let chosen = choose(&[&a, &b, &y], &ls).unwrap();
    assert_eq!(chosen.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
}

proptest::proptest! {
    #[test]
    fn discounts_never_pass_the_lines_and_totals_add_up(q1 in 1u32..20, q2 in 1u32..20, bp in 0u32..=10_000, fixed in 0i64..2_000_000) {
        let mut ls = lines(&[("TV", q1), ("CABLE", q2)]);
        let p1 = promo("p1", Discount::Percent { basis_points: bp }, Target::Skus { skus: vec![Sku::parse("CABLE").unwrap()] }, true);
        let p2 = promo("p2", Discount::Fixed { amount: usd(fixed) }, Target::Order {}, true);
        apply_promotions(&mut ls, &[(&p1, None), (&p2, None)]).unwrap();
        retax(&mut ls, 800).unwrap();
        for l in &ls {
            proptest::prop_assert!(l.net().amount() >= 0);
        }
        let t = totals(&ls, usd(599)).unwrap();
        let d = t.discount.map_or(0, |d| d.amount());
        proptest::prop_assert_eq!(t.total.amount(), t.subtotal.amount() - d + 599 + t.tax.amount());
    }
}
