// A local stand-in for the LLM providers: an HTTP server that speaks OpenAI's
// chat-completions and embeddings API and Anthropic's messages API, streaming included.
//
// Routes: POST {base}/openai/v1/chat/completions, /openai/v1/embeddings,
//         POST {base}/anthropic/v1/messages.
// It checks the provider key like the real APIs (401 in the provider's format), records
// every request it receives (for tests to inspect), and can be told how to behave next:
//   mock.latencyMs = n         every answer waits n ms before its headers (until set back)
//   mock.behave("slow")        hold the response headers for `slowMs`
//   mock.behave("gate")        stream the first chunk, then wait for mock.release()
//   mock.behave("status", 500) answer with that status in the provider's error format
//   mock.behave("reply", { text, pieceChars, splitBytes })
//                              answer `text` instead of the greeting; streamed as deltas of
//                              `pieceChars` characters, written in slices of `splitBytes`
//                              bytes (so events, and matches, straddle network chunks)
//   mock.behave("reply", { pieces })
//                              stream exactly these deltas
//   mock.behave("headers", { name: value, … })
//                              the normal answer, with these extra response headers
//   mock.behave("raw", { status, headers, body })
//                              answer exactly this: `body` a string or Buffer sent as it is
//                              (any other value is sent as JSON); `headers` as given, with
//                              `content-type: application/json` when they name none
//   mock.behave("events", { events, headers })
//                              a 200 `text/event-stream` of exactly these raw SSE event
//                              strings (each written whole, `chunkDelayMs` apart), then end
//   mock.behave("stall", { first, headers })
//                              send the headers (`text/event-stream` unless `headers` name a
//                              content type) and the string or Buffer `first`, then send
//                              nothing more until the connection closes (the gateway's or
//                              mock.close())
//
// Run alone for local development: `node tests/e2e/mock_provider.mjs [port]`.

import http from "node:http";

export const OPENAI_KEY = "sk-mock-openai-provider-key";
export const ANTHROPIC_KEY = "sk-ant-mock-provider-key";

const REPLY_WORDS = ["Hello", " from", " the", " mock", " provider", "."];

// The deltas of the next answer: the greeting, or a "reply" behaviour's text in pieces.
function replyPieces(behaviour) {
  if (behaviour?.kind !== "reply") return REPLY_WORDS;
  if (behaviour.arg.pieces) return behaviour.arg.pieces;
  const { text, pieceChars = 4 } = behaviour.arg;
  const chars = [...text];
  const pieces = [];
  for (let i = 0; i < chars.length; i += pieceChars) pieces.push(chars.slice(i, i + pieceChars).join(""));
  return pieces;
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startMockProvider({ port = 0, chunkDelayMs = 5, slowMs = 5000, log = false } = {}) {
  const mock = {
    requests: [],
    next: null,
    streamFinished: null,
    gate: null,
    // Responses held open by a "stall" behaviour right now.
    stalled: 0,
    latencyMs: 0,
    // The usage of every answer as reported to the caller, as the provider would bill it:
    // `{ model, input_tokens, output_tokens }` with the upstream model name.
    billed: [],
    bill(model, input_tokens, output_tokens) {
      this.billed.push({ model, input_tokens, output_tokens });
    },
    behave(kind, arg) {
      this.next = { kind, arg };
    },
    release() {
      this.gate?.();
      this.gate = null;
    },
    last() {
      return this.requests.at(-1);
    },
    reset() {
      this.requests = [];
      this.billed = [];
      this.next = null;
      this.release();
    },
  };

  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const raw = Buffer.concat(chunks).toString("utf8");
    let body = null;
    try {
      body = JSON.parse(raw);
    } catch {
      // Recorded as null; the routes below answer 400.
    }
    const record = { method: req.method, path: req.url, headers: req.headers, body, raw };
    mock.requests.push(record);
    if (mock.requests.length > 100) mock.requests.shift();
    if (log) console.log(`[mock] ${req.method} ${req.url} model=${body?.model}`);
    const behaviour = mock.next;
    mock.next = null;
    if (mock.latencyMs) await sleep(mock.latencyMs);

    try {
      if (req.method === "POST" && req.url === "/openai/v1/chat/completions") {
        if (!openaiAuthorized(req, res)) return;
        if (await applyBehaviour(behaviour, res, "openai", mock, slowMs, chunkDelayMs)) return;
        if (!body || !Array.isArray(body.messages)) return openaiError(res, 400, "messages is required");
        return body.stream
          ? openaiStream(res, body, behaviour, mock, chunkDelayMs)
          : json(res, 200, billed(mock, openaiCompletion(body, behaviour)));
      }
      if (req.method === "POST" && req.url === "/openai/v1/embeddings") {
        if (!openaiAuthorized(req, res)) return;
        if (await applyBehaviour(behaviour, res, "openai", mock, slowMs, chunkDelayMs)) return;
        if (!body || body.input === undefined) return openaiError(res, 400, "input is required");
        return json(res, 200, billed(mock, openaiEmbeddings(body)));
      }
      if (req.method === "POST" && req.url === "/anthropic/v1/messages") {
        if (req.headers["x-api-key"] !== ANTHROPIC_KEY) {
          return anthropicError(res, 401, "authentication_error", "invalid x-api-key");
        }
        if (!req.headers["anthropic-version"]) {
          return anthropicError(res, 400, "invalid_request_error", "anthropic-version header is required");
        }
        if (await applyBehaviour(behaviour, res, "anthropic", mock, slowMs, chunkDelayMs)) return;
        if (!body || !Array.isArray(body.messages)) {
          return anthropicError(res, 400, "invalid_request_error", "messages: field required");
        }
        return body.stream
          ? anthropicStream(res, body, behaviour, mock, chunkDelayMs)
          : json(res, 200, billed(mock, anthropicMessage(body, behaviour)));
      }
      json(res, 404, { error: { message: `mock: no route ${req.method} ${req.url}`, type: "invalid_request_error" } });
    } catch (error) {
      if (!res.headersSent) json(res, 500, { error: { message: String(error), type: "server_error" } });
      else res.destroy();
    }
  });

  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const { port: bound } = server.address();
  mock.url = `http://127.0.0.1:${bound}`;
  mock.openaiBaseUrl = `${mock.url}/openai/v1`;
  mock.anthropicBaseUrl = `${mock.url}/anthropic/v1`;
  mock.close = () =>
    new Promise((resolve) => {
      mock.release();
      server.closeAllConnections?.();
      server.close(() => resolve());
    });
  return mock;
}

