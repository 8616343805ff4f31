import { describe, expect, it, vi } from "vitest";
import { keys } from "@/lib/api/keys";
import type { AuthStatus } from "@/lib/api/models";
import { renderAs } from "@/test/renderAs";
import { LoginView } from "./LoginView";

// The page reads ?next= and navigates after signing in: the App Router's hooks, outside one.
vi.mock("next/navigation", () => ({
  useSearchParams: () => new URLSearchParams({ next: "/runs?status=failed" }),
  useRouter: () => ({ replace: vi.fn(), push: vi.fn() }),
}));

function render(status: AuthStatus): string {
  return renderAs("unknown", <LoginView />, [[keys.authStatus, status]]);
}

const BASE: AuthStatus = { auth_enabled: true, local_login: true, oidc_login_url: null, initial_admin_pending: false };

describe("login page", () => {
  it("tells how to sign in on first start", () => {
    const html = render({ ...BASE, initial_admin_pending: true });
    expect(html).toContain("First start: sign in as");
    expect(html).toContain("one-time password printed in the server");
    expect(html).toContain("LANGORCH_ADMIN_PASSWORD");
    expect(render(BASE)).not.toContain("First start");
  });

  it("offers single sign-on only when the server has it, coming back to next", () => {
    expect(render(BASE)).not.toContain("single sign-on");
    const html = render({ ...BASE, oidc_login_url: "/api/auth/oidc/login" });
    expect(html).toContain("Sign in with single sign-on");
    expect(html).toContain('href="/api/auth/oidc/login?next=%2Fruns%3Fstatus%3Dfailed"');
  });

  it("shows no password form when local sign-in is off", () => {
    const html = render({ ...BASE, local_login: false, oidc_login_url: "/api/auth/oidc/login" });
    expect(html).not.toContain('id="login-password"');
    expect(html).toContain("Sign in with single sign-on");
  });
});
