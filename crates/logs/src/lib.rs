//! Writers for LoadGen's log files, fed by `yardstick_core::log::LogSink`.
