//! Query generation.
