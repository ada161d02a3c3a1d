import { describe, expect, it } from "vitest";
import { createClient, type ApiError } from "@bastion/client";
import { ARTICLE, fakeServer, json, problem } from "../client/test/fake-server";
import { articlesApi } from "./api";

describe("articlesApi", () => {
  it("builds list queries without empty parameters and returns ETags", async () => {
    const server = fakeServer((request) =>
      request.url.startsWith("/api/articles?") || request.url === "/api/articles"
        ? json(200, { items: [ARTICLE], page: 2, per_page: 20, total: 21, pages: 2 })
        : json(200, ARTICLE, { ETag: 'W/"abc"' }),
    );
    const articles = articlesApi(createClient({ fetch: server.fetch, cookies: () => "" }));
    const page = await articles.list({ page: 2, author: "ada lovelace", q: "", sort: undefined });
    expect(page.total).toBe(21);
    const tagged = await articles.get(1);
    expect(tagged).toEqual({ data: ARTICLE, etag: 'W/"abc"' });
    expect(server.sent.map((r) => r.url)).toEqual(["/api/articles?page=2&author=ada+lovelace", "/api/articles/1"]);
  });

  it("412 precondition_failed on PATCH carries the If-Match that was sent", async () => {
    const server = fakeServer(() => problem(412, "precondition_failed"));
    const articles = articlesApi(createClient({ fetch: server.fetch, cookies: () => "" }));
    const error = (await articles.update(1, { title: "x" }, '"v1"').catch((e: unknown) => e)) as ApiError;
    expect([error.status, error.code]).toEqual([412, "precondition_failed"]);
    expect(server.sent[0]!.headers.get("If-Match")).toBe('"v1"');
    expect(server.sent[0]!.body).toEqual({ title: "x" });
  });

  it("sends no If-Match without an ETag, and DELETE carries the one it was given", async () => {
    const server = fakeServer((request) => (request.method === "DELETE" ? new Response(null, { status: 204 }) : json(201, ARTICLE)));
    const articles = articlesApi(createClient({ fetch: server.fetch, cookies: () => "" }));
    await articles.update(1, { body: "b" });
    await articles.remove(1, '"v2"');
    expect(server.sent.map((r) => [r.method, r.url, r.headers.get("If-Match")])).toEqual([
      ["PATCH", "/api/articles/1", null],
      ["DELETE", "/api/articles/1", '"v2"'],
    ]);
  });
});
