// The client against the real server (`npm run test:live`; needs ../.venv with the project).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, createClient } from "../src";
import { cookieJarFetch, startServer, type LiveServer } from "./server";

const PASSWORD = "correct horse battery staple 42";
let server: LiveServer;

beforeAll(async () => {
  server = await startServer();
}, 40_000);

afterAll(async () => {
  await server?.stop();
});

function unique(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

describe("browser mode against the real server", () => {
  it("registers, writes, edits with If-Match, maps 412/409/422, signs out, and reports expiry", async () => {
    const net = cookieJarFetch();
    const api = createClient({ baseUrl: server.url, fetch: net.fetch, cookies: net.readable });
    const expired: string[] = [];
    api.on("session-expired", (error) => expired.push(error.code));

    expect(await api.start()).toBeNull();
    const name = unique("live");

    const weak = await api.auth.register({ email: `${name}@example.com`, username: name, password: "short" }).catch((e: unknown) => e);
    expect(weak).toBeInstanceOf(ApiError);
    expect([(weak as ApiError).status, (weak as ApiError).fieldError("password")?.code]).toEqual([422, "too_short"]);

    const registered = await api.auth.register({ email: `${name}@example.com`, username: name, password: PASSWORD });
    expect(registered.user.username).toBe(name);
    expect(api.user?.username).toBe(name);

    const taken = (await createClient({ baseUrl: server.url, fetch: cookieJarFetch().fetch, cookies: () => "", csrfSource: "body" })
      .auth.register({ email: `${name}@example.com`, username: name, password: PASSWORD })
      .catch((e: unknown) => e)) as ApiError;
    expect(taken.status).toBe(409);
    expect(taken.fieldErrors.map((e) => [e.field, e.code]).sort()).toEqual([
      ["email", "taken"],
      ["username", "taken"],
    ]);

    const created = await api.articles.create({ title: "Live", body: "From the client" });
    expect(created.data.author.username).toBe(name);
    const read = await api.articles.get(created.data.id);
    expect(read.etag).toBeTruthy();
    const updated = await api.articles.update(created.data.id, { title: "Live, edited" }, read.etag);
    expect(updated.data.title).toBe("Live, edited");
    const stale = (await api.articles.update(created.data.id, { title: "Lost update" }, read.etag).catch((e: unknown) => e)) as ApiError;
    expect([stale.status, stale.code]).toEqual([412, "precondition_failed"]);

    const page = await api.articles.list({ author: name });
    expect([page.total, page.items[0]?.title]).toEqual([1, "Live, edited"]);

    // The session ends behind the client's back (here: its cookie is gone): the next call says so.
    net.jar.delete("bastion_session");
    await expect(api.articles.list()).rejects.toMatchObject({ status: 401 });
    expect(expired).toEqual(["not_authenticated"]);

    await api.auth.login({ identity: name, password: PASSWORD });
    await api.auth.logout();
    await expect(api.articles.list()).rejects.toMatchObject({ status: 401 });
    expect(expired).toEqual(["not_authenticated"]); // signing out is not an expiry
  });

  it("works when the page cannot read the API's cookies (token from response bodies)", async () => {
    const net = cookieJarFetch();
    const api = createClient({ baseUrl: server.url, fetch: net.fetch, cookies: () => "" });
    await api.start();
    const name = unique("xo");
    await api.auth.register({ email: `${name}@example.com`, username: name, password: PASSWORD });
    await api.articles.create({ title: "Cross origin", body: "token from the body" });
    await api.auth.logout();
    await api.auth.login({ identity: `${name}@example.com`, password: PASSWORD });
    await api.articles.create({ title: "Again", body: "after signing in again" });
  });
});

describe("bearer mode against the real server", () => {
  it("obtains tokens, refreshes once for concurrent calls, and ends on a dead refresh token", async () => {
    const name = unique("bearer");
    const net = cookieJarFetch();
    await createClient({ baseUrl: server.url, fetch: net.fetch, cookies: net.readable })
      .auth.register({ email: `${name}@example.com`, username: name, password: PASSWORD });

    const bearer = createClient({ baseUrl: server.url, mode: "bearer" });
    const pair = await bearer.token.obtain({ identity: name, password: PASSWORD });
    expect(pair.token_type).toBe("Bearer");
    const article = await bearer.articles.create({ title: "By token", body: "no cookie, no CSRF" });
    expect(article.data.author.username).toBe(name);

    // An access token the server refuses (as an expired one would be) with the live refresh token.
    const calls = cookieJarFetch();
    const script = createClient({
      baseUrl: server.url,
      mode: "bearer",
      fetch: calls.fetch,
      tokens: { access_token: "not-a-valid-token", refresh_token: pair.refresh_token },
    });
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => script.articles.get(article.data.id)));
    expect(results.map((r) => r.data.title)).toEqual(Array(5).fill("By token"));
    expect(calls.calls.filter((c) => c === "POST /api/token/refresh")).toHaveLength(1);
    expect(calls.jar.size).toBe(0); // the bearer path got no cookie
    const rotated = script.tokens();
    expect(rotated.refresh_token).not.toBe(pair.refresh_token);

    // Replaying the retired refresh token is refused; that client's session is over.
    const replay = createClient({
      baseUrl: server.url,
      mode: "bearer",
      tokens: { access_token: "not-a-valid-token", refresh_token: pair.refresh_token },
    });
    const expired: number[] = [];
    replay.on("session-expired", (e) => expired.push(e.status));
    await expect(replay.articles.get(article.data.id)).rejects.toMatchObject({ status: 401 });
    expect(expired).toEqual([401]);

    // Signing out with a token ends its session: the same access token is refused afterwards.
    const second = createClient({ baseUrl: server.url, mode: "bearer" });
    const secondPair = await second.token.obtain({ identity: name, password: PASSWORD });
    await second.auth.logout();
    const after = createClient({ baseUrl: server.url, mode: "bearer", tokens: { access_token: secondPair.access_token, refresh_token: "" } });
    await expect(after.articles.get(article.data.id)).rejects.toMatchObject({ status: 401 });
  });
});
