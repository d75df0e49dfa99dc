// The official TypeScript SDK's streamable HTTP server (npm `@modelcontextprotocol/sdk`, pinned with
// express and zod in xtask/src/npm.rs), stock, for `cargo xtask bench`.
//
//     node stock_server.cjs [--stateless]
//
// An `McpServer` with one tool, `echo` ({"text": string}, answered with the text), on the express app
// the SDK makes (`createMcpExpressApp`), wired as the SDK's examples wire it:
// - stateful (examples/server/simpleStreamableHttp): one `StreamableHTTPServerTransport` per session,
//   created on `initialize` with `sessionIdGenerator: randomUUID`, found again by `Mcp-Session-Id`
//   for POST, GET (the server's SSE stream) and DELETE;
// - stateless (examples/server/simpleStatelessStreamableHttp, `--stateless`): a new server and
//   transport for every POST, with `sessionIdGenerator: undefined`; GET and DELETE answer 405.
// The examples' per-request console logging is left out; nothing else is changed or tuned.
//
// Binds 127.0.0.1 on a free port, prints `listening on http://127.0.0.1:PORT/mcp` on stdout, and
// serves until killed. xtask sets NODE_PATH to the node_modules it installed the pins into.

'use strict';

const { randomUUID } = require('node:crypto');
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { createMcpExpressApp } = require('@modelcontextprotocol/sdk/server/express.js');
const { isInitializeRequest } = require('@modelcontextprotocol/sdk/types.js');
const z = require('zod');

const HOST = '127.0.0.1';
const MCP_PATH = '/mcp';

const usage = 'usage: node stock_server.cjs [--stateless]';
const args = process.argv.slice(2);
if (args.some(arg => arg !== '--stateless')) {
    console.error(usage);
    process.exit(2);
}
const stateless = args.includes('--stateless');

function getServer() {
    const server = new McpServer({ name: 'bench-typescript-stock-server', version: '1.0.0' });
    server.registerTool(
        'echo',
        {
            description: 'Return the given text unchanged',
            inputSchema: { text: z.string().describe('The text to send back') }
        },
        async ({ text }) => ({ content: [{ type: 'text', text }] })
    );
    return server;
}

function jsonRpcError(res, status, code, message) {
    res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}

function methodNotAllowed(req, res) {
    res.writeHead(405).end(
        JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null })
    );
}

const app = createMcpExpressApp();

if (stateless) {
    app.post(MCP_PATH, async (req, res) => {
        const server = getServer();
        try {
            const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
            await server.connect(transport);
            await transport.handleRequest(req, res, req.body);
            res.on('close', () => {
                transport.close();
                server.close();
            });
        } catch (error) {
            console.error('Error handling MCP request:', error);
            if (!res.headersSent) {
                jsonRpcError(res, 500, -32603, 'Internal server error');
            }
        }
    });
    app.get(MCP_PATH, methodNotAllowed);
    app.delete(MCP_PATH, methodNotAllowed);
} else {
    const transports = new Map();
    app.post(MCP_PATH, async (req, res) => {
        const sessionId = req.headers['mcp-session-id'];
        try {
            let transport = sessionId ? transports.get(sessionId) : undefined;
            if (!transport && !sessionId && isInitializeRequest(req.body)) {
                transport = new StreamableHTTPServerTransport({
                    sessionIdGenerator: () => randomUUID(),
                    onsessioninitialized: id => {
                        transports.set(id, transport);
                    }
                });
                transport.onclose = () => {
                    if (transport.sessionId) {
                        transports.delete(transport.sessionId);
                    }
                };
                await getServer().connect(transport);
            } else if (!transport && sessionId) {
                jsonRpcError(res, 404, -32001, 'Session not found');
                return;
            } else if (!transport) {
                jsonRpcError(res, 400, -32000, 'Bad Request: No valid session ID provided');
                return;
            }
            await transport.handleRequest(req, res, req.body);
        } catch (error) {
            console.error('Error handling MCP request:', error);
            if (!res.headersSent) {
                jsonRpcError(res, 500, -32603, 'Internal server error');
            }
        }
    });
    // The server's SSE stream (GET) and the end of a session (DELETE).
    const existingSession = async (req, res) => {
        const sessionId = req.headers['mcp-session-id'];
        const transport = sessionId ? transports.get(sessionId) : undefined;
        if (!transport) {
            jsonRpcError(res, sessionId ? 404 : 400, -32000, 'Invalid or missing session ID');
            return;
        }
        await transport.handleRequest(req, res);
    };
    app.get(MCP_PATH, existingSession);
    app.delete(MCP_PATH, existingSession);
}

const listener = app.listen(0, HOST, error => {
    if (error) {
        console.error('Failed to start server:', error);
        process.exit(1);
    }
    console.log(`listening on http://${HOST}:${listener.address().port}${MCP_PATH}`);
});
