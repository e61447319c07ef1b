//! yardstick-workloads.
