// A stdio MCP server on the official TypeScript SDK that logs while it works, for mcpcord's tests
// of how server log messages are shown (`mcpcord/tests/it/cli_tty.rs`). The SDK is the one
// `cargo xtask npm-deps` pins (xtask/src/npm.rs); the tests set NODE_PATH to target/npm/node_modules.
//
//     node chatty_server.cjs
//
// Its one tool, `chatty`, sends three log messages, pings the client, and answers `done`:
// - debug `hidden debug detail` (below mcpcord's default threshold: never shown by default);
// - info, a string with an escape sequence that would clear the screen and a line break;
// - warning from the logger `storage`, an object `{"disk": "low"}`.

'use strict';

const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StdioServerTransport } = require('@modelcontextprotocol/sdk/server/stdio.js');

const server = new McpServer(
  { name: 'chatty', version: '1.0.0' },
  { capabilities: { logging: {} } },
);

server.registerTool('chatty', { description: 'Log three messages, then answer done' }, async () => {
  await server.sendLoggingMessage({ level: 'debug', data: 'hidden debug detail' });
  await server.sendLoggingMessage({ level: 'info', data: 'line one\u001b[2J\nline two' });
  await server.sendLoggingMessage({ level: 'warning', logger: 'storage', data: { disk: 'low' } });
  // A round trip to the client before answering: rmcp hands each notification to a task of its
  // own, and the client's answer to this ping comes after those tasks were started.
  await server.server.ping();
  return { content: [{ type: 'text', text: 'done' }] };
});

server.connect(new StdioServerTransport());
