// @vitest-environment jsdom
import { act, cleanup, renderHook, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "@bastion/client";
import { useResource } from "./useResource";

afterEach(cleanup);

function deferred<T>() {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

describe("useResource", () => {
  it("aborts the call for old deps, so a late answer never replaces the current one", async () => {
    const calls = new Map<number, { signal: AbortSignal; answer: ReturnType<typeof deferred<string>> }>();
    const { result, rerender } = renderHook(({ id }) =>
      useResource((signal) => {
        const answer = deferred<string>();
        calls.set(id, { signal, answer });
        return answer.promise;
      }, [id]),
      { initialProps: { id: 1 } },
    );
    expect(result.current.state).toEqual({ kind: "loading" });
    rerender({ id: 2 });
    expect(calls.get(1)!.signal.aborted).toBe(true);
    await act(async () => calls.get(2)!.answer.resolve("two"));
    await act(async () => calls.get(1)!.answer.resolve("one"));
    expect(result.current.state).toEqual({ kind: "ready", value: "two" });
  });

  it("maps a 404 to missing and other failures to an error with words for the user", async () => {
    const notFound = new ApiError(404, { type: "about:blank", title: "", status: 404, detail: "gone", code: "not_found" });
    const missing = renderHook(() => useResource(() => Promise.reject(notFound), []));
    await waitFor(() => expect(missing.result.current.state).toEqual({ kind: "missing" }));
    const down = renderHook(() => useResource(() => Promise.reject(new ApiError(0, null)), []));
    await waitFor(() =>
      expect(down.result.current.state).toEqual({
        kind: "error",
        message: "The server could not be reached. Check your connection and try again.",
      }),
    );
  });

  it("keeps showing the data while reloading, then shows the new data", async () => {
    let version = 0;
    const next = deferred<void>();
    const { result } = renderHook(() =>
      useResource(async () => {
        version += 1;
        if (version > 1) await next.promise;
        return version;
      }, []),
    );
    await waitFor(() => expect(result.current.state).toEqual({ kind: "ready", value: 1 }));
    act(() => result.current.reload());
    expect(result.current.state).toEqual({ kind: "ready", value: 1 });
    await act(async () => next.resolve());
    expect(result.current.state).toEqual({ kind: "ready", value: 2 });
  });

  it("with nothing to load is ready at once, with null", () => {
    const { result } = renderHook(() => useResource<string>(null, []));
    expect(result.current.state).toEqual({ kind: "ready", value: null });
  });
});
