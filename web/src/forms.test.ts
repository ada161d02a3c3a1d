import { describe, expect, it } from "vitest";
import { ApiError } from "@bastion/client";
import { pageWindow } from "./components/Pagination";
import { fieldLines, formFailure } from "./forms";

function apiError(status: number, code: string, errors: { field: string; code: string; message: string }[] = []) {
  return new ApiError(status, { type: "about:blank", title: "t", status, detail: `server says ${code}`, code, errors });
}

describe("formFailure", () => {
  it("puts known fields next to their inputs and counts them in the message", () => {
    const failure = formFailure(
      apiError(422, "validation_failed", [
        { field: "title", code: "string_too_long", message: "At most 200 characters." },
        { field: "title", code: "second", message: "ignored: one message per field" },
      ]),
      ["title", "body"] as const,
    );
    expect(failure).toEqual({ message: "Please correct the error below.", fields: { title: "At most 200 characters." } });
    expect(fieldLines(failure.fields, { title: "Title", body: "Body" })).toEqual(["Title: At most 200 characters."]);
  });

  it("keeps errors about unknown fields in the message, and maps well-known codes to plain words", () => {
    expect(formFailure(apiError(422, "validation_failed", [{ field: "body", code: "x", message: "Send a JSON object." }]), ["title"] as const)).toEqual({
      message: "server says validation_failed Send a JSON object.",
      fields: {},
    });
    expect(formFailure(apiError(0, "network_error"), []).message).toBe(
      "The server could not be reached. Check your connection and try again.",
    );
    expect(formFailure(apiError(403, "forbidden"), []).message).toBe("You are not allowed to do this.");
    expect(formFailure(new TypeError("boom"), []).message).toBe("Something went wrong. Please try again.");
  });
});

describe("pageWindow", () => {
  it.each([
    [1, 1, [1]],
    [2, 3, [1, 2, 3]],
    [1, 20, [1, 2, 3, "gap", 20]],
    [10, 20, [1, "gap", 8, 9, 10, 11, 12, "gap", 20]],
    [20, 20, [1, "gap", 18, 19, 20]],
    [4, 20, [1, 2, 3, 4, 5, 6, "gap", 20]],
  ])("page %i of %i", (page, pages, expected) => {
    expect(pageWindow(page, pages)).toEqual(expected);
  });
});
