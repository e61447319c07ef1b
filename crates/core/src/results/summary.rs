//! LoadGen's `PerformanceSummary`.
use super::PerformanceResult;
use crate::settings::EffectiveSettings;

#[derive(Debug, Clone, PartialEq)]
pub struct PerformanceSummary {
    pub sut_name: String,
    pub settings: EffectiveSettings,
    pub pr: PerformanceResult,
}
