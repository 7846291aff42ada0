//! `tagscape bench ...`: measurements printed for people, never run by tests.

pub mod cluster;
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
