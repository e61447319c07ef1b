//! The MLPerf power protocol end to end: yardstick's clients against the
//! simulated PTDaemon and director, and the ported power checker on the
//! folders they leave.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use yardstick_power::ptd::check::{check_power_folders, CheckOptions, Rule, Verdict};
use yardstick_power::ptd::sim::{SimDirector, SimDirectorConfig, SimPtd, SimPtdConfig};
use yardstick_power::ptd::{
    format_ptd_time, open_meter, read_spl, run_director_session, Mode, PtdError, WorkloadError,
    WorkloadRun,
};
use yardstick_power::PowerError;

const PERIOD: Duration = Duration::from_millis(10);

fn sim_ptd(seed: u64) -> SimPtd {
    let config = SimPtdConfig {
        seed,
        sample_period: Some(PERIOD),
        ..SimPtdConfig::default()
    };
    SimPtd::start("127.0.0.1:0", config).expect("the simulated PTDaemon starts")
}

fn sim_director(out_dir: &Path, drop_on: Option<&str>) -> SimDirector {
    let mut config = SimDirectorConfig::new(out_dir.to_path_buf());
    config.ptd = SimPtdConfig {
        seed: 7,
        sample_period: Some(PERIOD),
        ..SimPtdConfig::default()
    };
    config.settle = Duration::from_millis(20);
    config.drop_on = drop_on.map(str::to_string);
    SimDirector::start("127.0.0.1:0", config).expect("the simulated director starts")
}

/// A stand-in workload: LoadGen's two logs with a power window of
/// `active`, the window's length as its "result".
fn fake_loadgen_run(
    dir: &Path,
    mode: Mode,
    active: Duration,
) -> Result<WorkloadRun<Duration>, WorkloadError> {
    let logs = dir.join(format!("loadgen_{}", mode.name()));
    std::fs::create_dir_all(&logs)?;
    std::thread::sleep(Duration::from_millis(30));
    let begin = SystemTime::now();
    std::thread::sleep(active);
    let end = SystemTime::now();
    let event = |key: &str, t: SystemTime| {
        format!(
            ":::MLLOG {{\"key\": \"{key}\", \"value\": \"{}\", \"time_ms\": 0.0, \"namespace\": \"mlperf::logging\", \"event_type\": \"POINT_IN_TIME\", \"metadata\": {{\"is_error\": false, \"is_warning\": false, \"file\": \"run.rs\", \"line_no\": 1, \"pid\": 1, \"tid\": 1}}}}\n",
            format_ptd_time(t)
        )
    };
    std::fs::write(
        logs.join("mlperf_log_detail.txt"),
        event("power_begin", begin) + &event("power_end", end),
    )?;
    std::fs::write(
        logs.join("mlperf_log_summary.txt"),
        format!("Result is : VALID\nmode: {}\n", mode.name()),
    )?;
    std::thread::sleep(Duration::from_millis(30));
    Ok(WorkloadRun {
        loadgen_logs: logs,
        result: end.duration_since(begin)?,
    })
}

/// Send raw lines to a PTDaemon and collect one reply each.
fn raw_exchange(addr: std::net::SocketAddr, commands: &[&str]) -> Vec<String> {
    let mut stream = TcpStream::connect(addr).expect("connects");
    let mut reader = BufReader::new(stream.try_clone().expect("clones"));
    commands
        .iter()
        .map(|command| {
            stream
                .write_all(format!("{command}\r\n").as_bytes())
                .expect("sends");
            let mut line = String::new();
            reader.read_line(&mut line).expect("reads");
            line.trim_end().to_string()
        })
        .collect()
}

#[test]
fn simulated_ptdaemon_answers_the_protocol_and_its_errors() {
    let ptd = sim_ptd(3);
    let replies = raw_exchange(
        ptd.addr(),
        &[
            "Hello",
            "Identify",
            "RR",
            "Stop",
            "RL,*,*",
            "DC-RL",
            "SR,A,-1",
            "SR,A,Auto",
            "Go,1000,0,m",
            "Go,1000,0,m",
            "Bogus",
        ],
    );
    assert_eq!(replies[0], "Hello, PTDaemon here!");
    assert!(
        replies[1].starts_with("YokogawaWT310,version=1.11.1-"),
        "{}",
        replies[1]
    );
    assert_eq!(replies[2], "Ranges,1,-1.000000,1,-1.000000");
    assert_eq!(replies[3], "Error: no measurement to stop");
    assert_eq!(replies[4], "Error: Invalid number of parameters");
    assert_eq!(replies[5], "Error: Unknown command");
    assert!(
        replies[6].starts_with("Error: invalid range"),
        "{}",
        replies[6]
    );
    assert_eq!(replies[7], "Range A changed");
    assert_eq!(
        replies[8],
        "Starting untimed measurement, maximum 500000 samples at 1000ms with 0 rampup samples"
    );
    assert_eq!(replies[9], "Error: measurement already running");
    assert_eq!(replies[10], "Error: Unknown command");
}

