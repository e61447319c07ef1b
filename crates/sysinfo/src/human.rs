//! Human-readable sizes, written byte for byte the way the tools that
//! `mlperf-sysinfo` reads format them, so that our MLPerf fields equal its
//! fields: lscpu's cache sizes (util-linux), `free -h --si` (procps-ng 4),
//! `df -h` (coreutils/gnulib, rounding up) and mlc-scripts' own storage sums.

/// util-linux `size_to_human_string(SIZE_SUFFIX_3LETTER | SIZE_SUFFIX_SPACE)`,
/// as lscpu prints cache sizes: "96 KiB", "1.3 MiB", "300 MiB".
pub fn lscpu_size(bytes: u64) -> String {
    const LETTERS: &[u8] = b"BKMGTPE";
    // get_exp: the largest multiple of 10 with 2^exp <= bytes (0 below 1 KiB).
    let mut exp = 0u32;
    for shift in (10..=60).step_by(10) {
        if bytes < (1u64 << shift) {
            break;
        }
        exp = shift;
    }
    let letter = LETTERS[(exp / 10) as usize] as char;
    let suffix = if letter == 'B' {
        " B".to_owned()
    } else {
        format!(" {letter}iB")
    };
    let mut dec = if exp > 0 { bytes >> exp } else { bytes };
    let mut frac = if exp > 0 {
        bytes & ((1u64 << exp) - 1)
    } else {
        0
    };
    if frac > 0 {
        // Three digits after the point, then rounded to one (util-linux keeps
        // the result as hundredths: 50 means ".5").
        frac = if frac >= u64::MAX / 1000 {
            ((frac / 1024) * 1000) / (1u64 << (exp - 10))
        } else {
            (frac * 1000) / (1u64 << exp)
        };
        frac = (frac + 50) / 100 * 10;
        if frac == 100 {
            dec += 1;
            frac = 0;
        }
    }
    if frac > 0 {
        // "%d.%02d" with the trailing zero dropped: 50 -> ".5".
        let digits = format!("{frac:02}");
        let digits = digits.strip_suffix('0').unwrap_or(&digits);
        format!("{dec}.{digits}{suffix}")
    } else {
        format!("{dec}{suffix}")
    }
}

/// procps-ng 4 `free -h --si`: at most four characters, "%.1f" first, then
/// the truncated integer: 25.3e9 bytes -> "25G", 1.6e9 -> "1.6G".
pub fn free_si(bytes: u64) -> String {
    let plain = format!("{bytes}B");
    if plain.len() <= 4 {
        return plain;
    }
    for (i, unit) in ['K', 'M', 'G', 'T', 'P', 'E'].iter().enumerate() {
        let scaled = bytes as f64 / 1000f64.powi(i as i32 + 1);
        // free casts to C float before printing with one decimal.
        let one_decimal = format!("{:.1}{unit}", scaled as f32);
        if one_decimal.len() <= 4 {
            return one_decimal;
        }
        let whole = format!("{}{unit}", scaled as i64);
        if whole.len() <= 4 {
            return whole;
        }
    }
    plain
}

/// coreutils `df -h` (gnulib human_readable with autoscale, base 1024,
/// rounding up): "252G", "4.0K", "9.9G", "10G", "1.0T".
pub fn df_human(bytes: u64) -> String {
    const SUFFIXES: &[char] = &['K', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
    let bytes = u128::from(bytes);
    if bytes < 1024 {
        return bytes.to_string();
    }
    let mut exponent = 0usize;
    let mut unit: u128 = 1;
    while bytes >= unit * 1024 && exponent < SUFFIXES.len() {
        unit *= 1024;
        exponent += 1;
    }
    let mut whole = bytes / unit;
    let rest = bytes % unit;
    if whole < 10 {
        let mut tenths = (rest * 10).div_ceil(unit);
        if tenths == 10 {
            whole += 1;
            tenths = 0;
        }
        if whole < 10 {
            return format!("{whole}.{tenths}{}", SUFFIXES[exponent - 1]);
        }
        return format!("{whole}{}", SUFFIXES[exponent - 1]);
    }
    if rest > 0 {
        whole += 1;
    }
    if whole == 1024 && exponent < SUFFIXES.len() {
        return format!("1.0{}", SUFFIXES[exponent]);
    }
    format!("{whole}{}", SUFFIXES[exponent - 1])
}

/// mlc-scripts' `_parse_df_size`: a `df -h` size back to bytes ("4.0K" ->
/// 4096); sizes it does not recognise (petabytes and up) count as 0.
pub fn parse_df_size(text: &str) -> u64 {
    let text = text.trim();
    let (number, multiplier) = match text.chars().last() {
        Some(c) if c.is_ascii_digit() => (text, 1u64),
        Some(c) => {
            let multiplier = match c.to_ascii_uppercase() {
                'T' => 1u64 << 40,
                'G' => 1 << 30,
                'M' => 1 << 20,
                'K' => 1 << 10,
                'B' => 1,
                _ => return 0,
            };
            (&text[..text.len() - c.len_utf8()], multiplier)
        }
        None => return 0,
    };
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return 0;
    }
    number
        .parse::<f64>()
        .map(|n| (n * multiplier as f64) as u64)
        .unwrap_or(0)
}

