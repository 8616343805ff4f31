import { describe, expect, it } from "vitest";
import { allowedHostsError, formatAllowedHosts, parseAllowedHosts } from "@/components/projects/allowedHosts";

describe("parseAllowedHosts", () => {
  it("takes one entry per line or comma-separated, trimmed, without blanks", () => {
    expect(parseAllowedHosts(" erp.internal \n10.20.0.0/16, 127.0.0.1 ,\n\n  ,fd00::/8\r\n")).toEqual([
      "erp.internal",
      "10.20.0.0/16",
      "127.0.0.1",
      "fd00::/8",
    ]);
  });

  it("keeps the first of repeated entries, in order", () => {
    expect(parseAllowedHosts("b.internal\na.internal, b.internal")).toEqual(["b.internal", "a.internal"]);
  });

  it("makes an empty field an empty list (which clears the allowlist)", () => {
    expect(parseAllowedHosts("")).toEqual([]);
    expect(parseAllowedHosts(" \n , \n")).toEqual([]);
  });

  it("reads back what it shows", () => {
    const hosts = ["erp.internal", "10.20.0.0/16"];
    expect(formatAllowedHosts(hosts)).toBe("erp.internal\n10.20.0.0/16");
    expect(parseAllowedHosts(formatAllowedHosts(hosts))).toEqual(hosts);
    expect(formatAllowedHosts(undefined)).toBe("");
  });
});

describe("allowedHostsError", () => {
  it("names the entry the server refused, from its index in the list sent", () => {
    const errors = [
      { field: "name", message: "too long" },
      { field: "allowed_hosts.1", message: "String should match pattern" },
    ];
    expect(allowedHostsError(errors, ["erp.internal", "erp internal"])).toBe("erp internal: String should match pattern");
  });

  it("passes a message about the whole list through, and is null when there is none", () => {
    expect(allowedHostsError([{ field: "allowed_hosts", message: "List should have at most 200 items" }], [])).toBe("List should have at most 200 items");
    expect(allowedHostsError([{ field: "name", message: "taken" }], ["a"])).toBeNull();
    expect(allowedHostsError([{ field: "allowed_hosts.10", message: "bad" }], undefined)).toBe("bad");
  });
});
