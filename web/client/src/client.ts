import { readCookie, documentCookies } from "./cookies";
import { ApiError, toProblem } from "./errors";
import { Emitter } from "./events";
import type {
  Accepted,
  Confirmed,
  Done,
  LoginInput,
  MfaRequired,
  MfaStatus,
  Passkey,
  PasskeyList,
  Reauthenticated,
  RecoveryCodes,
  SecurityEventPage,
  SignInResult,
  TotpSetup,
  RegisterInput,
  RegisterResult,
  SessionList,
  SessionsEnded,
  SessionState,
  SignedIn,
  TokenInput,
  TokenPair,
  User,
} from "./types";

/**
 * The two kinds of client Bastion serves. `browser`: the HttpOnly session cookie plus a CSRF
 * header (an SPA in a browser). `app`: a bearer access token plus a rotating refresh token, held
 * in memory (a Node script, a native app).
 */
export type Mode = "browser" | "app";
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Where the CSRF token comes from: the readable cookie, the last response body, or auto. */
export type CsrfSource = "auto" | "cookie" | "body";

export interface ClientOptions {
  /** Origin (and optional path prefix) of the API; "" means the page's own origin. */
  baseUrl?: string;
  /** `browser` (the default): cookie session + CSRF. `app`: access + refresh tokens. */
  mode?: Mode;
  /** The fetch to use; defaults to the global one. */
  fetch?: typeof fetch;
  /** Browser mode: where to read the CSRF token (default `auto`: the cookie when readable). */
  csrfSource?: CsrfSource;
  /** Browser mode: how to read cookies; defaults to `document.cookie` (tests inject their own). */
  cookies?: () => string;
  /** Browser mode: names of the CSRF cookie (read with its `__Host-` prefix first) and header. */
  csrfCookie?: string;
  csrfHeader?: string;
  /** App mode: tokens obtained earlier (kept in memory only). */
  tokens?: Pick<TokenPair, "access_token" | "refresh_token">;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  headers?: Record<string, string>;
  /**
   * A credential check (login, register, token): its 401 means "wrong password", never
   * "your session expired", so it neither emits `session-expired` nor refreshes tokens.
   */
  credentials?: boolean;
  /** App mode: send no Authorization header (the token endpoints themselves). */
  anonymous?: boolean;
  signal?: AbortSignal;
}

export interface ApiResponse<T> {
  data: T;
  status: number;
  headers: Headers;
}

export interface ClientEvents {
  /** An authenticated call got 401 after the user had been signed in (session revoked/expired). */
  "session-expired": ApiError;
  /** The signed-in user changed (sign in, sign out, expiry): the user or null. */
  "user-changed": User | null;
}

const UNSAFE = new Set<HttpMethod>(["POST", "PUT", "PATCH", "DELETE"]);

// 401s that name the next step for a caller who is still signed in (a wrong current password on
// change password or email, a stale sign-in before ending another device, a wrong code while
// turning on an authenticator app, a re-authentication that needs a code too): not an expiry.
const STILL_SIGNED_IN = new Set([
  "invalid_credentials",
  "reauth_required",
  "sign_in_pending",
  "invalid_mfa_code",
  "mfa_required",
]);

/** Whether a sign-in answer is the MFA step (`{mfa_required: true, methods}`): nobody is signed in yet. */
export function needsMfa(result: SignInResult): result is MfaRequired {
  return "mfa_required" in result && result.mfa_required === true;
}

/**
 * The second-factor details of a `401 mfa_required` from `POST /api/token` (app mode): the
 * `mfa_token` to send back with a code, and the methods the user has; null for any other error.
 */
export function mfaChallenge(error: unknown): { mfa_token: string; methods: string[] } | null {
  if (!(error instanceof ApiError) || error.status !== 401 || error.code !== "mfa_required") return null;
  const token = error.problem?.mfa_token;
  const methods = error.problem?.methods;
  if (typeof token !== "string" || !token) return null;
  return { mfa_token: token, methods: Array.isArray(methods) ? methods.filter((m) => typeof m === "string") : [] };
}

/** Whether a register answer is the `202` "check your email" one (nobody is signed in yet). */
export function awaitsConfirmation(result: RegisterResult): result is Exclude<RegisterResult, { user: unknown }> {
  return !("user" in result);
}

