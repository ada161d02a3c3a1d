// The strong sign-in calls against the real server (`npm run test:live`): TOTP on, then the MFA
// step in browser mode (a code, a recovery code) and the token endpoint's mfa_token in app mode.
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, createClient, mfaChallenge, needsMfa } from "../src";
import { cookieJarFetch, startServer, type LiveServer } from "./server";

const PASSWORD = "correct horse battery staple 42";
let server: LiveServer;

beforeAll(async () => {
  server = await startServer();
}, 40_000);

afterAll(async () => {
  await server?.stop();
});

/** RFC 6238 with the authenticator apps' defaults (SHA-1, 6 digits, 30 s), `steps` from now. */
function totp(secret: string, steps = 0): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of secret.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(char).toString(2).padStart(5, "0");
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + steps));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

function unique(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

describe("strong sign-in against the real server", () => {
  it("turns TOTP on, then each sign-in path asks for the second factor", async () => {
    const name = unique("mfa");
    const net = cookieJarFetch();
    const api = createClient({ baseUrl: server.url, fetch: net.fetch, cookies: net.readable });
    await api.start();
    await api.auth.register({ email: `${name}@example.com`, username: name, password: PASSWORD });
    expect(await api.mfa.status()).toEqual({ methods: [], recovery_codes_remaining: 0 });

    const setup = await api.mfa.setupTotp();
    expect(setup.otpauth_uri).toContain(`secret=${setup.secret}`);
    expect(setup.qr_svg).toMatch(/^<svg\b/);
    const wrong = (await api.mfa.confirmTotp(totp(setup.secret) === "000000" ? "111111" : "000000").catch((e: unknown) => e)) as ApiError;
    expect([wrong.status, wrong.code, api.signedIn]).toEqual([401, "invalid_mfa_code", true]); // no expiry
    const { recovery_codes } = await api.mfa.confirmTotp(totp(setup.secret));
    expect(recovery_codes).toHaveLength(10);
    expect((await api.mfa.status()).methods).toContain("totp");
    await api.auth.logout();

    // Browser mode: the password leads to the step; a code one step on (the setup used this one).
    const first = await api.auth.login({ identity: name, password: PASSWORD });
    expect([needsMfa(first), api.signedIn]).toEqual([true, false]);
    const signedIn = await api.mfa.verify(totp(setup.secret, 1));
    expect(signedIn.user.username).toBe(name);
    expect(api.user?.username).toBe(name);
    await api.auth.logout();

    // A recovery code finishes it too, once.
    expect(needsMfa(await api.auth.login({ identity: name, password: PASSWORD }))).toBe(true);
    await api.mfa.verify(recovery_codes[0]!);
    expect((await api.mfa.status()).recovery_codes_remaining).toBe(9);
    const events = await api.auth.securityEvents({ perPage: 5 });
    expect(events.items.map((event) => event.kind)).toContain("recovery_code_used");
    await api.auth.logout();

    // App mode: 401 mfa_required with an mfa_token, then the token and a code.
    const app = createClient({ baseUrl: server.url, mode: "app" });
    const refused = await app.token.obtain({ identity: name, password: PASSWORD }).catch((e: unknown) => e);
    const challenge = mfaChallenge(refused);
    expect(challenge?.methods).toContain("totp");
    expect(app.signedIn).toBe(false);
    await app.token.obtain({ mfa_token: challenge!.mfa_token, code: recovery_codes[1]! });
    expect(app.tokens().access_token).toBeTruthy();
    expect((await app.mfa.status()).recovery_codes_remaining).toBe(8);
  });
});
