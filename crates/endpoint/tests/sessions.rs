//! Multi-turn sessions against the mock server and its request log: each
//! turn's body carries the previous turns' logged answers verbatim as
//! assistant messages, a turn is received only after the previous answer
//! finished plus the think time, an empty answer stops its session with a
//! clear note while the run goes on, and the same seed sends the same
//! bodies.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use yardstick_endpoint::arrivals::{Limits, Schedule};
use yardstick_endpoint::lengths::LengthDistribution;
use yardstick_endpoint::mock::LoggedRequest;
use yardstick_endpoint::session::{SessionPlan, SyntheticSessions, ThinkTime};
use yardstick_endpoint::{ApiKind, Bench, MockConfig, MockFault, MockMode, MockServer};

fn mock(cfg: MockConfig) -> MockServer {
    MockServer::start(
        MockConfig {
            request_log: true,
            ..cfg
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .expect("mock server")
}

/// Simulated answers of `tokens` words (deterministic: no jitter).
fn simulated(tokens: u32) -> MockConfig {
    MockConfig {
        mode: MockMode::Simulated,
        output_tokens: tokens,
        ttft: Duration::from_millis(5),
        tpot: Duration::from_millis(1),
        ..MockConfig::default()
    }
}

fn synthetic(count: usize, turns: u32, think: ThinkTime, seed: u64) -> SyntheticSessions {
    SyntheticSessions {
        count,
        turns: LengthDistribution::Fixed(turns),
        input: LengthDistribution::Uniform { low: 4, high: 12 },
        output: LengthDistribution::Fixed(6),
        exact_output: false,
        think,
        seed,
    }
}

fn session_bench(server: &MockServer, sessions: &SyntheticSessions) -> Bench {
    let (dataset, plan) = sessions.build(None).expect("plan");
    let config = common::config(&server.url(), ApiKind::Chat, true, Duration::from_secs(10));
    Bench::new(config, dataset, None, None)
        .expect("bench")
        .with_sessions(plan)
        .expect("sessions")
}

fn messages(r: &LoggedRequest) -> Vec<Value> {
    r.body
        .get("messages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn content(m: &Value) -> &str {
    m.get("content").and_then(Value::as_str).unwrap_or("")
}

fn role(m: &Value) -> &str {
    m.get("role").and_then(Value::as_str).unwrap_or("")
}

/// The logged requests grouped by conversation (their first user message),
/// each conversation's turns in order of their history's length.
fn conversations(log: &[LoggedRequest]) -> BTreeMap<String, Vec<LoggedRequest>> {
    let mut by: BTreeMap<String, Vec<LoggedRequest>> = BTreeMap::new();
    for r in log {
        let m = messages(r);
        let first = m
            .iter()
            .find(|m| role(m) == "user")
            .map(|m| content(m).to_string())
            .unwrap_or_default();
        by.entry(first).or_default().push(r.clone());
    }
    for turns in by.values_mut() {
        turns.sort_by_key(|r| messages(r).len());
    }
    by
}

/// Every later turn holds the earlier turns' answers as the server logged
/// them, verbatim, and arrived after the previous answer finished plus
/// `think`; `turns` (unless 0) is every conversation's length. Returns the
/// number of conversations.
fn assert_history_carried(log: &[LoggedRequest], turns: usize, think: Duration) -> usize {
    let convs = conversations(log);
    for (first, reqs) in &convs {
        if turns > 0 {
            assert_eq!(reqs.len(), turns, "conversation {first:?}: {reqs:#?}");
        }
        for k in 1..reqs.len() {
            let (prev, this) = (&reqs[k - 1], &reqs[k]);
            let m = messages(this);
            // history = previous messages + the previous answer + the new
            // user message.
            let prev_m = messages(prev);
            assert_eq!(m.len(), prev_m.len() + 2, "{m:#?}");
            assert_eq!(&m[..prev_m.len()], &prev_m[..], "the history is carried");
            let answer = &m[prev_m.len()];
            assert_eq!(role(answer), "assistant");
            assert!(!prev.answer.is_empty());
            assert_eq!(
                content(answer),
                prev.answer,
                "turn {} carries turn {}'s answer verbatim",
                k + 1,
                k
            );
            assert_eq!(role(&m[m.len() - 1]), "user");
            let finished = prev.finished_ns.expect("the previous turn finished");
            assert!(
                this.received_ns >= finished + think.as_nanos() as u64,
                "turn {} received {} ns after turn {} finished (think {think:?})",
                k + 1,
                this.received_ns as i64 - finished as i64,
                k
            );
        }
    }
    convs.len()
}

#[test]
fn closed_loop_turns_carry_the_servers_answers_after_the_think_time() {
    let server = mock(simulated(6));
    let think = Duration::from_millis(30);
    let spec = synthetic(16, 3, ThinkTime::Fixed(think), 7);
    let bench = session_bench(&server, &spec);
    let p = bench
        .run_concurrency(2, None, Some(6), 0)
        .expect("closed loop");
    let s = p.summary.sessions.as_ref().expect("session summary");
    assert_eq!(s.sessions_started, 6);
    assert_eq!(s.sessions_completed, 6, "{:?}", p.summary.warnings);
    assert_eq!(s.sessions_stopped, 0);
    assert_eq!(s.turns_skipped, 0);
    assert_eq!(p.records.len(), 18);
    assert_eq!(s.turns_per_session.as_ref().map(|t| t.min), Some(3.0));
    assert_eq!(s.ttft_first_turn.as_ref().map(|t| t.count), Some(6));
    assert_eq!(s.ttft_later_turns.as_ref().map(|t| t.count), Some(12));
    // A session lasts at least its two think times.
    let shortest = s.session_duration.as_ref().expect("durations").min;
    assert!(shortest >= 2.0 * think.as_nanos() as f64, "{shortest}");
    // Each record names its session and turn.
    for r in &p.records {
        let tag = r.session.expect("tagged");
        assert!((1..=3).contains(&tag.turn) && tag.turns == 3 && tag.session < 6);
    }
    let log = server.request_log();
    assert_eq!(log.len(), 18);
    assert_eq!(assert_history_carried(&log, 3, think), 6);
    // The client's own due times: a later turn is due at the previous
    // answer's end plus the think time.
    let mut by_session: BTreeMap<u64, Vec<_>> = BTreeMap::new();
    for r in &p.records {
        by_session
            .entry(r.session.map_or(0, |t| t.session))
            .or_default()
            .push(r);
    }
    for turns in by_session.values() {
        for k in 1..turns.len() {
            let prev_done = turns[k - 1].done.expect("done");
            assert_eq!(turns[k].scheduled, prev_done + think);
        }
    }
}

#[test]
fn open_loop_sessions_start_on_schedule_and_later_turns_follow_answers() {
    let server = mock(simulated(4));
    let think = Duration::from_millis(20);
    let spec = synthetic(8, 2, ThinkTime::Fixed(think), 3);
    let bench = session_bench(&server, &spec);
    let schedule = Schedule::constant(
        50.0,
        Limits {
            duration: None,
            max_requests: Some(5),
        },
    )
    .expect("schedule");
    let p = bench
        .run_schedule(&schedule, yardstick_endpoint::bench::SampleOrder::Shuffled)
        .expect("open loop");
    let s = p.summary.sessions.as_ref().expect("session summary");
    assert_eq!(s.sessions_started, 5);
    assert_eq!(s.sessions_completed, 5, "{:?}", p.summary.warnings);
    assert_eq!(p.records.len(), 10);
    // Session i's first turn is due at its scheduled start (20 ms apart).
    let mut firsts: Vec<_> = p
        .records
        .iter()
        .filter(|r| r.session.is_some_and(|t| t.turn == 1))
        .collect();
    firsts.sort_by_key(|r| r.session.map(|t| t.session));
    for (i, r) in firsts.iter().enumerate() {
        let due = p.origin + Duration::from_nanos(schedule.due_ns[i]);
        assert_eq!(r.scheduled, due, "session {i} starts on schedule");
    }
    let open = p.summary.open_loop.as_ref().expect("delivery report");
    assert_eq!(open.arrival, "constant");
    let log = server.request_log();
    assert_eq!(assert_history_carried(&log, 2, think), 5);
}

#[test]
fn an_empty_answer_stops_its_session_and_the_run_goes_on() {
    // Every 4th request gets an answer with no text at all.
    let server = mock(MockConfig {
        fault: Some((MockFault::EmptyAnswer, 4)),
        ..simulated(5)
    });
    let spec = synthetic(16, 3, ThinkTime::default(), 11);
    let bench = session_bench(&server, &spec);
    let p = bench
        .run_concurrency(1, None, Some(4), 0)
        .expect("the run completes");
    let s = p.summary.sessions.as_ref().expect("session summary");
    // Requests 4, 8, ...: session 1's first turn (request 4) is empty, so
    // session 1 stops after turn 1 and skips 2; then requests 5..=7 are
    // session 2, request 8 is session 3's first turn again.
    assert_eq!(s.sessions_started, 4);
    assert_eq!(s.sessions_stopped, 2, "{:?}", p.summary.warnings);
    assert_eq!(s.sessions_completed, 2);
    assert_eq!(s.turns_skipped, 4);
    assert!(
        p.summary.warnings.iter().any(|w| {
            w
            == "session 1 stopped after turn 1 of 3: the server's answer was empty; 2 turns skipped"
        }),
        "{:#?}",
        p.summary.warnings
    );
    assert!(
        p.summary
            .warnings
            .iter()
            .any(|w| w.contains("2 of 4 sessions stopped early")),
        "{:#?}",
        p.summary.warnings
    );
    // Nothing after an empty answer was sent for its session.
    let tags: Vec<(u64, u32)> = p
        .records
        .iter()
        .filter_map(|r| r.session.map(|t| (t.session, t.turn)))
        .collect();
    assert_eq!(
        tags,
        vec![
            (0, 1),
            (0, 2),
            (0, 3),
            (1, 1),
            (2, 1),
            (2, 2),
            (2, 3),
            (3, 1)
        ]
    );
    assert_eq!(server.request_log().len(), 8);
}

fn bodies_for_seed(seed: u64) -> Vec<Value> {
    let server = mock(simulated(5));
    let spec = synthetic(
        4,
        3,
        ThinkTime::Uniform {
            low: Duration::ZERO,
            high: Duration::from_millis(5),
        },
        seed,
    );
    let bench = session_bench(&server, &spec);
    bench
        .run_concurrency(1, None, Some(3), 0)
        .expect("closed loop");
    server.request_log().into_iter().map(|r| r.body).collect()
}

#[test]
fn the_same_seed_sends_the_same_bodies() {
    let a = bodies_for_seed(5);
    let b = bodies_for_seed(5);
    assert_eq!(a.len(), 9);
    assert_eq!(a, b);
    // And the seed matters.
    assert_ne!(a, bodies_for_seed(6));
}

#[test]
fn sharegpt_conversations_are_sent_turn_by_turn() {
    let dir = std::env::temp_dir().join(format!("ys-sessions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("conv.json");
    std::fs::write(
        &path,
        r#"[{"id":"a","conversations":[{"from":"system","value":"be brief"},{"from":"human","value":"first question"},{"from":"gpt","value":"dataset answer one"},{"from":"human","value":"second question"},{"from":"gpt","value":"dataset answer two"},{"from":"human","value":"third question"}]},
           {"id":"b","conversations":[{"from":"human","value":"only question"},{"from":"gpt","value":"x"}]}]"#,
    )
    .expect("write");
    let loaded = yardstick_endpoint::datafile::load(&path, None, None).expect("load");
    assert_eq!(loaded.dataset.len(), 2);
    let (dataset, plan) =
        SessionPlan::from_dataset(&loaded.dataset, ThinkTime::default(), 1).expect("plan");
    assert_eq!(plan.sessions.len(), 2);
    assert_eq!(plan.total_turns(), 4);
    let server = mock(MockConfig {
        mode: MockMode::Echo,
        ..MockConfig::default()
    });
    let config = common::config(&server.url(), ApiKind::Chat, true, Duration::from_secs(10));
    let bench = Bench::new(config, dataset, None, None)
        .expect("bench")
        .with_sessions(plan)
        .expect("sessions");
    let p = bench
        .run_concurrency(1, None, Some(2), 0)
        .expect("closed loop");
    let s = p.summary.sessions.as_ref().expect("sessions");
    assert_eq!(s.sessions_completed, 2, "{:?}", p.summary.warnings);
    let log = server.request_log();
    assert_eq!(log.len(), 4);
    let three: Vec<&LoggedRequest> = log
        .iter()
        .filter(|r| content(&messages(r)[0]) == "be brief")
        .collect();
    assert_eq!(three.len(), 3);
    let last = messages(three[2]);
    let roles: Vec<&str> = last.iter().map(role).collect();
    assert_eq!(
        roles,
        ["system", "user", "assistant", "user", "assistant", "user"]
    );
    let texts: Vec<&str> = last.iter().map(content).collect();
    assert_eq!(texts[1], "first question");
    assert_eq!(texts[3], "second question");
    assert_eq!(texts[5], "third question");
    // The server's answers, never the dataset's.
    assert_eq!(texts[2], three[0].answer);
    assert_eq!(texts[4], three[1].answer);
    assert!(!texts.contains(&"dataset answer one"));
    assert_eq!(assert_history_carried(&log, 0, Duration::ZERO), 2);
}

#[test]
fn only_the_chat_api_carries_a_history() {
    let spec = synthetic(2, 2, ThinkTime::default(), 1);
    let (dataset, plan) = spec.build(None).expect("plan");
    let config = common::config(
        "http://127.0.0.1:9",
        ApiKind::Completions,
        true,
        Duration::from_secs(1),
    );
    let err = Bench::new(config, dataset, None, None)
        .expect("bench")
        .with_sessions(plan)
        .expect_err("completions refused")
        .to_string();
    assert!(err.contains("need the chat API"), "{err}");
}

#[test]
fn a_session_stays_with_its_first_turns_model() {
    let server = mock(simulated(4));
    let spec = synthetic(6, 3, ThinkTime::default(), 2);
    let (mut dataset, plan) = spec.build(None).expect("plan");
    // A model per turn prompt, as a per-prompt --model-mix draw gives.
    for (i, p) in dataset.prompts.iter_mut().enumerate() {
        p.model = Some(format!("m{i}"));
        p.class = Some(format!("m{i}"));
    }
    let config = common::config(&server.url(), ApiKind::Chat, true, Duration::from_secs(10));
    let bench = Bench::new(config, dataset, None, None)
        .expect("bench")
        .with_sessions(plan)
        .expect("sessions");
    let p = bench
        .run_concurrency(2, None, Some(6), 0)
        .expect("closed loop");
    assert_eq!(p.records.len(), 18);
    let convs = conversations(&server.request_log());
    assert_eq!(convs.len(), 6);
    let mut firsts = Vec::new();
    for reqs in convs.values() {
        let models: Vec<Option<String>> = reqs.iter().map(|r| r.model.clone()).collect();
        assert!(models.iter().all(|m| *m == models[0]), "{models:?}");
        firsts.push(models[0].clone());
    }
    firsts.sort();
    firsts.dedup();
    assert_eq!(firsts.len(), 6, "each session has its own first model");
    // The records' classes follow the same rule.
    let mut by_session: BTreeMap<u64, Vec<Option<String>>> = BTreeMap::new();
    for r in &p.records {
        by_session
            .entry(r.session.map_or(0, |t| t.session))
            .or_default()
            .push(r.class.clone());
    }
    for classes in by_session.values() {
        assert!(classes.iter().all(|c| *c == classes[0]), "{classes:?}");
    }
}

#[test]
fn a_failed_turn_stops_its_session_with_the_error() {
    // Every 2nd request fails with HTTP 500: session 0's turn 2.
    let server = mock(MockConfig {
        fault: Some((MockFault::Http500, 2)),
        ..simulated(4)
    });
    let spec = synthetic(4, 3, ThinkTime::default(), 4);
    let bench = session_bench(&server, &spec);
    let p = bench
        .run_concurrency(1, None, Some(1), 0)
        .expect("the run completes");
    let s = p.summary.sessions.as_ref().expect("session summary");
    assert_eq!((s.sessions_started, s.sessions_stopped), (1, 1));
    assert_eq!(s.turns_skipped, 1);
    assert_eq!(p.records.len(), 2);
    assert!(!p.records[1].ok());
    let note = p
        .summary
        .warnings
        .iter()
        .find(|w| w.starts_with("session 0 stopped after turn 2 of 3: the turn failed ("))
        .unwrap_or_else(|| panic!("{:#?}", p.summary.warnings));
    assert!(
        note.contains("500") && note.ends_with("; 1 turn skipped"),
        "{note}"
    );
    assert_eq!(p.summary.metrics.n_samples_failed, 1);
}