function hasInvalidTokenChallenge(headers: Headers): boolean {
  const challenge = headers.get("WWW-Authenticate") ?? "";
  return /^\s*Bearer\b/i.test(challenge) && /error\s*=\s*"?invalid_token"?/i.test(challenge);
}

function isProblem(headers: Headers): boolean {
  return (headers.get("Content-Type") ?? "").toLowerCase().startsWith("application/problem+json");
}

function isJson(headers: Headers): boolean {
  const type = (headers.get("Content-Type") ?? "").toLowerCase();
  return type.startsWith("application/json") || type.startsWith("application/problem+json");
}

/**
 * A client for a Bastion API. Never stores anything in `localStorage` or `sessionStorage`:
 * in browser mode the credential is the HttpOnly session cookie, in app mode the tokens live in
 * this object's memory only.
 */
export class BastionClient {
  readonly mode: Mode;
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly csrfSource: CsrfSource;
  private readonly cookies: () => string;
  private readonly csrfCookie: string;
  private readonly csrfHeader: string;
  private readonly events = new Emitter<ClientEvents>();
  private bodyCsrfToken: string | null = null;
  private currentUser: User | null = null;
  private accessToken: string | null;
  private refreshToken: string | null;
  private refreshing: Promise<boolean> | null = null;

  constructor(options: ClientOptions = {}) {
    this.mode = options.mode ?? "browser";
    this.baseUrl = (options.baseUrl ?? "").replace(/\/+$/, "");
    const globalFetch = typeof fetch === "undefined" ? undefined : fetch;
    const chosen = options.fetch ?? globalFetch;
    if (!chosen) throw new Error("No fetch available: pass options.fetch");
    // Keep `this` unbound: window.fetch throws "Illegal invocation" when called as a method.
    this.fetchImpl = (input, init) => chosen(input, init);
    this.csrfSource = options.csrfSource ?? "auto";
    this.cookies = options.cookies ?? documentCookies;
    this.csrfCookie = options.csrfCookie ?? "XSRF-TOKEN";
    this.csrfHeader = options.csrfHeader ?? "X-XSRF-TOKEN";
    this.accessToken = options.tokens?.access_token || null;
    this.refreshToken = options.tokens?.refresh_token || null;
  }

  /** Subscribe to `session-expired` or `user-changed`; returns the unsubscribe function. */
  on<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** The signed-in user as last seen by this client (browser mode), or null. */
  get user(): User | null {
    return this.currentUser;
  }

  /**
   * Whether this client holds a sign-in: a user (browser mode) or an access token (app mode).
   * Derived from the credential itself, so it cannot disagree with it; a 401 on an
   * authenticated call reports `session-expired` only when this was true.
   */
  get signedIn(): boolean {
    return this.currentUser !== null || this.accessToken !== null;
  }

  /** The CSRF token that unsafe requests will carry (null when none is known yet). */
  csrfToken(): string | null {
    if (this.csrfSource !== "body") {
      // Over https Bastion sets the cookie with the __Host- prefix (a sibling domain cannot plant
      // it); over http (development) it has the plain name.
      const jar = this.cookies();
      const fromCookie = readCookie(jar, `__Host-${this.csrfCookie}`) ?? readCookie(jar, this.csrfCookie);
      if (fromCookie) return fromCookie;
      if (this.csrfSource === "cookie") return null;
    }
    return this.bodyCsrfToken;
  }

  /** App mode: the tokens held in memory (for a script that wants to hand them on). */
  tokens(): { access_token: string | null; refresh_token: string | null } {
    return { access_token: this.accessToken, refresh_token: this.refreshToken };
  }

  // ---- the transport -------------------------------------------------------------------------

