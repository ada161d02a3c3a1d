// Start the real newsroom API (`newsroom serve`) on a free port for the live client tests.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dirname, "../../..");

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

export interface LiveServer {
  url: string;
  stop: () => Promise<void>;
}

export async function startServer(): Promise<LiveServer> {
  const port = await freePort();
  const varDir = mkdtempSync(join(tmpdir(), "newsroom-live-"));
  const newsroom = process.env.NEWSROOM_BIN ?? join(REPO, ".venv/bin/newsroom");
  const child: ChildProcess = spawn(newsroom, ["serve", "--host", "127.0.0.1", "--port", String(port)], {
    cwd: REPO,
    // These tests are about the client's transport: accounts sign in on registering (`optional`).
    env: { ...process.env, APP_ENV: "development", NEWSROOM_VAR_DIR: varDir, EMAIL_CONFIRMATION: "optional" },
    stdio: ["ignore", "ignore", "pipe"],
    detached: true, // its own process group, so stop() ends the workers too
  });
  let log = "";
  child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`newsroom serve exited (${child.exitCode}):\n${log}`);
    try {
      const response = await fetch(`${url}/api/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`newsroom serve did not answer in 30 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    stop: async () => {
      if (child.pid !== undefined && child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        process.kill(-child.pid, "SIGTERM");
        await exited;
      }
      rmSync(varDir, { recursive: true, force: true });
    },
  };
}

/** A minimal cookie jar around fetch, so browser mode can run in Node against the real server. */
export function cookieJarFetch() {
  const jar = new Map<string, string>();
  const calls: string[] = [];
  const fetchWithCookies = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (jar.size > 0) headers.set("Cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    calls.push(`${init.method ?? "GET"} ${new URL(String(input)).pathname}`);
    const response = await fetch(input, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === "") jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  };
  return {
    fetch: fetchWithCookies as typeof fetch,
    calls,
    jar,
    /** What `document.cookie` would show: every cookie but the HttpOnly session. */
    readable: () => [...jar].filter(([k]) => k === "XSRF-TOKEN").map(([k, v]) => `${k}=${v}`).join("; "),
  };
}
