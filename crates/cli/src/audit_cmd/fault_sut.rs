//! Misbehaving SUTs for the compliance tests to catch (`yardstick run
//! --fault`, hidden: they exist to prove that an audit can fail).
//!
//! Both wrap a built-in SUT (null or sleep, whose answer to sample `i` is
//! `i` as 4 little-endian bytes) and act only on a sample they have seen
//! before. An accuracy run issues every sample once, so it sees nothing
//! wrong; a performance run repeats samples, and TEST04 repeats one.

use std::collections::HashSet;
use std::sync::Mutex;

use clap::ValueEnum;
use yardstick_core::sut::{BoxError, Completer, QuerySample, QuerySampleResponse, SystemUnderTest};
use yardstick_suts::index_response;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Fault {
    /// A sample seen before is answered at once, from a cache (TEST04
    /// catches it).
    Cache,
    /// A sample seen before gets a different answer (first byte flipped):
    /// the performance run's answers differ from the accuracy run's
    /// (TEST01 catches it).
    WrongRepeat,
}

pub struct FaultySut {
    inner: Box<dyn SystemUnderTest>,
    fault: Fault,
    name: String,
    seen: Mutex<HashSet<usize>>,
}

/// `sut`, misbehaving as `fault` says (unchanged without one).
pub fn wrap(sut: Box<dyn SystemUnderTest>, fault: Option<Fault>) -> Box<dyn SystemUnderTest> {
    match fault {
        None => sut,
        Some(fault) => Box::new(FaultySut {
            name: format!("{}+{}", sut.name(), fault_name(fault)),
            inner: sut,
            fault,
            seen: Mutex::new(HashSet::new()),
        }),
    }
}

fn fault_name(fault: Fault) -> &'static str {
    match fault {
        Fault::Cache => "cache",
        Fault::WrongRepeat => "wrong-repeat",
    }
}

impl SystemUnderTest for FaultySut {
    fn name(&self) -> &str {
        &self.name
    }

    fn issue_query(&self, samples: &[QuerySample], completer: &Completer) -> Result<(), BoxError> {
        let mut fresh = Vec::with_capacity(samples.len());
        let mut repeats = Vec::new();
        {
            let mut seen = self.seen.lock().map_err(|_| "fault SUT: lock poisoned")?;
            for s in samples {
                if seen.insert(s.index) {
                    fresh.push(*s);
                } else {
                    repeats.push(*s);
                }
            }
        }
        for s in &repeats {
            let mut data = index_response(s.index);
            if self.fault == Fault::WrongRepeat {
                data[0] ^= 0xff;
            }
            completer.complete(&[QuerySampleResponse::new(s.id, &data)])?;
        }
        if fresh.is_empty() {
            return Ok(());
        }
        self.inner.issue_query(&fresh, completer)
    }

    fn flush_queries(&self) {
        self.inner.flush_queries();
    }
}
