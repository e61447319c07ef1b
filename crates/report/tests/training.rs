//! The training section: present only for training runs, accuracy over
//! time against the target line, time-to-train per seed and the set score.

mod fixtures;

use serde_json::{json, Value};
use yardstick_record::{Better, GroupKind, GroupRef, Metric, RunKind, RunStatus};
use yardstick_report::{render_html, ReportOptions};

fn training_run(
    seed: u64,
    index: u32,
    evals: &[(f64, f64)],
    ttt: Option<f64>,
) -> yardstick_record::RunRecord {
    let mut r = fixtures::server_run();
    r.kind = RunKind::Training;
    r.status = if ttt.is_some() {
        RunStatus::Completed
    } else {
        RunStatus::Failed
    };
    r.metrics.clear();
    if let Some(s) = ttt {
        r.metrics
            .push(Metric::new("time_to_train", s, "s", Better::Lower));
    }
    r.group = Some(GroupRef {
        id: "g-train".into(),
        kind: GroupKind::Training,
        index,
        size: Some(3),
        label: format!("seed {seed}"),
    });
    r.extra.insert(
        "training".into(),
        json!({
            "seed": seed,
            "target": 0.9,
            "run_stop_status": if ttt.is_some() { "success" } else { "aborted" },
            "evals": evals.iter().map(|&(s, a)| json!({"seconds_since_run_start": s, "epoch": 1, "samples": null, "accuracy": a})).collect::<Vec<_>>(),
        }),
    );
    r
}

#[test]
fn a_run_that_is_not_training_has_no_section() {
    let html = render_html(&[fixtures::server_run()], &ReportOptions::default());
    assert!(!html.contains("id=\"training\""));
    assert!(!html.contains("href=\"#training\""));
}

#[test]
fn training_runs_give_a_curve_with_the_target_a_table_and_the_score() {
    let mut last = training_run(3, 2, &[(10.0, 0.85), (20.0, 0.92)], Some(21.5));
    last.extra.insert(
        "training_set".into(),
        json!({"score_minutes": 0.3583, "how": "olympic mean of 3 runs dropping the 1 fastest and slowest"}),
    );
    let runs = [
        training_run(
            1,
            0,
            &[(10.0, 0.8), (20.0, 0.88), (30.0, 0.91)],
            Some(31.25),
        ),
        training_run(2, 1, &[(12.0, 0.7)], None),
        last,
    ];
    let html = render_html(&runs, &ReportOptions::default());
    assert!(html.contains("<a href=\"#training\">Training</a>"));
    let start = html.find("id=\"training\"").expect("section");
    let section = &html[start..start + html[start..].find("</section>").expect("closed")];
    for text in [
        "31.25 s (0.521 min)",
        "21.5 s (0.358 min)",
        "aborted",
        "0.91",
        "score 0.3583 min (21.498 s): olympic mean of 3 runs",
        "<code>g-train</code>",
    ] {
        assert!(section.contains(text), "{text} missing in {section}");
    }
    assert_eq!(
        section.matches("Training set").count(),
        1,
        "one score per group"
    );
    let chart: Vec<Value> = fixtures::chart_specs(&html)
        .into_iter()
        .filter(|c| c["kind"] == "training")
        .collect();
    assert_eq!(chart.len(), 1);
    let series = chart[0]["option"]["series"].as_array().expect("series");
    assert_eq!(series.len(), 3);
    assert_eq!(
        series[0]["data"],
        json!([[10.0, 0.8], [20.0, 0.88], [30.0, 0.91]])
    );
    assert_eq!(series[0]["markLine"]["data"][0]["yAxis"], json!(0.9));
    assert_eq!(series[1]["data"], json!([[12.0, 0.7]]));
}
