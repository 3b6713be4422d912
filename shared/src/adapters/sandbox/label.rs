//! A real 4x6 inch shipping label as a one-page PDF, with the tracking number as a Code 128
//! (subset B) barcode drawn as filled rectangles. No dependencies: the PDF is small enough to
//! write by hand, and a carrier's real labels arrive as documents anyway.

use crate::winansi::winansi;

/// Code 128 symbol widths (bar, space, ...), values 0-106 (ISO/IEC 15417).
const PATTERNS: [&str; 107] = [
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213", "221312",
    "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132", "221231", "213212",
    "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211", "212123", "212321", "232121",
    "111323", "131123", "131321", "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331",
    "132131", "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131", "311123",
    "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111", "111224", "111422", "121124",
    "121421", "141122", "141221", "112214", "112412", "122114", "122411", "142112", "142211", "241211", "221114",
    "413111", "241112", "134111", "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112",
    "421211", "212141", "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
];
const START_B: usize = 104;
/// Blank modules each side of the symbol (ISO/IEC 15417 asks for at least 10).
const QUIET_MODULES: u32 = 10;
const STOP: usize = 106;

/// Module widths of `text` encoded in Code 128 subset B (printable ASCII), with checksum.
pub fn code128b(text: &str) -> Option<Vec<u8>> {
    let mut values = vec![START_B];
    for b in text.bytes() {
        if !(32..=126).contains(&b) {
            return None;
        }
        values.push(usize::from(b - 32));
    }
    let checksum = values.iter().enumerate().map(|(i, v)| if i == 0 { *v } else { v * i }).sum::<usize>() % 103;
    values.push(checksum);
    values.push(STOP);
    Some(values.iter().flat_map(|v| PATTERNS[*v].bytes().map(|c| c - b'0')).collect())
}

/// Why a label cannot be drawn: a real carrier refuses such a label too.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("{0:?} cannot be printed on a label (Latin characters only)")]
    Unprintable(char),
    #[error("the {0} does not fit on a 4x6 label")]
    TooLong(&'static str),
}

/// A line as label text: whitespace runs folded to one space, every character checked.
fn printable(s: &str) -> Result<String, LabelError> {
    let folded = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match folded.chars().find(|c| winansi(*c).is_none()) {
        Some(c) => Err(LabelError::Unprintable(c)),
        None => Ok(folded),
    }
}

/// A PDF string literal's body in WinAnsi: `( ) \` escaped, bytes above ASCII as octal.
fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match winansi(c) {
            Some(b'(' | b')' | b'\\') => {
                out.push('\\');
                out.push(c);
            }
            Some(b @ 0x20..=0x7E) => out.push(char::from(b)),
            Some(b) => out.push_str(&format!("\\{b:03o}")),
            None => {}
        }
    }
    out
}

/// Helvetica advance widths (1/1000 em) of printable ASCII 32-126, from the standard AFM.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556,
    556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556,
    556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334,
    260, 334, 584,
];

/// Width of `s` in Helvetica at `size` points, in thousandths of a point (letters beyond
/// ASCII counted as wide as the widest capitals, so a line never overflows).
fn width(s: &str, size: u32) -> u32 {
    s.chars()
        .map(|c| match u32::from(c) {
            0x20..=0x7E => u32::from(HELVETICA[(u32::from(c) - 0x20) as usize]),
            _ => 1000,
        })
        .sum::<u32>()
        * size
}