  /** Send one request; resolves with the parsed JSON (undefined for 204) or rejects with ApiError. */
  async request<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const sentWithToken = this.accessToken;
    let response: ApiResponse<T>;
    try {
      response = await this.send<T>(method, path, options);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (this.mode === "browser" && error.status === 403 && error.code === "csrf_failed" && UNSAFE.has(method)) {
        // Our token went stale (another tab signed in or out): fetch the current one, retry once.
        await this.refreshCsrfToken();
        return this.afterAuthFailure(await this.settle(() => this.send<T>(method, path, options)), options);
      }
      if (
        this.mode === "app" &&
        error.status === 401 &&
        !options.credentials &&
        this.refreshToken !== null &&
        hasInvalidTokenChallenge(error.headers)
      ) {
        if (!(await this.refreshOnce(sentWithToken))) return this.afterAuthFailure({ error }, options);
        return this.afterAuthFailure(await this.settle(() => this.send<T>(method, path, options)), options);
      }
      return this.afterAuthFailure({ error }, options);
    }
    return response;
  }

  private async settle<T>(call: () => Promise<ApiResponse<T>>): Promise<{ value: ApiResponse<T> } | { error: unknown }> {
    try {
      return { value: await call() };
    } catch (error) {
      return { error };
    }
  }

  private afterAuthFailure<T>(
    outcome: { value: ApiResponse<T> } | { error: unknown },
    options: RequestOptions,
  ): ApiResponse<T> {
    if ("value" in outcome) return outcome.value;
    const error = outcome.error;
    if (error instanceof ApiError && error.status === 401 && !options.credentials && !STILL_SIGNED_IN.has(error.code)) {
      this.expire(error);
    }
    throw error;
  }

  private expire(error: ApiError): void {
    const wasSignedIn = this.signedIn;
    this.accessToken = null;
    this.refreshToken = null;
    if (this.currentUser !== null) {
      this.currentUser = null;
      this.events.emit("user-changed", null);
    }
    if (wasSignedIn) this.events.emit("session-expired", error);
  }

  private url(path: string, query?: RequestOptions["query"]): string {
    let url = this.baseUrl + path;
    if (query) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) {
        if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
      }
      const text = params.toString();
      if (text) url += (url.includes("?") ? "&" : "?") + text;
    }
    return url;
  }

  private async send<T>(method: HttpMethod, path: string, options: RequestOptions): Promise<ApiResponse<T>> {
    const headers = new Headers({ Accept: "application/json, application/problem+json" });
    for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
    const init: RequestInit = { method, headers, signal: options.signal };
    if (options.body !== undefined) {
      headers.set("Content-Type", "application/json");
      init.body = JSON.stringify(options.body);
    }
    if (this.mode === "browser") {
      init.credentials = "include";
      if (UNSAFE.has(method)) {
        const token = this.csrfToken();
        if (token) headers.set(this.csrfHeader, token);
      }
    } else {
      init.credentials = "omit";
      if (this.accessToken && !options.anonymous) headers.set("Authorization", `Bearer ${this.accessToken}`);
    }
    let raw: Response;
    try {
      raw = await this.fetchImpl(this.url(path, options.query), init);
    } catch (cause) {
      if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
      throw new ApiError(0, null, new Headers(), "The server could not be reached.");
    }
    let data: unknown = undefined;
    if (raw.status !== 204 && isJson(raw.headers)) {
      try {
        data = await raw.json();
      } catch {
        data = undefined;
      }
    } else if (raw.status !== 204) {
      await raw.text().catch(() => "");
    }
    if (!raw.ok) {
      const problem = isProblem(raw.headers) || isJson(raw.headers) ? toProblem(data, raw.status) : null;
      // A 401 from GET /api/auth/session still carries the CSRF token for the next sign-in.
      this.rememberCsrf(problem);
      throw new ApiError(raw.status, problem, raw.headers, raw.statusText);
    }
    this.rememberCsrf(data);
    return { data: data as T, status: raw.status, headers: raw.headers };
  }

  private rememberCsrf(body: unknown): void {
    if (typeof body === "object" && body !== null) {
      const token = (body as Record<string, unknown>).csrf_token;
      if (typeof token === "string" && token) this.bodyCsrfToken = token;
    }
  }

  private setUser(user: User | null): void {
    const changed = (this.currentUser?.id ?? null) !== (user?.id ?? null);
    this.currentUser = user;
    if (changed) this.events.emit("user-changed", user);
  }

  private async refreshCsrfToken(): Promise<void> {
    try {
      await this.send<SessionState>("GET", "/api/auth/session", {});
    } catch {
      // A 401 still carried a token (remembered in send); anything else: retry with what we have.
    }
  }

  /**
   * Refresh the token pair once, shared by every call that saw the same expired token; resolves
   * true when there is a fresh access token to retry with.
   */
  private refreshOnce(expiredToken: string | null): Promise<boolean> {
    if (this.refreshing) return this.refreshing;
    // Another call already refreshed after this one was sent: just retry with the new token.
    if (this.accessToken !== expiredToken) return Promise.resolve(this.accessToken !== null);
    const refreshToken = this.refreshToken;
    if (refreshToken === null) return Promise.resolve(false);
    this.refreshing = (async () => {
      try {
        const { data } = await this.send<TokenPair>("POST", "/api/token/refresh", {
          body: { refresh_token: refreshToken },
          credentials: true,
          anonymous: true,
        });
        this.accessToken = data.access_token;
        this.refreshToken = data.refresh_token;
        return true;
      } catch {
        // The refresh token is dead too (revoked, reused, expired): the session is over. The
        // caller's 401 ends it (expire), which still sees the tokens and so reports the expiry.
        return false;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  // ---- browser auth --------------------------------------------------------------------------

  /**
   * Start here (browser mode): `GET /api/auth/session`. Resolves with the session state when
   * signed in, or null when not (the 401's CSRF token is kept for the next sign-in).
   */
  async start(): Promise<SessionState | null> {
    try {
      const { data } = await this.send<SessionState>("GET", "/api/auth/session", {});
      this.setUser(data.user);
      return data;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        if (this.signedIn) this.expire(error); // we thought we were signed in: tell the app
        this.setUser(null);
        return null;
      }
      throw error;
    }
  }

  readonly auth = {
    session: (): Promise<SessionState | null> => this.start(),
    /**
     * `POST /api/auth/login`. For a user with a second factor the password alone does not sign in:
     * the answer is `{mfa_required: true, methods}` (test it with `needsMfa`), and
     * `mfa.verify(code)` finishes from this browser.
     */
    login: async (input: LoginInput): Promise<SignInResult> => {
      const { data } = await this.request<SignInResult>("POST", "/api/auth/login", { body: input, credentials: true });
      return this.signedInUnlessMfa(data);
    },
    /**
     * `POST /api/auth/register`. With email confirmation `required` (the server's default) it
     * resolves with `{status: "confirmation_sent"}` and nobody is signed in (test it with
     * `awaitsConfirmation`); with `optional`/`off`, with the signed-in user and session.
     */
    register: async (input: RegisterInput): Promise<RegisterResult> => {
      const { data } = await this.request<RegisterResult>("POST", "/api/auth/register", {
        body: input,
        credentials: true,
      });
      if (!awaitsConfirmation(data)) this.setUser(data.user);
      return data;
    },
    /** `POST /api/auth/confirm`: confirm the email with the token from the mail's link (no sign-in). */
    confirm: async (token: string): Promise<Confirmed> => {
      const { data } = await this.request<Confirmed>("POST", "/api/auth/confirm", {
        body: { token },
        credentials: true,
      });
      return data;
    },
    /** `POST /api/auth/confirm/resend`: 202 whether or not the address has an account. */
    resendConfirmation: async (email: string): Promise<Accepted> => {
      const { data } = await this.request<Accepted>("POST", "/api/auth/confirm/resend", {
        body: { email },
        credentials: true,
      });
      return data;
    },
    /** `POST /api/auth/password/forgot`: mails a reset link; 202 whether or not the address has an account. */
    forgotPassword: async (email: string): Promise<Accepted> => {
      const { data } = await this.request<Accepted>("POST", "/api/auth/password/forgot", {
        body: { email },
        credentials: true,
      });
      return data;
    },
    /**
     * `POST /api/auth/password/reset`: set a new password with the mail's token. It ends every
     * session of the user (this browser's too, if it was theirs) and does not sign in.
     */
    resetPassword: async (token: string, password: string): Promise<Done> => {
      const { data } = await this.request<Done>("POST", "/api/auth/password/reset", {
        body: { token, password },
        credentials: true,
      });
      return data;
    },
    /** `POST /api/auth/password/change` (signed in): ends every other session; this one stays. */
    changePassword: async (currentPassword: string, newPassword: string): Promise<Done> => {
      const { data } = await this.request<Done>("POST", "/api/auth/password/change", {
        body: { current_password: currentPassword, new_password: newPassword },
      });
      return data;
    },
    /** `POST /api/auth/email/change` (signed in): mails a link to the new address; 202. */
    changeEmail: async (email: string, password: string): Promise<Accepted> => {
      const { data } = await this.request<Accepted>("POST", "/api/auth/email/change", { body: { email, password } });
      return data;
    },
    /** `POST /api/auth/code/request`: mails a 6-digit sign-in code; 202 whether or not the account exists. */
    requestCode: async (identity: string): Promise<Accepted> => {
      const { data } = await this.request<Accepted>("POST", "/api/auth/code/request", {
        body: { identity },
        credentials: true,
      });
      return data;
    },
    /**
     * `POST /api/auth/code/verify`: sign in with the mailed code, exactly like `login` (browser
     * mode). App clients use `token.obtain({ identity, code })` instead.
     */
    verifyCode: async (
      identity: string,
      code: string,
      options: { remember?: boolean } = {},
    ): Promise<SignInResult> => {
      const { data } = await this.request<SignInResult>("POST", "/api/auth/code/verify", {
        body: options.remember === undefined ? { identity, code } : { identity, code, remember: options.remember },
        credentials: true,
      });
      return this.signedInUnlessMfa(data);
    },
    /** `GET /api/auth/security-events`: the user's own security log, newest first, a page at a time. */
    securityEvents: async (
      page: { cursor?: string | null; perPage?: number } = {},
      signal?: AbortSignal,
    ): Promise<SecurityEventPage> => {
      const { data } = await this.request<SecurityEventPage>("GET", "/api/auth/security-events", {
        query: { cursor: page.cursor, per_page: page.perPage },
        signal,
      });
      return data;
    },
    /**
     * `POST /api/auth/reauth`: confirm the password, so that sensitive calls work for a while.
     * A user with a second factor also sends `code` (an authenticator or recovery code); without
     * it the answer is `401 mfa_required` with `methods`, and the password alone changes nothing.
     */
    reauthenticate: async (password: string, code?: string): Promise<Reauthenticated> => {
      const body = code ? { password, code } : { password };
      const { data } = await this.request<Reauthenticated>("POST", "/api/auth/reauth", { body });
      return data;
    },
    /** `GET /api/auth/sessions`: the user's signed-in devices, the current one marked. */
    sessions: async (signal?: AbortSignal): Promise<SessionList> => {
      const { data } = await this.request<SessionList>("GET", "/api/auth/sessions", { signal });
      return data;
    },
    /** `DELETE /api/auth/sessions/{id}`: sign one device out (another one needs a recent sign-in). */
    endSession: async (id: string): Promise<void> => {
      await this.request<undefined>("DELETE", `/api/auth/sessions/${encodeURIComponent(id)}`);
    },
    /** `DELETE /api/auth/sessions`: sign out every other device (needs a recent sign-in). */
    endOtherSessions: async (): Promise<SessionsEnded> => {
      const { data } = await this.request<SessionsEnded>("DELETE", "/api/auth/sessions");
      return data;
    },
    /** Sign out: ends the server-side session (in app mode, the token's session). */
    logout: async (): Promise<void> => {
      try {
        await this.request<undefined>("POST", "/api/auth/logout", { credentials: true });
      } finally {
        this.setUser(null);
        this.accessToken = null;
        this.refreshToken = null;
      }
      // The server issued a new anonymous CSRF token; a cross-origin page learns it from here.
      if (this.mode === "browser") await this.refreshCsrfToken();
    },
  };

  private signedInUnlessMfa(data: SignInResult): SignInResult {
    if (!needsMfa(data)) this.setUser(data.user);
    return data;
  }

  // ---- second factors (TOTP, recovery codes) -------------------------------------------------

  readonly mfa = {
    /** `GET /api/auth/mfa`: the enabled methods (empty when none) and the recovery codes left. */
    status: async (signal?: AbortSignal): Promise<MfaStatus> => {
      const { data } = await this.request<MfaStatus>("GET", "/api/auth/mfa", { signal });
      return data;
    },
    /**
     * `POST /api/auth/mfa/totp/setup` (recent sign-in, else `401 reauth_required`): a new secret
     * and its QR code; nothing is enabled until `confirmTotp`.
     */
    setupTotp: async (): Promise<TotpSetup> => {
      const { data } = await this.request<TotpSetup>("POST", "/api/auth/mfa/totp/setup");
      return data;
    },
    /** `POST /api/auth/mfa/totp/confirm`: a code from the app turns it on; the recovery codes, once. */
    confirmTotp: async (code: string): Promise<RecoveryCodes> => {
      const { data } = await this.request<RecoveryCodes>("POST", "/api/auth/mfa/totp/confirm", { body: { code } });
      return data;
    },
    /** `DELETE /api/auth/mfa/totp` (recent sign-in): turns the authenticator app off. */
    disableTotp: async (): Promise<void> => {
      await this.request<undefined>("DELETE", "/api/auth/mfa/totp");
    },
    /** `POST /api/auth/mfa/recovery-codes` (recent sign-in): new codes; the old ones stop working. */
    regenerateRecoveryCodes: async (): Promise<RecoveryCodes> => {
      const { data } = await this.request<RecoveryCodes>("POST", "/api/auth/mfa/recovery-codes");
      return data;
    },
    /**
     * `POST /api/auth/mfa/verify`: the second step of a sign-in that answered `mfa_required`, with
     * a code from the app or a recovery code; signs in like `login`. Only the browser that passed
     * the first step can finish it (the pending state is its cookie).
     */
    verify: async (code: string): Promise<SignedIn> => {
      const { data } = await this.request<SignedIn>("POST", "/api/auth/mfa/verify", {
        body: { code },
        credentials: true,
      });
      this.setUser(data.user);
      return data;
    },
  };

  // ---- passkeys (WebAuthn) -------------------------------------------------------------------

  readonly passkeys = {
    /** `GET /api/auth/passkeys`: the user's passkeys. */
    list: async (signal?: AbortSignal): Promise<PasskeyList> => {
      const { data } = await this.request<PasskeyList>("GET", "/api/auth/passkeys", { signal });
      return data;
    },
    /**
     * `POST /api/auth/passkeys/register/options` (recent sign-in): creation options as JSON, for
     * `PublicKeyCredential.parseCreationOptionsFromJSON`.
     */
    registrationOptions: async (): Promise<PublicKeyCredentialCreationOptionsJSON> => {
      const { data } = await this.request<PublicKeyCredentialCreationOptionsJSON>(
        "POST",
        "/api/auth/passkeys/register/options",
      );
      return data;
    },
    /** `POST /api/auth/passkeys/register`: the new credential (its `toJSON()`) and a name for it. */
    register: async (credential: unknown, name: string): Promise<Passkey> => {
      const { data } = await this.request<Passkey>("POST", "/api/auth/passkeys/register", {
        body: { credential, name },
      });
      return data;
    },
    /** `DELETE /api/auth/passkeys/{id}`. */
    remove: async (id: string): Promise<void> => {
      await this.request<undefined>("DELETE", `/api/auth/passkeys/${encodeURIComponent(id)}`);
    },
    /** `POST /api/auth/passkeys/login/options`: request options for a discoverable credential. */
    loginOptions: async (): Promise<PublicKeyCredentialRequestOptionsJSON> => {
      const { data } = await this.request<PublicKeyCredentialRequestOptionsJSON>(
        "POST",
        "/api/auth/passkeys/login/options",
        { credentials: true },
      );
      return data;
    },
    /** `POST /api/auth/passkeys/login`: the assertion (its `toJSON()`); signs in like `login`. */
    login: async (credential: unknown): Promise<SignedIn> => {
      const { data } = await this.request<SignedIn>("POST", "/api/auth/passkeys/login", {
        body: { credential },
        credentials: true,
      });
      this.setUser(data.user);
      return data;
    },
  };

  // ---- app clients: tokens -----------------------------------------------------------------

  readonly token = {
    /**
     * `POST /api/token`: exchange a password, or a sign-in code from the mail
     * (`{ identity, code }`), for an access + refresh token pair (kept in memory).
     */
    obtain: async (input: TokenInput): Promise<TokenPair> => {
      const { data } = await this.request<TokenPair>("POST", "/api/token", {
        body: input,
        credentials: true,
        anonymous: true,
      });
      this.accessToken = data.access_token;
      this.refreshToken = data.refresh_token;
      return data;
    },
    /** Refresh now (normally automatic on an `invalid_token` 401); false forgets the dead tokens. */
    refresh: async (): Promise<boolean> => {
      const refreshed = await this.refreshOnce(this.accessToken);
      if (!refreshed) {
        this.accessToken = null;
        this.refreshToken = null;
      }
      return refreshed;
    },
    /** Forget the tokens held in memory. */
    forget: (): void => {
      this.accessToken = null;
      this.refreshToken = null;
    },
  };
}

/** Create a client: `createClient({ baseUrl: "", mode: "browser" })`. */
export function createClient(options: ClientOptions = {}): BastionClient {
  return new BastionClient(options);
}
