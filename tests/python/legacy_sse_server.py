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

from catalog import HOST, serve_on_loopback, stock_server

SSE_PATH = "/sse"

server = stock_server("mcp-tests-legacy-sse-python", "Hello from the legacy SSE server")


def main():
    # As `MCPServer.run_sse_async` builds it, with the SDK's defaults (`/sse`, `/messages/`).
    serve_on_loopback(server, server.sse_app(sse_path=SSE_PATH, host=HOST), SSE_PATH)


if __name__ == "__main__":
    main()
