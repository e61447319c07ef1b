//! Built-in systems under test and sample libraries, so anyone can see a
//! real run with no model: a [`NullSut`] that answers at once and a
//! [`SleepSut`] that answers after a fixed or random service time on N
//! parallel workers, over a [`SyntheticLibrary`] of numbered samples.

mod library;
mod null;
mod sleep;

pub use library::SyntheticLibrary;
pub use null::NullSut;
pub use sleep::{ServiceTime, SleepSut, SleepSutError};

/// The response every built-in SUT gives: the sample index as little-endian
/// `u32`, as the official LoadGen's reference outputs do, so accuracy logs
/// can be compared byte for byte.
#[inline]
pub fn index_response(index: usize) -> [u8; 4] {
    (index as u32).to_le_bytes()
}
