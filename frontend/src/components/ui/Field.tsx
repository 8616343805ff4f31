import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from "react";

export const inputClass =
  "w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 placeholder:text-slate-500 dark:border-slate-600 dark:bg-slate-900 dark:text-slate-100 dark:placeholder:text-slate-400 aria-[invalid=true]:border-red-600";

interface FieldProps {
  label: ReactNode;
  error?: string | null;
  hint?: ReactNode;
  required?: boolean;
}

function Wrap({
  id,
  label,
  error,
  hint,
  required,
  children,
}: FieldProps & { id: string; children: ReactNode }) {
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-sm font-medium">
        {label}
        {required ? (
          <span className="text-red-700 dark:text-red-400" aria-hidden="true">
            {" "}
            *
          </span>
        ) : null}
      </label>
      {children}
      {hint ? (
        <p id={`${id}-hint`} className="text-xs text-slate-600 dark:text-slate-400">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className="text-xs font-medium text-red-700 dark:text-red-400" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function describedBy(id: string, error?: string | null, hint?: ReactNode): string | undefined {
  const ids = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

export function TextField({
  label,
  error,
  hint,
  required,
  id: given,
  ...props
}: FieldProps & InputHTMLAttributes<HTMLInputElement>) {
  const auto = useId();
  const id = given ?? auto;
  return (
    <Wrap id={id} label={label} error={error} hint={hint} required={required}>
      <input
        id={id}
        className={inputClass}
        aria-invalid={error ? true : undefined}
        aria-required={required}
        aria-describedby={describedBy(id, error, hint)}
        {...props}
      />
    </Wrap>
  );
}

export function TextAreaField({
  label,
  error,
  hint,
  required,
  id: given,
  ...props
}: FieldProps & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const auto = useId();
  const id = given ?? auto;
  return (
    <Wrap id={id} label={label} error={error} hint={hint} required={required}>
      <textarea
        id={id}
        className={`${inputClass} font-mono`}
        aria-invalid={error ? true : undefined}
        aria-required={required}
        aria-describedby={describedBy(id, error, hint)}
        {...props}
      />
    </Wrap>
  );
}

export function SelectField({
  label,
  error,
  hint,
  required,
  id: given,
  children,
  ...props
}: FieldProps & SelectHTMLAttributes<HTMLSelectElement>) {
  const auto = useId();
  const id = given ?? auto;
  return (
    <Wrap id={id} label={label} error={error} hint={hint} required={required}>
      <select
        id={id}
        className={inputClass}
        aria-invalid={error ? true : undefined}
        aria-required={required}
        aria-describedby={describedBy(id, error, hint)}
        {...props}
      >
        {children}
      </select>
    </Wrap>
  );
}
