import type { Metadata } from "next";
import { LeasesView } from "@/components/leases/LeasesView";

export const metadata: Metadata = { title: "Leases" };

export default function LeasesPage() {
  return <LeasesView />;
}
