//! Newline-delimited JSON-RPC on a child's stdin and stdout, every line kept as it came.

use std::time::Duration;

use mcp_transport::{ExitInfo, StdioProcess, StdioSpec, StdioTransport};
use serde_json::Value;
use tokio::time::Instant;

use super::{ClientSide, Exchange, Pending, Received, Step, WireError};

/// The most stray lines kept as evidence; the rest are only counted.
const STRAY_LINES_KEPT: usize = 20;

/// A stdio server under check. Dropping it kills the server's process group (the transport's
/// `Drop`), without waiting.
#[derive(Debug)]
pub(crate) struct StdioWire {
    transport: StdioTransport,
    process: StdioProcess,
    client_side: ClientSide,
    /// The first lines of stdout that were not JSON-RPC messages (for the purity check).
    pub(crate) stray_lines: Vec<String>,
    /// How many such lines there were in all.
    pub(crate) stray_count: usize,
}

impl StdioWire {
    pub(crate) fn spawn(spec: &StdioSpec, client_side: ClientSide) -> Result<Self, WireError> {
        let transport = StdioTransport::spawn("check", spec)?;
        let process = transport.process();
        Ok(Self {
            transport,
            process,
            client_side,
            stray_lines: Vec::new(),
            stray_count: 0,
        })
    }

    /// Writes one line by `deadline`; a server that stops reading halfway has its stdin closed
    /// (by the transport) and this is a timeout.
    async fn write(
        &self,
        bytes: Vec<u8>,
        deadline: Instant,
        pending: &Pending<'_>,
    ) -> Result<(), WireError> {
        match self.transport.write_raw_line(bytes, deadline).await? {
            true => Ok(()),
            false => Err(pending.timed_out()),
        }
    }

    /// Notes a line of stdout that is not JSON-RPC.
    fn note_stray(&mut self, received: &Received) {
        if received.message.is_none() && !received.raw.trim().is_empty() {
            self.stray_count += 1;
            if self.stray_lines.len() < STRAY_LINES_KEPT {
                self.stray_lines.push(received.raw.clone());
            }
        }
    }

    pub(crate) async fn exchange(
        &mut self,
        bytes: Vec<u8>,
        id: Option<&Value>,
        timeout: Duration,
    ) -> Result<Exchange, WireError> {
        let mut pending = Pending::new(&bytes, id, timeout);
        let deadline = pending.deadline();
        self.write(bytes, deadline, &pending).await?;
        if pending.id().is_none() {
            return Ok(pending.finish());
        }
        loop {
            if pending.expired() {
                return Err(pending.timed_out());
            }
            let line = match tokio::time::timeout_at(deadline, self.transport.read_raw_line()).await
            {
                Err(_) => return Err(pending.timed_out()),
                Ok(Ok(Some(line))) => line,
                Ok(Ok(None)) => return Err(WireError::Ended),
                Ok(Err(error)) => return Err(error.into()),
            };
            let received = Received::new(String::from_utf8_lossy(&line).into_owned());
            self.note_stray(&received);
            match pending.take(received, &self.client_side) {
                Step::Answered => return Ok(pending.finish()),
                Step::Respond(answer) => self.write(answer, deadline, &pending).await?,
                Step::Continue => {}
            }
        }
    }

    /// Closes the server's stdin and waits up to `grace` for it to exit; `None` if it did not.
    /// What it writes meanwhile is read (a server must not block on a full pipe while exiting)
    /// and judged like every other line.
    pub(crate) async fn close_and_wait(&mut self, grace: Duration) -> Option<ExitInfo> {
        let deadline = Instant::now() + grace;
        // The stdin lock waits for a line being written; a server that reads nothing more would
        // hold it for ever.
        if tokio::time::timeout_at(deadline, self.transport.close_stdin())
            .await
            .is_err()
        {
            return None;
        }
        let process = self.process.clone();
        let reading = async {
            while let Ok(Some(line)) = self.transport.read_raw_line().await {
                let received = Received::new(String::from_utf8_lossy(&line).into_owned());
                self.client_side.judge(&received, "(stdin closed)");
                self.note_stray(&received);
            }
            std::future::pending::<()>().await;
        };
        tokio::select! {
            exited = tokio::time::timeout_at(deadline, process.exited()) => exited.ok(),
            () = reading => None,
        }
    }

    /// Kills the server's process group and waits (at most `limit`) for its leader to be gone.
    pub(crate) async fn kill_and_wait(&self, limit: Duration) -> bool {
        self.process.kill_and_wait(limit).await
    }

    /// The last lines the server wrote to stderr.
    pub(crate) fn stderr_excerpt(&self) -> String {
        self.process.stderr_tail().excerpt(5)
    }
}