/// mlc-scripts' `_bytes_to_str`: "252 GB", "1.8 TB" (binary units, one
/// decimal, trailing ".0" dropped).
pub fn mlc_bytes(bytes: u64) -> String {
    for (unit, div) in [("TB", 1u64 << 40), ("GB", 1 << 30), ("MB", 1 << 20)] {
        if bytes >= div {
            let text = format!("{:.1}", bytes as f64 / div as f64);
            let text = text.trim_end_matches('0').trim_end_matches('.');
            return format!("{text} {unit}");
        }
    }
    format!("{bytes} B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lscpu_sizes_match_util_linux() {
        assert_eq!(lscpu_size(96 * 1024), "96 KiB");
        assert_eq!(lscpu_size(64 * 1024), "64 KiB");
        assert_eq!(lscpu_size(4 * 1024 * 1024), "4 MiB");
        assert_eq!(lscpu_size(300 * 1024 * 1024), "300 MiB");
        // 1.25 MiB: 250 thousandths -> rounds to .3 (util-linux adds 50 then truncates).
        assert_eq!(lscpu_size(1280 * 1024), "1.3 MiB");
        assert_eq!(lscpu_size(1536 * 1024), "1.5 MiB");
        // 105 MiB + 0.98 -> rounds up to the next whole number.
        assert_eq!(lscpu_size(106 * 1024 * 1024 - 10 * 1024), "106 MiB");
        assert_eq!(lscpu_size(512), "512 B");
    }

    #[test]
    fn free_si_matches_procps() {
        assert_eq!(free_si(24_731_400 * 1024), "25G");
        assert_eq!(free_si(1_600_000_000), "1.6G");
        assert_eq!(free_si(999), "999B");
        // 9.96 GB prints as "10.0G" (five characters), so free falls back to
        // the truncated integer.
        assert_eq!(free_si(9_960_000_000), "9G");
        assert_eq!(free_si(2_015_000_000_000), "2.0T");
    }

    #[test]
    fn df_sizes_round_up_like_coreutils() {
        assert_eq!(df_human(4096), "4.0K");
        assert_eq!(df_human(270_465_425_408), "252G");
        assert_eq!(df_human(12 * (1 << 30)), "12G");
        assert_eq!(df_human(12 * (1 << 30) + 1), "13G");
        assert_eq!(df_human((1 << 30) + 1), "1.1G");
        assert_eq!(df_human(10 * (1 << 30) - 1), "10G");
        assert_eq!(df_human((1 << 40) - 1), "1.0T");
        assert_eq!(df_human(0), "0");
    }

    #[test]
    fn df_sizes_parse_back_and_sum_like_mlc() {
        assert_eq!(parse_df_size("4.0K"), 4096);
        assert_eq!(parse_df_size("252G"), 252 << 30);
        assert_eq!(parse_df_size("1.5P"), 0);
        assert_eq!(parse_df_size("12"), 12);
        assert_eq!(mlc_bytes(252 << 30), "252 GB");
        assert_eq!(mlc_bytes((1 << 40) + (820 << 30)), "1.8 TB");
        assert_eq!(mlc_bytes(100), "100 B");
    }
}
