//! Built-in SUTs.
