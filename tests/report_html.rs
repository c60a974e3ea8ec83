//! The HTML report of a month, read the way a browser lays it out: the per-day labels of
//! 31 days never overlap (each label at most as wide as its characters at the chart's
//! character width), the axis ticks are round numbers, figures have thousands
//! separators, the header names the period, the files and when the page was made, and the
//! legend says deferrals where the bars count deferrals. The geometry is checked three
//! ways: from the SVG's coordinates and the report's character width, with the glyph
//! widths of the machine's sans-serif font, and as a headless Chromium lays the page out
//! (that test fails when CI=true and Chromium is missing, and is skipped with a note
//! otherwise).

mod cli_support;
mod report_support;

use cli_support::*;
use report_support::*;

/// Width in pixels the report gives a character of its 10-pixel labels.
const CHAR_WIDTH: f64 = 6.5;

/// The RFC 3339 corpus log, once for each day of January 2026.
fn month_log(dir: &std::path::Path) {
    let log = std::fs::read_to_string(corpus().join("syslog-rfc3339-long-ids.log")).unwrap();
    let mut t = String::new();
    for day in 1..=31 {
        t.push_str(&log.replace("2026-12-07T", &format!("2026-01-{day:02}T")));
    }
    std::fs::write(dir.join("month.log"), t).unwrap();
}

/// The `<text class="CLASS" x=".." y="..">TEXT</text>` of an SVG: (x, y, text).
fn texts(svg: &str, class: &str) -> Vec<(f64, f64, String)> {
    let open = format!("<text class=\"{class}\" ");
    svg.split(&open)
        .skip(1)
        .map(|t| {
            let attr = |name: &str| -> f64 {
                let at = t.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                t[at..at + t[at..].find('"').unwrap()].parse().unwrap()
            };
            let body = &t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()];
            (attr("x"), attr("y"), body.to_owned())
        })
        .collect()
}

fn number(s: &str) -> u64 {
    s.replace(',', "").parse().unwrap()
}

#[test]
fn a_month_in_html_is_readable() {
    let dir = scratch("report_html_month");
    month_log(&dir);
    let html = ok(&["report", "--html", "--no-progress", "month.log"], &dir);
    let svgs: Vec<&str> = html.split("<svg").skip(1).collect();
    assert_eq!(svgs.len(), 2, "per hour and per day");
    let day_svg = svgs[1];
    assert!(day_svg.contains("font-size=\"10\""));

    // Labels: the day numbers 1..31 on one line, the month under the first day.
    let labels = texts(day_svg, "label");
    let mut lines: Vec<f64> = labels.iter().map(|l| l.1).collect();
    lines.dedup();
    lines.sort_by(f64::total_cmp);
    lines.dedup();
    assert_eq!(lines.len(), 2, "{labels:?}");
    let days: Vec<&(f64, f64, String)> = labels.iter().filter(|l| l.1 == lines[0]).collect();
    assert_eq!(
        days.iter().map(|l| l.2.as_str()).collect::<Vec<_>>(),
        (1..=31).map(|d| d.to_string()).collect::<Vec<_>>()
    );
    let months: Vec<&str> = labels
        .iter()
        .filter(|l| l.1 == lines[1])
        .map(|l| l.2.as_str())
        .collect();
    assert_eq!(months, ["Jan 2026"]);
    // No two labels of a line overlap (text-anchor middle: x is the centre).
    for line in &lines {
        let mut row: Vec<&(f64, f64, String)> = labels.iter().filter(|l| l.1 == *line).collect();
        row.sort_by(|a, b| a.0.total_cmp(&b.0));
        for w in row.windows(2) {
            let right = w[0].0 + w[0].2.chars().count() as f64 * CHAR_WIDTH / 2.0;
            let left = w[1].0 - w[1].2.chars().count() as f64 * CHAR_WIDTH / 2.0;
            assert!(right <= left, "{:?} and {:?} overlap", w[0], w[1]);
        }
        // The month label ("Jan 2026") also clears the next day's group centre.
    }
    let jan = labels.iter().find(|l| l.2 == "Jan 2026").unwrap();
    let day2 = days[1];
    assert!(jan.0 + 8.0 * CHAR_WIDTH / 2.0 <= day2.0 - CHAR_WIDTH / 2.0);

    // Ticks: round numbers (1, 2 or 5 times a power of ten apart), from 0 up to at least
    // the highest bar, with thousands separators.
    for svg in &svgs {
        let ticks: Vec<u64> = texts(svg, "tick").iter().map(|t| number(&t.2)).collect();
        assert!(ticks.len() >= 2 && ticks[0] == 0, "{ticks:?}");
        let step = ticks[1];
        let mut p = 1;
        while p * 10 <= step {
            p *= 10;
        }
        assert!([p, 2 * p, 5 * p].contains(&step), "{ticks:?}");
        for (i, t) in ticks.iter().enumerate() {
            assert_eq!(*t, step * i as u64, "{ticks:?}");
        }
        let top = *ticks.last().unwrap();
        assert!(top / step <= 5, "{ticks:?}");
    }
    // The daily chart's highest bar: 120 deliveries a day.
    let day_ticks: Vec<String> = texts(day_svg, "tick").into_iter().map(|t| t.2).collect();
    assert_eq!(day_ticks, ["0", "50", "100", "150"]);
    let hour_ticks: Vec<String> = texts(svgs[0], "tick").into_iter().map(|t| t.2).collect();
    assert_eq!(hour_ticks, ["0", "1,000", "2,000", "3,000", "4,000"]);

    // Thousands separators in the tables.
    assert!(
        html.contains("<tr><th class=\"l\">received</th><td>2,666</td></tr>"),
        "{html}"
    );
    assert!(html.contains("<tr><th class=\"l\">bytes received</th><td>12,125,681</td></tr>"));

    // Header: period, files, when made.
    assert!(
        html.contains("<dt>period</dt><dd>2026-01-01 06:56:09 to 2026-01-31 06:59:57</dd>"),
        "{}",
        &html[..1500.min(html.len())]
    );
    assert!(html.contains("<dt>files</dt><dd>month.log</dd>"));
    let made = &html[html.find("<dt>made</dt><dd>").unwrap() + 17..];
    let made = &made[..made.find("</dd>").unwrap()];
    let b = made.as_bytes();
    assert!(
        b.len() == 19 && b[4] == b'-' && b[10] == b' ' && b[13] == b':',
        "{made}"
    );

    // The legend names what the bars count: deferrals (not deferred messages).
    assert!(html.contains("</span>deferrals<span"), "{html}");
    assert!(day_svg.contains("<title>1 Jan 2026 deferrals: "));
}

