"use client";

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useState, type SyntheticEvent } from "react";
import { Button, buttonClass } from "@/components/ui/Button";
import { TextField } from "@/components/ui/Field";
import { useAuthStatus } from "@/hooks/useAuthStatus";
import { useLogin } from "@/hooks/useLogin";
import { safeNext } from "@/lib/api/session";
import { loginErrorMessage, oidcHref } from "./rules";

/** The sign-in page: local username and password, and single sign-on when the server offers it. */
export function LoginView() {
  const params = useSearchParams();
  const router = useRouter();
  const next = safeNext(params.get("next"));
  const status = useAuthStatus();
  const login = useLogin();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const localLogin = status.data?.local_login ?? true;
  const oidc = status.data?.oidc_login_url ? oidcHref(status.data.oidc_login_url, next) : null;
  const ssoError = params.get("sso_error");

  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    login.mutate(
      { username: username.trim(), password },
      {
        onSuccess: (result) => {
          setPassword("");
          if (result.identity.must_change_password) {
            router.replace(`/account?${new URLSearchParams({ change: "1", next }).toString()}`);
          } else {
            router.replace(next);
          }
        },
      },
    );
  };

  return (
    <div className="mx-auto mt-8 flex max-w-md flex-col gap-4 md:mt-20">
      <div>
        <p className="text-2xl font-bold tracking-tight">LangOrch</p>
        <h1 className="mt-1 text-lg font-semibold">Sign in</h1>
      </div>
      {ssoError ? (
        <p role="alert" className="rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100" data-testid="sso-error">
          Single sign-on failed: {ssoError}
        </p>
      ) : null}
      {status.data?.initial_admin_pending ? (
        <p className="rounded-md border border-blue-300 bg-blue-50 p-3 text-sm text-blue-950 dark:border-blue-800 dark:bg-blue-950 dark:text-blue-100" data-testid="first-start-hint">
          First start: sign in as <code className="font-mono font-semibold">admin</code> with the one-time password printed in the server&apos;s
          console (or the <code className="font-mono">LANGORCH_ADMIN_PASSWORD</code> you set).
        </p>
      ) : null}
      {status.data && !status.data.auth_enabled ? (
        <p className="rounded-md bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-100">
          This server runs without authentication: there is nothing to sign in to.{" "}
          <Link href="/" className="underline underline-offset-2">
            Go to the dashboard
          </Link>
        </p>
      ) : null}
      {localLogin ? (
        <form
          onSubmit={submit}
          aria-label="Sign in"
          className="flex flex-col gap-4 rounded-lg border border-slate-200 bg-white p-5 shadow-sm dark:border-slate-700 dark:bg-slate-900"
        >
          <TextField
            id="login-username"
            label="Username"
            name="username"
            autoComplete="username"
            required
            autoFocus
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
          <TextField
            id="login-password"
            label="Password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          {login.isError ? (
            <p role="alert" className="rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100" data-testid="login-error">
              {loginErrorMessage(login.error)}
            </p>
          ) : null}
          <Button type="submit" variant="primary" disabled={login.isPending || username.trim() === "" || password === ""} data-testid="login-submit">
            {login.isPending ? "Signing in…" : "Sign in"}
          </Button>
        </form>
      ) : null}
      {oidc ? (
        <a href={oidc} className={buttonClass("secondary")} data-testid="oidc-login">
          Sign in with single sign-on
        </a>
      ) : null}
    </div>
  );
}
