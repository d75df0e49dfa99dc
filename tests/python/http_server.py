"""The official Python SDK's streamable HTTP server (PyPI `mcp`, pinned in xtask/src/python.rs), stock.

    http_server.py

Run by `cargo xtask check-agreement` with the interpreter of the venv `cargo xtask py-deps` makes:
an `MCPServer` served as `MCPServer.run(transport="streamable-http")` serves it, the SDK's
`streamable_http_app()` with its defaults (stateful sessions for the revisions with `initialize`,
and 2026-07-28 per request, as the SDK speaks both eras) under a `uvicorn.Server` with the SDK's
own log level. The one difference from `run()`: the listening socket is bound here (127.0.0.1,
port 0) and handed to `uvicorn.Server.serve(sockets=...)`, because `run()` needs a port chosen in
advance and never says when it is listening. Prints `listening on http://127.0.0.1:PORT/mcp` on
stdout once the socket listens, then serves until killed.

Tools `echo` ({text}: the text) and `add` ({a, b}, integers: the sum), the resource
`test://greeting` (text `Hello from the Python SDK over HTTP`), the prompt `greet` ({name}: one
user message `Say hello to NAME.`).
"""

import socket

import anyio
import uvicorn
from mcp.server.mcpserver import MCPServer

HOST = "127.0.0.1"
PATH = "/mcp"

server = MCPServer("mcp-tests-http-python")


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
    return "Hello from the Python SDK over HTTP"


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
    app = server.streamable_http_app(host=HOST)
    config = uvicorn.Config(app, host=HOST, port=port, log_level=server.settings.log_level.lower())
    print(f"listening on http://{HOST}:{port}{PATH}", flush=True)
    anyio.run(lambda: uvicorn.Server(config).serve(sockets=[listener]))


if __name__ == "__main__":
    main()
