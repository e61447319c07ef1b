//! The MLPerf power protocol (mlcommons/power-dev): a client for the
//! director (`ptd_client_server`) and a direct PTDaemon connection.
