import { Button } from "@/components/ui/Button";

/** The end of an entity form: the server's message not tied to a field, a hint when fields
 * are marked, then Cancel and the submit button ("Saving…" while the request runs). */
export function FormActions({
  serverError,
  fieldsMarked,
  onCancel,
  pending,
  submitLabel,
  submitTestId,
  errorTestId,
}: {
  serverError?: string | null;
  fieldsMarked: boolean;
  onCancel: () => void;
  pending: boolean;
  submitLabel: string;
  submitTestId: string;
  errorTestId?: string;
}) {
  return (
    <>
      {serverError ? (
        <p role="alert" className="text-sm text-red-700 dark:text-red-400" data-testid={errorTestId}>
          {serverError}
        </p>
      ) : null}
      {fieldsMarked ? (
        <p role="alert" className="text-sm text-red-700 dark:text-red-400">
          Fix the fields marked above.
        </p>
      ) : null}
      <div className="flex justify-end gap-2">
        <Button onClick={onCancel}>Cancel</Button>
        <Button type="submit" variant="primary" disabled={pending} data-testid={submitTestId}>
          {pending ? "Saving…" : submitLabel}
        </Button>
      </div>
    </>
  );
}
