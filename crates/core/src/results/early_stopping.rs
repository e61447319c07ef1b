//! Early stopping.
