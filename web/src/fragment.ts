// A token that a mail link put in the URL fragment (`/reset-password#token=...`). The server
// moved it there so that it never reaches a server log or a Referer; here it also leaves the
// address bar and the history entry, before the app makes any network call.

let held: string | null = null;

/**
 * Take `#token=...` out of the current URL (history.replaceState) and keep it in memory. Called
 * once, first thing at start-up (main.tsx), and by the reset page for an in-app navigation.
 */
export function captureFragmentToken(location: Location = window.location): void {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
  const token = fragment.get("token");
  if (token === null) return;
  held = token;
  window.history.replaceState(window.history.state, "", location.pathname + location.search);
}

/** The captured token (kept until it is used: a remount of the page still finds it). */
export function fragmentToken(): string | null {
  return held;
}

/** Drop the token once it has been spent or refused. */
export function forgetFragmentToken(): void {
  held = null;
}