#[test]
fn simulated_meter_ranges_like_a_real_one() {
    let ptd = sim_ptd(3);
    // 250 W at 230 V is about 1.1 A: a 20 A range is too coarse, 0.01 A too fine.
    raw_exchange(ptd.addr(), &["SR,A,20", "Go,1000,0,wide"]);
    std::thread::sleep(Duration::from_millis(60));
    raw_exchange(ptd.addr(), &["Stop", "SR,A,0.01", "Go,1000,0,narrow"]);
    std::thread::sleep(Duration::from_millis(60));
    raw_exchange(ptd.addr(), &["Stop"]);
    let log = ptd.stdout_log();
    // 0.1% + 0.2% x 20 A / ~1.15 A: about 3.6%, over PTDaemon's 1% limit.
    assert!(log.contains("WARNING: Uncertainty 3."), "{log}");
    assert!(
        log.contains("ERROR: Current appears to be too high for set range"),
        "{log}"
    );
    assert!(
        log.contains(": Go with mark 'wide'") && log.contains(": Completed test"),
        "{log}"
    );
}

#[test]
fn direct_meter_reads_deterministic_watts_and_writes_spl() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut traces = Vec::new();
    for run in 0..2 {
        let ptd = sim_ptd(42);
        let mut meter = open_meter(&format!("ptd://{}", ptd.addr())).expect("connects");
        assert!(
            meter.describe().contains("YokogawaWT310"),
            "{}",
            meter.describe()
        );
        meter.start().expect("starts");
        std::thread::sleep(Duration::from_millis(120));
        traces.push(meter.stop().expect("stops"));
        // PTDaemon serves one connection at a time.
        drop(meter);
        if run == 0 {
            let spl = dir.path().join("spl.txt");
            let mut meter = yardstick_power::ptd::PtdMeter::connect(&ptd.addr().to_string())
                .expect("connects")
                .with_spl_file(spl.clone());
            yardstick_power::PowerMeter::start(&mut meter).expect("starts");
            std::thread::sleep(Duration::from_millis(50));
            yardstick_power::PowerMeter::stop(&mut meter).expect("stops");
            let samples = read_spl(&spl).expect("spl.txt");
            assert!(samples.len() >= 3, "{} samples", samples.len());
            assert!(samples.iter().all(|s| s.mark.starts_with("yardstick_")));
            let restore: Vec<&str> = meter
                .messages()
                .iter()
                .rev()
                .take(2)
                .map(|m| m.cmd.as_str())
                .collect();
            assert_eq!(restore, ["SR,A,Auto", "SR,V,Auto"]);
        }
    }
    let watts =
        |t: &yardstick_power::PowerTrace| t.samples.iter().map(|s| s.watts).collect::<Vec<_>>();
    let (first, second) = (watts(&traces[0]), watts(&traces[1]));
    assert!(first.len() >= 8, "{} samples", first.len());
    assert!(
        first.iter().all(|w| (242.5..=257.5).contains(w)),
        "{first:?}"
    );
    let common = first.len().min(second.len());
    assert_eq!(
        first[..common],
        second[..common],
        "the same seed gives the same watts"
    );
}

