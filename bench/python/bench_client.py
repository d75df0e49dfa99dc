"""The official Python SDK (PyPI `mcp`, the version pinned in xtask/src/python.rs) as a benchmark subject.

Same command line and output as the Rust subjects (see bench/src/lib.rs):

    bench_client.py --workload W --transport stdio|http|sse [--sessions N] [--calls N] [--repeat N] -- TARGET...

prints one JSON line and exits 0, or prints the error on stderr and exits 1. Sessions use
`mcp.client.stdio.stdio_client`, `mcp.client.streamable_http.streamable_http_client` or (the legacy
HTTP+SSE transport, TARGET the SSE URL) `mcp.client.sse.sse_client`, with `ClientSession`, and each
connect does the same discovery as every other subject: initialize, then every page of tools,
resources, resource templates and prompts.
"""

import argparse
import contextlib
import json
import os
import statistics
import sys
import time

import anyio
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

ECHO_TEXT = "ping"
# Sessions opened at once while filling memory, as in bench/src/driver.rs.
MEMORY_OPEN_CONCURRENCY = 50


@contextlib.asynccontextmanager
async def open_session(args):
    """A session, connected, initialized and with everything listed; closed on exit."""
    if args.transport == "stdio":
        params = StdioServerParameters(command=args.target[0], args=args.target[1:])
        transport = stdio_client(params, errlog=open(os.devnull, "w"))
    elif args.transport == "sse":
        transport = sse_client(args.target[0])
    else:
        transport = streamable_http_client(args.target[0])
    async with transport as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            info = await session.initialize()
            capabilities = info.capabilities
            if capabilities.tools is not None:
                await list_all(session.list_tools)
            if capabilities.resources is not None:
                await list_all(session.list_resources)
                await list_all(session.list_resource_templates)
            if capabilities.prompts is not None:
                await list_all(session.list_prompts)
            yield session


async def list_all(method):
    from mcp.types import PaginatedRequestParams

    page = await method()
    while page.next_cursor is not None:
        page = await method(params=PaginatedRequestParams(cursor=page.next_cursor))


async def echo(session):
    result = await session.call_tool("echo", {"text": ECHO_TEXT})
    if result.is_error or not result.content:
        raise RuntimeError(f"unexpected echo result {result}")


def rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS line in /proc/self/status")


def warm_up_calls(calls):
    return min(calls // 10, 100)


class Crowd:
    """Many sessions, each held open by a task of its own (anyio requires a context to be left by the
    task that entered it), moved through the phases opened -> calls done -> released together."""

    def __init__(self, args, count, calls, open_limit):
        self.args, self.count, self.calls = args, count, calls
        self.open_limit = anyio.Semaphore(open_limit)
        self.opened = 0
        self.finished = 0
        self.all_opened = anyio.Event()
        self.go = anyio.Event()
        self.all_finished = anyio.Event()
        self.release = anyio.Event()

    async def member(self):
        async with self.open_limit:
            context = open_session(self.args)
            session = await context.__aenter__()
        try:
            self.opened += 1
            if self.opened == self.count:
                self.all_opened.set()
            await self.go.wait()
            for _ in range(self.calls):
                await echo(session)
            self.finished += 1
            if self.finished == self.count:
                self.all_finished.set()
            await self.release.wait()
        finally:
            await context.__aexit__(None, None, None)


async def run(args, report):
    if args.workload == "connect":
        async with open_session(args):
            pass
        samples = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            async with open_session(args):
                samples.append(time.perf_counter() - started)
        report["connect_ms"] = statistics.median(samples) * 1e3
    elif args.workload == "sequential":
        async with open_session(args) as session:
            for _ in range(warm_up_calls(args.calls)):
                await echo(session)
            started = time.perf_counter()
            slowest = 0.0
            for _ in range(args.calls):
                call_started = time.perf_counter()
                await echo(session)
                slowest = max(slowest, time.perf_counter() - call_started)
            took = time.perf_counter() - started
        report["calls_per_s"] = args.calls / took
        report["max_call_us"] = slowest * 1e6
    elif args.workload in ("sessions", "open", "memory"):
        calls = args.calls if args.workload == "sessions" else 0
        limit = MEMORY_OPEN_CONCURRENCY if args.workload == "memory" else args.sessions
        if args.workload == "memory":
            async with open_session(args) as warm:
                await echo(warm)
            before = rss_kib()
        crowd = Crowd(args, args.sessions, calls, limit)
        async with anyio.create_task_group() as group:
            started = time.perf_counter()
            for _ in range(args.sessions):
                group.start_soon(crowd.member)
            await crowd.all_opened.wait()
            opened = time.perf_counter()
            if args.workload == "memory":
                after = rss_kib()
            crowd.go.set()
            await crowd.all_finished.wait()
            finished = time.perf_counter()
            crowd.release.set()
        if args.workload == "sessions":
            report["calls_per_s"] = args.sessions * args.calls / (finished - opened)
        elif args.workload == "open":
            report["open_ms"] = (opened - started) * 1e3
        else:
            report["kib_per_session"] = (after - before) / args.sessions
            report["rss_before_kib"] = before
            report["rss_after_kib"] = after
    else:
        raise RuntimeError(f"the Python SDK does not run workload `{args.workload}`")


def main():
    # Pinned first, as the Rust subjects are (the highest-numbered CPU this process may use): the
    # server this starts inherits it.
    if os.environ.get("MCP_BENCH_ONE_CPU") == "1":
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True)
    parser.add_argument("--transport", required=True, choices=["stdio", "http", "sse"])
    parser.add_argument("--sessions", type=int, default=1)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("target", nargs="+")
    args = parser.parse_args()
    report = {
        "subject": "python",
        "workload": args.workload,
        "transport": args.transport,
        "sessions": args.sessions,
        "calls": args.calls,
    }
    try:
        anyio.run(run, args, report)
    except BaseException as error:  # an ExceptionGroup from a task group included
        print(f"bench_client.py: {error!r}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in report.items()}))


if __name__ == "__main__":
    main()
