"use client";

import Link from "next/link";
import { useState } from "react";
import { Button } from "@/components/ui/Button";
import { Dialog } from "@/components/ui/Dialog";
import { builderHref } from "@/lib/builder/links";
import { TEMPLATES } from "@/lib/builder/templates";

/** "New procedure": start the builder on an empty canvas or on one of the seed workflows. */
export function NewProcedureChooser() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button variant="primary" onClick={() => setOpen(true)} data-testid="new-procedure">
        New procedure
      </Button>
      <Dialog open={open} title="New procedure" onClose={() => setOpen(false)}>
        <ul className="flex flex-col gap-2" data-testid="template-chooser">
          <li>
            <Link href={builderHref()} className="block rounded-md border border-slate-300 p-3 hover:bg-slate-50 dark:border-slate-600 dark:hover:bg-slate-800" data-testid="template-empty">
              <span className="font-medium">Empty canvas</span>
              <span className="block text-sm text-slate-600 dark:text-slate-400">Start from nothing and drag nodes in.</span>
            </Link>
          </li>
          {TEMPLATES.map((t) => (
            <li key={t.id}>
              <Link
                href={builderHref({ kind: "template", template: t.id })}
                className="block rounded-md border border-slate-300 p-3 hover:bg-slate-50 dark:border-slate-600 dark:hover:bg-slate-800"
                data-testid={`template-${t.id}`}
              >
                <span className="font-medium">{t.title}</span>
                <span className="block text-sm text-slate-600 dark:text-slate-400">{t.summary}</span>
              </Link>
            </li>
          ))}
        </ul>
      </Dialog>
    </>
  );
}
