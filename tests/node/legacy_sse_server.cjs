// The official TypeScript SDK's deprecated HTTP+SSE server (protocol 2024-11-05), stock, for the
// interop tests (`mcp_tests::support::LegacySseServer`). npm `@modelcontextprotocol/sdk` is pinned
// with express and zod in xtask/src/npm.rs; the harness sets NODE_PATH to target/npm/node_modules.
//
//     node legacy_sse_server.cjs
//
// Wired as the SDK's example `examples/server/simpleSseServer` wires it, on the express app the SDK
// makes (`createMcpExpressApp`): GET /sse opens a stream with a new `SSEServerTransport('/messages')`
// and a new `McpServer` for it; the transport's first event is `endpoint`, whose data is
// `/messages?sessionId=UUID`; POST /messages?sessionId=UUID hands a message to that session's
// transport (202 Accepted), and its answers arrive as `message` events on the GET stream. The
// example's console logging is left out.
//
// The server offers:
// - tools `echo` ({text}: the text), `add` ({a, b}: the sum, as text and as structured content
//   `{"result": sum}`, the shape the Python SDK gives a tool returning a number) and `drop_stream`
//   (ends the session's SSE stream, then answers, too late: a client sees the stream close while
//   its call is pending);
// - the resource `test://greeting` (text `Hello from the legacy SSE server`);
// - the prompt `greet` ({name}: one user message `Say hello to NAME.`).
//
// Binds 127.0.0.1 on a free port, prints `listening on http://127.0.0.1:PORT/sse` on stdout, and
// serves until killed.

'use strict';

const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { SSEServerTransport } = require('@modelcontextprotocol/sdk/server/sse.js');
const { createMcpExpressApp } = require('@modelcontextprotocol/sdk/server/express.js');
const z = require('zod');

const HOST = '127.0.0.1';
const SSE_PATH = '/sse';
const MESSAGES_PATH = '/messages';

/** The open sessions' transports, by session id. */
const transports = new Map();

function getServer() {
    const server = new McpServer({ name: 'mcp-tests-legacy-sse-typescript', version: '1.0.0' });
    server.registerTool(
        'echo',
        {
            description: 'Return the given text unchanged',
            inputSchema: { text: z.string().describe('The text to send back') }
        },
        async ({ text }) => ({ content: [{ type: 'text', text }] })
    );
    server.registerTool(
        'add',
        {
            description: 'Add two numbers',
            inputSchema: { a: z.number(), b: z.number() },
            outputSchema: { result: z.number() }
        },
        async ({ a, b }) => ({
            content: [{ type: 'text', text: String(a + b) }],
            structuredContent: { result: a + b }
        })
    );
    server.registerTool(
        'drop_stream',
        { description: "End this session's SSE stream before answering" },
        async extra => {
            // Ends the GET response, so the answer below has no stream left to go out on.
            await transports.get(extra.sessionId)?.close();
            return { content: [{ type: 'text', text: 'the stream is already gone' }] };
        }
    );
    server.registerResource(
        'greeting',
        'test://greeting',
        { description: 'A fixed greeting', mimeType: 'text/plain' },
        async uri => ({ contents: [{ uri: uri.href, text: 'Hello from the legacy SSE server' }] })
    );
    server.registerPrompt(
        'greet',
        { description: 'Ask for a greeting', argsSchema: { name: z.string() } },
        ({ name }) => ({
            messages: [{ role: 'user', content: { type: 'text', text: `Say hello to ${name}.` } }]
        })
    );
    return server;
}

const app = createMcpExpressApp();

app.get(SSE_PATH, async (req, res) => {
    try {
        const transport = new SSEServerTransport(MESSAGES_PATH, res);
        const sessionId = transport.sessionId;
        transports.set(sessionId, transport);
        transport.onclose = () => {
            transports.delete(sessionId);
        };
        await getServer().connect(transport);
    } catch (error) {
        console.error('Error establishing SSE stream:', error);
        if (!res.headersSent) {
            res.status(500).send('Error establishing SSE stream');
        }
    }
});

app.post(MESSAGES_PATH, async (req, res) => {
    const sessionId = req.query.sessionId;
    if (!sessionId) {
        res.status(400).send('Missing sessionId parameter');
        return;
    }
    const transport = transports.get(sessionId);
    if (!transport) {
        res.status(404).send('Session not found');
        return;
    }
    try {
        await transport.handlePostMessage(req, res, req.body);
    } catch (error) {
        console.error('Error handling request:', error);
        if (!res.headersSent) {
            res.status(500).send('Error handling request');
        }
    }
});

const listener = app.listen(0, HOST, error => {
    if (error) {
        console.error('Failed to start server:', error);
        process.exit(1);
    }
    console.log(`listening on http://${HOST}:${listener.address().port}${SSE_PATH}`);
});
