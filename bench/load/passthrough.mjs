// The "trivial pass-through" peer: a module worker that forwards each request to the
// mock provider unchanged except for the provider key, and streams the answer back.
// It is what any worker in front of the provider costs (workerd, one subrequest, the
// body piped both ways) with no policy at all: the floor our worker is compared against.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    headers.set("authorization", `Bearer ${env.OPENAI_API_KEY}`);
    return fetch(`${env.OPENAI_BASE_URL}${url.pathname.replace(/^\/v1/, "")}`, {
      method: request.method,
      headers,
      body: request.body,
    });
  },
};
