// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createClient } from "../src";
import { ARTICLE, SESSION, USER, fakeServer, json, problem } from "./fake-server";

describe("the client never touches Web Storage", () => {
  const calls: string[] = [];
  beforeEach(() => {
    calls.length = 0;
    for (const method of ["setItem", "getItem", "removeItem", "clear", "key"] as const) {
      vi.spyOn(Storage.prototype, method).mockImplementation(function (this: Storage) {
        calls.push(method);
        return null as never;
      });
    }
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("in browser mode (sign in, write, expire, sign out) and in app mode (obtain, refresh)", async () => {
    document.cookie = "XSRF-TOKEN=from-cookie; path=/";
    let signedIn = false;
    const browserServer = fakeServer((request) => {
      if (request.url.endsWith("/api/auth/login")) {
        signedIn = true;
        return json(200, { user: USER, session: SESSION, csrf_token: "t" });
      }
      if (request.url.endsWith("/api/auth/logout")) return new Response(null, { status: 204 });
      if (!signedIn) return problem(401, "not_authenticated", { csrf_token: "anon" });
      if (request.method === "DELETE") {
        signedIn = false;
        return problem(401, "not_authenticated");
      }
      return json(201, ARTICLE);
    });
    const browserApi = createClient({ fetch: browserServer.fetch });
    await browserApi.start();
    await browserApi.auth.login({ identity: "ada", password: "pw", remember: true });
    await browserApi.request("POST", "/api/articles", { body: { title: "t", body: "b" } });
    expect(browserServer.sent.at(-1)!.headers.get("X-XSRF-TOKEN")).toBe("from-cookie"); // real document.cookie
    await browserApi.request("DELETE", `/api/articles/${1}`).catch(() => undefined);
    await browserApi.auth.logout();

    let valid = "a1";
    const appServer = fakeServer((request) => {
      if (request.url === "/api/token") return json(200, { access_token: "a1", refresh_token: "r1", token_type: "Bearer", expires_in: 1 });
      if (request.url === "/api/token/refresh") {
        valid = "a2";
        return json(200, { access_token: "a2", refresh_token: "r2", token_type: "Bearer", expires_in: 1 });
      }
      return request.headers.get("Authorization") === `Bearer ${valid}`
        ? json(200, ARTICLE)
        : problem(401, "invalid_token", {}, { "WWW-Authenticate": 'Bearer error="invalid_token"' });
    });
    const appApi = createClient({ mode: "app", fetch: appServer.fetch });
    await appApi.token.obtain({ identity: "ada", password: "pw" });
    valid = "expired";
    await appApi.request("GET", `/api/articles/${1}`);

    expect(calls).toEqual([]);
    expect(window.localStorage.length + window.sessionStorage.length).toBe(0);
  });
});