/// The font file a browser on this machine draws `sans-serif` with (fontconfig's choice),
/// or DejaVu Sans.
fn sans_serif_font() -> Vec<u8> {
    let chosen = std::process::Command::new("fc-match")
        .args(["-f", "%{file}", "sans-serif"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .filter(|p| std::path::Path::new(p).is_file());
    let path =
        chosen.unwrap_or_else(|| "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf".to_owned());
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!("{path}: {e} (a sans-serif font is needed: Debian's fonts-dejavu-core)")
    })
}

#[test]
fn the_chart_labels_fit_when_drawn_with_a_real_font() {
    // The report sizes its label slots at CHAR_WIDTH pixels per character of its
    // 10-pixel labels; measured with the glyph advances of the font a browser here would
    // use, every label is at most that wide, so with the real font no two overlap and
    // every tick label fits left of the axis.
    let data = sans_serif_font();
    let face = ttf_parser::Face::parse(&data, 0).unwrap();
    let scale = 10.0 / f64::from(face.units_per_em());
    let width = |s: &str| -> f64 {
        s.chars()
            .map(|c| {
                let g = face
                    .glyph_index(c)
                    .unwrap_or_else(|| panic!("no glyph for {c:?}"));
                f64::from(face.glyph_hor_advance(g).unwrap()) * scale
            })
            .sum()
    };
    let dir = scratch("report_html_font");
    month_log(&dir);
    let html = ok(&["report", "--html", "--no-progress", "month.log"], &dir);
    let mut checked = 0;
    for svg in html.split("<svg").skip(1) {
        let labels = texts(svg, "label");
        for l in &labels {
            assert!(
                width(&l.2) <= l.2.chars().count() as f64 * CHAR_WIDTH,
                "{:?} is {} px wide",
                l.2,
                width(&l.2)
            );
        }
        let mut ys: Vec<f64> = labels.iter().map(|l| l.1).collect();
        ys.sort_by(f64::total_cmp);
        ys.dedup();
        for y in ys {
            let mut row: Vec<&(f64, f64, String)> = labels.iter().filter(|l| l.1 == y).collect();
            row.sort_by(|a, b| a.0.total_cmp(&b.0));
            for w in row.windows(2) {
                let gap = (w[1].0 - width(&w[1].2) / 2.0) - (w[0].0 + width(&w[0].2) / 2.0);
                assert!(gap >= 2.0, "{:?} and {:?}: {gap} px apart", w[0], w[1]);
                checked += 1;
            }
        }
        for t in texts(svg, "tick") {
            // text-anchor end: the text ends at x.
            assert!(t.0 - width(&t.2) >= 0.0, "tick {:?} is cut off", t.2);
        }
    }
    // 23 gaps between the hours, 30 between the days.
    assert_eq!(checked, 23 + 30);
}

