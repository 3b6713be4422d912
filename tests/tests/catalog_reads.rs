//! Catalog reads for storefronts, from outside and without sign-in: products by category and
//! words, one product, what each location can promise, and delivery options for a postal code
//! (with the stores nearby that have it); inactive and unknown products are not shown, bad
//! parameters are named.

use oms_tests::Stack;
use serde_json::json;

#[tokio::test]
async fn shoppers_browse_products_stock_and_delivery_options_without_signing_in() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    // Products by category and words (no token).
    let r = s.call("GET", "/v1/products?category=apparel", None, None, &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let skus: Vec<String> = r.json()["products"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["sku"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(skus, vec!["SOCKS-3PK", "TSHIRT-BLK-M"], "{}", r.text);
    assert!(r.json()["products"][0].get("weightGrams").is_none(), "shoppers see no warehouse data");
    let r = s.call("GET", "/v1/products?q=noise%20CANCELLING", None, None, &[]).await?;
    assert_eq!(r.json()["products"][0]["sku"], "HEADPHONES-X1", "{}", r.text);
    let r = s.call("GET", "/v1/products?q=lamp&category=apparel", None, None, &[]).await?;
    assert_eq!(r.json()["products"], json!([]));
    for bad in ["category=Apparel", "category=a%20b", "nope=1"] {
        let r = s.call("GET", &format!("/v1/products?{bad}"), None, None, &[]).await?;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }

    // One product; an inactive one is not for sale, so not shown.
    let r = s.call("GET", "/v1/products/MUG-CLASSIC", None, None, &[]).await?;
    assert_eq!((r.status, r.json()["category"].as_str()), (200, Some("home")), "{}", r.text);
    let admin = s.admin_token();
    let retired =
        json!({"name": "Old mug", "price": {"amount": 500, "currency": "USD"}, "weightGrams": 300, "active": false});
    assert_eq!(s.call("PUT", "/v1/admin/products/MUG-OLD", Some(&admin), Some(&retired), &[]).await?.status, 200);
    assert_eq!(s.call("GET", "/v1/products/MUG-OLD", None, None, &[]).await?.status, 404);
    assert_eq!(s.call("GET", "/v1/products/NO-SUCH", None, None, &[]).await?.status, 404);
    let r = s.call("PUT", "/v1/admin/products/MUG-X", Some(&admin), Some(&json!({"name": "X", "price": {"amount": 5, "currency": "USD"}, "weightGrams": 1, "category": "Bad Cat"})), &[]).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("category")), "{}", r.text);

    // What each location can promise: the counters' available units, summed over shards.
    let r = s.call("GET", "/v1/inventory/TSHIRT-BLK-M", None, None, &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let inv = r.json();
    let nyc = inv["locations"].as_array().into_iter().flatten().find(|l| l["locationId"] == "STORE-NYC").cloned();
    let (available, _, _) = s.available("TSHIRT-BLK-M", "STORE-NYC").await?;
    assert_eq!(
        nyc.as_ref().map(|l| (l["available"].as_i64(), l["pickup"].as_bool())),
        Some((Some(available), Some(true)))
    );
    let sum: i64 = inv["locations"].as_array().into_iter().flatten().filter_map(|l| l["available"].as_i64()).sum();
    assert_eq!(inv["total"].as_i64(), Some(sum));
    assert_eq!(s.call("GET", "/v1/inventory/MUG-OLD", None, None, &[]).await?.status, 404);
    for path in ["/v1/inventory/MUG-CLASSIC?foo=1", "/v1/products/MUG-CLASSIC?sku=TV-55"] {
        let r = s.call("GET", path, None, None, &[]).await?;
        assert_eq!(r.status, 400, "{path}: parameters a route does not take are refused: {}", r.text);
    }

    // Delivery options for a postal code: shipping by service level and pickup in New York.
    let r = s.call("GET", "/v1/products/TSHIRT-BLK-M/delivery-estimate?postalCode=10118", None, None, &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let ids: Vec<String> = r.json()["options"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["id"].as_str().map(str::to_owned))
        .collect();
    assert!(ids.contains(&"ship-standard".to_owned()) && ids.contains(&"pickup-STORE-NYC".to_owned()), "{ids:?}");
    assert!(r.json()["options"][0]["promisedBy"].is_string() && r.json()["options"][0]["cost"]["amount"].is_i64());
    // Far from any store: shipping only.
    let r = s.call("GET", "/v1/products/TSHIRT-BLK-M/delivery-estimate?postalCode=60601", None, None, &[]).await?;
    assert!(r.json()["options"].as_array().into_iter().flatten().all(|o| o["fulfillment"] == "ship"), "{}", r.text);
    for (q, field) in [
        ("", "postalCode"),
        ("?postalCode=10118%0d%0a", "postalCode"),
        ("?postalCode=%2010118", "postalCode"),
        ("?postalCode=10118&quantity=0", "quantity"),
        ("?postalCode=10118&quantity=-1", "quantity"),
        ("?postalCode=10118&quantity=1.5", "quantity"),
        ("?postalCode=10118&quantity=100", "quantity"),
        ("?postalCode=10118&country=us", "country"),
    ] {
        let r = s.call("GET", &format!("/v1/products/TSHIRT-BLK-M/delivery-estimate{q}"), None, None, &[]).await?;
        assert_eq!((r.status, r.json()["field"].as_str()), (400, Some(field)), "{q}: {}", r.text);
    }
    // Well formed, but not the country's: 422 naming the field.
    for (q, field) in [
        ("?postalCode=ABCDE", "postalCode"),
        ("?postalCode=0", "postalCode"),
        ("?postalCode=10118&country=ZZ", "country"),
    ] {
        let r = s.call("GET", &format!("/v1/products/TSHIRT-BLK-M/delivery-estimate{q}"), None, None, &[]).await?;
        assert_eq!((r.status, r.json()["field"].as_str()), (422, Some(field)), "{q}: {}", r.text);
    }
    assert_eq!(
        s.call("GET", "/v1/products/NO-SUCH/delivery-estimate?postalCode=10118", None, None, &[]).await?.status,
        404
    );
    Ok(())
}
