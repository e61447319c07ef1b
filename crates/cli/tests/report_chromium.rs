//! `yardstick report` pages opened in a real browser: headless Chromium
//! (Debian's `chromium`, `.ci/setup-chromium.sh`) loads each page from a
//! file with networking off, must draw every chart with no console message
//! and no script error, and takes a screenshot that must not be blank. The
//! sweep's Pareto chart must have one point per concurrency.
//!
//! Without Chromium the tests are skipped, except under CI (`CI=true`),
//! where a missing browser fails them.

mod common;
#[path = "../../report/tests/fixtures/mod.rs"]
mod fixtures;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{bin, stdout, target_scratch, text};
use serde_json::Value;
use yardstick_record::{write_record, RunRecord};

/// The browser: `$YARDSTICK_CHROMIUM`, else `chromium` or
/// `chromium-browser` on PATH. `None` (skip) only outside CI.
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("YARDSTICK_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| {
            let path = std::env::var_os("PATH")?;
            std::env::split_paths(&path)
                .flat_map(|d| [d.join("chromium"), d.join("chromium-browser")])
                .find(|p| p.is_file())
        });
    if found.is_none() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "chromium is required under CI: run .ci/setup-chromium.sh"
        );
        eprintln!("skipped: chromium is not installed (.ci/setup-chromium.sh installs it)");
    }
    found
}

/// Runs the browser on `page` with `mode_args`, killing it after two
/// minutes.
fn run_chromium(browser: &Path, scratch: &Path, page: &Path, mode_args: &[String]) -> Output {
    let profile = scratch.join(format!("profile-{}", mode_args.len()));
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(mode_args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    // Read the pipes on threads so a full pipe cannot stall the browser.
    let mut out_pipe = child.stdout.take().expect("piped stdout");
    let mut err_pipe = child.stderr.take().expect("piped stderr");
    let out_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out_pipe, &mut v).ok();
        v
    });
    let err_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut err_pipe, &mut v).ok();
        v
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!(
                "chromium did not finish with {} in 2 minutes",
                page.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    Output {
        status,
        stdout: out_thread.join().unwrap_or_default(),
        stderr: err_thread.join().unwrap_or_default(),
    }
}

/// Console messages and uncaught errors Chromium logged (it logs every
/// console level as `INFO:CONSOLE`; the page logs nothing when all is
/// well, so any such line is a failure).
fn console_lines(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .map(String::from)
        .collect()
}

/// Fraction of pixels that differ from the most common colour, and the
/// number of distinct colours.
fn screenshot_content(png_path: &Path) -> (f64, usize) {
    let file = std::fs::File::open(png_path).expect("screenshot written");
    let decoder = png::Decoder::new(std::io::BufReader::new(file));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("PNG size")];
    let info = reader.next_frame(&mut buf).expect("PNG frame");
    let channels = info.color_type.samples();
    let mut counts: std::collections::HashMap<&[u8], usize> = std::collections::HashMap::new();
    for px in buf[..info.buffer_size()].chunks(channels) {
        *counts.entry(px).or_default() += 1;
    }
    let total = (info.width * info.height) as usize;
    let most = counts.values().copied().max().unwrap_or(0);
    ((total - most) as f64 / total as f64, counts.len())
}

