"""What the Python SDK test servers share (imported by the scripts beside it, run by path).

`stock_server(name, greeting)`: an `MCPServer` called `name` offering, as the SDK's documentation
writes them, the tools `echo` ({text}: the text) and `add` ({a, b}, integers: the sum), the resource
`test://greeting` (text `greeting`) and the prompt `greet` ({name}: one user message
`Say hello to NAME.`).

`serve_on_loopback(server, app, path)`: serves `app` under a `uvicorn.Server` with the SDK's own
log level, on a socket bound here (127.0.0.1, port 0) and handed to `uvicorn.Server.serve(sockets=
...)`, because `MCPServer.run()` needs a port chosen in advance and never says when it listens.
Prints `listening on http://127.0.0.1:PORT{path}` once the socket listens, then serves until killed.
"""

import socket

import anyio
import uvicorn
from mcp.server.mcpserver import MCPServer

HOST = "127.0.0.1"


def stock_server(name: str, greeting_text: str) -> MCPServer:
    server = MCPServer(name)

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
        return greeting_text

    @server.prompt(description="Ask for a greeting")
    def greet(name: str) -> str:
        return f"Say hello to {name}."

    return server


def serve_on_loopback(server: MCPServer, app, path: str) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((HOST, 0))
    # Listening before the address is printed: a client that connects at once waits in the backlog
    # until uvicorn accepts.
    listener.listen(2048)
    port = listener.getsockname()[1]
    config = uvicorn.Config(app, host=HOST, port=port, log_level=server.settings.log_level.lower())
    print(f"listening on http://{HOST}:{port}{path}", flush=True)
    anyio.run(lambda: uvicorn.Server(config).serve(sockets=[listener]))
