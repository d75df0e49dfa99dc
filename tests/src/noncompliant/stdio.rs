//! The stdio transport: one JSON-RPC message per line on stdin and stdout, logs on stderr.

use std::{
    io::{self, BufRead, Read as _, Write},
    path::Path,
    thread,
    time::Duration,
};

use serde_json::Value;

use super::{Incoming, MAX_MESSAGE, RpcError, Server, Violation, parse};

/// Serves `server` on stdin and stdout until stdin closes (or, under
/// [`Violation::NoExitOnStdinClose`], forever). Lines longer than [`MAX_MESSAGE`] are answered with
/// an invalid-request error and skipped.
pub fn serve_stdio(server: &Server) -> io::Result<()> {
    if server.violates(Violation::RequiresStderr) && stderr_is_ignored() {
        return Err(io::Error::other(
            "stderr leads to /dev/null; this server will not run unheard",
        ));
    }
    let mut stdin = io::stdin().lock();
    let mut stdout = io::stdout().lock();
    if let Some(line) = server.startup_stray() {
        writeln!(stdout, "{line}")?;
        stdout.flush()?;
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        let limit = MAX_MESSAGE as u64 + 1;
        if (&mut stdin).take(limit).read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if line.last() != Some(&b'\n') && line.len() > MAX_MESSAGE {
            skip_line(&mut stdin)?;
            let error = RpcError {
                code: -32600,
                message: format!("message longer than {MAX_MESSAGE} bytes"),
            };
            write(&mut stdout, &server.error_response(Value::Null, error))?;
            continue;
        }
        if line.trim_ascii().is_empty() {
            continue;
        }
        match parse(&line) {
            Incoming::Request { id, method, params } => {
                let reply = server.reply(id, &method, &params);
                for message in &reply.before {
                    write(&mut stdout, message)?;
                }
                write(&mut stdout, &reply.response)?;
                if let Some(stray) = reply.stray_after {
                    writeln!(stdout, "{stray}")?;
                    stdout.flush()?;
                }
            }
            Incoming::Invalid { id, error } => {
                if server.dies_of(&error) {
                    eprintln!("malformed input: crashing, as --violate dies-on-bad-input asks");
                    std::process::exit(1);
                }
                write(&mut stdout, &server.error_response(id, error))?;
            }
            Incoming::Notification { method } => eprintln!("notification {method}"),
            Incoming::Response => {}
        }
    }
    eprintln!("stdin closed");
    if server.violates(Violation::NoExitOnStdinClose) {
        loop {
            thread::sleep(Duration::from_secs(3600));
        }
    }
    Ok(())
}

/// Whether our stderr is the null device (Linux: where `/proc/self/fd/2` points).
fn stderr_is_ignored() -> bool {
    std::fs::read_link("/proc/self/fd/2").is_ok_and(|target| target == Path::new("/dev/null"))
}

fn write(stdout: &mut impl Write, message: &Value) -> io::Result<()> {
    serde_json::to_writer(&mut *stdout, message)?;
    stdout.write_all(b"\n")?;
    stdout.flush()
}

/// Discards the rest of an oversized line, a buffer at a time.
fn skip_line(stdin: &mut impl BufRead) -> io::Result<()> {
    loop {
        let buffer = stdin.fill_buf()?;
        if buffer.is_empty() {
            return Ok(());
        }
        match buffer.iter().position(|&byte| byte == b'\n') {
            Some(end) => {
                stdin.consume(end + 1);
                return Ok(());
            }
            None => {
                let all = buffer.len();
                stdin.consume(all);
            }
        }
    }
}
