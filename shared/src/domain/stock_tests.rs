use super::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Hold(i64),
    Release(i64),
    Allocate(i64),
    ReleaseAllocation(i64),
    Ship(i64),
    Restock(i64),
    Count(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (-2i64..12).prop_map(Op::Hold),
        (-2i64..12).prop_map(Op::Release),
        (-2i64..12).prop_map(Op::Allocate),
        (-2i64..12).prop_map(Op::ReleaseAllocation),
        (-2i64..12).prop_map(Op::Ship),
        (-2i64..12).prop_map(Op::Restock),
        (-5i64..40).prop_map(Op::Count),
    ]
}

proptest! {
    #[test]
    fn stock_is_conserved_under_any_sequence(start in 0i64..50, ops in proptest::collection::vec(op(), 0..200)) {
        let mut s = StockLevel::with_on_hand(start).unwrap();
        for o in ops {
            let next = match o {
                Op::Hold(q) => s.hold(q),
                Op::Release(q) => s.release_hold(q),
                Op::Allocate(q) => s.allocate(q),
                Op::ReleaseAllocation(q) => s.release_allocation(q),
                Op::Ship(q) => s.ship(q),
                Op::Restock(q) => s.restock(q),
                Op::Count(n) => s.set_on_hand(n),
            };
            if let Ok(n) = next {
                s = n;
            }
            prop_assert!(s.is_conserved(), "{s:?}");
        }
    }
}

#[test]
fn holding_more_than_available_is_out_of_stock() {
    let s = StockLevel::with_on_hand(2).unwrap();
    assert_eq!(s.hold(3), Err(StockError::OutOfStock { wanted: 3, available: 2 }));
}

fn shard(k: u16, available: i64, held: i64) -> StockRecord {
    let mut r = StockRecord::new(
        crate::domain::Sku::parse("S").unwrap(),
        crate::domain::LocationId::parse("L").unwrap(),
        StockLevel { on_hand: available + held, available, held, allocated: 0 },
    );
    r.shard = k;
    r
}

#[test]
fn rebalance_spreads_available_and_keeps_commitments_where_they_are() {
    let now = [shard(0, 10, 3)];
    let next = rebalance(&now, None, Some(4)).unwrap();
    let levels: Vec<StockLevel> = next.iter().map(|(_, l)| l.unwrap()).collect();
    assert_eq!(levels.iter().map(|l| l.available).collect::<Vec<_>>(), vec![3, 3, 2, 2]);
    assert_eq!(levels[0].held, 3);
    assert!(levels.iter().all(StockLevel::is_conserved));
    assert_eq!(
        summed(
            &next
                .iter()
                .map(|(k, l)| {
                    let mut r = shard(*k, 0, 0);
                    r.level = l.unwrap();
                    r
                })
                .collect::<Vec<_>>()
        )
        .on_hand,
        13
    );
    // Fewer shards: a shard with held units cannot go; a free one can.
    let four = [shard(0, 1, 0), shard(1, 1, 0), shard(2, 1, 2), shard(3, 1, 0)];
    assert!(rebalance(&four, None, Some(2)).is_err());
    let gone = rebalance(&four, Some(4), Some(3)).unwrap();
    assert_eq!(gone.last(), Some(&(3, None)));
    assert!(rebalance(&four, Some(1), None).is_err());
}

#[test]
fn taking_from_shards_prefers_one_and_never_more_than_there_is() {
    let a = [(0, 1), (1, 5), (2, 2)];
    assert_eq!(take_from_shards(3, &a, 0), Some(vec![(1, 3)]));
    assert_eq!(take_from_shards(6, &a, 2), Some(vec![(2, 2), (0, 1), (1, 3)]));
    assert_eq!(take_from_shards(9, &a, 1), None);
    // One unit: each shard by its share of what is available.
    let picks: Vec<u16> = (0..8).map(|r| take_from_shards(1, &a, r).unwrap()[0].0).collect();
    assert_eq!(picks, vec![0, 1, 1, 1, 1, 1, 2, 2]);
}

#[test]
fn zero_quantity_is_refused() {
    assert_eq!(StockLevel::with_on_hand(2).unwrap().hold(0), Err(StockError::NonPositive));
}
