import { describe, expect, it } from "vitest";
import { ApiError } from "@/lib/api/errors";
import { formatWait, loginErrorMessage, newPasswordProblem, oidcHref } from "./rules";

describe("sign-in messages", () => {
  it("say a wrong password plainly", () => {
    expect(loginErrorMessage(new ApiError(401, "invalid_credentials", "invalid credentials", null))).toBe("Wrong username or password.");
  });

  it("say how long to wait after too many failures", () => {
    const limited = new ApiError(429, "rate_limited", "too many", null);
    limited.retryAfter = 125;
    expect(loginErrorMessage(limited)).toBe("Too many failed sign-ins. Wait 2 minutes 5 seconds before trying again.");
    limited.retryAfter = null;
    expect(loginErrorMessage(limited)).toContain("Wait a moment");
    expect(formatWait(1)).toBe("1 second");
    expect(formatWait(60)).toBe("1 minute");
  });
});

describe("single sign-on link", () => {
  it("carries the way back", () => {
    expect(oidcHref("/api/auth/oidc/login", "/runs?x=1")).toBe("/api/auth/oidc/login?next=%2Fruns%3Fx%3D1");
    expect(oidcHref("/api/auth/oidc/login", "/")).toBe("/api/auth/oidc/login");
    expect(oidcHref("https://sso.example/start?a=1", "/runs")).toBe("https://sso.example/start?a=1&next=%2Fruns");
  });
});

describe("new password", () => {
  it("needs 12 characters, a change, and the same twice", () => {
    expect(newPasswordProblem("old-password-1", "short", "short")).toMatch(/At least 12/);
    expect(newPasswordProblem("same-password-1", "same-password-1", "same-password-1")).toMatch(/differ from the current/);
    expect(newPasswordProblem("old-password-1", "new-password-12", "new-password-13")).toMatch(/differ/);
    expect(newPasswordProblem("old-password-1", "new-password-12", "new-password-12")).toBeNull();
  });
});
