import { TextField } from "@/components/ui/Field";

/**
 * A secret's value: write-only. It starts empty (never prefilled: the server never
 * returns a value), is masked, not autofilled, and is cleared once sent.
 */
export function SecretValueField({ id, value, onChange, label = "Value", error }: { id: string; value: string; onChange: (v: string) => void; label?: string; error?: string | null }) {
  return (
    <TextField
      id={id}
      label={label}
      type="password"
      required
      value={value}
      onChange={(e) => onChange(e.target.value)}
      autoComplete="new-password"
      spellCheck={false}
      data-testid="secret-value"
      hint="Write-only: stored encrypted and never shown again. Procedures read it as {{secrets.NAME}}."
      error={error}
    />
  );
}
