//! MLPerf's formats in one place, readers beside writers, with no
//! dependency on yardstick's core or any model:
//!
//! - [`pyfloat`]: Python's `repr(float)` and the spellings `json.dumps`
//!   gives floats (`NaN`, `Infinity`), which every MLPerf tool writes;
//! - [`pyjson`]: JSON values that keep key order and number kinds, written
//!   exactly as Python's `json.dumps` writes them and read as `json.loads`
//!   reads them (with its error messages);
//! - [`mllog`]: `:::MLLOG` lines: the record, its writer (as
//!   mlperf-logging's `mllog` writes it) and a tolerant reader (as the
//!   official compliance checker's parser reads a log).

pub mod mllog;
pub mod pyfloat;
pub mod pyjson;
