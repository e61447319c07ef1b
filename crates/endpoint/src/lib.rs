//! yardstick-endpoint.
