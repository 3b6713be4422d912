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
            let pdf = label_pdf(tracking, "ground", &from, &to, "order 01M8PQYA4TQYE6ET338EZGPENG");
            let read = decode(&pdf, dpi)?;
            assert_eq!(read, vec![tracking.to_owned()], "{tracking} at {dpi} dpi");
        }
    }
    Ok(())
}
