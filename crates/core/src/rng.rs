//! Bit-exact reproductions of the C++ random machinery LoadGen uses on Linux:
//! `std::mt19937` and libstdc++'s `uniform_int_distribution`, `std::shuffle`,
//! `generate_canonical`, `uniform_real_distribution` and
//! `exponential_distribution`.
//!
//! Nothing here may change behaviour between versions: schedules and sample
//! choices must equal the official LoadGen's for the same seeds. Generic RNG
//! crates promise no such stability, so this module is self-contained.

/// The 32-bit Mersenne Twister, `std::mt19937`.
#[derive(Clone)]
pub struct Mt19937 {
    state: [u32; 624],
    index: usize,
}

impl std::fmt::Debug for Mt19937 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mt19937")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl Mt19937 {
    const N: usize = 624;
    const M: usize = 397;
    /// The seed of a default-constructed `std::mt19937`.
    pub const DEFAULT_SEED: u64 = 5489;

    /// `std::mt19937(seed)`. libstdc++'s `result_type` is 64 bits wide on
    /// Linux, and the seed is reduced modulo 2^32, so only the low 32 bits of
    /// a 64-bit seed matter.
    pub fn new(seed: u64) -> Self {
        let mut state = [0u32; 624];
        state[0] = seed as u32;
        for i in 1..Self::N {
            let prev = state[i - 1];
            state[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        Mt19937 {
            state,
            index: Self::N,
        }
    }

    fn twist(&mut self) {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        const MATRIX_A: u32 = 0x9908_b0df;
        for i in 0..Self::N {
            let y = (self.state[i] & UPPER) | (self.state[(i + 1) % Self::N] & LOWER);
            let mut v = self.state[(i + Self::M) % Self::N] ^ (y >> 1);
            if y & 1 != 0 {
                v ^= MATRIX_A;
            }
            self.state[i] = v;
        }
        self.index = 0;
    }

    /// The next 32-bit output.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= Self::N {
            self.twist();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// Advance by `n` outputs (`std::mt19937::discard`).
    pub fn discard(&mut self, n: u64) {
        for _ in 0..n {
            self.next_u32();
        }
    }
}

/// libstdc++'s `uniform_int_distribution<T>(0, range)` (inclusive upper
/// bound) driven by a 32-bit generator, for `range < 2^32 - 1`: Lemire's
/// nearly-divisionless method with a 64-bit product, as GCC 11+ implements
/// it.
#[inline]
fn uniform_below_u32(rng: &mut Mt19937, urange: u64) -> u64 {
    const URNG_RANGE: u64 = u32::MAX as u64;
    debug_assert!(urange <= URNG_RANGE);
    if urange == URNG_RANGE {
        return rng.next_u32() as u64;
    }
    let uerange = (urange + 1) as u32;
    let mut product = rng.next_u32() as u64 * uerange as u64;
    let mut low = product as u32;
    if low < uerange {
        let threshold = uerange.wrapping_neg() % uerange;
        while low < threshold {
            product = rng.next_u32() as u64 * uerange as u64;
            low = product as u32;
        }
    }
    product >> 32
}

/// libstdc++'s upscaling path, for ranges wider than the generator's.
fn uniform_wide(rng: &mut Mt19937, urange: u64) -> u64 {
    const URNG_RANGE: u64 = u32::MAX as u64;
    const UERNG_RANGE: u64 = URNG_RANGE + 1;
    loop {
        let tmp = UERNG_RANGE * uniform_int(rng, urange / UERNG_RANGE);
        let ret = tmp.wrapping_add(rng.next_u32() as u64);
        if ret <= urange && ret >= tmp {
            return ret;
        }
    }
}

/// `std::uniform_int_distribution<>(0, urange)(gen)`: a value in `0..=urange`.
#[inline]
pub fn uniform_int(rng: &mut Mt19937, urange: u64) -> u64 {
    if urange <= u32::MAX as u64 {
        uniform_below_u32(rng, urange)
    } else {
        uniform_wide(rng, urange)
    }
}

/// `std::shuffle(v.begin(), v.end(), gen)` as libstdc++ implements it: when
/// the generator's range allows it, two swap positions come from one draw.
pub fn shuffle<T>(v: &mut [T], rng: &mut Mt19937) {
    let len = v.len() as u64;
    if len <= 1 {
        return;
    }
    const URNG_RANGE: u64 = u32::MAX as u64;
    if URNG_RANGE / len >= len {
        let mut i: u64 = 1;
        if len.is_multiple_of(2) {
            let pos = uniform_int(rng, 1);
            v.swap(i as usize, pos as usize);
            i += 1;
        }
        while i != len {
            let swap_range = i + 1;
            // __gen_two_uniform_ints(swap_range, swap_range + 1, g)
            let x = uniform_int(rng, swap_range * (swap_range + 1) - 1);
            let (p1, p2) = (x / (swap_range + 1), x % (swap_range + 1));
            v.swap(i as usize, p1 as usize);
            i += 1;
            v.swap(i as usize, p2 as usize);
            i += 1;
        }
        return;
    }
    for i in 1..len {
        let pos = uniform_int(rng, i);
        v.swap(i as usize, pos as usize);
    }
}

/// `std::generate_canonical<double, 53>(gen)` as libstdc++ computes it with a
/// 32-bit generator: two draws, `(a + b * 2^32) / 2^64`, clamped below 1.
#[inline]
pub fn generate_canonical(rng: &mut Mt19937) -> f64 {
    const R: f64 = 4_294_967_296.0;
    let mut sum = rng.next_u32() as f64;
    sum += rng.next_u32() as f64 * R;
    let ret = sum / (R * R);
    if ret >= 1.0 {
        // nextafter(1.0, 0.0)
        f64::from_bits(1.0f64.to_bits() - 1)
    } else {
        ret
    }
}

/// `std::uniform_real_distribution<double>(a, b)(gen)`.
#[inline]
pub fn uniform_real(rng: &mut Mt19937, a: f64, b: f64) -> f64 {
    generate_canonical(rng) * (b - a) + a
}

/// `std::exponential_distribution<double>(lambda)(gen)`.
#[inline]
pub fn exponential(rng: &mut Mt19937, lambda: f64) -> f64 {
    -(1.0 - generate_canonical(rng)).ln() / lambda
}

/// `std::chrono::duration_cast<nanoseconds>(duration<double>(seconds))`:
/// multiply in double, truncate toward zero.
#[inline]
pub fn seconds_to_ns_trunc(seconds: f64) -> i64 {
    (seconds * 1e9) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mt19937_matches_the_standard() {
        // C++11 [rand.predef]: the 10000th output of a default-constructed
        // mt19937 is 4123659995.
        let mut rng = Mt19937::new(Mt19937::DEFAULT_SEED);
        let mut last = 0;
        for _ in 0..10_000 {
            last = rng.next_u32();
        }
        assert_eq!(last, 4_123_659_995);
    }

    #[test]
    fn seed_uses_low_32_bits() {
        let mut a = Mt19937::new(0x1234_5678_0000_0042);
        let mut b = Mt19937::new(0x42);
        for _ in 0..1000 {
            assert_eq!(a.next_u32(), b.next_u32());
        }
    }

    #[test]
    fn canonical_is_in_unit_interval() {
        let mut rng = Mt19937::new(7);
        for _ in 0..10_000 {
            let x = generate_canonical(&mut rng);
            assert!((0.0..1.0).contains(&x));
        }
    }

    proptest::proptest! {
        #[test]
        fn uniform_int_stays_in_range(seed in 0u64..u64::MAX, range in 0u64..(1u64 << 40)) {
            let mut rng = Mt19937::new(seed);
            for _ in 0..16 {
                proptest::prop_assert!(uniform_int(&mut rng, range) <= range);
            }
        }

        #[test]
        fn shuffle_is_a_permutation(seed in 0u64..u64::MAX, len in 0usize..300) {
            let mut rng = Mt19937::new(seed);
            let mut v: Vec<usize> = (0..len).collect();
            shuffle(&mut v, &mut rng);
            let mut sorted = v.clone();
            sorted.sort_unstable();
            proptest::prop_assert_eq!(sorted, (0..len).collect::<Vec<_>>());
        }
    }
}
