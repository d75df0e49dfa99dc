"""The official Python SDK's stdio server (PyPI `mcp`, pinned in xtask/src/python.rs), stock.

    stdio_server.py

Run by the era interop tests (`tests/tests/it/eras.rs`) with the interpreter of the venv
`cargo xtask py-deps` makes, exactly as the SDK's documentation has a server run: an `MCPServer`
with tools, a resource and a prompt, and `run()` (stdio). The SDK speaks protocol 2026-07-28 as
well as the revisions with `initialize`, so a dual-era client ends up on 2026-07-28.

The catalog of `catalog.py`, the greeting `Hello from the Python SDK`.
"""

from catalog import stock_server

server = stock_server("mcp-tests-stdio-python", "Hello from the Python SDK")


if __name__ == "__main__":
    server.run()
