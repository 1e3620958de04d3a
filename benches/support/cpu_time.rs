//! Time this thread spent on a CPU (`CLOCK_THREAD_CPUTIME_ID`), as a criterion measurement: on a
//! small shared machine it leaves out the time other processes held the core, which wall time
//! counts. Caches are still shared, so it is steadier than wall time, not immune.

use std::time::{Duration, Instant};

use criterion::measurement::{Measurement, ValueFormatter, WallTime};

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

#[cfg(target_os = "linux")]
const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
#[cfg(target_os = "linux")]
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;

#[cfg(target_os = "linux")]
unsafe extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}

/// On-CPU time of the calling thread since it started (wall time where that clock is missing).
pub fn thread_cpu_time() -> Duration {
    #[cfg(target_os = "linux")]
    return cpu_clock(CLOCK_THREAD_CPUTIME_ID);
    #[cfg(not(target_os = "linux"))]
    return since_first_call();
}

/// On-CPU time of every thread of this process since it started (wall time where that clock is
/// missing): for work spread over several cores.
pub fn process_cpu_time() -> Duration {
    #[cfg(target_os = "linux")]
    return cpu_clock(CLOCK_PROCESS_CPUTIME_ID);
    #[cfg(not(target_os = "linux"))]
    return since_first_call();
}

#[cfg(target_os = "linux")]
fn cpu_clock(clock: i32) -> Duration {
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, exclusively borrowed timespec; the clock ids are Linux's.
    if unsafe { clock_gettime(clock, &mut ts) } == 0 {
        return Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
    }
    since_first_call()
}

fn since_first_call() -> Duration {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

/// Criterion measurement of thread CPU time; values and their formatting are those of wall time.
pub struct CpuTime {
    wall: WallTime,
}

impl CpuTime {
    pub fn new() -> Self {
        CpuTime { wall: WallTime }
    }
}

impl Measurement for CpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu_time()
    }
    fn end(&self, start: Duration) -> Duration {
        thread_cpu_time().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        self.wall.formatter()
    }
}
