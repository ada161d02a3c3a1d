import { describe, expect, it } from "vitest";
import { matchRoute, safeNext } from "./router";

describe("routes", () => {
  it.each([
    ["/", { name: "articles" }],
    ["/new", { name: "new" }],
    ["/login", { name: "login" }],
    ["/register/", { name: "register" }],
    ["/articles/42", { name: "article", id: 42 }],
    ["/articles/42/edit", { name: "edit", id: 42 }],
    ["/articles/0", { name: "not-found" }],
    ["/articles/abc", { name: "not-found" }],
    ["/articles/99999999999999999999", { name: "not-found" }],
    ["/elsewhere", { name: "not-found" }],
  ])("%s", (path, route) => {
    expect(matchRoute(path)).toEqual(route);
  });

  it.each([
    ["/articles/1?x=1", "/articles/1?x=1"],
    [null, "/"],
    ["//evil.example", "/"],
    ["/\\evil.example", "/"],
    ["https://evil.example", "/"],
    ["/login?next=/x", "/"],
  ])("safeNext(%s) = %s", (next, expected) => {
    expect(safeNext(next)).toBe(expected);
  });
});
