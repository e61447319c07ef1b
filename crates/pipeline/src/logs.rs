//! The MLPerf log files of one test, and the optional query records.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use yardstick_core::log::{DetailEvent, LogSink};
use yardstick_core::settings::ConfigWarning;
use yardstick_core::sut::QuerySampleLibrary;
use yardstick_logs::{
    header_events, CompositeSink, LogError, LogOutputSettings, LogPaths, MlperfLogWriter,
    QueryRecordWriter, TestHeader,
};

/// The MLPerf log writer of one test, the optional query records, and any
/// extra sinks, behind one `LogSink`.
pub struct Logs {
    writer: Arc<MlperfLogWriter>,
    records: Option<Arc<QueryRecordWriter>>,
    sink: Arc<dyn LogSink>,
}

/// Opens the log files (creating the folder) and the query records file.
pub fn open_logs(
    settings: &LogOutputSettings,
    record_queries: Option<&Path>,
    extra: Vec<Arc<dyn LogSink>>,
) -> Result<Logs, LogError> {
    let writer = Arc::new(MlperfLogWriter::create(settings)?);
    let records = match record_queries {
        Some(p) => Some(Arc::new(QueryRecordWriter::create(p)?)),
        None => None,
    };
    let mut sinks: Vec<Arc<dyn LogSink>> = vec![writer.clone()];
    if let Some(r) = &records {
        sinks.push(r.clone());
    }
    sinks.extend(extra);
    let sink: Arc<dyn LogSink> = if sinks.len() == 1 {
        writer.clone()
    } else {
        Arc::new(CompositeSink::new(sinks))
    };
    Ok(Logs {
        writer,
        records,
        sink,
    })
}

impl Logs {
    /// LoadGen's opening events, and config warnings as detail warnings.
    pub fn header(&self, sut_name: &str, qsl: &dyn QuerySampleLibrary, warnings: &[ConfigWarning]) {
        let t = Instant::now();
        let name = sut_name.to_string();
        let header = TestHeader {
            test_datetime: self.writer.test_datetime().to_string(),
            get_sut_name_duration_ns: t.elapsed().as_nanos() as u64,
            sut_name: name,
            qsl_name: qsl.name().to_string(),
            qsl_reported_total_count: qsl.total_sample_count() as u64,
            qsl_reported_performance_count: qsl.performance_sample_count() as u64,
        };
        for e in header_events(&header) {
            self.sink.detail(e);
        }
        for w in warnings {
            self.sink.detail(DetailEvent::warning(
                "warning_generic_message",
                w.to_string(),
            ));
        }
    }

    pub fn sink(&self) -> Arc<dyn LogSink> {
        Arc::clone(&self.sink)
    }

    pub fn paths(&self) -> &LogPaths {
        self.writer.paths()
    }

    pub fn writer(&self) -> &MlperfLogWriter {
        &self.writer
    }

    pub fn query_records_path(&self) -> Option<&Path> {
        self.records.as_ref().map(|r| r.path())
    }

    /// Writes the summary and flushes every file; reports the first write
    /// error of any of them.
    pub fn finish(&self) -> Result<(), LogError> {
        self.writer.finish()?;
        if let Some(r) = &self.records {
            r.finish()?;
        }
        Ok(())
    }
}
