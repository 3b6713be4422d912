//! Minimal SVG plots (no plotting dependency): latency distributions as step CDFs.

pub fn cdf_svg(title: &str, series: &[(String, Vec<f64>)], unit: &str) -> String {
    let (w, h, ml, mb, mt, mr) = (720.0, 400.0, 60.0, 50.0, 40.0, 160.0);
    let max_x = series.iter().flat_map(|(_, v)| v.iter().copied()).fold(1.0_f64, f64::max);
    let x = |v: f64| ml + (v / max_x) * (w - ml - mr);
    let y = |p: f64| h - mb - p * (h - mb - mt);
    let colors = ["#1b7f3b", "#1f5fbf", "#c2410c", "#7c3aed"];
    let mut s = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' font-family='Helvetica' font-size='12'>\
         <rect width='100%' height='100%' fill='white'/><text x='{ml}' y='24' font-size='15'>{title}</text>\
         <line x1='{ml}' y1='{}' x2='{}' y2='{}' stroke='#333'/><line x1='{ml}' y1='{mt}' x2='{ml}' y2='{}' stroke='#333'/>",
        h - mb,
        w - mr,
        h - mb,
        h - mb
    );
    for i in 0..=4 {
        let p = i as f64 / 4.0;
        s += &format!("<text x='{}' y='{}' text-anchor='end'>{:.0}%</text>", ml - 6.0, y(p) + 4.0, p * 100.0);
        let v = max_x * p;
        s += &format!("<text x='{}' y='{}' text-anchor='middle'>{v:.0}</text>", x(v), h - mb + 16.0);
    }
    s += &format!("<text x='{}' y='{}' text-anchor='middle'>{unit}</text>", (ml + w - mr) / 2.0, h - 12.0);
    for (i, (name, values)) in series.iter().enumerate() {
        let mut v = values.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        let n = v.len().max(1) as f64;
        let mut d = format!("M {} {}", x(0.0), y(0.0));
        for (k, val) in v.iter().enumerate() {
            d += &format!(" L {:.1} {:.1} L {:.1} {:.1}", x(*val), y(k as f64 / n), x(*val), y((k + 1) as f64 / n));
        }
        let c = colors[i % colors.len()];
        s += &format!("<path d='{d}' fill='none' stroke='{c}' stroke-width='2'/>");
        s += &format!("<text x='{}' y='{}' fill='{c}'>{name}</text>", w - mr + 10.0, mt + 18.0 * (i as f64 + 1.0));
    }
    s + "</svg>"
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}
