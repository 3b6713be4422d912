//! An invoice or credit note as an A4 PDF (pdf-writer, the standard Helvetica font in WinAnsi:
//! a character outside it prints as `?`). Long documents continue on further pages with the
//! table header repeated; the totals close the last page.

use crate::domain::invoice::{Invoice, InvoiceLine};
use crate::winansi::winansi;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const LEFT: f32 = 50.0;
const BOTTOM: f32 = 90.0;
const ROW: f32 = 14.0;
/// Column x positions: description, quantity, unit price, net, tax, total.
const COLS: [f32; 6] = [50.0, 290.0, 330.0, 400.0, 460.0, 520.0];

fn bytes(s: &str) -> Vec<u8> {
    s.chars().map(|c| winansi(c).unwrap_or(b'?')).collect()
}

/// A description cut to fit its column (about 40 characters at 9 pt), with an ellipsis.
fn fit(s: &str, max: usize) -> String {
    if s.chars().count() <= max { s.to_owned() } else { format!("{}...", s.chars().take(max - 3).collect::<String>()) }
}

struct Page {
    content: Content,
    y: f32,
}

impl Page {
    fn new() -> Self {
        Page { content: Content::new(), y: HEIGHT - 60.0 }
    }

    fn text(&mut self, x: f32, size: f32, s: &str) {
        self.content.begin_text();
        self.content.set_font(Name(b"F1"), size);
        self.content.next_line(x, self.y);
        self.content.show(Str(&bytes(s)));
        self.content.end_text();
    }

    fn at(&mut self, x: f32, y: f32, size: f32, s: &str) {
        let keep = self.y;
        self.y = y;
        self.text(x, size, s);
        self.y = keep;
    }

    fn rule(&mut self) {
        self.content.set_line_width(0.5);
        self.content.move_to(LEFT, self.y - 4.0);
        self.content.line_to(WIDTH - LEFT, self.y - 4.0);
        self.content.stroke();
    }

    fn header(&mut self) {
        for (x, h) in COLS.iter().zip(["Description", "Qty", "Unit price", "Net", "Tax", "Total"]) {
            self.at(*x, self.y, 9.0, h);
        }
        self.rule();
        self.y -= ROW + 2.0;
    }

    fn line(&mut self, l: &InvoiceLine) {
        let sign = if l.deduct { "-" } else { "" };
        let desc = match &l.sku {
            Some(sku) => format!("{} ({sku})", l.description),
            None => l.description.clone(),
        };
        let cells = [
            fit(&desc, 44),
            l.quantity.to_string(),
            l.unit_price.to_string(),
            format!("{sign}{}", l.net),
            format!("{sign}{}", l.tax),
            format!("{sign}{}", l.total),
        ];
        for (x, c) in COLS.iter().zip(cells) {
            self.at(*x, self.y, 8.0, &c);
        }
        self.y -= ROW;
    }
}

/// The document's PDF bytes.
pub fn render(inv: &Invoice) -> Vec<u8> {
    let mut pages: Vec<Page> = Vec::new();
    let mut p = Page::new();
    p.text(LEFT, 18.0, &format!("{} {}", inv.kind.title(), inv.number));
    p.y -= 24.0;
    p.text(LEFT, 9.0, &format!("Issued {}   Order {}", inv.issued_at.format("%Y-%m-%d"), inv.order_id));
    p.y -= ROW;
    let paid = match inv.due_on {
        Some(d) => format!("Payment due by {d}"),
        None if inv.kind == crate::domain::invoice::DocumentKind::CreditNote => {
            "Refunded to your payment method".into()
        }
        None => "Paid".into(),
    };
    p.text(LEFT, 9.0, &paid);
    p.y -= ROW;
    if !inv.corrects.is_empty() {
        p.text(LEFT, 9.0, &format!("Corrects {}", inv.corrects.join(", ")));
        p.y -= ROW;
    }
    p.y -= 10.0;
    let top = p.y;
    for (x, title, party) in [(LEFT, "Seller", &inv.seller), (320.0, "Bill to", &inv.buyer)] {
        p.y = top;
        p.text(x, 9.0, title);
        p.y -= ROW;
        p.text(x, 10.0, &party.name);
        for l in party.lines.iter().chain(party.tax_id.as_ref().map(|t| format!("Tax id {t}")).iter()) {
            p.y -= ROW;
            p.text(x, 9.0, l);
        }
    }
    let rows = 2 + inv.seller.lines.len().max(inv.buyer.lines.len() + 1);
    p.y = top - ROW * rows as f32 - 14.0;
    p.header();
    for l in &inv.lines {
        if p.y < BOTTOM {
            pages.push(p);
            p = Page::new();
            p.header();
        }
        p.line(l);
    }
    if p.y < BOTTOM + 3.0 * ROW {
        pages.push(p);
        p = Page::new();
    }
    p.y -= 6.0;
    p.rule();
    p.y -= ROW + 2.0;
    for (label, value, size) in [("Net", inv.net, 9.0), ("Tax", inv.tax, 9.0), ("Total", inv.total, 11.0)] {
        p.at(COLS[3], p.y, size, label);
        p.at(COLS[5], p.y, size, &value.to_string());
        p.y -= ROW + 1.0;
    }
    pages.push(p);
    write(pages, &inv.number)
}

fn write(pages: Vec<Page>, number: &str) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let font = Ref::new(3);
    let ids: Vec<(Ref, Ref)> = (0..pages.len() as i32).map(|i| (Ref::new(4 + 2 * i), Ref::new(5 + 2 * i))).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(ids.iter().map(|(p, _)| *p)).count(ids.len() as i32);
    pdf.type1_font(font).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    let n = pages.len();
    for (i, (page, (pid, cid))) in pages.into_iter().zip(ids).enumerate() {
        let mut content = page.content;
        content.begin_text();
        content.set_font(Name(b"F1"), 8.0);
        content.next_line(LEFT, 40.0);
        content.show(Str(&bytes(&format!("{number}   page {} of {n}", i + 1))));
        content.end_text();
        let mut pg = pdf.page(pid);
        pg.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT)).parent(tree).contents(cid);
        pg.resources().fonts().pair(Name(b"F1"), font);
        pg.finish();
        pdf.stream(cid, &content.finish());
    }
    pdf.finish()
}
