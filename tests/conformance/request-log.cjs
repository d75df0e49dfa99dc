// Loaded with `node --require <this file>` by `cargo xtask conformance`, before the conformance
// suite's own code. For each HTTP request
// a server in this process receives from another process, one line goes to stderr:
//   request-log: POST /mcp
// The tasks pass a scenario only if the client under test reached a mock server. Many mock
// servers record each request as a check line, but not all (newer suites build several on a bare
// `http.createServer` that record nothing, and a scenario can pass on checks that only say what
// the client must NOT do); these lines show it for every server. A request this process sends to
// one of its own servers is not the client's, so connections this process opened are left out.
"use strict";

const http = require("node:http");
const net = require("node:net");

const PREFIX = "request-log:";

// `address:port` of each open connection this process made.
const ownEnds = new Set();

function end(address, port) {
  return `${address}:${port}`;
}

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(...args) {
  // A request can only arrive after its connection is up, so the end is known by then.
  this.once("connect", () => {
    const own = end(this.localAddress, this.localPort);
    ownEnds.add(own);
    this.once("close", () => ownEnds.delete(own));
  });
  return originalConnect.apply(this, args);
};

const originalEmit = http.Server.prototype.emit;
http.Server.prototype.emit = function emit(event, ...args) {
  if (event === "request") {
    const [request] = args;
    const socket = request.socket;
    if (!ownEnds.has(end(socket.remoteAddress, socket.remotePort))) {
      // The path alone: a query can carry what a log need not show (an authorization request's).
      const path = (request.url ?? "").split("?")[0];
      process.stderr.write(`${PREFIX} ${request.method} ${path}\n`);
    }
  }
  return originalEmit.call(this, event, ...args);
};
