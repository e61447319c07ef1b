//! yardstick-accuracy.
