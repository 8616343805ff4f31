"use client";

import { useEffect, useState } from "react";
import { schemaChecker, type SchemaProblem } from "@/lib/ckp/validate";

type Checker = (doc: unknown) => SchemaProblem[];

let shared: Promise<Checker> | null = null;

/** The CKP JSON Schema checker, loaded on first use (the schema is ~120 kB); null until ready. */
export function useSchemaChecker(): Checker | null {
  const [checker, setChecker] = useState<Checker | null>(null);
  useEffect(() => {
    let alive = true;
    shared ??= import("@/lib/ckp/ckp.schema.json").then((m) => schemaChecker(m.default));
    void shared.then((c) => {
      if (alive) setChecker(() => c);
    });
    return () => {
      alive = false;
    };
  }, []);
  return checker;
}
