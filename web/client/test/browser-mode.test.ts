import { describe, expect, it } from "vitest";
import { ApiError, createClient } from "../src";
import { ARTICLE, SESSION, USER, fakeServer, json, problem, type SentRequest } from "./fake-server";

function signedInServer(extra: (request: SentRequest) => Response | undefined = () => undefined) {
  return fakeServer((request) => {
    const answer = extra(request);
    if (answer) return answer;
    if (request.url.endsWith("/api/auth/session")) {
      return json(200, { user: USER, session: SESSION, csrf_token: "body-token" });
    }
    if (request.method === "DELETE") return new Response(null, { status: 204 });
    return json(200, ARTICLE, { ETag: '"v1"' });
  });
}

describe("browser mode: CSRF", () => {
  it("sends X-XSRF-TOKEN on POST, PUT, PATCH and DELETE but never on GET", async () => {
    const server = signedInServer();
    const api = createClient({ fetch: server.fetch, cookies: () => "other=1; XSRF-TOKEN=cookie-token" });
    await api.start();
    for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"] as const) {
      await api.request(method, "/api/articles/1", method === "GET" || method === "DELETE" ? {} : { body: {} });
    }
    const byMethod = Object.fromEntries(server.sent.slice(1).map((r) => [r.method, r.headers.get("X-XSRF-TOKEN")]));
    expect(byMethod).toEqual({
      GET: null,
      POST: "cookie-token",
      PUT: "cookie-token",
      PATCH: "cookie-token",
      DELETE: "cookie-token",
    });
    expect(server.sent[0]!.headers.get("X-XSRF-TOKEN")).toBeNull();
  });

  it("always sends credentials: include, and never an Authorization header", async () => {
    const server = signedInServer();
    const api = createClient({ fetch: server.fetch, cookies: () => "" });
    await api.start();
    await api.request("POST", "/api/articles", { body: { title: "t", body: "b" } });
    expect(server.sent.map((r) => r.credentials)).toEqual(["include", "include"]);
    expect(server.sent.map((r) => r.headers.get("Authorization"))).toEqual([null, null]);
  });

  it("prefers the readable XSRF-TOKEN cookie (same origin), URL-decoding it", async () => {
    const server = signedInServer();
    let cookie = "XSRF-TOKEN=first%2Etoken";
    const api = createClient({ fetch: server.fetch, cookies: () => cookie });
    await api.start(); // the body also carries "body-token": the cookie still wins
    await api.request("POST", "/api/articles", { body: { title: "t", body: "b" } });
    cookie = "XSRF-TOKEN=rotated";
    await api.request("POST", "/api/articles", { body: { title: "t", body: "b" } });
    expect(server.sent.slice(1).map((r) => r.headers.get("X-XSRF-TOKEN"))).toEqual(["first.token", "rotated"]);
  });

  it("reads the __Host- prefixed cookie that Bastion sets over https, before a plain one", async () => {
    const server = signedInServer();
    const api = createClient({
      fetch: server.fetch,
      cookies: () => "XSRF-TOKEN=stale-plain; __Host-XSRF-TOKEN=host-token",
    });
    await api.start();
    await api.request("POST", "/api/articles", { body: { title: "t", body: "b" } });
    expect(server.sent.at(-1)!.headers.get("X-XSRF-TOKEN")).toBe("host-token");
  });

  it("reads the __Host- prefixed form of a configured cookie name too", async () => {
    const server = signedInServer();
    const api = createClient({ fetch: server.fetch, cookies: () => "__Host-csrf=mine", csrfCookie: "csrf" });
    await api.start();
    await api.request("POST", "/api/articles", { body: { title: "t", body: "b" } });
    expect(server.sent.at(-1)!.headers.get("X-XSRF-TOKEN")).toBe("mine");
  });

  it("uses the csrf_token of response bodies when the cookie is unreadable (cross-origin API)", async () => {
    const server = fakeServer((request) => {
      if (request.url.endsWith("/api/auth/session")) return problem(401, "not_authenticated", { csrf_token: "anon-token" });
      if (request.url.endsWith("/api/auth/login")) return json(200, { user: USER, session: SESSION, csrf_token: "session-token" });
      return json(201, ARTICLE);
    });
    const api = createClient({ baseUrl: "http://api.example:8000/", fetch: server.fetch, cookies: () => "" });
    expect(await api.start()).toBeNull();
    expect(api.csrfToken()).toBe("anon-token");
    await api.auth.login({ identity: "ada", password: "pw" });
    await api.request("POST", "/api/articles", { body: { title: "t", body: "b" } });
    expect(server.sent.map((r) => [r.url, r.headers.get("X-XSRF-TOKEN")])).toEqual([
      ["http://api.example:8000/api/auth/session", null],
      ["http://api.example:8000/api/auth/login", "anon-token"],
      ["http://api.example:8000/api/articles", "session-token"],
    ]);
  });

  it("csrfSource 'body' ignores the cookie", async () => {
    const server = signedInServer();
    const api = createClient({ fetch: server.fetch, cookies: () => "XSRF-TOKEN=cookie-token", csrfSource: "body" });
    await api.start();
    await api.request("POST", "/api/articles", { body: { title: "t", body: "b" } });
    expect(server.sent[1]!.headers.get("X-XSRF-TOKEN")).toBe("body-token");
  });

  it("on 403 csrf_failed fetches the current token once and retries once", async () => {
    let posts = 0;
    const server = fakeServer((request) => {
      if (request.url.endsWith("/api/auth/session")) {
        return json(200, { user: USER, session: SESSION, csrf_token: posts === 0 ? "stale" : "fresh" });
      }
      posts += 1;
      return request.headers.get("X-XSRF-TOKEN") === "fresh" ? json(201, ARTICLE) : problem(403, "csrf_failed");
    });
    const api = createClient({ fetch: server.fetch, cookies: () => "" });
    await api.start();
    const created = await api.request("POST", "/api/articles", { body: { title: "t", body: "b" } });
    expect(created.data).toEqual(ARTICLE);
    expect(server.sent.map((r) => `${r.method} ${r.url} ${r.headers.get("X-XSRF-TOKEN")}`)).toEqual([
      "GET /api/auth/session null",
      "POST /api/articles stale",
      "GET /api/auth/session null",
      "POST /api/articles fresh",
    ]);
  });

  it("after logout learns the new anonymous token from GET /api/auth/session", async () => {
    let signedIn = true;
    const server = fakeServer((request) => {
      if (request.url.endsWith("/api/auth/logout")) {
        signedIn = false;
        return new Response(null, { status: 204 });
      }
      return signedIn
        ? json(200, { user: USER, session: SESSION, csrf_token: "session-token" })
        : problem(401, "not_authenticated", { csrf_token: "anon-after-logout" });
    });
    const api = createClient({ fetch: server.fetch, cookies: () => "" });
    await api.start();
    await api.auth.logout();
    expect(api.user).toBeNull();
    expect(api.csrfToken()).toBe("anon-after-logout");
    expect(server.sent[1]!.headers.get("X-XSRF-TOKEN")).toBe("session-token");
  });
});

