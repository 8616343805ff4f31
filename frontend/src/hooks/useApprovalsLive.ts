import { useContext } from "react";
import { ApprovalsLiveContext } from "@/components/layout/live-context";

export function useApprovalsLive(): boolean {
  return useContext(ApprovalsLiveContext);
}
