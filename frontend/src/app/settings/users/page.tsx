import type { Metadata } from "next";
import { RequireRole } from "@/components/auth/RequireRole";
import { UsersView } from "@/components/settings/UsersView";

export const metadata: Metadata = { title: "Users" };

export default function UsersPage() {
  return (
    <RequireRole role="admin" title="Users">
      <UsersView />
    </RequireRole>
  );
}
