//! A server's life is tied to this process (it dies if we are SIGKILLed: `mcpcord`'s
//! `cli_signals` tests show that), never to the thread that happened to start it.

use std::time::Duration;

use mcp_transport::stdio::{StdioSpec, StdioTransport};

use crate::support::eventually_blocking;

/// SIGKILL's bit in the pending-signal masks of `/proc/PID/status`.
const SIGKILL_BIT: u64 = 1 << 8;
/// `PF_EXITING` in the flags field of `/proc/PID/stat`.
const PF_EXITING: u64 = 0x4;

/// Whether `pid` has been sent SIGKILL or is dying or gone: a signal still pending, an exit under
/// way, a zombie, or no process at all.
fn killed(pid: u32) -> bool {
    let pending = std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|status| {
        status.lines().any(|line| {
            let mask = line
                .strip_prefix("SigPnd:")
                .or_else(|| line.strip_prefix("ShdPnd:"));
            mask.and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
                .is_some_and(|mask| mask & SIGKILL_BIT != 0)
        })
    });
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return true;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return true;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let dying = matches!(fields.first(), Some(&"Z" | &"X"));
    let exiting = fields
        .get(6)
        .and_then(|flags| flags.parse::<u64>().ok())
        .is_some_and(|flags| flags & PF_EXITING != 0);
    pending || dying || exiting
}

#[test]
fn a_server_outlives_the_thread_that_started_it() {
    // A thread of its own with a runtime of its own, as a blocking-pool thread or a short-lived
    // helper thread would be; both it and its runtime's thread end before the server is checked.
    let starter = std::thread::spawn(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let transport = runtime
            .block_on(async {
                StdioTransport::spawn("sleeper", &StdioSpec::new("sleep").args(["1000"]))
            })
            .expect("spawned");
        let thread = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self");
        (runtime, transport, thread)
    });
    let (runtime, transport, thread) = starter.join().expect("the starter thread ran");
    let server = transport.process().pid();

    // A parent-death signal tied to that thread is sent as it exits, before its /proc entry goes.
    let thread = std::path::Path::new("/proc").join(thread);
    eventually_blocking("the starter thread has ended", || !thread.exists());
    // Checked for a while as well, for the time the kernel takes to act on a signal it sent.
    for _ in 0..20 {
        assert!(
            !killed(server),
            "the server was killed when the thread that started it ended"
        );
        std::thread::sleep(Duration::from_millis(10));
    }

    drop(transport);
    drop(runtime);
}
