import type { Metadata } from "next";
import { Suspense } from "react";
import { AccountView } from "@/components/auth/AccountView";

export const metadata: Metadata = { title: "Account" };

export default function AccountPage() {
  return (
    <Suspense>
      <AccountView />
    </Suspense>
  );
}
