//! The folders and files the official `run_verification.py` scripts leave:
//! `<output>/TESTxx/verify_accuracy.txt`, `verify_performance.txt`, the
//! compliance run's accuracy log under `accuracy/` and its summary and
//! detail logs under `performance/run_1/`.

use std::path::{Path, PathBuf};

use super::test06::{AnswerEncoding, Test06Verdict};
use super::test09::Test09Verdict;
use super::{test01, test04, test06, test09, AuditError, AuditTest, Dtype, ScriptOutput};

const ACCURACY_LOG: &str = "mlperf_log_accuracy.json";
const SUMMARY: &str = "mlperf_log_summary.txt";
const DETAIL: &str = "mlperf_log_detail.txt";

/// The three folders of `run_verification.py -r RESULTS -c COMPLIANCE -o
/// OUTPUT`.
#[derive(Debug, Clone)]
pub struct AuditPaths {
    /// The submitted results: `accuracy/` and `performance/run_1/` (TEST06
    /// reads none).
    pub results: PathBuf,
    /// The compliance run's logs.
    pub compliance: PathBuf,
    /// Where `TESTxx/` is written.
    pub output: PathBuf,
}

impl AuditPaths {
    /// `<output>/<TESTxx>`.
    pub fn test_dir(&self, test: AuditTest) -> PathBuf {
        self.output.join(test.name())
    }
}

fn read(path: &Path) -> Result<String, AuditError> {
    std::fs::read_to_string(path).map_err(|source| AuditError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn write(path: &Path, text: &str) -> Result<(), AuditError> {
    std::fs::write(path, text).map_err(|source| AuditError::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn create_dir(path: &Path) -> Result<(), AuditError> {
    std::fs::create_dir_all(path).map_err(|source| AuditError::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn copy_into(file: &Path, dir: &Path) -> Result<(), AuditError> {
    let name = file.file_name().unwrap_or_default();
    let target = dir.join(name);
    std::fs::copy(file, &target)
        .map(|_| ())
        .map_err(|source| AuditError::Write {
            path: target,
            source,
        })
}

/// The compliance run's summary and detail logs to
/// `<test dir>/performance/run_1/`.
fn copy_performance_logs(compliance: &Path, test_dir: &Path) -> Result<(), AuditError> {
    let run_1 = test_dir.join("performance").join("run_1");
    create_dir(&run_1)?;
    copy_into(&compliance.join(SUMMARY), &run_1)?;
    copy_into(&compliance.join(DETAIL), &run_1)
}

/// TEST01: `verify_accuracy.txt` (the accuracy logs, read with `dtype`)
/// and `verify_performance.txt` (the detail logs); `log_time` is the time
/// stamp of the official log parser's lines. Returns both outputs.
pub fn write_test01(
    paths: &AuditPaths,
    dtype: Dtype,
    log_time: &str,
) -> Result<(ScriptOutput, ScriptOutput), AuditError> {
    let reference_accuracy = paths.results.join("accuracy").join(ACCURACY_LOG);
    let test_accuracy = paths.compliance.join(ACCURACY_LOG);
    let (accuracy, _) =
        test01::verify_accuracy(&read(&reference_accuracy)?, &read(&test_accuracy)?, dtype);
    let reference_detail = paths.results.join("performance").join("run_1").join(DETAIL);
    let test_detail = paths.compliance.join(DETAIL);
    let performance = test01::verify_performance(
        (
            &reference_detail.display().to_string(),
            &read(&reference_detail)?,
        ),
        (&test_detail.display().to_string(), &read(&test_detail)?),
        log_time,
    );
    let dir = paths.test_dir(AuditTest::Test01);
    let accuracy_dir = dir.join("accuracy");
    create_dir(&accuracy_dir)?;
    write(&dir.join("verify_accuracy.txt"), &accuracy.merged())?;
    write(&dir.join("verify_performance.txt"), &performance.merged())?;
    copy_into(&test_accuracy, &accuracy_dir)?;
    copy_performance_logs(&paths.compliance, &dir)?;
    Ok((accuracy, performance))
}

/// TEST04: `verify_performance.txt` from the two summaries.
pub fn write_test04(paths: &AuditPaths) -> Result<ScriptOutput, AuditError> {
    let reference = paths
        .results
        .join("performance")
        .join("run_1")
        .join(SUMMARY);
    let output =
        test04::verify_performance(&read(&reference)?, &read(&paths.compliance.join(SUMMARY))?);
    let dir = paths.test_dir(AuditTest::Test04);
    create_dir(&dir)?;
    write(&dir.join("verify_performance.txt"), &output.merged())?;
    copy_performance_logs(&paths.compliance, &dir)?;
    Ok(output)
}

/// TEST06: `verify_accuracy.txt` and the accuracy log under `accuracy/`,
/// or nothing where the official script dies before writing them.
pub fn write_test06(
    paths: &AuditPaths,
    scenario: &str,
    encoding: &AnswerEncoding,
) -> Result<Test06Verdict, AuditError> {
    let log = paths.compliance.join(ACCURACY_LOG);
    let verdict = test06::verify(&read(&log)?, scenario, encoding);
    // Where the official script dies, it has written nothing yet.
    if let Some(text) = &verdict.verify_file {
        let dir = paths.test_dir(AuditTest::Test06);
        let accuracy_dir = dir.join("accuracy");
        create_dir(&accuracy_dir)?;
        write(&dir.join("verify_accuracy.txt"), text)?;
        copy_into(&log, &accuracy_dir)?;
    }
    Ok(verdict)
}

/// TEST09: `verify_output_len.txt`, the compliance run's accuracy log under
/// `accuracy/` and its summary and detail under `performance/run_1/`.
pub fn write_test09(
    paths: &AuditPaths,
    min_tokens: f64,
    max_tokens: f64,
) -> Result<Test09Verdict, AuditError> {
    let log = paths.compliance.join(ACCURACY_LOG);
    let verdict = test09::verify(&read(&log)?, min_tokens, max_tokens).map_err(|source| {
        AuditError::AccuracyLog {
            path: log.clone(),
            source,
        }
    })?;
    let dir = paths.test_dir(AuditTest::Test09);
    let accuracy_dir = dir.join("accuracy");
    create_dir(&accuracy_dir)?;
    write(&dir.join("verify_output_len.txt"), &verdict.verify_file)?;
    copy_into(&log, &accuracy_dir)?;
    copy_performance_logs(&paths.compliance, &dir)?;
    Ok(verdict)
}
