import { ApiError, errorMessage } from "@/lib/api/errors";

export function ErrorBox({ error, title = "Something went wrong" }: { error: unknown; title?: string }) {
  const status = error instanceof ApiError && error.status > 0 ? ` (HTTP ${String(error.status)})` : "";
  return (
    <div role="alert" className="rounded-md border border-red-300 bg-red-50 p-4 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100">
      <p className="font-semibold">
        {title}
        {status}
      </p>
      <p className="mt-1 break-words">{errorMessage(error)}</p>
    </div>
  );
}
