//! Owning a demo HTTP server that runs on a task, and watching its sockets close.

use std::{net::SocketAddr, sync::Arc};

use tokio::{
    sync::{oneshot, watch},
    task::JoinHandle,
};

use super::{
    DemoError,
    http::{sse_url, url},
    sse::SseSessions,
};

/// A demo HTTP server running on a Tokio task, from [`DemoHttpServer::spawn`](super::DemoHttpServer::spawn).
///
/// Dropping the handle aborts the task (synchronously, without waiting): the listener, every
/// connection and every rmcp session (legacy SSE sessions included) end as soon as the runtime
/// drops the task, without any request being allowed to finish. [`close`](Self::close) stops it gracefully and returns once all
/// of that has happened. To check that nothing is left open either way, keep a
/// [`watch`](Self::watch).
#[derive(Debug)]
pub struct DemoHttpHandle {
    local_addr: SocketAddr,
    watch: DemoHttpWatch,
    sse_sessions: SseSessions,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), DemoError>>,
}

impl DemoHttpHandle {
    pub(crate) fn new(
        local_addr: SocketAddr,
        watch: DemoHttpWatch,
        sse_sessions: SseSessions,
        stop: oneshot::Sender<()>,
        task: JoinHandle<Result<(), DemoError>>,
    ) -> Self {
        Self {
            local_addr,
            watch,
            sse_sessions,
            stop: Some(stop),
            task,
        }
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The MCP endpoint, e.g. `http://127.0.0.1:41234/mcp`.
    pub fn url(&self) -> String {
        url(self.local_addr)
    }

    /// The legacy HTTP+SSE endpoint (MCP 2024-11-05), e.g. `http://127.0.0.1:41234/sse`: a `GET`
    /// there opens a session whose first event names where to `POST` the client's messages.
    pub fn sse_url(&self) -> String {
        sse_url(self.local_addr)
    }

    /// A watch on the server's sockets that outlives this handle.
    pub fn watch(&self) -> DemoHttpWatch {
        self.watch.clone()
    }

    /// How many legacy SSE sessions are running: each from its `GET /sse` until its stream ends
    /// (the client went away, or the server closed it) and its MCP server's tasks are gone.
    pub fn sse_sessions(&self) -> usize {
        self.sse_sessions.count()
    }

    /// Completes once no legacy SSE session is running (at once if none is): after a client
    /// closes its event stream, this is how a test learns that the server let go of everything.
    pub async fn sse_sessions_ended(&self) {
        self.sse_sessions.ended().await;
    }

    /// The session count itself, which outlives this handle.
    #[cfg(test)]
    pub(crate) fn sse_session_counter(&self) -> SseSessions {
        self.sse_sessions.clone()
    }

    /// Stops the server gracefully: it stops accepting, ends rmcp's sessions and every legacy SSE
    /// stream, gives in-flight requests up to a second to finish, then closes every connection.
    /// Returns once the listener, every connection and every SSE session's task are gone.
    ///
    /// # Errors
    /// The error serving stopped with earlier, if it did ([`DemoError::Accept`]), or
    /// [`DemoError::Serve`] if the task panicked.
    pub async fn close(mut self) -> Result<(), DemoError> {
        if let Some(stop) = self.stop.take() {
            // The task may have ended already; awaiting it below says how.
            let _ = stop.send(());
        }
        match (&mut self.task).await {
            Ok(result) => result,
            Err(error) => Err(DemoError::serve("the demo HTTP server's task", error)),
        }
    }
}

impl Drop for DemoHttpHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Whether a demo HTTP server still holds any socket: its listener or a connection it accepted.
///
/// Cheap to clone, and independent of the server's lifetime, so it can report after the server is
/// gone that nothing was left open.
#[derive(Debug, Clone)]
pub struct DemoHttpWatch(watch::Receiver<()>);

impl DemoHttpWatch {
    /// `true` while the listener or any accepted connection is still open.
    pub fn is_open(&self) -> bool {
        // The sender is dropped with the last socket, and nothing is ever sent on it.
        self.0.has_changed().is_ok()
    }

    /// Completes once the listener and every accepted connection are closed.
    pub async fn closed(&self) {
        let mut receiver = self.0.clone();
        while receiver.changed().await.is_ok() {}
    }
}

/// Held by the listener and by every connection's task; when the last one is dropped, every
/// [`DemoHttpWatch`] sees the server closed.
#[derive(Debug, Clone)]
pub(crate) struct Alive(Arc<watch::Sender<()>>);

impl Alive {
    pub(crate) fn new() -> Self {
        Self(Arc::new(watch::channel(()).0))
    }

    pub(crate) fn watch(&self) -> DemoHttpWatch {
        DemoHttpWatch(self.0.subscribe())
    }
}
