import { useEffect, useState } from "react";
import type { BastionClient } from "@bastion/client";
import { useApi } from "../context";

// Development only: the server's mail viewer (`/dev/mail`, a 404 outside development) shows the
// mails that were "sent", so the whole flow works on a bare machine. Whether it exists is the
// one thing the SPA needs to know, so it asks it, once per client.
const probes = new WeakMap<BastionClient, Promise<string | null>>();

function devMailUrl(api: BastionClient): Promise<string | null> {
  let probe = probes.get(api);
  if (!probe) {
    probe = api
      .request<unknown>("GET", "/dev/mail", { headers: { Accept: "text/html" } })
      .then(() => `${api.baseUrl}/dev/mail`)
      .catch(() => null);
    probes.set(api, probe);
  }
  return probe;
}

/** "Development: open the mail viewer" when the server has one; nothing otherwise. */
export function DevMailLink() {
  const api = useApi();
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    void devMailUrl(api).then((found) => live && setUrl(found));
    return () => {
      live = false;
    };
  }, [api]);
  if (!url) return null;
  return (
    <p className="note dev-mail">
      Development server: no mail leaves this machine. <a href={url}>Open the development mail viewer</a> to see
      it.
    </p>
  );
}
