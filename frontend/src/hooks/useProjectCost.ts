import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export function useProjectCost(projectId: string | null) {
  return useQuery({
    queryKey: keys.projectCost(projectId ?? ""),
    enabled: projectId !== null,
    queryFn: () =>
      unwrap(api.GET("/api/projects/{project_id}/cost-summary", { params: { path: { project_id: projectId ?? "" } } })),
  });
}
