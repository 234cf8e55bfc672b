//! Settings shared by the property tests of the input readers.

use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};

/// `cases` inputs from a fixed seed, so every run tries the same inputs and a failure replays
/// exactly; a failing input that shrinking found is written to `proptest-regressions/` beside
/// `src/` (commit it) and tried first on every later run.
pub(crate) fn proptest_config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x9E37_79B9_7F4A_7C15),
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}