/// `s` broken at spaces (or anywhere, for a long word) into lines no wider than `max_pt` at
/// `size`.
pub fn wrap(s: &str, size: u32, max_pt: u32) -> Vec<String> {
    let max = max_pt * 1000;
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in s.split_whitespace() {
        let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
        if width(&candidate, size) <= max {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        // A word wider than a line is cut where it no longer fits.
        for c in word.chars() {
            if width(&format!("{line}{c}"), size) > max && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// `s` (spaces folded) in lines filled to `max_pt` at `size`, broken wherever the width ends.
pub fn fill(s: &str, size: u32, max_pt: u32) -> Vec<String> {
    let max = max_pt * 1000;
    let text = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for c in text.chars() {
        if line.is_empty() && c == ' ' {
            continue;
        }
        if width(&format!("{line}{c}"), size) > max && !line.is_empty() {
            lines.push(std::mem::take(&mut line).trim_end().to_owned());
            if c == ' ' {
                continue;
            }
        }
        line.push(c);
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_owned());
    }
    lines
}

/// How a block's lines are broken: at spaces, or filled to the width.
type Breaker = fn(&str, u32, u32) -> Vec<String>;

/// A block of text placed from baseline `top` down to no lower than `bottom`, at `x`.
struct Block {
    what: &'static str,
    x: u32,
    top: u32,
    bottom: u32,
    sizes: std::ops::RangeInclusive<u32>,
}

impl Block {
    /// Every line wrapped at the largest size that fits the block: (size, leading, lines).
    /// Broken at spaces where that fits at some size; otherwise every line filled to the
    /// width (long words broken anywhere), which is what lets the longest address fit.
    fn fit(&self, lines: &[String]) -> Result<(u32, u32, Vec<String>), LabelError> {
        let lines: Vec<String> = lines.iter().map(|l| printable(l)).collect::<Result<_, _>>()?;
        for breaker in [wrap as Breaker, fill] {
            for size in self.sizes.clone().rev() {
                let leading = size + size.div_ceil(6);
                let wrapped: Vec<String> = lines.iter().flat_map(|l| breaker(l, size, 268 - self.x)).collect();
                let n = u32::try_from(wrapped.len()).unwrap_or(u32::MAX);
                if n == 0 || self.top.saturating_sub(self.bottom) >= (n - 1) * leading {
                    return Ok((size, leading, wrapped));
                }
            }
        }
        Err(LabelError::TooLong(self.what))
    }

    fn draw(&self, content: &mut String, lines: &[String]) -> Result<(), LabelError> {
        let (size, leading, wrapped) = self.fit(lines)?;
        for (i, l) in wrapped.iter().enumerate() {
            let y = self.top - leading * u32::try_from(i).unwrap_or(0);
            content.push_str(&format!("BT /F1 {size} Tf {} {y} Td ({}) Tj ET\n", self.x, escape(l)));
        }
        Ok(())
    }
}

/// A 288 x 432 pt (4 x 6 in) label: sender, recipient, service, barcode and tracking number.
/// Every line is printed in full: wrapped to the label's width at the largest size that fits
/// its block; an address that fits at no readable size, or a character Helvetica cannot print
/// (beyond WinAnsi), is refused rather than cut or dropped.
pub fn label_pdf(
    tracking: &str,
    service: &str,
    from: &[String],
    to: &[String],
    reference: &str,
) -> Result<Vec<u8>, LabelError> {
    let mut content = String::new();
    let text = |content: &mut String, x: u32, y: u32, size: u32, s: &str| {
        content.push_str(&format!("BT /F1 {size} Tf {x} {y} Td ({}) Tj ET\n", escape(s)));
    };
    content.push_str("0 g 2 w 10 10 268 412 re S\n");
    // Blocks from the top: the sender and the recipient (17 lines each at 5 pt: the longest
    // location a label ships from or returns to, the longest address placement accepts
    // takes 14), the service, the barcode (70-130 pt), the tracking number, the reference.
    text(&mut content, 20, 410, 9, "FROM:");
    Block { what: "ship-from address", x: 20, top: 399, bottom: 303, sizes: 5..=9 }.draw(&mut content, from)?;
    content.push_str("10 297 m 278 297 l S\n");
    text(&mut content, 20, 284, 11, "SHIP TO:");
    Block { what: "ship-to address", x: 30, top: 270, bottom: 174, sizes: 5..=13 }.draw(&mut content, to)?;
    content.push_str("10 168 m 278 168 l S\n");
    Block { what: "service", x: 20, top: 146, bottom: 146, sizes: 8..=16 }
        .draw(&mut content, &[service.to_ascii_uppercase()])?;
    if let Some(modules) = code128b(tracking) {
        // Work in hundredths of a point. The label's inner width (12 to 276 pt) holds the
        // symbol and a quiet zone of at least 10 modules on each side; modules are 0.5-2 pt,
        // and the symbol is centred.
        let total: u32 = modules.iter().map(|m| u32::from(*m)).sum::<u32>().max(1);
        let unit = (26_400 / (total + 2 * QUIET_MODULES)).clamp(50, 200);
        let mut x = 1_200 + (26_400u32.saturating_sub(unit * total)) / 2;
        for (i, m) in modules.iter().enumerate() {
            let w = unit * u32::from(*m);
            if i % 2 == 0 {
                content.push_str(&format!("{}.{:02} 70 {}.{:02} 60 re f\n", x / 100, x % 100, w / 100, w % 100));
            }
            x += w;
        }
    }
    Block { what: "tracking number", x: 20, top: 52, bottom: 52, sizes: 6..=12 }
        .draw(&mut content, &[format!("TRACKING # {tracking}")])?;
    Block { what: "reference", x: 20, top: 34, bottom: 16, sizes: 6..=8 }
        .draw(&mut content, &[format!("REF {reference}")])?;

    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{}endstream", content.len(), content),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_owned(),
    ];
    let mut pdf = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{}\nendobj\n", i + 1, o).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        pdf.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    Ok(pdf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code128_checksum_of_a_known_value() {
        // "PJJ123C" in subset B: 104 + 48*1 + 42*2 + 42*3 + 17*4 + 18*5 + 19*6 + 35*7 = 879;
        // 879 mod 103 = 55.
        let m = code128b("PJJ123C").unwrap();
        // 9 symbols of 6 widths + stop of 7.
        assert_eq!(m.len(), 9 * 6 + 7);
        let checksum_widths: String = m[8 * 6..9 * 6].iter().map(|d| (b'0' + d) as char).collect();
        assert_eq!(checksum_widths, PATTERNS[55]);
        // Every symbol is 11 modules wide, the stop 13.
        assert!(m[..54].chunks(6).all(|c| c.iter().map(|x| u32::from(*x)).sum::<u32>() == 11));
    }

    #[test]
    fn label_is_a_4x6_pdf() {
        let pdf = label_pdf(
            "SBX1234567890",
            "ground",
            &["Newark warehouse".into()],
            &["Ann Lee".into(), "350 5th Ave".into()],
            "order 1",
        )
        .unwrap();
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        let s = String::from_utf8_lossy(&pdf);
        assert!(s.contains("/MediaBox [0 0 288 432]"));
        assert!(s.contains("TRACKING # SBX1234567890"));
    }
}
