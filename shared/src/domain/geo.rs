//! A small seeded table of postal-code centroids: enough to rank locations by distance to a
//! destination. Longest prefix wins; a country's own centroid is the fallback.

use super::address::CountryCode;
use super::catalog::GeoPoint;

/// (country, postal prefix, lat e6, lon e6). An empty prefix is the country fallback.
const CENTROIDS: &[(&str, &str, i32, i32)] = &[
    ("US", "", 39_828_300, -98_579_500),
    ("US", "0", 42_360_100, -71_058_900),
    ("US", "021", 42_360_100, -71_058_900),
    ("US", "1", 40_712_800, -74_006_000),
    ("US", "100", 40_750_000, -73_997_000),
    ("US", "112", 40_678_200, -73_944_200),
    ("US", "191", 39_952_600, -75_165_200),
    ("US", "2", 38_907_200, -77_036_900),
    ("US", "3", 33_749_000, -84_388_000),
    ("US", "331", 25_761_700, -80_191_800),
    ("US", "4", 41_499_300, -81_694_400),
    ("US", "482", 42_331_400, -83_045_800),
    ("US", "5", 44_977_800, -93_265_000),
    ("US", "6", 41_878_100, -87_629_800),
    ("US", "606", 41_878_100, -87_629_800),
    ("US", "7", 32_776_700, -96_797_000),
    ("US", "770", 29_760_400, -95_369_800),
    ("US", "8", 39_739_200, -104_990_300),
    ("US", "850", 33_448_400, -112_074_000),
    ("US", "9", 34_052_200, -118_243_700),
    ("US", "941", 37_774_900, -122_419_400),
    ("US", "981", 47_606_200, -122_332_100),
    ("CA", "", 56_130_400, -106_346_800),
    ("CA", "H", 45_501_700, -73_567_300),
    ("CA", "K", 45_421_500, -75_697_200),
    ("CA", "M", 43_653_200, -79_383_200),
    ("CA", "T", 51_044_700, -114_071_900),
    ("CA", "V", 49_282_700, -123_120_700),
    ("GB", "", 52_355_500, -1_174_300),
    ("GB", "B", 52_486_200, -1_890_400),
    ("GB", "E", 51_515_000, -55_000),
    ("GB", "EC", 51_518_000, -97_000),
    ("GB", "EH", 55_953_300, -3_188_300),
    ("GB", "G", 55_864_200, -4_251_800),
    ("GB", "M", 53_480_800, -2_242_600),
    ("GB", "N", 51_565_000, -105_000),
    ("GB", "SW", 51_470_000, -170_000),
    ("GB", "W", 51_510_000, -200_000),
    ("DE", "", 51_165_700, 10_451_500),
    ("DE", "1", 52_520_000, 13_405_000),
    ("DE", "2", 53_551_100, 9_993_700),
    ("DE", "5", 50_937_500, 6_960_300),
    ("DE", "6", 50_110_900, 8_682_100),
    ("DE", "8", 48_135_100, 11_582_000),
    ("FR", "", 46_227_600, 2_213_700),
    ("FR", "13", 43_296_500, 5_369_800),
    ("FR", "69", 45_764_000, 4_835_700),
    ("FR", "75", 48_856_600, 2_352_200),
];

pub fn centroid(country: CountryCode, postal_code: &str) -> Option<GeoPoint> {
    let pc = postal_code.to_ascii_uppercase();
    CENTROIDS
        .iter()
        .filter(|(c, prefix, _, _)| *c == country.as_str() && pc.starts_with(prefix))
        // Letter prefixes in GB must be followed by a digit ("E1" is E, "EC1" is EC).
        .filter(|(c, prefix, _, _)| {
            *c != "GB" || prefix.is_empty() || pc[prefix.len()..].starts_with(|ch: char| ch.is_ascii_digit())
        })
        .max_by_key(|(_, prefix, _, _)| prefix.len())
        .map(|&(_, _, lat, lon)| GeoPoint { lat_e6: lat, lon_e6: lon })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins() {
        let us = CountryCode::parse("US").unwrap();
        assert_eq!(centroid(us, "10001").unwrap().lat_e6, 40_750_000);
        assert_eq!(centroid(us, "14001").unwrap().lat_e6, 40_712_800);
        let gb = CountryCode::parse("GB").unwrap();
        assert_eq!(centroid(gb, "EC1A 1BB").unwrap().lat_e6, 51_518_000);
        assert_eq!(centroid(gb, "E1 6AN").unwrap().lat_e6, 51_515_000);
        assert!(centroid(CountryCode::parse("JP").unwrap(), "100-0001").is_none());
    }
}
