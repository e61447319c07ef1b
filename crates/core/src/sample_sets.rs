//! Loadable sample sets.
