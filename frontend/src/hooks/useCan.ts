import { useCallback } from "react";
import type { Me, Role } from "@/lib/api/models";
import { can, canAnywhere } from "@/lib/auth/roles";
import { useMe } from "./useMe";

export interface Permissions {
  /** Whether the identity is known yet (until then every role check says no). */
  ready: boolean;
  /** The signed-in identity; null on a server without authentication (or until known). */
  me: Me | null;
  /** At least `role`, globally or (with `projectId`) in that project. */
  can: (role: Role, projectId?: string | null) => boolean;
  /** At least `role` globally or in some project. */
  canAnywhere: (role: Role) => boolean;
}

/** Role checks for the signed-in identity (lib/auth/roles.ts); nothing passes until it is known. */
export function useCan(): Permissions {
  const me = useMe();
  const ready = me.isSuccess;
  const viewer: Me | null = me.data ?? null;
  const check = useCallback((role: Role, projectId?: string | null) => ready && can(viewer, role, projectId), [ready, viewer]);
  const anywhere = useCallback((role: Role) => ready && canAnywhere(viewer, role), [ready, viewer]);
  return { ready, me: viewer, can: check, canAnywhere: anywhere };
}