describe("problem+json becomes a typed ApiError", () => {
  it("maps status, code, detail and field errors", async () => {
    const errors = [
      { field: "email", code: "taken", message: "This email is already registered." },
      { field: "username", code: "taken", message: "This username is taken." },
    ];
    const server = fakeServer(() => problem(409, "conflict", { errors }));
    const api = createClient({ fetch: server.fetch, cookies: () => "" });
    const error = await api.auth.register({ email: "a@b.c", username: "ada", password: "x" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect([apiError.status, apiError.code, apiError.detail, apiError.message]).toEqual([
      409,
      "conflict",
      "detail of conflict",
      "detail of conflict",
    ]);
    expect(apiError.fieldErrors).toEqual(errors);
    expect(apiError.fieldError("username")).toEqual(errors[1]);
    expect(apiError.fieldErrorMap).toEqual({ email: [errors[0]], username: [errors[1]] });
  });

  it("keeps only well-formed field errors", async () => {
    const server = fakeServer(() =>
      problem(422, "validation_failed", {
        errors: [{ field: "password", code: "too_short", message: "Too short." }, { field: 3 }, "junk"],
      }),
    );
    const api = createClient({ fetch: server.fetch, cookies: () => "" });
    const error = (await api.request("POST", "/api/auth/register", { body: {} }).catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe("validation_failed");
    expect(error.fieldErrors).toEqual([{ field: "password", code: "too_short", message: "Too short." }]);
  });

  it("a non-JSON error page still becomes an ApiError", async () => {
    const server = fakeServer(() => new Response("<h1>Bad gateway</h1>", { status: 502, statusText: "Bad Gateway", headers: { "Content-Type": "text/html" } }));
    const api = createClient({ fetch: server.fetch, cookies: () => "" });
    const error = (await api.request("GET", "/api/articles").catch((e: unknown) => e)) as ApiError;
    expect([error.status, error.code, error.fieldErrors, error.problem]).toEqual([502, "http_502", [], null]);
  });

  it("a request that never gets an answer is status 0, network_error", async () => {
    const api = createClient({
      fetch: () => Promise.reject(new TypeError("Failed to fetch")),
      cookies: () => "",
    });
    const error = (await api.request("GET", "/api/articles").catch((e: unknown) => e)) as ApiError;
    expect([error.status, error.code]).toEqual([0, "network_error"]);
  });
});

describe("session-expired event", () => {
  it("fires once when an authenticated call gets 401 after signing in", async () => {
    let revoked = false;
    const server = fakeServer((request) => {
      if (request.url.endsWith("/api/auth/session")) return json(200, { user: USER, session: SESSION, csrf_token: "t" });
      return revoked ? problem(401, "not_authenticated") : json(200, { items: [], page: 1, per_page: 20, total: 0, pages: 0 });
    });
    const api = createClient({ fetch: server.fetch, cookies: () => "" });
    const expired: ApiError[] = [];
    const users: unknown[] = [];
    api.on("session-expired", (error) => expired.push(error));
    api.on("user-changed", (user) => users.push(user));
    await api.start();
    await api.request("GET", "/api/articles");
    expect(expired).toEqual([]);
    revoked = true;
    await expect(api.request("GET", "/api/articles")).rejects.toMatchObject({ status: 401, code: "not_authenticated" });
    await expect(api.request("GET", "/api/articles")).rejects.toMatchObject({ status: 401 });
    expect(expired.map((e) => e.code)).toEqual(["not_authenticated"]);
    expect(users).toEqual([USER, null]);
    expect(api.user).toBeNull();
  });

  it("does not fire for a visitor who never signed in, nor for a wrong password", async () => {
    const server = fakeServer((request) => {
      if (request.url.endsWith("/api/auth/login")) return problem(401, "invalid_credentials");
      return problem(401, "not_authenticated", { csrf_token: "anon" });
    });
    const api = createClient({ fetch: server.fetch, cookies: () => "" });
    const expired: ApiError[] = [];
    api.on("session-expired", (error) => expired.push(error));
    expect(await api.start()).toBeNull();
    await expect(api.request("GET", "/api/articles")).rejects.toMatchObject({ status: 401 });
    await expect(api.auth.login({ identity: "ada", password: "wrong" })).rejects.toMatchObject({
      code: "invalid_credentials",
    });
    expect(expired).toEqual([]);
  });

  it("a wrong password while signed in is not an expiry, and unsubscribe works", async () => {
    const server = fakeServer((request) => {
      if (request.url.endsWith("/api/auth/login")) return problem(401, "invalid_credentials");
      if (request.url.endsWith("/api/auth/session")) return json(200, { user: USER, session: SESSION, csrf_token: "t" });
      return problem(401, "not_authenticated");
    });
    const api = createClient({ fetch: server.fetch, cookies: () => "" });
    const expired: string[] = [];
    const off = api.on("session-expired", (error) => expired.push(error.code));
    await api.start();
    await expect(api.auth.login({ identity: "ada", password: "wrong" })).rejects.toMatchObject({ status: 401 });
    expect(expired).toEqual([]);
    off();
    await expect(api.request("GET", "/api/articles")).rejects.toMatchObject({ status: 401 });
    expect(expired).toEqual([]);
  });
});
