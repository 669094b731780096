//! Small deterministic randomness: SplitMix64, seeded from the configuration.
//!
//! Our own few lines rather than `rand`, so that a seed gives the same run times, failures,
//! faults and images across dependency upgrades.

use std::hash::{Hash, Hasher};

/// One SplitMix64 step: a good 64-bit mix of `z`.
pub(crate) fn mix(z: u64) -> u64 {
    let mut z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stable hash of a seed and some text parts (FNV-1a, then mixed).
pub(crate) fn hash(seed: u64, parts: &[&str]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325 ^ mix(seed);
    for part in parts {
        for byte in part.bytes().chain([0xFF]) {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
    }
    mix(h)
}

/// A uniform number in `[0, 1)` from 64 random bits.
pub(crate) fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// A sequential generator, for draws whose order is the order of requests.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    pub(crate) fn next_f64(&mut self) -> f64 {
        unit(self.next_u64())
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// A hash of any value, stable within one process (for duplicate detection only).
pub(crate) fn fingerprint<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_depends_on_every_part() {
        assert_ne!(hash(1, &["a", "b"]), hash(1, &["ab"]));
        assert_ne!(hash(1, &["a"]), hash(2, &["a"]));
        assert_eq!(hash(7, &["x", "y"]), hash(7, &["x", "y"]));
    }

    #[test]
    fn unit_is_in_range_and_below_is_bounded() {
        let mut rng = SplitMix::new(3);
        for _ in 0..1000 {
            let x = rng.next_f64();
            assert!((0.0..1.0).contains(&x));
            assert!(rng.below(5) < 5);
        }
    }
}