#[test]
fn direct_meter_reports_a_dropped_ptdaemon() {
    let config = SimPtdConfig {
        seed: 1,
        sample_period: Some(PERIOD),
        drop_after_commands: Some(6),
        ..SimPtdConfig::default()
    };
    let ptd = SimPtd::start("127.0.0.1:0", config).expect("starts");
    let mut meter = open_meter(&ptd.addr().to_string()).expect("connects");
    meter
        .start()
        .expect("Hello, Identify, RR, SR, SR, Go are answered");
    let error = meter.stop().expect_err("Stop goes unanswered");
    assert!(
        matches!(&error, PowerError::Ptd(PtdError::Disconnected { peer: "PTDaemon", during }) if during == "Stop"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("PTDaemon closed the connection during \"Stop\""),
        "{error}"
    );
}

/// One full session against the simulated director; the session folder.
fn full_session(work: &Path) -> PathBuf {
    let director = sim_director(&work.join("director"), None);
    let out = work.join("client");
    let outcome = run_director_session(
        &director.addr().to_string(),
        "yardstick-test",
        &out,
        |mode| fake_loadgen_run(work, mode, Duration::from_millis(200)),
    );
    let folders = outcome.power.expect("the power session succeeds");
    assert!(outcome.ranging.is_some() && outcome.testing.is_some());
    assert!(
        folders.session.ends_with("_yardstick-test"),
        "{}",
        folders.session
    );
    let trace = folders.testing_trace("director").expect("testing trace");
    assert!(trace.samples.len() >= 15, "{} samples", trace.samples.len());
    folders.root
}

#[test]
fn director_session_leaves_power_folders_the_checker_accepts() {
    let work = tempfile::tempdir().expect("temp dir");
    let root = full_session(work.path());
    for file in yardstick_power::ptd::check::RESULT_PATHS
        .iter()
        .chain(&["run_1/ptd_out.txt"])
    {
        assert!(root.join(file).is_file(), "{file} is missing");
    }
    // The director cleaned up its own copy.
    assert_eq!(
        std::fs::read_dir(work.path().join("director"))
            .expect("dir")
            .count(),
        0
    );
    let report = check_power_folders(&root, &CheckOptions::default());
    assert!(report.passed(), "{report}");
    assert_eq!(report.outcomes.len(), 13);
    assert!(
        report.outcomes.iter().all(|o| o.verdict == Verdict::Pass),
        "{report}"
    );
    if let Ok(keep) = std::env::var("YARDSTICK_KEEP_POWER_FOLDERS") {
        copy_dir(
            &root,
            &Path::new(&keep).join(root.file_name().expect("name")),
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

fn edit_json(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
    edit(&mut value);
    std::fs::write(path, serde_json::to_string_pretty(&value).expect("json")).expect("write");
}

/// Rewrite a file and its recorded SHA-1s, so only the rule about its
/// content can object.
fn rewrite(root: &Path, relative: &str, edit: impl FnOnce(String) -> String) {
    let path = root.join(relative);
    let text = edit(std::fs::read_to_string(&path).expect("read"));
    std::fs::write(&path, &text).expect("write");
    use sha1::Digest;
    let hash: String = sha1::Sha1::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    for summary in ["client.json", "server.json"] {
        edit_json(&root.join("power").join(summary), |v| {
            if let Some(entry) = v["results"].get_mut(relative) {
                *entry = serde_json::Value::String(hash.clone());
            }
        });
    }
}

#[test]
fn each_broken_copy_fails_its_rule_alone() {
    let work = tempfile::tempdir().expect("temp dir");
    let root = full_session(work.path());
    type Breakage = (Rule, Box<dyn Fn(&Path)>);
    let breakages: Vec<Breakage> = vec![
        (
            Rule::ClientSources,
            Box::new(|r| {
                edit_json(&r.join("power/client.json"), |v| {
                    v["sources"]["ptd/mod.rs"] = "0".into()
                })
            }),
        ),
        (
            Rule::ServerSources,
            Box::new(|r| {
                edit_json(&r.join("power/server.json"), |v| {
                    v["sources"] = serde_json::json!({"server.py": "c3f9"})
                })
            }),
        ),
        (
            Rule::PtdMessages,
            Box::new(|r| {
                edit_json(&r.join("power/server.json"), |v| {
                    v["ptd_messages"][1]["reply"] = "YokogawaWT310,version=1.9.2-x".into()
                })
            }),
        ),
        (
            Rule::PtdMessages,
            Box::new(|r| {
                edit_json(&r.join("power/server.json"), |v| {
                    let messages = v["ptd_messages"].as_array_mut().expect("list");
                    let last = messages.len() - 1;
                    messages[last]["cmd"] = "SR,A,5".into(); // ranges not restored
                })
            }),
        ),
        (
            Rule::Uuid,
            Box::new(|r| {
                edit_json(&r.join("power/client.json"), |v| {
                    v["uuid"]["server"] = "00000000-0000-4000-8000-000000000000".into()
                })
            }),
        ),
        (
            Rule::SessionName,
            Box::new(|r| {
                edit_json(&r.join("power/client.json"), |v| {
                    v["session_name"] = "another".into()
                })
            }),
        ),
        (
            Rule::TimeDifference,
            Box::new(|r| {
                edit_json(&r.join("power/client.json"), |v| {
                    let t = v["phases"]["testing"][0][0].as_f64().expect("time");
                    v["phases"]["testing"][0][0] = (t - 2.0).into();
                })
            }),
        ),
        (
            Rule::TimeDifference,
            Box::new(|r| {
                rewrite(r, "run_1/spl.txt", |text| {
                    text.lines()
                        .map(|line| {
                            let mut fields: Vec<String> =
                                line.split(',').map(str::to_string).collect();
                            let watts: f64 = fields[3].parse().expect("watts");
                            fields[3] = format!("{:.6}", watts * 0.9);
                            fields.join(",") + "\n"
                        })
                        .collect()
                })
            }),
        ),
        (
            Rule::ClientServerMessages,
            Box::new(|r| {
                edit_json(&r.join("power/client.json"), |v| {
                    let messages = v["messages"].as_array_mut().expect("list");
                    let new = messages
                        .iter_mut()
                        .find(|m| m["cmd"].as_str().is_some_and(|c| c.starts_with("new,")))
                        .expect("new");
                    new["reply"] = "OK elsewhere".into();
                })
            }),
        ),
        (
            Rule::ResultsChecksum,
            Box::new(|r| {
                std::fs::write(r.join("run_1/mlperf_log_summary.txt"), "tampered\n").expect("write")
            }),
        ),
        (
            Rule::ResultsChecksum,
            Box::new(|r| std::fs::remove_file(r.join("power/client.log")).expect("remove")),
        ),
        (
            Rule::PtdLogs,
            Box::new(|r| {
                rewrite(r, "power/ptd_logs.txt", |text| {
                    format!(
                        "{text}{}: ERROR: USB device unplugged\n",
                        format_ptd_time(SystemTime::now() + Duration::from_secs(5))
                    )
                })
            }),
        ),
        (
            Rule::PtdLogs,
            Box::new(|r| {
                rewrite(r, "power/ptd_logs.txt", |text| {
                    text.replace("Uncertainty checking for", "Checking for")
                })
            }),
        ),
        (
            Rule::PtdConfig,
            Box::new(|r| {
                edit_json(&r.join("power/server.json"), |v| {
                    v["ptd_config"][0]["device_type"] = 99.into()
                })
            }),
        ),
        (
            Rule::Debug,
            Box::new(|r| edit_json(&r.join("power/server.json"), |v| v["debug"] = true.into())),
        ),
        (
            Rule::SamplesInWindow,
            Box::new(|r| {
                rewrite(r, "run_1/spl.txt", |text| {
                    text.replace("_testing", "_other")
                })
            }),
        ),
        (
            Rule::Descriptors,
            Box::new(|r| {
                edit_json(&r.join("power/client.json"), |v| {
                    v.as_object_mut().expect("object").remove("phases");
                })
            }),
        ),
    ];
    for (index, (rule, breakage)) in breakages.iter().enumerate() {
        let copy = work.path().join(format!("broken_{index}"));
        copy_dir(&root, &copy);
        breakage(&copy);
        let report = check_power_folders(&copy, &CheckOptions::default());
        if let Ok(keep) = std::env::var("YARDSTICK_KEEP_POWER_FOLDERS") {
            copy_dir(
                &copy,
                &Path::new(&keep).join(format!("broken_{index:02}_{rule:?}")),
            );
        }
        let failed: Vec<Rule> = report.failures().iter().map(|o| o.rule).collect();
        assert_eq!(failed, vec![*rule], "breakage {index}:\n{report}");
    }
}

#[test]
fn a_director_dropping_mid_session_keeps_the_performance_result() {
    let work = tempfile::tempdir().expect("temp dir");
    for (drop_on, ranging_ran) in [("stop,testing", true), ("start,ranging", false)] {
        let director = sim_director(
            &work.path().join(format!("director_{ranging_ran}")),
            Some(drop_on),
        );
        let mut runs = Vec::new();
        let outcome = run_director_session(
            &director.addr().to_string(),
            "",
            &work.path().join("client"),
            |mode| {
                runs.push(mode);
                fake_loadgen_run(work.path(), mode, Duration::from_millis(50))
            },
        );
        let error = outcome.power.expect_err("the session fails");
        let message = error.to_string();
        assert!(
            matches!(&error, PtdError::Disconnected { peer: "the power director", during } if during.contains(drop_on)),
            "{error:?}"
        );
        assert!(
            message.contains("the power director closed the connection during"),
            "{message}"
        );
        assert!(
            message.contains("the power measurement is incomplete"),
            "{message}"
        );
        let testing = outcome.testing.expect("the testing run's result is kept");
        assert!(testing >= Duration::from_millis(50), "{testing:?}");
        assert_eq!(outcome.ranging.is_some(), ranging_ran);
        let expected = if ranging_ran {
            vec![Mode::Ranging, Mode::Testing]
        } else {
            vec![Mode::Testing]
        };
        assert_eq!(runs, expected);
    }
}
