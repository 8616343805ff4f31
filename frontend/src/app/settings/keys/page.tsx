import type { Metadata } from "next";
import { RequireRole } from "@/components/auth/RequireRole";
import { ApiKeysView } from "@/components/settings/ApiKeysView";

export const metadata: Metadata = { title: "API keys" };

export default function ApiKeysPage() {
  return (
    <RequireRole role="admin" title="API keys">
      <ApiKeysView />
    </RequireRole>
  );
}
