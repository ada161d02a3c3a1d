import { describe, expect, it } from "vitest";
import { ApiError, createClient } from "../src";
import { ARTICLE, fakeServer, json, problem } from "./fake-server";

const EXPIRED = { "WWW-Authenticate": 'Bearer error="invalid_token", error_description="expired"' };

describe("app mode", () => {
  it("obtains tokens with POST /api/token and sends Authorization: Bearer, no cookies, no CSRF", async () => {
    const server = fakeServer((request) =>
      request.url.endsWith("/api/token")
        ? json(200, { access_token: "a1", refresh_token: "r1", token_type: "Bearer", expires_in: 600 })
        : json(201, ARTICLE),
    );
    const api = createClient({ mode: "app", baseUrl: "https://api.example", fetch: server.fetch });
    await api.token.obtain({ identity: "ada", password: "pw" });
    await api.request("POST", "/api/articles", { body: { title: "t", body: "b" } });
    expect(server.sent.map((r) => [r.url, r.headers.get("Authorization"), r.headers.get("X-XSRF-TOKEN"), r.credentials])).toEqual([
      ["https://api.example/api/token", null, null, "omit"],
      ["https://api.example/api/articles", "Bearer a1", null, "omit"],
    ]);
    expect(server.sent[0]!.body).toEqual({ identity: "ada", password: "pw" });
  });

  it("refreshes ONCE for concurrent calls that hit an expired token, then retries each", async () => {
    let valid = "a1";
    let refreshes = 0;
    const server = fakeServer(async (request) => {
      if (request.url === "/api/token/refresh") {
        refreshes += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(request.body).toEqual({ refresh_token: "r1" });
        valid = "a2";
        return json(200, { access_token: "a2", refresh_token: "r2", token_type: "Bearer", expires_in: 600 });
      }
      return request.headers.get("Authorization") === `Bearer ${valid}`
        ? json(200, ARTICLE)
        : problem(401, "invalid_token", {}, EXPIRED);
    });
    const api = createClient({
      mode: "app",
      fetch: server.fetch,
      tokens: { access_token: "a1", refresh_token: "r1" },
    });
    valid = "a-expired"; // the server no longer accepts a1
    const results = await Promise.all([1, 2, 3, 4, 5].map((id) => api.request("GET", `/api/articles/${id}`)));
    expect(results.map((r) => r.data)).toEqual([ARTICLE, ARTICLE, ARTICLE, ARTICLE, ARTICLE]);
    expect(refreshes).toBe(1);
    expect(server.sent.filter((r) => r.url === "/api/token/refresh")).toHaveLength(1);
    const retried = server.sent.filter((r) => r.url !== "/api/token/refresh").map((r) => r.headers.get("Authorization"));
    expect(retried.filter((h) => h === "Bearer a1")).toHaveLength(5);
    expect(retried.filter((h) => h === "Bearer a2")).toHaveLength(5);
    expect(api.tokens()).toEqual({ access_token: "a2", refresh_token: "r2" });
  });

  it("a call that was sent before a finished refresh retries with the new token without refreshing again", async () => {
    let valid = "a1";
    let refreshes = 0;
    let releaseSlow: () => void = () => undefined;
    const server = fakeServer(async (request) => {
      if (request.url === "/api/token/refresh") {
        refreshes += 1;
        valid = `a${refreshes + 1}`;
        return json(200, { access_token: valid, refresh_token: `r${refreshes + 1}`, token_type: "Bearer", expires_in: 60 });
      }
      if (request.url === "/api/articles/99" && request.headers.get("Authorization") === "Bearer a1") {
        // Answers late, after the other call already refreshed.
        await new Promise<void>((resolve) => (releaseSlow = resolve));
        if (request.headers.get("Authorization") === "Bearer a1") return problem(401, "invalid_token", {}, EXPIRED);
      }
      return request.headers.get("Authorization") === `Bearer ${valid}` ? json(200, ARTICLE) : problem(401, "invalid_token", {}, EXPIRED);
    });
    const api = createClient({ mode: "app", fetch: server.fetch, tokens: { access_token: "a1", refresh_token: "r1" } });
    valid = "expired";
    const slow = api.request("GET", `/api/articles/${99}`);
    await api.request("GET", `/api/articles/${1}`); // 401 -> refresh -> a2
    releaseSlow();
    expect((await slow).data).toEqual(ARTICLE);
    expect(refreshes).toBe(1);
    expect(server.sent.filter((r) => r.url === "/api/articles/99").map((r) => r.headers.get("Authorization"))).toEqual([
      "Bearer a1",
      "Bearer a2",
    ]);
  });

  it("refreshes at most once per call: a second invalid_token 401 is the caller's error", async () => {
    let refreshes = 0;
    const server = fakeServer((request) => {
      if (request.url === "/api/token/refresh") {
        refreshes += 1;
        return json(200, { access_token: `new${refreshes}`, refresh_token: `r${refreshes + 1}`, token_type: "Bearer", expires_in: 60 });
      }
      return problem(401, "invalid_token", {}, EXPIRED); // never accepts anything
    });
    const api = createClient({ mode: "app", fetch: server.fetch, tokens: { access_token: "a1", refresh_token: "r1" } });
    const expired: ApiError[] = [];
    api.on("session-expired", (e) => expired.push(e));
    await expect(api.request("GET", `/api/articles/${1}`)).rejects.toMatchObject({ status: 401, code: "invalid_token" });
    expect(refreshes).toBe(1);
    expect(server.sent).toHaveLength(3);
    expect(expired).toHaveLength(1);
  });

  it("when the refresh token is refused too, the call fails with 401 and session-expired fires", async () => {
    const server = fakeServer((request) =>
      request.url === "/api/token/refresh" ? problem(401, "invalid_grant") : problem(401, "invalid_token", {}, EXPIRED),
    );
    const api = createClient({ mode: "app", fetch: server.fetch, tokens: { access_token: "a1", refresh_token: "r1" } });
    const expired: string[] = [];
    api.on("session-expired", (e) => expired.push(e.code));
    const results = await Promise.allSettled([api.request("GET", `/api/articles/${1}`), api.request("GET", `/api/articles/${2}`)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(server.sent.filter((r) => r.url === "/api/token/refresh")).toHaveLength(1);
    expect(expired).toEqual(["invalid_token"]);
    expect(api.tokens()).toEqual({ access_token: null, refresh_token: null });
  });

  it("does not refresh on a 401 without the invalid_token challenge, nor on a 403", async () => {
    const server = fakeServer((request) =>
      request.url.endsWith("/1") ? problem(401, "not_authenticated") : problem(403, "forbidden"),
    );
    const api = createClient({ mode: "app", fetch: server.fetch, tokens: { access_token: "a1", refresh_token: "r1" } });
    await expect(api.request("GET", `/api/articles/${1}`)).rejects.toMatchObject({ status: 401 });
    await expect(api.request("GET", `/api/articles/${2}`)).rejects.toMatchObject({ status: 403 });
    expect(server.sent.map((r) => r.url)).toEqual(["/api/articles/1", "/api/articles/2"]);
  });

  it("obtain with a wrong password rejects with invalid_credentials and does not try to refresh", async () => {
    const server = fakeServer(() => problem(401, "invalid_credentials", {}, EXPIRED));
    const api = createClient({ mode: "app", fetch: server.fetch, tokens: { access_token: "a0", refresh_token: "r0" } });
    await expect(api.token.obtain({ identity: "ada", password: "bad" })).rejects.toMatchObject({ code: "invalid_credentials" });
    expect(server.sent).toHaveLength(1);
    expect(server.sent[0]!.headers.get("Authorization")).toBeNull();
  });

  it("logout sends the access token (ending that session) and forgets both tokens", async () => {
    const server = fakeServer(() => new Response(null, { status: 204 }));
    const api = createClient({ mode: "app", fetch: server.fetch, tokens: { access_token: "a1", refresh_token: "r1" } });
    await api.auth.logout();
    expect(server.sent.map((r) => [r.method, r.url, r.headers.get("Authorization")])).toEqual([
      ["POST", "/api/auth/logout", "Bearer a1"],
    ]);
    expect(api.tokens()).toEqual({ access_token: null, refresh_token: null });
  });
});
