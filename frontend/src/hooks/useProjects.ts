import { useQuery } from "@tanstack/react-query";
import { api, unwrapPage } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export function useProjects() {
  return useQuery({
    queryKey: keys.projects,
    queryFn: () => unwrapPage(api.GET("/api/projects", { params: { query: { limit: 1000 } } })),
  });
}
