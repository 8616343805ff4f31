import type { SelectHTMLAttributes } from "react";
import { SelectField } from "@/components/ui/Field";
import { ROLE_HELP, ROLE_LABELS, ROLES } from "@/lib/auth/roles";

/** A role picker, viewer to admin, each with what it adds. */
export function RoleSelect({ label = "Role", ...props }: { label?: string } & SelectHTMLAttributes<HTMLSelectElement>) {
  return (
    <SelectField label={label} {...props}>
      {ROLES.map((r) => (
        <option key={r} value={r} title={ROLE_HELP[r]}>
          {ROLE_LABELS[r]}
        </option>
      ))}
    </SelectField>
  );
}
