import { useContext } from "react";
import { ToastContext, type ToastApi } from "@/components/ui/toast-context";

/** In-app notifications instead of alert(): `toast.show("success", "Saved")`. */
export function useToast(): ToastApi {
  const api = useContext(ToastContext);
  if (!api) throw new Error("useToast needs <ToastProvider>");
  return api;
}
