//! Newline-delimited JSON-RPC on a child's stdin and stdout, every line kept as it came.

use std::time::Duration;

use mcp_transport::{ExitInfo, StdioProcess, StdioSpec, StdioTransport};
use serde_json::Value;

use super::{Exchange, Pending, Received, Responder, Step, WireError};

/// A stdio server under check. Dropping it kills the server's process group (the transport's
/// `Drop`), without waiting.
#[derive(Debug)]
pub(crate) struct StdioWire {
    transport: StdioTransport,
    process: StdioProcess,
    responder: Responder,
    /// Every line of stdout that was not a JSON-RPC message, in order (kept for the purity check).
    pub(crate) stray_lines: Vec<String>,
}

impl StdioWire {
    pub(crate) fn spawn(spec: &StdioSpec, responder: Responder) -> Result<Self, WireError> {
        let transport = StdioTransport::spawn("check", spec)?;
        let process = transport.process();
        Ok(Self {
            transport,
            process,
            responder,
            stray_lines: Vec::new(),
        })
    }

    pub(crate) async fn exchange(
        &mut self,
        bytes: Vec<u8>,
        id: Option<&Value>,
        timeout: Duration,
    ) -> Result<Exchange, WireError> {
        let mut pending = Pending::new(&bytes, id, timeout);
        let deadline = pending.deadline();
        tokio::time::timeout_at(deadline, self.transport.write_raw_line(bytes))
            .await
            .map_err(|_| pending.timed_out())??;
        if pending.id().is_none() {
            return Ok(pending.finish());
        }
        loop {
            let line = match tokio::time::timeout_at(deadline, self.transport.read_raw_line()).await
            {
                Err(_) => return Err(pending.timed_out()),
                Ok(Ok(Some(line))) => line,
                Ok(Ok(None)) => return Err(WireError::Ended),
                Ok(Err(error)) => return Err(error.into()),
            };
            let received = Received::new(String::from_utf8_lossy(&line).into_owned());
            if received.message.is_none() && !received.raw.trim().is_empty() {
                self.stray_lines.push(received.raw.clone());
            }
            match pending.take(received, &self.responder) {
                Step::Answered => return Ok(pending.finish()),
                Step::Respond(answer) => self.transport.write_raw_line(answer).await?,
                Step::Continue => {}
            }
        }
    }

    /// Closes the server's stdin and waits up to `grace` for it to exit; `None` if it did not.
    pub(crate) async fn close_and_wait(&mut self, grace: Duration) -> Option<ExitInfo> {
        self.transport.close_stdin().await;
        let process = self.process.clone();
        // Read on while waiting: a server that writes while it exits must not block on a full pipe.
        let reading = async {
            while let Ok(Some(_)) = self.transport.read_raw_line().await {}
            std::future::pending::<()>().await;
        };
        tokio::select! {
            exited = tokio::time::timeout(grace, process.exited()) => exited.ok(),
            () = reading => None,
        }
    }

    /// The last lines the server wrote to stderr.
    pub(crate) fn stderr_excerpt(&self) -> String {
        self.process.stderr_tail().excerpt(5)
    }
}
