//! A CPU budget per scrubbed string: the bound behind "every input costs at most so much per
//! MiB, whatever it contains".
//!
//! The detectors are linear, but their constant depends on the input: text made of nothing but
//! keyword hits and assignments (`token=…` a hundred thousand times) pays a confirmation per
//! hit and is tens of times slower per byte than prose. Rather than trust every detector's
//! constant, the scrub of one string gets a deadline on the thread's CPU clock (time on a CPU,
//! so a worker that is preempted on a busy machine is not charged for it): `floor + per_mib ×
//! size`. The scan loops report progress with [`tick`]; every few thousand units the clock is
//! read, and past the deadline [`over`] turns true, the loops stop early, and the string is
//! replaced whole by `[REDACTED:over_budget]` and counted (fail closed: never forwarded
//! unscanned, and never half-scanned).
//!
//! The state is per thread, armed by the outermost scrub of a string ([`arm`]) and disarmed
//! when its guard drops; nested scrubs of parts of that string share its deadline.

use std::cell::Cell;
use std::time::Duration;

/// Work units before the clock is first read: most strings (a span's attributes, a message)
/// are done before then and never pay for a reading. A unit is roughly 10 ns of scanning: a
/// confirmation counts 32 and up, 32 bytes of a pass one, a key of an assignment 256.
const FIRST_CHECK: u64 = 32 << 10;
/// Unoptimised builds (the test suite) run the scanner 10 to 30 times slower than release
/// builds, for which the budget is set: there it is that much wider, so that tests see what a
/// release build does with the same text.
const DEBUG_SCALE: u64 = if cfg!(debug_assertions) { 30 } else { 1 };

/// Strings at least this long read the clock when the budget is armed.
const EAGER_BYTES: usize = 16 << 10;
/// Work units between later readings (a reading costs ~100-300 ns: a system call).
const CHECK_EVERY: u64 = 4 << 10;

/// Cost that never trips the budget, whatever the size: short strings cost microseconds, and
/// the clock's granularity must not decide their fate.
pub(crate) const FLOOR: Duration = Duration::from_millis(2);

#[derive(Clone, Copy)]
struct State {
    /// CPU time allowed, in ns; 0 when no budget is armed.
    allowed: u64,
    /// Deadline on the thread's CPU clock, in ns; 0 until the clock is first read.
    deadline: u64,
    over: bool,
}

const IDLE: State = State {
    allowed: 0,
    deadline: 0,
    over: false,
};

thread_local! {
    static STATE: Cell<State> = const { Cell::new(IDLE) };
    /// Units left before the next check of [`STATE`]; `u64::MAX` when no budget is armed, so
    /// that the common path of [`tick`] is one subtraction.
    static LEFT: Cell<u64> = const { Cell::new(u64::MAX) };
}

/// This thread's CPU time in nanoseconds (0 where the clock cannot be read: then no budget
/// ever trips, and the scrub runs to completion as it did before budgets existed).
fn thread_cpu_ns() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map(|t| (t.tv_sec() as u64).saturating_mul(1_000_000_000) + t.tv_nsec() as u64)
        .unwrap_or(0)
}

/// Disarms the budget it armed when dropped.
pub(crate) struct Guard {
    armed: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.armed {
            STATE.with(|s| s.set(IDLE));
            LEFT.with(|l| l.set(u64::MAX));
        }
    }
}

/// Arms the budget for scrubbing `len` bytes at `per_mib` of CPU per MiB (plus [`FLOOR`]),
/// unless one is already armed (a nested scrub shares the outer budget) or `per_mib` is zero
/// (budget off). A string shorter than [`EAGER_BYTES`] costs no clock reading here: its
/// deadline is set at the first reading, after [`FIRST_CHECK`] units of work (what was spent
/// before it is not charged; it is small).
pub(crate) fn arm(len: usize, per_mib: Duration) -> Guard {
    if per_mib.is_zero() || STATE.with(Cell::get).allowed != 0 {
        return Guard { armed: false };
    }
    let allowed = (FLOOR.as_nanos() as u64
        + (per_mib.as_nanos() as u64).saturating_mul(len as u64) / (1 << 20))
        .saturating_mul(DEBUG_SCALE);
    // A long string starts its clock now (one reading is nothing next to its scan); a short
    // one at its first check, if it ever gets there.
    let deadline = if len >= EAGER_BYTES {
        match thread_cpu_ns() {
            0 => 0,
            now => now.saturating_add(allowed),
        }
    } else {
        0
    };
    STATE.with(|s| {
        s.set(State {
            allowed,
            deadline,
            ..IDLE
        })
    });
    LEFT.with(|l| l.set(FIRST_CHECK));
    Guard { armed: true }
}

/// Records `n` units of work; reads the clock when enough have passed. Returns [`over`].
#[inline]
pub(crate) fn tick(n: usize) -> bool {
    let left = LEFT.with(|l| {
        let v = l.get().saturating_sub(n as u64);
        l.set(v);
        v
    });
    if left > 0 {
        return false;
    }
    check()
}

/// The slow path of [`tick`]: reads the clock.
#[cold]
fn check() -> bool {
    STATE.with(|cell| {
        let mut s = cell.get();
        if s.allowed == 0 || s.over {
            return s.over;
        }
        LEFT.with(|l| l.set(CHECK_EVERY));
        let now = thread_cpu_ns();
        if now == 0 {
            // No clock: never trips.
            LEFT.with(|l| l.set(u64::MAX));
        } else if s.deadline == 0 {
            s.deadline = now.saturating_add(s.allowed);
        } else if now > s.deadline {
            s.over = true;
            // Every later tick takes the slow path and answers at once.
            LEFT.with(|l| l.set(0));
        }
        cell.set(s);
        s.over
    })
}

/// Whether the armed budget has run out (the scan loops stop; the string is replaced whole).
#[inline]
pub(crate) fn over() -> bool {
    STATE.with(|s| s.get().over)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_trips_once_its_cpu_time_is_spent_and_is_gone_after_its_guard() {
        {
            let _g = arm(0, Duration::from_nanos(1));
            let start = thread_cpu_ns();
            assert!(start > 0, "this platform has a thread CPU clock");
            // Spin on the CPU past the floor, reporting work as the scan loops do.
            let mut x = 0u64;
            while !tick(1024) {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                std::hint::black_box(x);
                assert!(thread_cpu_ns() - start < 5_000_000_000, "never tripped");
            }
            assert!(over());
            assert!(thread_cpu_ns() - start >= FLOOR.as_nanos() as u64 * DEBUG_SCALE);
            // A nested scrub shares the deadline: it does not re-arm a fresh one.
            let inner = arm(1 << 30, Duration::from_secs(1));
            assert!(over());
            drop(inner);
            assert!(over(), "the inner guard did not disarm the outer budget");
        }
        assert!(!over());
        assert!(!tick(1 << 30), "no budget armed: nothing trips");
    }

    #[test]
    fn a_zero_budget_is_off() {
        let _g = arm(1 << 20, Duration::ZERO);
        assert!(!tick(1 << 30));
        assert!(!over());
    }
}
