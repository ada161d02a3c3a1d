// The client against the real server (`npm run test:live`; needs ../.venv with the project).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, awaitsConfirmation, createClient } from "../src";
import { articlesApi } from "../../src/api";
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
    if (awaitsConfirmation(registered)) throw new Error("the live server runs with EMAIL_CONFIRMATION=optional");
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

    const created = await articlesApi(api).create({ title: "Live", body: "From the client" });
    expect(created.data.author.username).toBe(name);
    const read = await articlesApi(api).get(created.data.id);
    expect(read.etag).toBeTruthy();
    const updated = await articlesApi(api).update(created.data.id, { title: "Live, edited" }, read.etag);
    expect(updated.data.title).toBe("Live, edited");
    const stale = (await articlesApi(api).update(created.data.id, { title: "Lost update" }, read.etag).catch((e: unknown) => e)) as ApiError;
    expect([stale.status, stale.code]).toEqual([412, "precondition_failed"]);

    const page = await articlesApi(api).list({ author: name });
    expect([page.total, page.items[0]?.title]).toEqual([1, "Live, edited"]);

    // The session ends behind the client's back (here: its cookie is gone): the next call says so.
    net.jar.delete("bastion_session");
    await expect(articlesApi(api).list()).rejects.toMatchObject({ status: 401 });
    expect(expired).toEqual(["not_authenticated"]);

    await api.auth.login({ identity: name, password: PASSWORD });
    await api.auth.logout();
    await expect(articlesApi(api).list()).rejects.toMatchObject({ status: 401 });
    expect(expired).toEqual(["not_authenticated"]); // signing out is not an expiry
  });

  it("works when the page cannot read the API's cookies (token from response bodies)", async () => {
    const net = cookieJarFetch();
    const api = createClient({ baseUrl: server.url, fetch: net.fetch, cookies: () => "" });
    await api.start();
    const name = unique("xo");
    await api.auth.register({ email: `${name}@example.com`, username: name, password: PASSWORD });
    await articlesApi(api).create({ title: "Cross origin", body: "token from the body" });
    await api.auth.logout();
    await api.auth.login({ identity: `${name}@example.com`, password: PASSWORD });
    await articlesApi(api).create({ title: "Again", body: "after signing in again" });
  });
});

describe("app mode against the real server", () => {
  it("obtains tokens, refreshes once for concurrent calls, and ends on a dead refresh token", async () => {
    const name = unique("app");
    const net = cookieJarFetch();
    await createClient({ baseUrl: server.url, fetch: net.fetch, cookies: net.readable })
      .auth.register({ email: `${name}@example.com`, username: name, password: PASSWORD });

    const app = createClient({ baseUrl: server.url, mode: "app" });
    const pair = await app.token.obtain({ identity: name, password: PASSWORD });
    expect(pair.token_type).toBe("Bearer");
    const article = await articlesApi(app).create({ title: "By token", body: "no cookie, no CSRF" });
    expect(article.data.author.username).toBe(name);

    // An access token the server refuses (as an expired one would be) with the live refresh token.
    const calls = cookieJarFetch();
    const script = createClient({
      baseUrl: server.url,
      mode: "app",
      fetch: calls.fetch,
      tokens: { access_token: "not-a-valid-token", refresh_token: pair.refresh_token },
    });
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => articlesApi(script).get(article.data.id)));
    expect(results.map((r) => r.data.title)).toEqual(Array(5).fill("By token"));
    expect(calls.calls.filter((c) => c === "POST /api/token/refresh")).toHaveLength(1);
    expect(calls.jar.size).toBe(0); // the app client got no cookie
    const rotated = script.tokens();
    expect(rotated.refresh_token).not.toBe(pair.refresh_token);

    // Replaying the retired refresh token is refused; that client's session is over.
    const replay = createClient({
      baseUrl: server.url,
      mode: "app",
      tokens: { access_token: "not-a-valid-token", refresh_token: pair.refresh_token },
    });
    const expired: number[] = [];
    replay.on("session-expired", (e) => expired.push(e.status));
    await expect(articlesApi(replay).get(article.data.id)).rejects.toMatchObject({ status: 401 });
    expect(expired).toEqual([401]);

    // Signing out with a token ends its session: the same access token is refused afterwards.
    const second = createClient({ baseUrl: server.url, mode: "app" });
    const secondPair = await second.token.obtain({ identity: name, password: PASSWORD });
    await second.auth.logout();
    const after = createClient({ baseUrl: server.url, mode: "app", tokens: { access_token: secondPair.access_token, refresh_token: "" } });
    await expect(articlesApi(after).get(article.data.id)).rejects.toMatchObject({ status: 401 });
  });
});
