"""The official Python SDK's streamable HTTP server (PyPI `mcp`, pinned in xtask/src/python.rs), stock.

    stock_server.py [--stateless]

An `MCPServer` with one tool, `echo` (`{"text": string}`, answered with the text), served the way
`MCPServer.run(transport="streamable-http")` serves it: the SDK's `streamable_http_app()` under a
`uvicorn.Server` with the SDK's own `uvicorn.Config`. `--stateless` is the SDK's `stateless_http=True`.
Prints `listening on http://127.0.0.1:PORT/mcp` on stdout, then serves until killed.

The one difference from `run()`: the listening socket is bound here (127.0.0.1, port 0) and handed
to `uvicorn.Server.serve(sockets=...)`, because `run()` needs a port number chosen in advance and
never says when it is listening. The socket is a plain bound and listening TCP socket; uvicorn
treats the connections it accepts from it exactly as from one it bound itself.
"""

import argparse
import socket

import anyio
import uvicorn
from mcp.server.mcpserver import MCPServer

HOST = "127.0.0.1"
MCP_PATH = "/mcp"

server = MCPServer("bench-python-stock-server")


@server.tool()
def echo(text: str) -> str:
    """Return the given text unchanged."""
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stateless", action="store_true", help="the SDK's stateless_http=True")
    args = parser.parse_args()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((HOST, 0))
    # Listening before the address is printed: a client that connects at once waits in the backlog
    # until uvicorn accepts.
    listener.listen(2048)
    port = listener.getsockname()[1]
    # As `MCPServer.run_streamable_http_async` builds them, with the SDK's defaults.
    app = server.streamable_http_app(streamable_http_path=MCP_PATH, stateless_http=args.stateless, host=HOST)
    config = uvicorn.Config(app, host=HOST, port=port, log_level=server.settings.log_level.lower())
    print(f"listening on http://{HOST}:{port}{MCP_PATH}", flush=True)
    anyio.run(lambda: uvicorn.Server(config).serve(sockets=[listener]))


if __name__ == "__main__":
    main()
