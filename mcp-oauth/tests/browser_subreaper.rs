//! A child subreaper (mcpcord is one, to catch its servers' escaped descendants) must not adopt the
//! browser that the platform opener leaves behind: the orphan sweep at exit would kill the
//! person's browser. A test binary of its own: it makes the whole process a subreaper.

#![cfg(target_os = "linux")]

use mcp_oauth::browser::{Browser, SystemBrowser};
use url::Url;

/// The parent pid in `/proc/PID/stat` (the field after the parenthesised command name).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test]
async fn the_browser_an_opener_leaves_behind_is_not_adopted_by_a_subreaper() {
    mcp_transport::stdio::become_subreaper().expect("a child subreaper");
    let scratch = std::env::temp_dir().join(format!("browser-subreaper-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch dir");
    let pid_file = scratch.join("browser.pid");
    // The "opener" starts a long-lived "browser" in the background and exits at once, as
    // xdg-open does.
    let script = format!(
        "sleep 1000 </dev/null >/dev/null 2>&1 & echo $! > '{}'",
        pid_file.display()
    );
    let browser = SystemBrowser::with_opener("/bin/sh", vec!["-c".to_owned(), script]);
    let url = Url::parse("https://auth.example.com/authorize").expect("a URL");
    // Returns once the opener has exited (and with it, the browser was re-parented).
    browser.open(&url).await.expect("the opener ran");
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .expect("the browser's pid")
        .trim()
        .parse()
        .expect("a pid");
    let parent = parent_of(pid);
    // Clean up before asserting: the "browser" is a plain sleep.
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
    let _ = std::fs::remove_dir_all(&scratch);
    assert_ne!(
        parent,
        Some(std::process::id()),
        "the browser was adopted by the subreaper, and the orphan sweep would kill it"
    );
    // The subreaper attribute is back once the opener is gone.
    let subreaper = rustix::process::child_subreaper();
    assert!(matches!(subreaper, Ok(Some(_))), "{subreaper:?}");
}
