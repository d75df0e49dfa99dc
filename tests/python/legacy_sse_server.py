"""The official Python SDK's deprecated HTTP+SSE server (PyPI `mcp`, pinned in xtask/src/python.rs), stock.

    legacy_sse_server.py

Run by the interop tests (`mcp_tests::support::LegacySseServer`) with the interpreter of the venv
`cargo xtask py-deps` makes. An `MCPServer` served the way `MCPServer.run(transport="sse")` serves
it: the SDK's `sse_app()` with its default paths under a `uvicorn.Server` with the SDK's own
`uvicorn.Config`. GET /sse opens a stream whose first event is `endpoint`, with the data
`/messages/?session_id=HEX`; POST /messages/?session_id=HEX hands a message to that session
(202 Accepted), and its answers arrive as `message` events on the GET stream.

The server offers what `tests/node/legacy_sse_server.cjs` offers, bar the TypeScript-only
`drop_stream`: tools `echo` ({text}: the text) and `add` ({a, b}, integers: the sum; the SDK adds
the structured content `{"result": sum}`), the resource `test://greeting` (text
`Hello from the legacy SSE server`), and the prompt `greet` ({name}: one user message
`Say hello to NAME.`).

The one difference from `run()`: the listening socket is bound here (127.0.0.1, port 0) and handed
to `uvicorn.Server.serve(sockets=...)`, as `bench/python/stock_server.py` does, because `run()`
needs a port number chosen in advance and never says when it is listening. Prints
`listening on http://127.0.0.1:PORT/sse` on stdout once the socket listens, then serves until killed.
"""

import socket

import anyio
import uvicorn
from mcp.server.mcpserver import MCPServer

HOST = "127.0.0.1"
SSE_PATH = "/sse"

server = MCPServer("mcp-tests-legacy-sse-python")


@server.tool()
def echo(text: str) -> str:
    """Return the given text unchanged."""
    return text


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.resource("test://greeting", name="greeting", description="A fixed greeting", mime_type="text/plain")
def greeting() -> str:
    return "Hello from the legacy SSE server"


@server.prompt(description="Ask for a greeting")
def greet(name: str) -> str:
    return f"Say hello to {name}."


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((HOST, 0))
    # Listening before the address is printed: a client that connects at once waits in the backlog
    # until uvicorn accepts.
    listener.listen(2048)
    port = listener.getsockname()[1]
    # As `MCPServer.run_sse_async` builds them, with the SDK's defaults (`/sse`, `/messages/`).
    app = server.sse_app(sse_path=SSE_PATH, host=HOST)
    config = uvicorn.Config(app, host=HOST, port=port, log_level=server.settings.log_level.lower())
    print(f"listening on http://{HOST}:{port}{SSE_PATH}", flush=True)
    anyio.run(lambda: uvicorn.Server(config).serve(sockets=[listener]))


if __name__ == "__main__":
    main()
