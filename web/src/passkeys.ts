// The browser's side of passkeys: the server's options JSON goes through the WebAuthn JSON
// helpers to `navigator.credentials`, and the credential's `toJSON()` goes back. Nothing here
// interprets a credential; the server checks everything.
import type { BastionClient, Passkey, SignedIn } from "@bastion/client";

/** Whether this browser can use passkeys (hide the buttons when it cannot). */
export function passkeysSupported(): boolean {
  return (
    typeof window !== "undefined" &&
    typeof window.PublicKeyCredential === "function" &&
    typeof window.PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
    typeof navigator.credentials?.create === "function"
  );
}

/** The user closed the browser's dialog or it timed out: not an error worth a red box. */
export function passkeyCancelled(error: unknown): boolean {
  return error instanceof DOMException && (error.name === "NotAllowedError" || error.name === "AbortError");
}

/** Create a passkey on this device and register it under `name`. */
export async function addPasskey(api: BastionClient, name: string): Promise<Passkey> {
  const options = await api.passkeys.registrationOptions();
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
  const credential = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential | null;
  if (!credential) throw new DOMException("No passkey was created.", "NotAllowedError");
  return api.passkeys.register(credential.toJSON(), name);
}

/** Sign in with a passkey this device holds (discoverable: no identity typed first). */
export async function signInWithPasskey(api: BastionClient): Promise<SignedIn> {
  const options = await api.passkeys.loginOptions();
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
  const credential = (await navigator.credentials.get({ publicKey })) as PublicKeyCredential | null;
  if (!credential) throw new DOMException("No passkey was chosen.", "NotAllowedError");
  return api.passkeys.login(credential.toJSON());
}
