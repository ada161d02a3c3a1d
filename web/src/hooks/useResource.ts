import { useCallback, useEffect, useRef, useState, type DependencyList } from "react";
import { isApiError } from "@bastion/client";
import { formFailure } from "../forms";

/** Where a page's data is: on its way, gone (404), failed (with words for the user), or here. */
export type Resource<T> =
  | { kind: "loading" }
  | { kind: "missing" }
  | { kind: "error"; message: string }
  | { kind: "ready"; value: T };

/**
 * Load what a page shows: runs `load` whenever `deps` change, aborts the previous call (a fast
 * navigation must not let an old answer overwrite a new one), and maps failures to the states
 * above. `reload()` fetches again; while it runs, data already shown stays on screen.
 */
export function useResource<T>(load: (signal: AbortSignal) => Promise<T>, deps: DependencyList): ResourceHandle<T>;
/** With `load` null there is nothing to fetch (a form for a new item): ready at once, with null. */
export function useResource<T>(
  load: ((signal: AbortSignal) => Promise<T>) | null,
  deps: DependencyList,
): ResourceHandle<T | null>;
export function useResource<T>(
  load: ((signal: AbortSignal) => Promise<T>) | null,
  deps: DependencyList,
): ResourceHandle<T | null> {
  const [state, setState] = useState<Resource<T | null>>(load ? { kind: "loading" } : { kind: "ready", value: null });
  const [round, setRound] = useState(0);
  const lastRound = useRef(round);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const run = loadRef.current;
    if (!run) {
      setState((previous) => (previous.kind === "ready" && previous.value === null ? previous : { kind: "ready", value: null }));
      return;
    }
    const controller = new AbortController();
    const isReload = round !== lastRound.current;
    lastRound.current = round;
    setState((previous) => (isReload && previous.kind === "ready" ? previous : { kind: "loading" }));
    run(controller.signal)
      .then((value) => {
        if (!controller.signal.aborted) setState({ kind: "ready", value });
      })
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        if (isApiError(error) && error.status === 404) setState({ kind: "missing" });
        else setState({ kind: "error", message: formFailure(error, []).message });
      });
    return () => controller.abort();
  }, [...deps, round]); // `deps` stand for everything `load` reads; `round` counts reloads

  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { state, reload };
}

export interface ResourceHandle<T> {
  state: Resource<T>;
  /** Fetch again (after a conflict, or "Try again"). */
  reload: () => void;
}
