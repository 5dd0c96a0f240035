// A minimal client of workerd's inspector (the DevTools protocol), for the bench scripts
// that profile the worker or read its isolate's heap.
import WebSocket from "ws";

// The DevTools URL of the user worker behind a Miniflare started with `inspectorPort`
// (Miniflare's own services are named core:*, the user worker core:user:<name>).
export async function userWorker(inspectorPort) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const worker = targets.find((t) => t.id.startsWith("core:user:"));
  if (!worker) throw new Error(`no user worker among ${targets.map((t) => t.id).join(", ")}`);
  return worker.webSocketDebuggerUrl;
}

// A minimal DevTools protocol client: send(method, params) resolves with the result.
export async function connect(url) {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  let nextId = 0;
  const waiting = new Map();
  socket.on("message", (data) => {
    const message = JSON.parse(data);
    const done = waiting.get(message.id);
    if (!done) return;
    waiting.delete(message.id);
    if (message.error) done.reject(new Error(`${message.error.message}`));
    else done.resolve(message.result);
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const id = ++nextId;
        waiting.set(id, { resolve, reject });
        socket.send(JSON.stringify({ id, method, params }));
      }),
    close: () => socket.close(),
  };
}

