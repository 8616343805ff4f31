/**
 * JSON Pointer → where that value sits in the JSON text, so a diagnostic's `path`
 * can be underlined in the editor. A small scanner that records the span of every
 * value (and of every object member's key) by pointer; it stops quietly at the first
 * syntax error, keeping what it found before.
 */

export interface Span {
  from: number;
  to: number;
}

export function escapePointerToken(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

export function pointerTokens(pointer: string): string[] {
  if (pointer === "" || pointer === "/") return [];
  return pointer
    .replace(/^#/, "")
    .split("/")
    .slice(1)
    .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

class Scanner {
  pos = 0;
  readonly spans = new Map<string, Span>();
  readonly keys = new Map<string, Span>();
  constructor(private readonly text: string) {}

  private ws(): void {
    while (this.pos < this.text.length && " \t\n\r".includes(this.text.charAt(this.pos))) this.pos++;
  }

  private fail(): never {
    throw new Error("syntax");
  }

  private string(): string {
    if (this.text[this.pos] !== '"') this.fail();
    const start = this.pos;
    this.pos++;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === "\\") this.pos += 2;
      else if (c === '"') {
        this.pos++;
        return JSON.parse(this.text.slice(start, this.pos)) as string;
      } else this.pos++;
    }
    return this.fail();
  }

  value(pointer: string): void {
    this.ws();
    const start = this.pos;
    const c = this.text[this.pos];
    if (c === "{") {
      this.pos++;
      this.ws();
      if (this.text[this.pos] === "}") this.pos++;
      else {
        for (;;) {
          this.ws();
          const keyStart = this.pos;
          const key = this.string();
          const child = `${pointer}/${escapePointerToken(key)}`;
          this.keys.set(child, { from: keyStart, to: this.pos });
          this.ws();
          if (this.text[this.pos] !== ":") this.fail();
          this.pos++;
          this.value(child);
          this.ws();
          if (this.text[this.pos] === ",") this.pos++;
          else if (this.text[this.pos] === "}") {
            this.pos++;
            break;
          } else this.fail();
        }
      }
    } else if (c === "[") {
      this.pos++;
      this.ws();
      if (this.text[this.pos] === "]") this.pos++;
      else {
        for (let i = 0; ; i++) {
          this.value(`${pointer}/${String(i)}`);
          this.ws();
          if (this.text[this.pos] === ",") this.pos++;
          else if (this.text[this.pos] === "]") {
            this.pos++;
            break;
          } else this.fail();
        }
      }
    } else if (c === '"') {
      this.string();
    } else {
      const m = /^(?:-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null)/.exec(this.text.slice(this.pos, this.pos + 400));
      if (!m) this.fail();
      this.pos += m[0].length;
    }
    this.spans.set(pointer, { from: start, to: this.pos });
  }
}

/** Value spans by pointer (and key spans, for members) of a JSON text. */
export function pointerSpans(text: string): { values: Map<string, Span>; keys: Map<string, Span> } {
  const scanner = new Scanner(text);
  try {
    scanner.value("");
  } catch {
    // Keep the spans found before the syntax error.
  }
  return { values: scanner.spans, keys: scanner.keys };
}

/**
 * Where to underline a diagnostic at `pointer`: the member's key when the value is an
 * object or array (underlining a whole node is noise), else the value; falls back to
 * the nearest ancestor that exists (a missing field is reported on its parent).
 */
export function locatePointer(text: string, pointer: string): Span & { exact: boolean } {
  const { values, keys } = pointerSpans(text);
  const tokens = pointerTokens(pointer);
  for (let n = tokens.length; n >= 0; n--) {
    const p = tokens.slice(0, n).map((t) => `/${escapePointerToken(t)}`).join("");
    const value = values.get(p);
    if (!value) continue;
    const key = keys.get(p);
    const composite = "{[".includes(text.charAt(value.from));
    const span = composite && key ? key : value;
    return { ...(composite && !key ? { from: value.from, to: value.from + 1 } : span), exact: n === tokens.length };
  }
  return { from: 0, to: Math.min(1, text.length), exact: false };
}

/** 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}
