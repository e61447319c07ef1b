//! Compliance audits (TEST01, TEST04, TEST06): the verdicts the official compliance scripts write.
