import { describe, expect, it } from "vitest";
import { formatInZone, isTimezone, offsetAt, timezones, utcToWall, wallToUtc } from "./zones";

describe("timezones", () => {
  it("lists the browser's IANA zones with UTC first", () => {
    const list = timezones();
    expect(list[0]).toBe("UTC");
    expect(list).toContain("Europe/Berlin");
    expect(list).toContain("America/New_York");
    expect(list.filter((z) => z === "UTC")).toHaveLength(1);
  });

  it("knows a zone from a typo", () => {
    expect(isTimezone("Asia/Tokyo")).toBe(true);
    expect(isTimezone("Europe/Berlim")).toBe(false);
    expect(isTimezone("")).toBe(false);
  });
});

describe("wall clock in a zone", () => {
  it("places a wall time on the time line with the zone's offset of that day", () => {
    expect(offsetAt(Date.parse("2027-01-15T12:00:00Z"), "Europe/Berlin")).toBe(3_600_000);
    expect(wallToUtc("2027-01-15T02:30", "Europe/Berlin")).toBe("2027-01-15T01:30:00Z");
    expect(wallToUtc("2027-06-15T02:30", "Europe/Berlin")).toBe("2027-06-15T00:30:00Z");
    expect(wallToUtc("2027-06-15T02:30", "UTC")).toBe("2027-06-15T02:30:00Z");
  });

  it("moves a skipped time past the gap and takes the first of a repeated one, as the server does", () => {
    // 2027-03-28: Berlin goes from 02:00 CET to 03:00 CEST; 02:30 does not happen.
    expect(wallToUtc("2027-03-28T02:30", "Europe/Berlin")).toBe("2027-03-28T01:30:00Z");
    // 2027-10-31: 02:30 happens twice, first in summer time (UTC+2).
    expect(wallToUtc("2027-10-31T02:30", "Europe/Berlin")).toBe("2027-10-31T00:30:00Z");
  });

  it("refuses what is not a date and time", () => {
    expect(wallToUtc("tomorrow", "UTC")).toBeNull();
    expect(wallToUtc("", "UTC")).toBeNull();
  });

  it("reads an instant back on the zone's wall clock", () => {
    expect(utcToWall("2027-06-15T00:30:00Z", "Europe/Berlin")).toBe("2027-06-15T02:30");
    expect(utcToWall("2027-06-15T00:30:00Z", "America/Los_Angeles")).toBe("2027-06-14T17:30");
    expect(formatInZone("2027-06-15T00:30:00Z", "Asia/Tokyo", "en-GB")).toContain("09:30");
  });
});
