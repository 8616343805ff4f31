import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";
import type { UserCreate, UserUpdate } from "@/lib/api/models";

/** Creates a user, or changes one (role, disabled, …) when `userId` is given. */
export function useSaveUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (v: { userId: string; changes: UserUpdate } | { userId?: undefined; create: UserCreate }) =>
      v.userId !== undefined
        ? unwrap(api.PUT("/api/users/{user_id}", { params: { path: { user_id: v.userId } }, body: v.changes }))
        : unwrap(api.POST("/api/users", { body: v.create })),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.users }),
  });
}
