// A scripted stand-in for the network: each test says what the server answers and then reads back
// exactly what the client sent. (The real server is exercised by the browser tests.)
export interface SentRequest {
  method: string;
  url: string;
  headers: Headers;
  credentials: RequestCredentials | undefined;
  body: unknown;
}

export type Handler = (request: SentRequest) => Response | Promise<Response>;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export function problem(
  status: number,
  code: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  return new Response(
    JSON.stringify({ type: "about:blank", title: "Error", status, detail: `detail of ${code}`, code, ...extra }),
    { status, headers: { "Content-Type": "application/problem+json", ...headers } },
  );
}

export function fakeServer(handler: Handler) {
  const sent: SentRequest[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    const request: SentRequest = {
      method: init?.method ?? "GET",
      url: String(input),
      headers,
      credentials: init?.credentials,
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
    };
    sent.push(request);
    return handler(request);
  };
  return { fetch: fetch as typeof globalThis.fetch, sent };
}

export const USER = {
  id: 7,
  email: "ada@example.com",
  username: "ada",
  roles: [],
  created_at: "2026-01-01T00:00:00Z",
};

export const SESSION = {
  id: "s1",
  kind: "browser" as const,
  created_at: "2026-01-01T00:00:00Z",
  expires_at: "2026-01-02T00:00:00Z",
  remember: false,
};

export const ARTICLE = {
  id: 1,
  title: "Hello",
  body: "World",
  author: { id: 7, username: "ada" },
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};