/// A headless Chromium, if installed (Debian: `chromium`).
fn chromium() -> Option<String> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            std::process::Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(str::to_owned);
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is required in CI"
        );
        eprintln!("note: chromium not installed; skipping the browser layout test");
    }
    found
}

/// Measures, in the page as the browser lays it out, every SVG text's box and every
/// SVG's box, and writes them as JSON into `<pre id="layout">`.
const PROBE: &str = r#"<script>
const out = [];
document.querySelectorAll('svg').forEach((svg, i) => {
  const s = svg.getBoundingClientRect();
  out.push([i, 'svg', '', s.left, s.right, s.top, s.bottom]);
  svg.querySelectorAll('text').forEach(t => {
    const r = t.getBoundingClientRect();
    out.push([i, t.getAttribute('class'), t.textContent, r.left, r.right, r.top, r.bottom]);
  });
});
const p = document.createElement('pre');
p.id = 'layout';
p.textContent = JSON.stringify(out);
document.body.appendChild(p);
</script></body>"#;

#[test]
fn a_real_browser_lays_out_a_month_without_overlap_or_clipping() {
    let Some(browser) = chromium() else { return };
    let dir = scratch("report_html_browser");
    month_log(&dir);
    let html = ok(&["report", "--html", "--no-progress", "month.log"], &dir);
    assert!(!html.contains("<script"), "the report itself has no script");
    std::fs::write(dir.join("probe.html"), html.replace("</body>", PROBE)).unwrap();
    let out = std::process::Command::new(&browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", dir.join("probe.html").display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let dom = stdout(&out);
    let at = dom.find("<pre id=\"layout\">").expect("the probe ran") + 17;
    let json = &dom[at..at + dom[at..].find("</pre>").unwrap()];
    let items: Vec<(u64, String, String, f64, f64, f64, f64)> =
        serde_json::from_str::<Vec<serde_json::Value>>(json)
            .unwrap()
            .into_iter()
            .map(|v| {
                let f = |i: usize| v[i].as_f64().unwrap();
                (
                    v[0].as_u64().unwrap(),
                    v[1].as_str().unwrap().to_owned(),
                    v[2].as_str().unwrap().to_owned(),
                    f(3),
                    f(4),
                    f(5),
                    f(6),
                )
            })
            .collect();
    let mut labels_checked = 0;
    for chart in 0..2 {
        let svg = items
            .iter()
            .find(|i| i.0 == chart && i.1 == "svg")
            .expect("two charts");
        let texts: Vec<_> = items
            .iter()
            .filter(|i| i.0 == chart && i.1 != "svg")
            .collect();
        // Every text is drawn, inside its chart (nothing clipped).
        for t in &texts {
            assert!(t.4 > t.3 && t.6 > t.5, "{t:?} not drawn");
            assert!(
                t.3 >= svg.3 && t.4 <= svg.4 && t.5 >= svg.5 && t.6 <= svg.6,
                "{t:?} outside its chart {svg:?}"
            );
        }
        // Labels on one line never overlap; tick labels end left of the first label.
        let labels: Vec<_> = texts.iter().filter(|t| t.1 == "label").collect();
        let mut tops: Vec<f64> = labels.iter().map(|t| t.5).collect();
        tops.sort_by(f64::total_cmp);
        tops.dedup();
        for top in tops {
            let mut row: Vec<_> = labels.iter().filter(|t| t.5 == top).collect();
            row.sort_by(|a, b| a.3.total_cmp(&b.3));
            for w in row.windows(2) {
                assert!(w[0].4 <= w[1].3, "{:?} and {:?} overlap", w[0], w[1]);
                labels_checked += 1;
            }
        }
        let first_bar_area = labels.iter().map(|t| t.3).fold(f64::MAX, f64::min);
        for t in texts.iter().filter(|t| t.1 == "tick") {
            assert!(t.4 <= first_bar_area, "tick {t:?} runs into the chart");
        }
    }
    // 23 gaps between the hours, 30 between the days (the month label is alone on its
    // line).
    assert_eq!(labels_checked, 23 + 30);
}
