//! Documents checked by real decoders: each shipping label PDF is rendered to an image by
//! poppler (`pdftoppm`) and its barcode read by zbar (`zbarimg`), as a carrier's scanner would.
//! Both come from Debian's packages (`dev/setup.sh` installs them).

use oms_shared::adapters::sandbox::label::label_pdf;
use std::process::Command;

/// The text zbar reads from the barcodes of a one-page PDF rendered at `dpi`.
fn decode(pdf: &[u8], dpi: u32) -> anyhow::Result<Vec<String>> {
    let dir = std::env::temp_dir().join(format!("oms-label-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir)?;
    let input = dir.join("label.pdf");
    std::fs::write(&input, pdf)?;
    let out = Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-gray", "-png", "-singlefile"])
        .arg(&input)
        .arg(dir.join("label"))
        .output()?;
    anyhow::ensure!(out.status.success(), "pdftoppm: {}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new("zbarimg").args(["--quiet", "--raw"]).arg(dir.join("label.png")).output()?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect())
}

#[test]
fn label_barcodes_decode_to_the_tracking_number() -> anyhow::Result<()> {
    let from = ["Newark warehouse".to_owned(), "1 Port St".to_owned(), "Newark NJ 07114 US".to_owned()];
    let to = ["Ann Lee".to_owned(), "350 5th Ave".to_owned(), "New York NY 10118 US".to_owned()];
    for tracking in ["SBX1234567890", "1Z999AA10123456784", "SBXR01M8PQYA4TQYE6ET338EZGPENG", "9400111899223197428490"]
    {
        for dpi in [203, 300] {
            let pdf = label_pdf(tracking, "ground", &from, &to, "order 01M8PQYA4TQYE6ET338EZGPENG")?;
            let read = decode(&pdf, dpi)?;
            assert_eq!(read, vec![tracking.to_owned()], "{tracking} at {dpi} dpi");
        }
    }
    Ok(())
}

/// The words of a one-page PDF with their right edges (points), read by poppler's `pdftotext`.
fn words(pdf: &[u8]) -> anyhow::Result<Vec<(String, f64)>> {
    let dir = std::env::temp_dir().join(format!("oms-label-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir)?;
    let input = dir.join("label.pdf");
    std::fs::write(&input, pdf)?;
    let out = Command::new("pdftotext").arg("-bbox").arg(&input).arg("-").output()?;
    let _ = std::fs::remove_dir_all(&dir);
    anyhow::ensure!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    let html = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut out = Vec::new();
    for w in html.split("<word ").skip(1) {
        let x_max = w.split("xMax=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or("0").parse::<f64>()?;
        let text = w.split('>').nth(1).and_then(|s| s.split('<').next()).unwrap_or_default().to_owned();
        out.push((text, x_max));
    }
    Ok(out)
}

#[test]
fn label_text_stays_on_the_label_and_shows_both_street_addresses() -> anyhow::Result<()> {
    let from = ["Ontario (CA) warehouse".to_owned(), "4500 E Airport Dr".to_owned(), "Ontario CA 91761".to_owned()];
    let to = [
        "Annabelle Maximiliana Featherstonehaugh-Worthington".to_owned(),
        "1600 Pennsylvania Avenue Northwest, Apartment 1234".to_owned(),
        "Washington DC 20500".to_owned(),
        "US".to_owned(),
    ];
    let reference = "order 01M8PQYA4TQYE6ET338EZGPENG shipment 01M8PQYA4TQYE6ET338EZGPENH";
    let pdf = label_pdf("SBX1234567890", "ground", &from, &to, reference)?;
    let words = words(&pdf)?;
    let text: Vec<&str> = words.iter().map(|(w, _)| w.as_str()).collect();
    let joined = text.join(" ");
    for part in [
        "4500 E Airport Dr",
        "Ontario CA 91761",
        "Featherstonehaugh-Worthington",
        "Apartment 1234",
        "Washington DC 20500",
    ] {
        assert!(joined.contains(part), "{part} missing from {joined}");
    }
    // The whole reference is printed (wrapped), and nothing runs past the label's border (278 pt).
    assert!(joined.contains("01M8PQYA4TQYE6ET338EZGPENH"), "{joined}");
    for (w, x) in &words {
        assert!(*x <= 278.0, "{w} ends at {x} pt, past the border");
    }
    Ok(())
}

/// Names in other scripts reach the label spelled in Latin (the order keeps them as entered):
/// a Polish, a Russian and a Chinese name, and an emoji left out; Latin-1 letters stay.
#[test]
fn addresses_in_other_scripts_are_printed_transliterated() -> anyhow::Result<()> {
    use oms_shared::domain::{Address, CountryCode};
    let from = ["WH-NJ".to_owned(), "1 Dock Rd".to_owned(), "Newark NJ 07105".to_owned(), "US".to_owned()];
    for (name, line1, printed) in [
        ("Łukasz Wałęsa", "ul. Świętokrzyska 1", ["Lukasz Walesa", "ul. Swietokrzyska 1"]),
        ("Владимир Петров", "Тверская 7", ["Vladimir Petrov", "Tverskaia 7"]),
        ("李雷", "朝阳路 5", ["Li Lei", "Zhao Yang Lu 5"]),
        ("Zoë Ø 😀", "350 5th Ave’s “Tower”", ["Zoë Ø", "350 5th Ave's \"Tower\""]),
    ] {
        let address = Address {
            name: name.into(),
            line1: line1.into(),
            line2: None,
            city: "New York".into(),
            region: Some("NY".into()),
            postal_code: "10118".into(),
            country: CountryCode::parse("US")?,
            phone: None,
        };
        let l = address.for_label();
        assert_eq!([l.name.as_str(), l.line1.as_str()], printed, "{name}");
        let to = [l.name, l.line1, format!("{} NY 10118", l.city), "US".to_owned()];
        let pdf = label_pdf("SBX1234567890", "ground", &from, &to, "order 1")?;
        // (pdftotext's bounding-box output is XHTML: its entities read back.)
        let joined = words(&pdf)?.into_iter().map(|(w, _)| w).collect::<Vec<_>>().join(" ");
        let joined = joined.replace("&apos;", "'").replace("&quot;", "\"").replace("&amp;", "&");
        for part in printed {
            assert!(joined.contains(part), "{part} missing from {joined}");
        }
        assert_eq!(decode(&pdf, 203)?, vec!["SBX1234567890".to_owned()]);
    }
    // Another script spelled in Latin up to what placement accepts (each field's length, once
    // spelled), and a ligature that spells a phrase left out: each prints whole.
    for (name, line1, line2, city) in [
        ("Щ".repeat(25), "Щ".repeat(30), "Щ".repeat(30), "Щ".repeat(20)),
        (format!("Mohammed {}", "\u{FDFA}".repeat(20)), "1 Main St".into(), String::new(), "Austin".into()),
    ] {
        let address = Address {
            name,
            line1,
            line2: Some(line2).filter(|l| !l.is_empty()),
            city,
            region: Some("NY".into()),
            postal_code: "10118".into(),
            country: CountryCode::parse("US")?,
            phone: None,
        };
        let l = address.for_label();
        let mut to = vec![l.name, l.line1];
        to.extend(l.line2);
        to.push(format!("{} NY 10118", l.city));
        to.push("US".into());
        let pdf = label_pdf("SBX1234567890", "ground", &from, &to, "order 1");
        assert!(pdf.is_ok(), "{to:?}: {pdf:?}");
    }
    Ok(())
}

#[test]
fn the_longest_addresses_accepted_print_whole_as_sender_and_recipient() -> anyhow::Result<()> {
    // Fields at their limits in the widest letter a label prints (each counted as wide as an
    // em): unbroken, and in words that leave most of each line empty when broken at spaces.
    let wide = |n: usize| "Ø".repeat(n);
    let spaced = |n: usize, k: usize, rest: usize| {
        let mut w = vec![wide(n); k];
        if rest > 0 {
            w.push(wide(rest));
        }
        w.join(" ")
    };
    let lines = |a: &oms_shared::domain::Address| {
        let mut v = vec![a.name.clone(), a.line1.clone()];
        v.extend(a.line2.clone());
        v.push(format!("{} {} {}", a.city, a.region.clone().unwrap_or_default(), a.postal_code));
        v.push(a.country.to_string());
        v
    };
    let customer = |name: String, line: String, city: String, region: String| oms_shared::domain::AddressInput {
        name,
        line1: line.clone(),
        line2: Some(line),
        city,
        region: Some(region),
        postal_code: "10118".into(),
        country: "US".into(),
        phone: None,
    };
    let customers = [
        customer(wide(100), wide(120), wide(80), wide(64)),
        customer(spaced(24, 4, 0), spaced(24, 4, 20), spaced(24, 3, 5), spaced(24, 2, 14)),
    ];
    // The longest location: a 200-letter name and 100-letter address fields.
    let dock = vec![wide(200), wide(100), wide(100), format!("{} {} 07105", wide(100), wide(100)), "US".into()];
    for input in &customers {
        let a = oms_shared::domain::Address::parse(input)?.for_label();
        let letters = [&a.name, &a.line1, a.line2.as_ref().unwrap_or(&String::new()), &a.city]
            .iter()
            .map(|f| f.chars().filter(|c| *c == 'Ø').count())
            .sum::<usize>()
            + a.region.as_ref().map_or(0, |r| r.chars().filter(|c| *c == 'Ø').count());
        // Shipped to the customer from the longest location, and returned from them to it.
        for (from, to) in [(dock.clone(), lines(&a)), (lines(&a), dock.clone())] {
            let pdf = label_pdf("SBX1234567890", "ground", &from, &to, "order 1")?;
            let printed: usize = words(&pdf)?.iter().map(|(w, _)| w.chars().filter(|c| *c == 'Ø').count()).sum();
            assert_eq!(printed, letters + 600, "every letter of both addresses printed");
            assert_eq!(decode(&pdf, 203)?, vec!["SBX1234567890".to_owned()]);
        }
    }
    Ok(())
}

#[test]
fn long_addresses_print_whole_at_a_smaller_size_and_latin_letters_are_kept() -> anyhow::Result<()> {
    let from = [
        "Dallas Fort Worth Regional Fulfillment and Distribution Center (North Texas Campus)".to_owned(),
        "1500 Marilla St, Building 4".to_owned(),
        "Dock 12 - Receiving".to_owned(),
        "Dallas TX 75201".to_owned(),
        "US".to_owned(),
    ];
    let to = [
        "José Müller-Lüdenscheidt c/o Intl Holdings".to_owned(),
        "Apartment 1204, Tower B, The Residences at Hudson Yards, 500 West 33rd Street".to_owned(),
        "Königstraße 5, Hof Ø, leave with the concierge".to_owned(),
        "New York NY 10118".to_owned(),
        "US".to_owned(),
    ];
    let pdf = label_pdf("SBX1234567890", "ground", &from, &to, "order 1")?;
    let joined = words(&pdf)?.into_iter().map(|(w, _)| w).collect::<Vec<_>>().join(" ");
    for part in [
        "(North Texas Campus)",
        "Dallas TX 75201",
        "José Müller-Lüdenscheidt",
        "Königstraße 5, Hof Ø",
        "New York NY 10118",
    ] {
        assert!(joined.contains(part), "{part} missing from {joined}");
    }
    assert_eq!(decode(&pdf, 203)?, vec!["SBX1234567890".to_owned()]);
    // Letters Helvetica cannot print are refused, never dropped; so is an address that fits at
    // no readable size.
    let cjk = ["山田太郎".to_owned(), "千代田区丸の内1-1".to_owned()];
    assert!(label_pdf("SBX1", "ground", &from, &cjk, "r").is_err());
    let endless = vec!["A very long address line that goes on and on".to_owned(); 30];
    assert!(label_pdf("SBX1", "ground", &from, &endless, "r").is_err());
    Ok(())
}

/// The text of a PDF, by poppler's `pdftotext` (layout kept; pages separated by form feeds).
fn text(pdf: &[u8]) -> anyhow::Result<String> {
    let dir = std::env::temp_dir().join(format!("oms-doc-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir)?;
    let input = dir.join("doc.pdf");
    std::fs::write(&input, pdf)?;
    let out = Command::new("pdftotext").arg("-layout").arg(&input).arg("-").output()?;
    let _ = std::fs::remove_dir_all(&dir);
    anyhow::ensure!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    Ok(String::from_utf8(out.stdout)?)
}

#[test]
fn a_150_line_invoice_prints_every_line_over_pages_with_its_totals() -> anyhow::Result<()> {
    use oms_shared::domain::invoice::*;
    use oms_shared::domain::{Currency, CustomerId, Money, OrderId};
    let usd = |a: i64| Money::new(a, Currency::USD).unwrap();
    let lines: Vec<InvoiceLine> = (1..=150)
        .map(|i| InvoiceLine {
            description: format!("Item number {i} (café crème)"),
            sku: Some(format!("SKU-{i}")),
            quantity: 1,
            unit_price: usd(100 * i),
            net: usd(100 * i),
            tax: usd(8 * i),
            total: usd(108 * i),
            deduct: false,
        })
        .chain(std::iter::once(InvoiceLine {
            description: "Credit from your return".into(),
            sku: None,
            quantity: 1,
            unit_price: usd(500),
            net: usd(500),
            tax: usd(0),
            total: usd(500),
            deduct: true,
        }))
        .collect();
    let (net, tax, total) = Invoice::totals(&lines, Currency::USD)?;
    assert_eq!(total.amount(), 108 * (150 * 151 / 2) - 500);
    let inv = Invoice {
        number: "INV-2026-000042".into(),
        series: "INV-2026".into(),
        sequence: 42,
        kind: DocumentKind::Invoice,
        order_id: OrderId::generate(),
        customer_id: CustomerId::parse("cust-1")?,
        issued_at: "2026-12-01T10:00:00Z".parse()?,
        due_on: None,
        seller: Party {
            name: "OMS Demo Shop Inc.".into(),
            lines: vec!["1 Example Street".into()],
            tax_id: Some("US-1".into()),
        },
        buyer: Party {
            name: "Zoë Ångström".into(), lines: vec!["350 5th Ave".into(), "北京".into()], tax_id: None
        },
        lines,
        net,
        tax,
        total,
        reference: "capture-1".into(),
        corrects: vec![],
    };
    let t = text(&oms_shared::app::invoices::pdf::render(&inv))?;
    let pages = t.matches('\u{c}').count();
    assert!(pages >= 4, "150 lines need several pages: {pages}");
    for i in [1, 2, 75, 149, 150] {
        assert!(t.contains(&format!("Item number {i} (café crème)")), "line {i} missing");
    }
    assert_eq!(t.matches("Item number ").count(), 150, "each line once");
    for want in [
        "Invoice INV-2026-000042",
        "OMS Demo Shop Inc.",
        "Tax id US-1",
        "Zoë Ångström",
        "-5.00 USD",
        &total.to_string(),
        "page 1 of",
    ] {
        assert!(t.contains(want), "{want:?} missing");
    }
    // Beyond Helvetica's WinAnsi set a character prints as ?, never silently dropped.
    assert!(t.contains("??"), "CJK shown as ?");
    Ok(())
}