/// Writes `runs` as run folders under `dir/runs`, renders them with
/// `yardstick report`, opens the page in Chromium and checks it. Returns
/// the chart specs for case-specific checks.
fn render_and_open(case: &str, runs: &[RunRecord]) -> Option<Vec<Value>> {
    let browser = chromium()?;
    let scratch = target_scratch("report_chromium", case);
    let runs_dir = scratch.join("runs");
    for r in runs {
        // Sweep points in folders named by load (`c1`, `c16`, `c4` in name
        // order), as `yardstick endpoint` writes them.
        let folder = r.load.as_ref().map_or(r.id.clone(), |l| l.label.clone());
        let dir = runs_dir.join(folder);
        std::fs::create_dir_all(&dir).expect("run folder");
        write_record(&dir, r).expect("run.json written");
    }
    // One run by its folder, several by the folder of run folders.
    let named = if runs.len() == 1 {
        runs_dir.join(&runs[0].id)
    } else {
        runs_dir.clone()
    };
    let page = scratch.join("report.html");
    let out = bin()
        .arg("report")
        .arg(&named)
        .arg("-o")
        .arg(&page)
        .output()
        .expect("yardstick runs");
    assert!(out.status.success(), "{}", text(&out));
    let said = stdout(&out);
    assert!(said.contains("report.html"), "{said}");
    assert!(said.contains("open it:"), "{said}");
    let html = std::fs::read_to_string(&page).expect("report written");
    let specs = fixtures::chart_specs(&html);
    assert!(!specs.is_empty());

    // The DOM after the scripts ran: every chart drawn, no error.
    let dom = run_chromium(&browser, &scratch, &page, &["--dump-dom".to_string()]);
    assert!(dom.status.success(), "chromium --dump-dom failed");
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    let expected_status = format!(
        "data-charts-expected=\"{n}\" data-charts-drawn=\"{n}\" data-errors=\"0\"",
        n = specs.len()
    );
    assert!(
        dom_text.contains(&expected_status),
        "render status: {:?}",
        dom_text
            .find("render-status")
            .map(|i| &dom_text[i..(i + 200).min(dom_text.len())])
    );
    // ECharts drew each chart as SVG inside its element.
    assert!(dom_text.matches("<svg").count() >= specs.len());
    let mut console = console_lines(&dom);

    // The screenshot.
    let png = scratch.join("screenshot.png");
    let shot = run_chromium(
        &browser,
        &scratch,
        &page,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1400,2400".to_string(),
        ],
    );
    assert!(shot.status.success(), "chromium --screenshot failed");
    console.extend(console_lines(&shot));
    assert!(console.is_empty(), "console output: {console:#?}");
    let (non_background, colours) = screenshot_content(&png);
    assert!(
        non_background > 0.05 && colours > 50,
        "{}: the screenshot looks blank ({:.1} % non-background, {colours} colours)",
        png.display(),
        non_background * 100.0
    );
    eprintln!("screenshot: {}", png.display());
    Some(specs)
}

#[test]
fn loadgen_server_run_renders() {
    let Some(specs) = render_and_open("server", &[fixtures::server_run()]) else {
        return;
    };
    let kinds: Vec<&str> = specs.iter().filter_map(|s| s["kind"].as_str()).collect();
    assert_eq!(kinds, ["cdf", "timeline"]);
}

#[test]
fn endpoint_sweep_renders_with_one_pareto_point_per_concurrency() {
    let runs = fixtures::sweep_runs();
    let Some(specs) = render_and_open("sweep", &runs) else {
        return;
    };
    let pareto: Vec<&Value> = specs.iter().filter(|s| s["kind"] == "pareto").collect();
    assert_eq!(pareto.len(), 1);
    let points = pareto[0]["option"]["series"][0]["data"]
        .as_array()
        .expect("pareto points");
    let concurrencies: Vec<u64> = runs
        .iter()
        .filter_map(|r| r.load.as_ref()?.concurrency)
        .collect();
    assert_eq!(points.len(), concurrencies.len());
    let labels: Vec<String> = points
        .iter()
        .map(|p| p["name"].as_str().unwrap_or_default().to_string())
        .collect();
    let expected: Vec<String> = concurrencies.iter().map(|c| format!("c{c}")).collect();
    assert_eq!(labels, expected);
    // Overlaid in sweep order, not folder-name order.
    for cdf in specs.iter().filter(|s| s["kind"] == "cdf") {
        let names: Vec<&str> = cdf["option"]["series"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s["name"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(names, ["c1", "c4", "c16"]);
    }
    // TTFT, TPOT, ITL, chunk gap and end-to-end CDFs, the rate, the
    // Pareto.
    assert_eq!(specs.len(), 7);
}

#[test]
fn several_runs_overlaid_render() {
    let runs = vec![fixtures::server_run(), fixtures::offline_invalid_run()];
    let Some(specs) = render_and_open("overlay", &runs) else {
        return;
    };
    let cdf = specs.iter().find(|s| s["kind"] == "cdf").expect("a CDF");
    assert_eq!(
        cdf["option"]["series"].as_array().map(Vec::len),
        Some(2),
        "one series per run"
    );
}