// Applies the behaviour told for this request; true when it has answered (or is still
// answering) on its own, so the route's normal answer must not be written.
async function applyBehaviour(behaviour, res, provider, mock, slowMs, chunkDelayMs) {
  if (!behaviour) return false;
  const { kind, arg } = behaviour;
  if (kind === "slow") await sleep(arg ?? slowMs);
  if (kind === "status") {
    const status = arg ?? 500;
    if (provider === "openai") openaiError(res, status, `mock failure ${status}`);
    else anthropicError(res, status, status === 529 ? "overloaded_error" : "api_error", `mock failure ${status}`);
  }
  if (kind === "headers") withExtraHeaders(res, arg);
  if (kind === "raw") rawAnswer(res, arg);
  if (kind === "events") await rawEvents(res, arg, mock, chunkDelayMs);
  if (kind === "stall") await stall(res, arg, mock);
  return res.headersSent || res.writableEnded || res.destroyed;
}

// Every header the route writes next gets `extra` on top.
function withExtraHeaders(res, extra = {}) {
  const writeHead = res.writeHead.bind(res);
  res.writeHead = (status, headers = {}) => writeHead(status, { ...headers, ...extra });
}

const hasContentType = (headers) => Object.keys(headers).some((name) => name.toLowerCase() === "content-type");

function rawAnswer(res, { status = 200, headers = {}, body = "" } = {}) {
  const bytes = typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  res.writeHead(status, hasContentType(headers) ? headers : { "content-type": "application/json", ...headers });
  res.end(bytes);
}

async function rawEvents(res, { events = [], headers = {} } = {}, mock, chunkDelayMs) {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", "x-request-id": "req_mock", ...headers });
  res.flushHeaders();
  await streamEvents(res, events, null, mock, chunkDelayMs);
}

// Sends the headers and `first`, then holds the response open until its connection closes.
async function stall(res, { first = "", headers = {} } = {}, mock) {
  const closed = new Promise((resolve) => res.once("close", resolve));
  res.writeHead(200, hasContentType(headers) ? headers : { "content-type": "text/event-stream", "cache-control": "no-cache", ...headers });
  res.flushHeaders();
  if (first.length) res.write(first);
  mock.streamFinished = false;
  mock.stalled += 1;
  await closed;
  mock.stalled -= 1;
}

function openaiAuthorized(req, res) {
  if (req.headers.authorization === `Bearer ${OPENAI_KEY}`) return true;
  openaiError(res, 401, "Incorrect API key provided.", "invalid_api_key");
  return false;
}

function json(res, status, body) {
  res.writeHead(status, { "content-type": "application/json", "x-request-id": "req_mock" });
  res.end(JSON.stringify(body));
}

function openaiError(res, status, message, code = null) {
  json(res, status, { error: { message, type: "invalid_request_error", param: null, code } });
}

function anthropicError(res, status, type, message) {
  json(res, status, { type: "error", error: { type, message } });
}

