//! yardstick-power: energy beside every result.
//!
//! A leaf adapter: it knows nothing of the load generator. A front end
//! starts a meter before the test, stops it after, and cuts the trace to the
//! run's measured window (`power_begin` to `power_end`).

/// The MLPerf power protocol: power-dev's director and SPEC PTDaemon.
pub mod ptd;
