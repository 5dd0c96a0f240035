// Loaded with `node --import` into the Portkey gateway process, for one reason: Portkey
// 1.15.2 appends headers to the response `fetch` returned, which the fetch standard makes
// immutable. With the @hono/node-server that npm resolves today (1.19.x) every streamed
// answer then fails with "TypeError: immutable" (Portkey-AI/gateway#1389, fixed upstream
// in honojs/node-server#382). This copies each fetched response's headers into a mutable
// Headers, one copy per upstream call, and changes nothing else.
const nativeFetch = globalThis.fetch;
const NativeResponse = globalThis.Response;
globalThis.fetch = async (...args) => {
  const response = await nativeFetch(...args);
  return new NativeResponse(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: new Headers(response.headers),
  });
};
