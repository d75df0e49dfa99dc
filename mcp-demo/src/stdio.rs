//! Serving the demo over this process's standard input and output.

use rmcp::{ServiceExt as _, service::ServerInitializeError};

use super::{DemoEra, DemoError, DemoServer};

/// Serves [`DemoServer`] on this process's stdin and stdout until stdin closes, then returns.
///
/// This is `mcpcord serve-demo --stdio`: one session, as an MCP client that started the process as its
/// stdio server expects. A client that closes stdin before initializing is not an error.
///
/// # Errors
/// [`DemoError::Serve`] if the handshake fails (e.g. the first message is not `initialize`) or the
/// session's task fails.
pub async fn serve_stdio() -> Result<(), DemoError> {
    serve_stdio_era(DemoEra::Both).await
}

/// [`serve_stdio`], speaking only `era`'s protocol revisions.
///
/// # Errors
/// As [`serve_stdio`].
pub async fn serve_stdio_era(era: DemoEra) -> Result<(), DemoError> {
    let running = match DemoServer::with_era(era)
        .serve(rmcp::transport::stdio_pipes())
        .await
    {
        Ok(running) => running,
        Err(ServerInitializeError::ConnectionClosed(_)) => return Ok(()),
        Err(error) => return Err(DemoError::serve("initializing over stdio", error)),
    };
    running
        .waiting()
        .await
        .map_err(|error| DemoError::serve("serving over stdio", error))?;
    Ok(())
}
