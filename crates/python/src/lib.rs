//! yardstick-python.
