import type { DeliveryStatus } from "./types";

const TONES: Record<DeliveryStatus, string> = {
  pending: "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100",
  sending: "bg-blue-100 text-blue-900 dark:bg-blue-900 dark:text-blue-100",
  delivered: "bg-green-100 text-green-900 dark:bg-green-900 dark:text-green-100",
  failed: "bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-100",
};

/** A delivery's status, coloured like the app's other status badges. */
export function DeliveryBadge({ status }: { status: DeliveryStatus }) {
  return (
    <span className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-semibold whitespace-nowrap ${TONES[status]}`} data-status={status} data-testid="delivery-status">
      {status}
    </span>
  );
}
