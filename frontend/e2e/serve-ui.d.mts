// Types for serve-ui.mjs, which stays plain JavaScript so `npm run serve:ui` runs it with node.
export interface UiServer {
  port: number;
  close: () => Promise<void>;
}

/** Serves the static export in `root` and forwards /api, /openapi.json and /docs to `api`. */
export function serveUi(options: { root: string; api: string; port?: number }): Promise<UiServer>;
