//! MLPerf Training's rules, natively: the compliance checker over the
//! official rule files ([`compliance`]); RCPs, scores and the package
//! checks live beside it.

pub mod compliance;
pub mod package;
pub mod power;
pub mod rcp;
pub mod summary;
