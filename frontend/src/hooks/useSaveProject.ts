import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

/** Creates a project, or updates one when `id` is given. */
export function useSaveProject() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (v: { id?: string; name: string; description: string | null }) =>
      v.id
        ? unwrap(
            api.PUT("/api/projects/{project_id}", {
              params: { path: { project_id: v.id } },
              body: { name: v.name, description: v.description },
            }),
          )
        : unwrap(api.POST("/api/projects", { body: { name: v.name, description: v.description } })),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.projects }),
  });
}
