import { createContext, useContext, useMemo } from "react";
import type { BastionClient, User } from "@bastion/client";
import { articlesApi, type ArticlesApi } from "./api";

export const ApiContext = createContext<BastionClient | null>(null);

export function useApi(): BastionClient {
  const client = useContext(ApiContext);
  if (!client) throw new Error("useApi outside <ApiContext.Provider>");
  return client;
}

/** Newsroom's articles calls, over the app's client. */
export function useArticles(): ArticlesApi {
  const client = useApi();
  return useMemo(() => articlesApi(client), [client]);
}

/** A message shown at the top of one page (`path`), e.g. after a redirect. */
export interface Notice {
  kind: "alert" | "status";
  text: string;
  path: string;
}

export interface SessionValue {
  user: User | null;
  /** Show a notice on the page at `notice.path` (usually the one we are about to navigate to). */
  notify: (notice: Notice | null) => void;
}

export const SessionContext = createContext<SessionValue>({ user: null, notify: () => undefined });

export function useSession(): SessionValue {
  return useContext(SessionContext);
}

/** Whether `user` may edit or delete an article by `authorId` (the server decides; this hides buttons). */
export function canEdit(user: User | null, authorId: number): boolean {
  if (!user) return false;
  return user.id === authorId || user.roles.includes("editor") || user.roles.includes("admin");
}
