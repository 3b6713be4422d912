//! Products and locations: what we sell and where it is kept.

use super::address::{CountryCode, normalize_postal_code};
use super::ids::{LocationId, Sku};
use super::money::Money;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductKind {
    /// Physical goods: held, allocated and shipped from a location.
    Goods,
    /// A service such as installation: priced and ordered, never stocked or shipped.
    Service,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Dimensions {
    pub length_mm: u32,
    pub width_mm: u32,
    pub height_mm: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub sku: Sku,
    pub name: String,
    pub price: Money,
    pub kind: ProductKind,
    pub weight_grams: u32,
    pub dimensions: Dimensions,
    pub returnable: bool,
    pub return_window_days: u16,
    pub active: bool,
    /// The storefront category it is listed under (`home`, `apparel`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// A service product: its visit's duration, skills and regions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<super::service::ServiceSpec>,
    /// Goods: months of warranty from delivery (claims after the return window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warranty_months: Option<u16>,
    /// Goods: units accepted as backorders (pre-orders) while out of stock, all customers
    /// together; none: not backordered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backorder_limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("{0}")]
    Invalid(&'static str),
    /// A field's value (its path in the body) is refused.
    #[error("{0}: {1}")]
    Field(&'static str, &'static str),
    /// A well-formed field that does not go with the rest of the product (its kind).
    #[error("{0}: {1}")]
    Mismatch(&'static str, &'static str),
}

/// A category name: 1-40 lower-case letters, digits or dashes.
pub fn valid_category(c: &str) -> bool {
    (1..=40).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Product {
    pub const DEFAULT_RETURN_WINDOW_DAYS: u16 = 30;

    pub fn validate(&self) -> Result<(), CatalogError> {
        if self.name.chars().any(|c| c.is_control() || super::address::invisible(c)) {
            return Err(CatalogError::Field("name", "holds control or invisible characters"));
        }
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            return Err(CatalogError::Field("name", "must be 1-200 characters"));
        }
        if self.category.as_deref().is_some_and(|c| !valid_category(c)) {
            return Err(CatalogError::Field("category", "1-40 lower-case letters, digits or dashes"));
        }
        if self.kind == ProductKind::Goods && self.weight_grams == 0 {
            return Err(CatalogError::Field("weightGrams", "goods need a weight (grams, above 0)"));
        }
        if self.weight_grams > 1_000_000 {
            return Err(CatalogError::Field("weightGrams", "at most 1000000 (1000 kg)"));
        }
        if self.return_window_days > 365 {
            return Err(CatalogError::Field("returnWindowDays", "at most 365 days"));
        }
        match (&self.service, self.kind) {
            (Some(_), ProductKind::Goods) => {
                return Err(CatalogError::Mismatch("service", "only service products have a service"));
            }
            (Some(s), ProductKind::Service) => s.validate().map_err(|(f, why)| CatalogError::Field(f, why))?,
            _ => {}
        }
        if self.warranty_months.is_some_and(|m| !(1..=120).contains(&m)) {
            return Err(CatalogError::Field("warrantyMonths", "1 to 120 months"));
        }
        if self.backorder_limit.is_some_and(|l| !(1..=100_000).contains(&l)) {
            return Err(CatalogError::Field("backorderLimit", "1 to 100000 units"));
        }
        if self.kind == ProductKind::Service {
            if self.warranty_months.is_some() {
                return Err(CatalogError::Mismatch("warrantyMonths", "goods only"));
            }
            if self.backorder_limit.is_some() {
                return Err(CatalogError::Mismatch("backorderLimit", "goods only"));
            }
        }
        Ok(())
    }
}

/// A point on the earth in millionths of a degree (about 0.1 m), kept as integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeoPoint {
    pub lat_e6: i32,
    pub lon_e6: i32,
}

/// cos(latitude) x 10_000 for each whole degree 0..=90.
const COS_E4: [i64; 91] = [
    10000, 9998, 9994, 9986, 9976, 9962, 9945, 9925, 9903, 9877, 9848, 9816, 9781, 9744, 9703, 9659, 9613, 9563, 9511,
    9455, 9397, 9336, 9272, 9205, 9135, 9063, 8988, 8910, 8829, 8746, 8660, 8572, 8480, 8387, 8290, 8192, 8090, 7986,
    7880, 7771, 7660, 7547, 7431, 7314, 7193, 7071, 6947, 6820, 6691, 6561, 6428, 6293, 6157, 6018, 5878, 5736, 5592,
    5446, 5299, 5150, 5000, 4848, 4695, 4540, 4384, 4226, 4067, 3907, 3746, 3584, 3420, 3256, 3090, 2924, 2756, 2588,
    2419, 2250, 2079, 1908, 1736, 1564, 1392, 1219, 1045, 872, 698, 523, 349, 175, 0,
];

impl GeoPoint {
    pub fn new(lat_e6: i32, lon_e6: i32) -> Result<Self, CatalogError> {
        if !(-90_000_000..=90_000_000).contains(&lat_e6) || !(-180_000_000..=180_000_000).contains(&lon_e6) {
            return Err(CatalogError::Field("coordinates", "latE6 within ±90000000 and lonE6 within ±180000000"));
        }
        Ok(GeoPoint { lat_e6, lon_e6 })
    }

    /// Approximate great-circle distance in km (equirectangular projection, integer maths).
    /// Good to a few percent at the distances sourcing compares, which is all it is for.
    pub fn distance_km(&self, other: &GeoPoint) -> u32 {
        let mid_lat = ((i64::from(self.lat_e6) + i64::from(other.lat_e6)) / 2).abs() / 1_000_000;
        let cos = COS_E4[mid_lat.min(90) as usize];
        let dlat = i64::from(self.lat_e6) - i64::from(other.lat_e6);
        let mut dlon = (i64::from(self.lon_e6) - i64::from(other.lon_e6)).abs();
        if dlon > 180_000_000 {
            dlon = 360_000_000 - dlon;
        }
        let x = dlon * cos / 10_000;
        // 1 degree = 111.195 km; work in micro-degrees.
        let d_e6 = isqrt(dlat * dlat + x * x);
        u32::try_from(d_e6 * 111_195 / 1_000_000_000).unwrap_or(u32::MAX)
    }
}

fn isqrt(n: i64) -> i64 {
    if n <= 0 {
        return 0;
    }
    let mut x = n;
    let mut y = (x + 1) / 2;
    while y < x {
        x = y;
        y = (x + n / x) / 2;
    }
    x
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    Warehouse,
    Store,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub id: LocationId,
    pub name: String,
    pub kind: LocationKind,
    pub coordinates: GeoPoint,
    pub country: CountryCode,
    pub postal_code: String,
    /// Ships parcels (always for warehouses; ship-from-store for stores).
    pub ships: bool,
    /// Offers customer pickup (stores).
    pub pickup: bool,
    pub active: bool,
    /// The street address parcels ship from and returns go back to. Locations written before
    /// it existed have none until they are updated; labels then show the name and postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<StreetAddress>,
    /// Staff pick and pack here with the OMS: a paid order's shipments go on this location's
    /// pick list, and each label is bought once its parcel is packed (weighed and measured).
    /// Off: labels are bought as soon as the order is paid (a location whose own warehouse
    /// system packs).
    #[serde(default)]
    pub packing: bool,
    /// Stores: when customers can collect (local hours per weekday) and how many minutes of
    /// opening time an order takes to prepare; they shape the pickup promise in quotes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening_hours: Option<super::hours::OpeningHours>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pickup_lead_minutes: u32,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

/// A location's street address (its postal code and country are the location's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StreetAddress {
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

impl Location {
    /// The postal address a label shows for this location, under `name`.
    pub fn postal_address(&self, name: String) -> super::Address {
        let a = self.address.as_ref();
        super::Address {
            name,
            line1: a.map(|a| a.line1.clone()).unwrap_or_default(),
            line2: a.and_then(|a| a.line2.clone()),
            city: a.map(|a| a.city.clone()).unwrap_or_default(),
            region: a.and_then(|a| a.region.clone()),
            postal_code: self.postal_code.clone(),
            country: self.country,
            phone: None,
        }
    }

    pub fn validate(&self) -> Result<(), CatalogError> {
        if self.name.chars().any(|c| c.is_control() || super::address::invisible(c)) {
            return Err(CatalogError::Field("name", "holds control or invisible characters"));
        }
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            return Err(CatalogError::Field("name", "must be 1-200 characters"));
        }
        let printed = super::address::label_text(&self.name);
        if printed.chars().count() > 200 || !printed.chars().any(char::is_alphanumeric) {
            return Err(CatalogError::Field(
                "name",
                "must spell 1-200 characters in Latin letters (labels print it as the sender)",
            ));
        }
        if self.kind == LocationKind::Warehouse && self.pickup {
            return Err(CatalogError::Field("pickup", "warehouses do not offer pickup"));
        }
        GeoPoint::new(self.coordinates.lat_e6, self.coordinates.lon_e6)?;
        if let Some(a) = &self.address {
            let parts = [
                ("address.line1", Some(&a.line1)),
                ("address.line2", a.line2.as_ref()),
                ("address.city", Some(&a.city)),
                ("address.region", a.region.as_ref()),
            ];
            for (field, v) in parts {
                let Some(v) = v else { continue };
                if v.chars().any(|c| c.is_control() || super::address::invisible(c)) {
                    return Err(CatalogError::Field(field, "holds control or invisible characters"));
                }
                if v.chars().count() > 100 || (matches!(field, "address.line1" | "address.city") && v.trim().is_empty())
                {
                    return Err(CatalogError::Field(field, "must be 1-100 characters"));
                }
                // Labels print it spelled in Latin letters, whole (ship-from, return-to).
                let printed = super::address::label_text(v);
                if printed.chars().count() > 100 {
                    return Err(CatalogError::Field(field, "is over 100 characters once spelled in Latin letters"));
                }
                if matches!(field, "address.line1" | "address.city") && !printed.chars().any(char::is_alphanumeric) {
                    return Err(CatalogError::Field(field, "has nothing a label can print (letters or digits)"));
                }
            }
        }
        normalize_postal_code(self.country, &self.postal_code)
            .map_err(|_| CatalogError::Field("postalCode", "not a postal code of the country"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_new_york_to_boston_is_about_306_km() {
        let nyc = GeoPoint::new(40_712_800, -74_006_000).unwrap();
        let bos = GeoPoint::new(42_360_100, -71_058_900).unwrap();
        let d = nyc.distance_km(&bos);
        assert!((295..=320).contains(&d), "{d}");
        assert_eq!(nyc.distance_km(&nyc), 0);
    }

    #[test]
    fn distance_across_the_antimeridian_is_short() {
        let a = GeoPoint::new(0, 179_500_000).unwrap();
        let b = GeoPoint::new(0, -179_500_000).unwrap();
        assert!(a.distance_km(&b) < 120);
    }

    #[test]
    fn out_of_range_coordinates_are_rejected() {
        assert!(GeoPoint::new(91_000_000, 0).is_err());
    }
}
