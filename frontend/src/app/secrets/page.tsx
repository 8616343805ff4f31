import type { Metadata } from "next";
import { RequireRole } from "@/components/auth/RequireRole";
import { SecretsView } from "@/components/secrets/SecretsView";

export const metadata: Metadata = { title: "Secrets" };

export default function SecretsPage() {
  return (
    <RequireRole role="author" title="Secrets">
      <SecretsView />
    </RequireRole>
  );
}