const now = () => Math.floor(Date.now() / 1000);

// Records a whole answer's usage as billed, and returns the answer.
function billed(mock, answer) {
  const { usage } = answer;
  mock.bill(answer.model, usage.prompt_tokens ?? usage.input_tokens, usage.completion_tokens ?? usage.output_tokens ?? 0);
  return answer;
}

function openaiCompletion(body, behaviour) {
  return {
    id: "chatcmpl-mock",
    object: "chat.completion",
    created: now(),
    model: body.model,
    choices: [
      { index: 0, message: { role: "assistant", content: replyPieces(behaviour).join(""), refusal: null }, logprobs: null, finish_reason: "stop" },
    ],
    usage: { prompt_tokens: 10, completion_tokens: REPLY_WORDS.length, total_tokens: 10 + REPLY_WORDS.length },
  };
}

function openaiEmbeddings(body) {
  const inputs = Array.isArray(body.input) && typeof body.input[0] !== "number" ? body.input : [body.input];
  return {
    object: "list",
    data: inputs.map((_, index) => ({ object: "embedding", index, embedding: [0.1, -0.2, 0.3, index / 10] })),
    model: body.model,
    usage: { prompt_tokens: 4 * inputs.length, total_tokens: 4 * inputs.length },
  };
}

function anthropicMessage(body, behaviour) {
  return {
    id: "msg_mock",
    type: "message",
    role: "assistant",
    model: body.model,
    content: [{ type: "text", text: replyPieces(behaviour).join("") }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: REPLY_WORDS.length },
  };
}

function startSse(res) {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", "x-request-id": "req_mock" });
  res.flushHeaders();
}

// Writes one SSE event; after the first, a "gate" behaviour waits for mock.release().
async function streamEvents(res, events, behaviour, mock, chunkDelayMs) {
  mock.streamFinished = false;
  const splitBytes = behaviour?.kind === "reply" ? behaviour.arg.splitBytes : undefined;
  if (splitBytes) {
    const bytes = Buffer.from(events.join(""));
    for (let i = 0; i < bytes.length; i += splitBytes) {
      res.write(bytes.subarray(i, i + splitBytes));
      await sleep(1);
    }
    mock.streamFinished = true;
    return res.end();
  }
  for (const [index, event] of events.entries()) {
    res.write(event);
    if (index === 0 && behaviour?.kind === "gate") {
      await new Promise((resolve) => (mock.gate = resolve));
    } else {
      await sleep(chunkDelayMs);
    }
  }
  mock.streamFinished = true;
  res.end();
}

function openaiStream(res, body, behaviour, mock, chunkDelayMs) {
  startSse(res);
  const base = { id: "chatcmpl-mock", object: "chat.completion.chunk", created: now(), model: body.model };
  // With `stream_options.include_usage`, every chunk carries `usage: null` and a last
  // chunk with no choices carries the usage, as OpenAI sends them.
  const withUsage = body.stream_options?.include_usage === true;
  const usageField = withUsage ? { usage: null } : {};
  const chunk = (delta, finish_reason = null) =>
    `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason }], ...usageField })}\n\n`;
  const pieces = replyPieces(behaviour);
  const usage = { prompt_tokens: 10, completion_tokens: pieces.length, total_tokens: 10 + pieces.length };
  const events = [
    chunk({ role: "assistant", content: "" }),
    ...pieces.map((word) => chunk({ content: word })),
    chunk({}, "stop"),
    ...(withUsage ? [`data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n`] : []),
    "data: [DONE]\n\n",
  ];
  if (withUsage) mock.bill(body.model, usage.prompt_tokens, usage.completion_tokens);
  return streamEvents(res, events, behaviour, mock, chunkDelayMs);
}

function anthropicStream(res, body, behaviour, mock, chunkDelayMs) {
  startSse(res);
  const event = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const events = [
    event("message_start", {
      message: { id: "msg_mock", type: "message", role: "assistant", model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 } },
    }),
    event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
    event("ping", {}),
    ...replyPieces(behaviour).map((word) => event("content_block_delta", { index: 0, delta: { type: "text_delta", text: word } })),
    event("content_block_stop", { index: 0 }),
    event("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: replyPieces(behaviour).length } }),
    event("message_stop", {}),
  ];
  mock.bill(body.model, 10, replyPieces(behaviour).length);
  return streamEvents(res, events, behaviour, mock, chunkDelayMs);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.argv[2] ?? 8788);
  const mock = await startMockProvider({ port, log: true, chunkDelayMs: 100 });
  console.log(`mock provider listening on ${mock.url} (openai: ${mock.openaiBaseUrl}, anthropic: ${mock.anthropicBaseUrl})`);
}
