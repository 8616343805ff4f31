"use client";

import { useState, type SyntheticEvent } from "react";
import { Button } from "@/components/ui/Button";
import { TextField } from "@/components/ui/Field";
import { useChangePassword } from "@/hooks/useChangePassword";
import { ApiError, errorMessage } from "@/lib/api/errors";
import { MIN_PASSWORD_LENGTH, newPasswordProblem } from "./rules";

/** POST /api/auth/password: the current password, the new one twice. */
export function ChangePasswordForm({ onDone }: { onDone: () => void }) {
  const change = useChangePassword();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [submitted, setSubmitted] = useState(false);
  const problem = newPasswordProblem(current, next, repeat);
  const serverError =
    change.error instanceof ApiError && change.error.status === 401 ? "The current password is not right." : change.error ? errorMessage(change.error) : null;

  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    setSubmitted(true);
    if (problem !== null || current === "") return;
    change.mutate(
      { current_password: current, new_password: next },
      {
        onSuccess: () => {
          setCurrent("");
          setNext("");
          setRepeat("");
          setSubmitted(false);
          onDone();
        },
      },
    );
  };

  return (
    <form onSubmit={submit} noValidate aria-label="Change password" className="flex max-w-md flex-col gap-3">
      <TextField
        id="password-current"
        label="Current password"
        type="password"
        autoComplete="current-password"
        required
        value={current}
        onChange={(e) => setCurrent(e.target.value)}
        error={submitted && current === "" ? "Enter your current password." : null}
      />
      <TextField
        id="password-new"
        label="New password"
        type="password"
        autoComplete="new-password"
        required
        hint={`At least ${String(MIN_PASSWORD_LENGTH)} characters.`}
        value={next}
        onChange={(e) => setNext(e.target.value)}
        error={submitted && problem !== null && problem !== "The two new passwords differ." ? problem : null}
      />
      <TextField
        id="password-repeat"
        label="New password again"
        type="password"
        autoComplete="new-password"
        required
        value={repeat}
        onChange={(e) => setRepeat(e.target.value)}
        error={submitted && problem === "The two new passwords differ." ? problem : null}
      />
      {serverError ? (
        <p role="alert" className="text-sm font-medium text-red-700 dark:text-red-400">
          {serverError}
        </p>
      ) : null}
      <div>
        <Button type="submit" variant="primary" disabled={change.isPending}>
          {change.isPending ? "Changing…" : "Change password"}
        </Button>
      </div>
    </form>
  );
}
