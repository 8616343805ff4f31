/**
 * The builder's starting points: an empty canvas or one of the three seed workflows.
 * The UI is a static export and cannot read `ckp_examples/` at run time, so exact copies
 * of those files live in ./templates/ (templates.test.ts fails when they drift: copy the
 * file from ckp_examples/ again).
 */
import contractReview from "./templates/contract_review.ckp.json";
import customerSupport from "./templates/customer_support.ckp.json";
import invoiceProcessing from "./templates/invoice_processing.ckp.json";

export interface BuilderTemplate {
  /** The `?template=` value and the ckp_examples/ file stem. */
  id: string;
  title: string;
  summary: string;
  /** A fresh deep copy on every call: the builder's documents are never shared. */
  load: () => Record<string, unknown>;
}

function copier(doc: unknown): () => Record<string, unknown> {
  const text = JSON.stringify(doc);
  return () => JSON.parse(text) as Record<string, unknown>;
}

export const TEMPLATES: readonly BuilderTemplate[] = [
  {
    id: "invoice_processing",
    title: "Invoice processing",
    summary: "OCR a vendor invoice, extract and check it against the purchase order, route exceptions to approval, post it to the ERP.",
    load: copier(invoiceProcessing),
  },
  {
    id: "customer_support",
    title: "Customer support triage",
    summary: "Read a ticket, look up the customer in parallel, classify it with an LLM, route it, draft a reply and have a supervisor approve it.",
    load: copier(customerSupport),
  },
  {
    id: "contract_review",
    title: "Contract review",
    summary: "Three parallel specialist reviews of a contract, a risk verdict, legal approval and e-signature.",
    load: copier(contractReview),
  },
];

export function findTemplate(id: string | null | undefined): BuilderTemplate | null {
  return TEMPLATES.find((t) => t.id === id) ?? null;
}
