import { afterEach, describe, expect, it, vi } from "vitest";
import { CSRF_HEADER, loginHref, readCookie, safeNext, sessionMiddleware } from "./session";

describe("cookies", () => {
  it("reads one cookie among several, decoded", () => {
    const jar = "theme=dark; langorch_csrf=abc%2Bdef; other=1";
    expect(readCookie(jar, "langorch_csrf")).toBe("abc+def");
    expect(readCookie(jar, "missing")).toBeNull();
    expect(readCookie("", "langorch_csrf")).toBeNull();
  });
});

describe("the way back after login", () => {
  it("keeps the page and its query", () => {
    expect(loginHref("/runs/view?id=r1&tab=graph")).toBe("/login?next=%2Fruns%2Fview%3Fid%3Dr1%26tab%3Dgraph");
    expect(loginHref("/")).toBe("/login");
    expect(loginHref("/login?next=/x")).toBe("/login");
  });

  it("goes only to paths on this site", () => {
    expect(safeNext("/runs?status=failed")).toBe("/runs?status=failed");
    expect(safeNext(null)).toBe("/");
    expect(safeNext("https://evil.example/")).toBe("/");
    expect(safeNext("//evil.example/")).toBe("/");
    expect(safeNext("/\\evil.example")).toBe("/");
    expect(safeNext("/login")).toBe("/");
  });
});

type OnRequest = NonNullable<typeof sessionMiddleware.onRequest>;
type OnResponse = NonNullable<typeof sessionMiddleware.onResponse>;

function requestParams(method: string): Parameters<OnRequest>[0] {
  return { request: new Request("http://ui.test/api/runs", { method }), schemaPath: "/api/runs", params: {}, id: "1", options: {} as never };
}

describe("the session middleware", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("sends the CSRF cookie's value on writes, not on reads", async () => {
    vi.stubGlobal("document", { cookie: "langorch_csrf=tok123" });
    const onRequest = sessionMiddleware.onRequest as OnRequest;
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      const params = requestParams(method);
      await onRequest(params);
      expect(params.request.headers.get(CSRF_HEADER), method).toBe("tok123");
    }
    const get = requestParams("GET");
    await onRequest(get);
    expect(get.request.headers.get(CSRF_HEADER)).toBeNull();
  });

  it("sends the browser to the login page on a 401, with the way back", async () => {
    const assign = vi.fn();
    vi.stubGlobal("window", { location: { pathname: "/runs", search: "?status=failed", assign } });
    const onResponse = sessionMiddleware.onResponse as OnResponse;
    await onResponse({ ...requestParams("GET"), response: new Response(null, { status: 403 }) });
    expect(assign).not.toHaveBeenCalled();
    await onResponse({ ...requestParams("GET"), response: new Response(null, { status: 401 }) });
    expect(assign).toHaveBeenCalledWith("/login?next=%2Fruns%3Fstatus%3Dfailed");
  });

  it("leaves a wrong password to the login form", async () => {
    const assign = vi.fn();
    vi.stubGlobal("window", { location: { pathname: "/login", search: "", assign } });
    const onResponse = sessionMiddleware.onResponse as OnResponse;
    await onResponse({ ...requestParams("POST"), schemaPath: "/api/auth/login", response: new Response(null, { status: 401 }) });
    expect(assign).not.toHaveBeenCalled();
  });
});
