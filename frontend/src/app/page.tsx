import { Dashboard } from "@/components/dashboard/Dashboard";

export default function HomePage() {
  return <Dashboard />;
}
