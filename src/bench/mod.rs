//! `tagscape bench ...`: measurements printed for people, never run by tests.

pub mod cluster;
pub mod duplicates;
pub mod fetch;
pub mod layout;
pub mod map;
pub mod render;

/// The CPU model from /proc/cpuinfo, for the machine line of every bench.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// The process's peak resident memory (VmHWM) in kB, where /proc has it.
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
