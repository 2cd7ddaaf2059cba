//! The chart of a run: `docs/performance-<profile>-<network>.svg`.

use crate::operation::Operation;
use local_aws::repo_root;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::Value;

/// p50 and p99 of each operation, handler next to raw SDK, from the `results.json` of a run.
pub fn draw(results: &Value) {
    let commit = results["commit"].as_str().unwrap_or("?");
    let profile = results["profile"].as_str().unwrap_or("release");
    let network = results["network"].as_str().unwrap_or("loopback");
    let figure = |op: &Operation, key: &str| results["warm"][op.label()][key].as_f64().unwrap();
    let path = repo_root().join(format!("docs/performance-{profile}-{network}.svg"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let root = SVGBackend::new(&path, (960, 480)).into_drawing_area();
    root.fill(&WHITE).unwrap();
    let top = Operation::ALL
        .iter()
        .map(|op| figure(op, "handlerP99Ms").max(figure(op, "rawP99Ms")))
        .fold(0.0, f64::max)
        * 1.15;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Warm latency, handler vs raw SDK (commit {commit}, {profile}, {network} network)"
            ),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..Operation::ALL.len() as f64, 0.0..top)
        .unwrap();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("ms")
        .draw()
        .unwrap();
    let series = [
        ("handler p50", RGBColor(31, 119, 180), 0.1, "handlerP50Ms"),
        ("raw SDK p50", RGBColor(255, 127, 14), 0.3, "rawP50Ms"),
        ("handler p99", RGBColor(158, 202, 225), 0.5, "handlerP99Ms"),
        ("raw SDK p99", RGBColor(253, 208, 162), 0.7, "rawP99Ms"),
    ];
    for (label, color, offset, key) in series {
        chart
            .draw_series(Operation::ALL.iter().enumerate().map(|(i, op)| {
                let x = i as f64 + offset;
                Rectangle::new([(x, 0.0), (x + 0.18, figure(op, key))], color.filled())
            }))
            .unwrap()
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    // One label under each group of bars (plotters' own would pick "nice" numbers instead).
    for (i, op) in Operation::ALL.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(i as f64 + 0.45, 0.0));
        let style =
            TextStyle::from(("sans-serif", 13).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        root.draw(&Text::new(op.label(), (x, y + 8), style))
            .unwrap();
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .unwrap();
    root.present().unwrap();
}
