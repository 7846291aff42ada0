//! Peak memory of a command run as a child (Linux).

use std::process::Command;

/// Peak resident memory of a finished child, from the kernel (`wait4`).
// The child is reaped by wait4 itself, which std's `Child::wait` cannot do
// while also returning the rusage.
#[allow(clippy::zombie_processes)]
pub fn run_measured(cmd: &mut Command) -> (std::process::ExitStatus, u64) {
    use std::os::unix::process::ExitStatusExt;
    let child = cmd.spawn().unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32);
    // ru_maxrss is in KiB on Linux.
    (
        std::process::ExitStatus::from_raw(status),
        usage.ru_maxrss as u64 * 1024,
    )
}
