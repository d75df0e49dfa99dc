"""The official Python SDK's stdio server (PyPI `mcp`, pinned in xtask/src/python.rs), stock.

    stdio_server.py

Run by the era interop tests (`tests/tests/it/eras.rs`) with the interpreter of the venv
`cargo xtask py-deps` makes, exactly as the SDK's documentation has a server run: an `MCPServer`
with tools, a resource and a prompt, and `run()` (stdio). The SDK speaks protocol 2026-07-28 as
well as the revisions with `initialize`, so a dual-era client ends up on 2026-07-28.

Tools `echo` ({text}: the text) and `add` ({a, b}, integers: the sum), the resource
`test://greeting` (text `Hello from the Python SDK`), the prompt `greet` ({name}: one user message
`Say hello to NAME.`).
"""

from mcp.server.mcpserver import MCPServer

server = MCPServer("mcp-tests-stdio-python")


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
    return "Hello from the Python SDK"


@server.prompt(description="Ask for a greeting")
def greet(name: str) -> str:
    return f"Say hello to {name}."


if __name__ == "__main__":
    server.run()
