/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Origin of the API, e.g. http://127.0.0.1:8000; empty or unset means this page's origin. */
  readonly VITE_API_URL?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
