// Server-side rendering of a component as a given identity, for tests: the identity and
// any other answers are put in the query cache first, so hooks read them at once and
// nothing is fetched (effects do not run in renderToStaticMarkup).
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { ReactElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { ToastProvider } from "@/components/ui/ToastProvider";
import { keys } from "@/lib/api/keys";
import type { Me, Role } from "@/lib/api/models";

export function identity(role: Role | null, projectRoles: Record<string, Role> = {}): Me {
  return { subject: `user:${role ?? "none"}`, name: `${role ?? "none"}-user`, kind: "user", role, project_roles: projectRoles, groups: [], must_change_password: false };
}

/** `me`: the identity, null for a server without authentication, "unknown" while it is still being asked. */
export function renderAs(me: Me | null | "unknown", element: ReactElement, cache: [readonly unknown[], unknown][] = []): string {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity } } });
  if (me !== "unknown") client.setQueryData(keys.me, me);
  for (const [key, data] of cache) client.setQueryData(key, data);
  return renderToStaticMarkup(
    <QueryClientProvider client={client}>
      <ToastProvider>{element}</ToastProvider>
    </QueryClientProvider>,
  );
}
