import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { absoluteUrl, curlExample, deliveryUrl, sampleBody, shellQuote, webhookPath } from "./webhook";

function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"]);
    return true;
  } catch {
    return false;
  }
}

describe("the webhook's address", () => {
  it("is absolute on the UI's origin when the server answers a path", () => {
    expect(absoluteUrl("/api/triggers/webhook/invoice", "http://127.0.0.1:8000/")).toBe("http://127.0.0.1:8000/api/triggers/webhook/invoice");
    expect(absoluteUrl("https://lo.example/api/triggers/webhook/x", "http://other")).toBe("https://lo.example/api/triggers/webhook/x");
    expect(webhookPath("a b")).toBe("/api/triggers/webhook/a%20b");
  });

  it("names the trigger, so a procedure with several webhook triggers still knows which", () => {
    expect(deliveryUrl("/api/triggers/webhook/invoice", "t 1", "http://h:1")).toBe("http://h:1/api/triggers/webhook/invoice?trigger=t%201");
    expect(deliveryUrl("http://h/api/triggers/webhook/x?a=1", "t1", "http://o")).toBe("http://h/api/triggers/webhook/x?a=1&trigger=t1");
  });
});

describe("the curl example", () => {
  const body = '{"note": "it\'s $HOME"}';

  it("quotes the body so the shell passes it byte for byte", () => {
    const out = execFileSync("sh", ["-c", `printf '%s' ${shellQuote(body)}`]).toString();
    expect(out).toBe(body);
  });

  it.skipIf(!hasOpenssl())("signs the body exactly as HMAC-SHA256 of the body, in hex", () => {
    const script = curlExample({ url: "http://x/api/triggers/webhook/p", body, secret: "whsec_abc" });
    expect(script).toContain("X-LangOrch-Signature: sha256=$SIG");
    expect(script).not.toContain("X-LangOrch-Timestamp");
    const head = script.split("\ncurl ")[0] ?? "";
    const sig = execFileSync("sh", ["-c", `${head}\nprintf '%s' "$SIG"`]).toString();
    expect(sig).toBe(createHmac("sha256", "whsec_abc").update(body).digest("hex"));
  });

  it.skipIf(!hasOpenssl())("with a timestamp signs \"{timestamp}.{body}\" and sends the timestamp", () => {
    const script = curlExample({ url: "http://x/h", body, secret: "s3cret", timestamp: true });
    expect(script).toContain('-H "X-LangOrch-Timestamp: $TS"');
    const head = (script.split("\ncurl ")[0] ?? "").replace("TS=$(date +%s)", "TS=1700000000");
    const sig = execFileSync("sh", ["-c", `${head}\nprintf '%s' "$SIG"`]).toString();
    expect(sig).toBe(createHmac("sha256", "s3cret").update(`1700000000.${body}`).digest("hex"));
  });

  it("names a placeholder when the secret is not known any more", () => {
    expect(curlExample({ url: "http://x/h", body: "{}" })).toContain("SECRET='<the webhook secret>'");
  });

  it("builds a sample body from the procedure's inputs, leaving out its outputs", () => {
    const vars = [
      { name: "invoice_id", type: "string" },
      { name: "amount", type: "number" },
      { name: "urgent", type: "boolean" },
      { name: "total", type: "number", origin: "system_captured" },
    ];
    expect(JSON.parse(sampleBody(vars))).toEqual({ invoice_id: "example", amount: 1, urgent: true });
  });
});
