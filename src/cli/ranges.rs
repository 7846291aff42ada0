//! The allowed range of every numeric flag, checked while the command line
//! is parsed: a value outside it is refused by clap with one line naming the
//! flag, the value and the range (exit code 2), e.g.
//! `invalid value '1e20' for '--timeout <SECS>': must be a number from 0.001 to 86400`.
//! Without these, `--timeout 1e20` or `--rate 1e-300` reached
//! `Duration::from_secs_f64` and panicked.
//!
//! Integer flags use clap's ranged parsers ([`count`], [`at_least`]); the
//! float parsers here also refuse NaN and infinity.

use clap::builder::{RangedU64ValueParser, TypedValueParser};

/// Seconds a request may take: from 1 ms to one day.
pub const TIMEOUT_SECS: (f64, f64) = (0.001, 86_400.0);
/// Seconds to wait before a retry: up to one hour.
pub const WAIT_SECS: (f64, f64) = (0.0, 3_600.0);
/// Requests per second: from one in 1000 s to 10,000.
pub const RATE: (f64, f64) = (0.001, 10_000.0);
/// Requests or downloads in flight at once.
pub const CONCURRENCY: (u64, u64) = (1, 1024);
/// Retries of one request.
pub const RETRIES: (u64, u64) = (0, 100);
/// Bits of a 64-bit perceptual hash.
pub const HASH_BITS: (u64, u64) = (0, 64);
/// Layout iterations.
pub const ITERATIONS: (u64, u64) = (1, 10_000_000);
/// Picture sides in pixels (posters are drawn in tiles: any size up to
/// `export::png`'s limit).
pub const PIXELS: (u64, u64) = (1, 200_000);
/// Frames per second of a recorded tour.
pub const FPS: (u64, u64) = (1, 240);
/// Memory all image decodes at once may take, in MB.
pub const DECODE_MEMORY_MB: (u64, u64) = (16, 1 << 30);

/// A float in `[min, max]` (finite).
pub fn float(min: f64, max: f64) -> impl TypedValueParser<Value = f64> {
    move |text: &str| -> Result<f64, String> {
        let value: f64 = text
            .trim()
            .parse()
            .map_err(|_| format!("not a number: give a number from {min} to {max}"))?;
        if value.is_finite() && (min..=max).contains(&value) {
            Ok(value)
        } else {
            Err(format!("must be a number from {min} to {max}"))
        }
    }
}

/// [`float`] for `(min, max)` pairs like [`TIMEOUT_SECS`].
pub fn floats((min, max): (f64, f64)) -> impl TypedValueParser<Value = f64> {
    float(min, max)
}

/// A fraction in `[0, 1]` (scores, probabilities), as f64.
pub fn fraction() -> impl TypedValueParser<Value = f64> {
    float(0.0, 1.0)
}

/// A fraction in `[0, 1]` as f32.
pub fn fraction_f32() -> impl TypedValueParser<Value = f32> {
    float(0.0, 1.0).map(|v| v as f32)
}

/// An integer in `[min, max]` of any unsigned type (`usize`, `u32`, `u64`).
pub fn count<T>((min, max): (u64, u64)) -> RangedU64ValueParser<T>
where
    T: TryFrom<u64> + Clone + Send + Sync + 'static,
    <T as TryFrom<u64>>::Error: std::error::Error + Send + Sync + 'static,
{
    RangedU64ValueParser::<T>::new().range(min..=max)
}

/// An integer of at least `min` (up to the type's largest value).
pub fn at_least<T>(min: u64) -> RangedU64ValueParser<T>
where
    T: TryFrom<u64> + Clone + Send + Sync + 'static,
    <T as TryFrom<u64>>::Error: std::error::Error + Send + Sync + 'static,
{
    RangedU64ValueParser::<T>::new().range(min..)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct T {
        #[arg(long, value_parser = floats(TIMEOUT_SECS))]
        timeout: Option<f64>,
        #[arg(long, value_parser = count::<usize>(CONCURRENCY))]
        concurrency: Option<usize>,
    }

    #[test]
    fn out_of_range_values_name_the_flag_and_the_range() {
        // ("-1" never reaches the parser: clap reads it as an unknown flag.)
        for bad in ["1e20", "0", "1e-300", "NaN", "inf", "x"] {
            let err = T::try_parse_from(["t", "--timeout", bad])
                .unwrap_err()
                .to_string();
            assert!(err.contains("--timeout"), "{err}");
            assert!(err.contains("0.001") && err.contains("86400"), "{err}");
        }
        assert_eq!(
            T::try_parse_from(["t", "--timeout", "2.5"])
                .unwrap()
                .timeout,
            Some(2.5)
        );
        let err = T::try_parse_from(["t", "--concurrency", "0"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--concurrency") && err.contains("1..=1024"),
            "{err}"
        );
    }
}
