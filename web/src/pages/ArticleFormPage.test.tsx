// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { ARTICLE, USER, json, problem } from "../../client/test/fake-server";
import { renderPage } from "../test/render";
import ArticleFormPage, { CONFLICT_MESSAGE } from "./ArticleFormPage";

afterEach(cleanup);

describe("ArticleFormPage (edit)", () => {
  it("sends If-Match with the ETag it read; on 412 says someone else edited and offers to reload", async () => {
    let version = 1;
    const { server } = renderPage(<ArticleFormPage id={1} />, {
      path: "/articles/1/edit",
      user: USER,
      handler: (request) => {
        if (request.method === "GET") {
          const title = version === 1 ? "Hello" : "Their title";
          return json(200, { ...ARTICLE, title }, { ETag: `"v${version}"` });
        }
        version = 2; // someone else saved first
        return problem(412, "precondition_failed");
      },
    });
    const title = (await screen.findByLabelText("Title")) as HTMLInputElement;
    await waitFor(() => expect(title.value).toBe("Hello"));
    fireEvent.change(title, { target: { value: "My title" } });
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));

    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain(CONFLICT_MESSAGE);
    expect(CONFLICT_MESSAGE.startsWith("Someone else edited this article")).toBe(true);
    const patch = server.sent.find((r) => r.method === "PATCH")!;
    expect(patch.headers.get("If-Match")).toBe('"v1"');
    expect(patch.body).toEqual({ title: "My title", body: "World" });

    fireEvent.click(screen.getByRole("button", { name: "Reload article" }));
    await waitFor(() => expect(title.value).toBe("Their title"));
    expect(screen.queryByRole("alert")).toBeNull();

    // The next save carries the new ETag.
    fireEvent.change(title, { target: { value: "Merged" } });
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));
    await screen.findByRole("alert");
    expect(server.sent.filter((r) => r.method === "PATCH").map((r) => r.headers.get("If-Match"))).toEqual(['"v1"', '"v2"']);
  });

  it("shows an empty title's error next to the title field", async () => {
    renderPage(<ArticleFormPage />, { path: "/new", user: USER, handler: () => json(201, ARTICLE) });
    fireEvent.change(screen.getByLabelText("Body"), { target: { value: "Some text" } });
    fireEvent.click(screen.getByRole("button", { name: "Publish" }));
    expect((await screen.findByRole("alert")).textContent).toContain("Title: Enter a title.");
    const title = screen.getByLabelText("Title");
    expect(title.getAttribute("aria-invalid")).toBe("true");
    expect(title.getAttribute("aria-describedby")).toBe("article-title-error");
    expect(screen.getByLabelText("Body").getAttribute("aria-invalid")).toBeNull();
  });
});
