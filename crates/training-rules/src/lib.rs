//! MLPerf Training's rules, natively: the compliance checker over the
//! official rule files ([`compliance`]); RCPs, scores and the package
//! checks live beside it.

pub mod compliance;
// T3: pub mod rcp;
// T3: pub mod summary;
// T3: pub mod package;
