// Loaded with `node --require <this file> <server.js>` by the interop tests, before the server's
// own code runs. Servers written for containers listen on every interface; tests must bind only
// loopback (ARCHITECTURE.md, `tests/`), so a TCP listen without a host, or on a wildcard host, is
// moved to 127.0.0.1. Named pipes, file descriptors and explicit non-wildcard hosts are left alone.
//
// Once a TCP server is listening, one line goes to stderr with the address really bound:
//   loopback-preload: listening on 127.0.0.1:PORT
// so a test can start the server with PORT=0 and learn the port without guessing or racing.
"use strict";

const net = require("node:net");

const LOOPBACK = "127.0.0.1";
const WILDCARDS = new Set(["", "0.0.0.0", "::", "[::]"]);
const originalListen = net.Server.prototype.listen;

function isPort(value) {
  if (typeof value === "number") return true;
  // Node treats a numeric string as a port and any other string as a pipe path.
  return typeof value === "string" && value.trim() !== "" && Number(value) >= 0;
}

function isWildcard(host) {
  return host === undefined || host === null || WILDCARDS.has(host);
}

function onLoopback(args) {
  const [first, second] = args;
  if (first === undefined || first === null || typeof first === "function") {
    // listen() or listen(callback): a random port on every interface.
    return [0, LOOPBACK, ...args.slice(first === undefined || first === null ? 1 : 0)];
  }
  if (isPort(first)) {
    // listen(port[, host][, backlog][, callback])
    if (typeof second === "string" || second === undefined || second === null) {
      return isWildcard(second) ? [first, LOOPBACK, ...args.slice(2)] : args;
    }
    return [first, LOOPBACK, ...args.slice(1)];
  }
  if (typeof first === "object" && !("_handle" in first) && first.fd === undefined
      && first.handle === undefined && first.path === undefined && isWildcard(first.host)) {
    // listen(options[, callback]) for TCP
    return [{ ...first, host: LOOPBACK }, ...args.slice(1)];
  }
  return args;
}

function reportAddress() {
  const address = this.address();
  if (address !== null && typeof address === "object") {
    process.stderr.write(`loopback-preload: listening on ${address.address}:${address.port}\n`);
  }
}

// `listen(port)` without a host binds synchronously, and some programs (the conformance suite's
// mock servers) read `server.address().port` on the very next line. `listen(port, host)` resolves
// the host first and binds a tick later, which would break them. So a port-only listen moved to
// loopback is bound synchronously, the way Node's own primary-process path does it
// (`listenInCluster` -> `_listen2`, i.e. setupListenHandle, which emits 'listening' on the next
// tick and reports bind errors as 'error' events, exactly as `listen` would).
function listenNow(server, args) {
  const [port, host, ...rest] = args;
  if (host !== LOOPBACK || typeof port !== "number" || typeof server._listen2 !== "function") {
    return null;
  }
  let backlog;
  for (const extra of rest) {
    if (typeof extra === "number") backlog = extra;
    else if (typeof extra === "function") server.once("listening", extra);
    else return null;
  }
  server._listen2(LOOPBACK, port, 4, backlog === undefined ? 511 : backlog, undefined, 0);
  return server;
}

net.Server.prototype.listen = function listen(...args) {
  // First, so the address is reported before any other listener could close the server.
  this.prependOnceListener("listening", reportAddress);
  const moved = onLoopback(args);
  if (moved !== args) {
    const bound = listenNow(this, moved);
    if (bound !== null) return bound;
  }
  return originalListen.apply(this, moved);
};
