import { useEffect, useRef, type ReactNode } from "react";
import { useRouter } from "../router";

/**
 * The page's one h1. After an in-app navigation focus moves here, so screen-reader and keyboard
 * users start at the new page's title (tabIndex -1: focusable by script, not in the tab order).
 */
export function PageHeading({ children, title }: { children: ReactNode; title?: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  const { location } = useRouter();
  const text = title ?? (typeof children === "string" ? children : "");

  useEffect(() => {
    if (location.key > 0) ref.current?.focus();
  }, [location.key]);

  useEffect(() => {
    document.title = text ? `${text} · Newsroom` : "Newsroom";
  }, [text]);

  return (
    <h1 ref={ref} tabIndex={-1} className="page-heading">
      {children}
    </h1>
  );
}
