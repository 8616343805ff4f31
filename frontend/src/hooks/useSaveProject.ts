import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export interface ProjectChanges {
  /** The project to update; a new one is created without it. */
  id?: string;
  name: string;
  description: string | null;
  /** The project's sandbox allowlist; sent in full, so an empty list clears it. */
  allowedHosts: string[];
}

/** Creates a project, or updates one when `id` is given. */
export function useSaveProject() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (v: ProjectChanges) => {
      const body = { name: v.name, description: v.description, allowed_hosts: v.allowedHosts };
      return v.id
        ? unwrap(api.PUT("/api/projects/{project_id}", { params: { path: { project_id: v.id } }, body }))
        : unwrap(api.POST("/api/projects", { body }));
    },
    onSuccess: () => client.invalidateQueries({ queryKey: keys.projects }),
  });
}
