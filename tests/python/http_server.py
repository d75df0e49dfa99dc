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

The catalog of `catalog.py`, the greeting `Hello from the Python SDK over HTTP`.
"""

from catalog import HOST, serve_on_loopback, stock_server

PATH = "/mcp"

server = stock_server("mcp-tests-http-python", "Hello from the Python SDK over HTTP")


def main():
    serve_on_loopback(server, server.streamable_http_app(host=HOST), PATH)


if __name__ == "__main__":
    main()
