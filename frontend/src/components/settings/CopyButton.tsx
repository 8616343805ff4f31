"use client";

import { useState } from "react";
import { Button } from "@/components/ui/Button";

/** Copies `text` to the clipboard and says so. */
export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const copy = () => {
    navigator.clipboard.writeText(text).then(
      () => setState("copied"),
      () => setState("failed"),
    );
  };
  return (
    <Button size="sm" onClick={copy} data-testid="copy-button">
      {state === "copied" ? "Copied" : state === "failed" ? "Copy failed: select and copy by hand" : label}
    </Button>
  );
}
