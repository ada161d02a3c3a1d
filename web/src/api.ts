import { createClient } from "../client/src";

/** The app's one API client: browser mode (HttpOnly session cookie + CSRF header). */
export const api = createClient({ baseUrl: import.meta.env.VITE_API_URL ?? "", mode: "browser" });
