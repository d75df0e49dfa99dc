// The official TypeScript SDK's client (npm `@modelcontextprotocol/sdk`, pinned in xtask/src/npm.rs)
// as a benchmark subject, over the legacy HTTP+SSE transport of protocol 2024-11-05.
//
// Same command line and output as the other subjects (see bench/src/lib.rs), transport `sse` only:
//
//     node bench_client.cjs --workload W --transport sse [--sessions N] [--calls N] [--repeat N] -- SSE_URL
//
// prints one JSON line and exits 0, or prints the error on stderr and exits 1. Each session is a
// `Client` on an `SSEClientTransport`, as the SDK's example `streamableHttpWithSseFallbackClient`
// connects to an SSE server, and each connect does the same discovery as every other subject:
// initialize, then every page of tools, resources, resource templates and prompts. The workloads
// `connect`, `sequential`, `sessions` and `open` and their metrics are bench/python/bench_client.py's,
// measured the same way; `memory` is not offered, as Node's garbage collector moves the RSS by more
// than a session weighs. xtask sets NODE_PATH to the node_modules it installed the pins into.

'use strict';

const { performance } = require('node:perf_hooks');
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { SSEClientTransport } = require('@modelcontextprotocol/sdk/client/sse.js');

const ECHO_TEXT = 'ping';

function parseArgs(argv) {
    const args = { sessions: 1, calls: 100, repeat: 5, target: [] };
    const counts = new Set(['--sessions', '--calls', '--repeat']);
    for (let at = 0; at < argv.length; at++) {
        const arg = argv[at];
        if (arg === '--') {
            args.target = argv.slice(at + 1);
            break;
        }
        const value = argv[++at];
        if (value === undefined) {
            throw new Error(`${arg} needs a value`);
        }
        if (arg === '--workload' || arg === '--transport') {
            args[arg.slice(2)] = value;
        } else if (counts.has(arg)) {
            const count = Number(value);
            if (!Number.isInteger(count) || count <= 0) {
                throw new Error(`${arg} must be a positive integer, not \`${value}\``);
            }
            args[arg.slice(2)] = count;
        } else {
            throw new Error(`unexpected argument \`${arg}\``);
        }
    }
    if (!args.workload) {
        throw new Error('--workload is required');
    }
    if (args.transport !== 'sse') {
        throw new Error(`this subject speaks the legacy SSE transport only, not \`${args.transport}\``);
    }
    if (args.target.length !== 1) {
        throw new Error('sse needs the SSE URL after `--`');
    }
    return args;
}

/** A client, connected, initialized and with everything listed. */
async function openSession(url) {
    const client = new Client({ name: 'bench-typescript-client', version: '1.0.0' });
    await client.connect(new SSEClientTransport(new URL(url)));
    const capabilities = client.getServerCapabilities() ?? {};
    if (capabilities.tools) {
        await listAll(params => client.listTools(params));
    }
    if (capabilities.resources) {
        await listAll(params => client.listResources(params));
        await listAll(params => client.listResourceTemplates(params));
    }
    if (capabilities.prompts) {
        await listAll(params => client.listPrompts(params));
    }
    return client;
}

async function listAll(method) {
    let page = await method();
    while (page.nextCursor !== undefined) {
        page = await method({ cursor: page.nextCursor });
    }
}

async function echo(client) {
    const result = await client.callTool({ name: 'echo', arguments: { text: ECHO_TEXT } });
    if (result.isError || !result.content || result.content.length === 0) {
        throw new Error(`unexpected echo result ${JSON.stringify(result)}`);
    }
}

/** `count` sessions, all connecting at once. */
async function openAll(url, count) {
    return Promise.all(Array.from({ length: count }, () => openSession(url)));
}

function warmUpCalls(calls) {
    return Math.min(Math.floor(calls / 10), 100);
}

async function run(args, report) {
    const url = args.target[0];
    const now = () => performance.now() / 1e3;
    if (args.workload === 'connect') {
        await (await openSession(url)).close();
        const samples = [];
        for (let n = 0; n < args.repeat; n++) {
            const started = now();
            const client = await openSession(url);
            samples.push(now() - started);
            await client.close();
        }
        samples.sort((a, b) => a - b);
        report.connect_ms = samples[Math.floor(samples.length / 2)] * 1e3;
    } else if (args.workload === 'sequential') {
        const client = await openSession(url);
        for (let n = 0; n < warmUpCalls(args.calls); n++) {
            await echo(client);
        }
        let slowest = 0;
        const started = now();
        for (let n = 0; n < args.calls; n++) {
            const callStarted = now();
            await echo(client);
            slowest = Math.max(slowest, now() - callStarted);
        }
        const took = now() - started;
        await client.close();
        report.calls_per_s = args.calls / took;
        report.max_call_us = slowest * 1e6;
    } else if (args.workload === 'sessions' || args.workload === 'open') {
        const started = now();
        const sessions = await openAll(url, args.sessions);
        const opened = now();
        const calls = args.workload === 'sessions' ? args.calls : 0;
        await Promise.all(
            sessions.map(async client => {
                for (let n = 0; n < calls; n++) {
                    await echo(client);
                }
            })
        );
        const finished = now();
        await Promise.all(sessions.map(client => client.close()));
        if (args.workload === 'sessions') {
            report.calls_per_s = (args.sessions * args.calls) / (finished - opened);
        } else {
            report.open_ms = (opened - started) * 1e3;
        }
    } else {
        throw new Error(`the TypeScript SDK does not run workload \`${args.workload}\``);
    }
}

async function main() {
    // Node cannot pin itself to a CPU; the one-CPU rows run over stdio only, which this is not for.
    if (process.env.MCP_BENCH_ONE_CPU === '1') {
        throw new Error('MCP_BENCH_ONE_CPU=1: this subject cannot pin itself to one CPU');
    }
    const args = parseArgs(process.argv.slice(2));
    const report = {
        subject: 'typescript',
        workload: args.workload,
        transport: args.transport,
        sessions: args.sessions,
        calls: args.calls
    };
    await run(args, report);
    // Metrics rounded to three decimals, as every subject prints them.
    const rounded = Object.fromEntries(
        Object.entries(report).map(([key, value]) => [
            key,
            Number.isInteger(value) || typeof value !== 'number' ? value : Math.round(value * 1e3) / 1e3
        ])
    );
    console.log(JSON.stringify(rounded));
}

main().then(
    // Exits at once rather than when the last handle closes: a timer or socket an SDK object left
    // behind must not keep a finished run waiting for the bench's time limit. Writes to a file or a
    // pipe are synchronous on Linux, so the line is out.
    () => process.exit(0),
    error => {
        // The message (and its cause) on one line: the bench quotes the end of stderr.
        const cause = error && error.cause ? ` (cause: ${error.cause})` : '';
        console.error(`bench_client.cjs: ${error}${cause}`);
        process.exit(1);
    }
);
