"""/api routes: sign-in, sign-out, the caller's identity and password."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from langorch.api.deps import Session
from langorch.api.guard import CSRF_COOKIE, SESSION_COOKIE, auth_runtime, current_identity
from langorch.api.schemas.auth import AuthStatus, LoginRequest, LoginResult, Me, PasswordChange
from langorch.api.schemas.common import error_responses
from langorch.auth import oidc, tokens
from langorch.auth import users as user_service
from langorch.auth.identity import Identity
from langorch.auth.tokens import TokenRejected
from langorch.services.errors import Invalid, NotFound, RateLimited, Unauthenticated, Unavailable
from langorch.store.models import User

router = APIRouter(prefix="/auth", tags=["auth"])
API_PREFIX = "/api"
OIDC_COOKIE = "langorch_oidc"


def me_of(identity: Identity) -> Me:
    return Me(subject=identity.subject, name=identity.name, kind=identity.kind, role=identity.role,
              project_roles=dict(identity.project_roles), groups=sorted(identity.groups),
              must_change_password=identity.must_change_password)


@router.get("/status", response_model=AuthStatus)
async def auth_status(request: Request, session: Session) -> AuthStatus:
    """Anonymous: whether sign-in is needed and how."""
    auth = auth_runtime(request)
    return AuthStatus(auth_enabled=auth.settings.enabled, local_login=True,
                      oidc_login_url=f"{API_PREFIX}/auth/oidc/login" if oidc.enabled(auth.settings) else None,
                      initial_admin_pending=await user_service.initial_admin_pending(session))


def _redirect_uri(request: Request) -> str:
    configured = auth_runtime(request).settings.oidc_redirect_url
    return configured or str(request.url_for("oidc_callback"))


@router.get("/oidc/login", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse,
            responses=error_responses(404, 503))
async def oidc_login(request: Request, next: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    """Single sign-on: redirects to the identity provider (authorization code flow with PKCE)."""
    auth = auth_runtime(request)
    if not oidc.enabled(auth.settings):
        raise NotFound("single sign-on is not configured (LANGORCH_AUTH__OIDC_ISSUER and __OIDC_CLIENT_ID)")
    try:
        start = await oidc.begin(auth.settings, auth.verifier, auth.key, _redirect_uri(request), next)
    except TokenRejected as exc:
        raise Unavailable(str(exc)) from exc
    except oidc.SignInFailed as exc:
        raise Unavailable(str(exc)) from exc
    answer = RedirectResponse(start.redirect_to, status_code=status.HTTP_302_FOUND)
    answer.set_cookie(OIDC_COOKIE, start.flow_cookie, max_age=oidc.FLOW_TTL_S, httponly=True, samesite="lax",
                      secure=request.url.scheme == "https", path=f"{API_PREFIX}/auth/oidc")
    return answer


@router.get("/oidc/callback", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse)
async def oidc_callback(request: Request, session: Session,
                        code: Annotated[str | None, Query(max_length=4000)] = None,
                        state: Annotated[str | None, Query(max_length=400)] = None,
                        error: Annotated[str | None, Query(max_length=400)] = None) -> Response:
    """Where the identity provider sends the browser back: signs the user in and returns to the
    page they came from, or to the login page with the reason it failed."""
    auth = auth_runtime(request)
    try:
        claims, next_path = await oidc.finish(auth.settings, auth.verifier, auth.key, request.cookies.get(OIDC_COOKIE),
                                              code, state, error)
        identity = auth.verifier.claims_identity(claims)
        if identity.role is None and not identity.project_roles:
            raise oidc.SignInFailed(f"{identity.name} has no LangOrch role at the identity provider (claim "
                                    f"{auth.settings.role_claim!r})")
        user = await user_service.sign_in_external(session, identity)
        await session.commit()
    except (oidc.SignInFailed, TokenRejected, user_service.UserProblem) as exc:
        request.state.audit_details = {"sso_error": str(exc)[:300]}
        answer = RedirectResponse(f"/login?{urlencode({'sso_error': str(exc)[:300]})}",
                                  status_code=status.HTTP_302_FOUND)
        answer.delete_cookie(OIDC_COOKIE, path=f"{API_PREFIX}/auth/oidc")
        return answer
    answer = RedirectResponse(next_path, status_code=status.HTTP_302_FOUND)
    _start_session(request, answer, user)
    answer.delete_cookie(OIDC_COOKIE, path=f"{API_PREFIX}/auth/oidc")
    request.state.identity = user_service.identity_of(user, via_cookie=True)
    request.state.audit_details = {"username": user.username, "sso": True}
    return answer


@router.post("/login", response_model=LoginResult, responses=error_responses(401, 422, 429))
async def login(body: LoginRequest, request: Request, response: Response, session: Session) -> LoginResult:
    """Sign in with a local user's password: sets the session cookie (HttpOnly, SameSite=Lax, Secure over
    TLS) and a readable CSRF cookie whose value every non-GET request must echo in X-CSRF-Token."""
    auth = auth_runtime(request)
    request.state.audit_details = {"username": body.username[:200]}
    client = request.client.host if request.client else "?"
    keys = (f"user:{body.username.strip().lower()}", f"addr:{client}")
    wait = max(auth.login_failures.wait(k) for k in keys)
    if wait:
        raise RateLimited(f"too many failed sign-ins; retry in {wait:.0f} s", retry_after=wait)
    user = await user_service.authenticate(session, body.username, body.password)
    if user is None:
        for key in keys:
            auth.login_failures.take(key)
        raise Unauthenticated("wrong username or password", details={"code": "invalid_credentials"})
    await session.commit()
    csrf = _start_session(request, response, user)
    identity = user_service.identity_of(user, via_cookie=True)
    request.state.identity = identity
    return LoginResult(identity=me_of(identity), csrf_token=csrf)


def _start_session(request: Request, response: Response, user: User) -> str:
    """Set the session and CSRF cookies for ``user``; returns the CSRF token."""
    auth = auth_runtime(request)
    token, sid = tokens.issue_session(auth.key, user.user_id, user.session_version, auth.settings.session_ttl_s)
    csrf = tokens.csrf_token(auth.key, sid)
    secure = request.url.scheme == "https"
    response.set_cookie(SESSION_COOKIE, token, max_age=auth.settings.session_ttl_s, httponly=True, samesite="lax",
                        secure=secure, path="/")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=auth.settings.session_ttl_s, httponly=False, samesite="lax",
                        secure=secure, path="/")
    return csrf


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def logout(response: Response) -> Response:
    """End this browser's session (the cookies are cleared)."""
    response.status_code = status.HTTP_204_NO_CONTENT
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/me", response_model=Me)
async def me(request: Request) -> Me:
    return me_of(current_identity(request))


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
             responses=error_responses(422))
async def change_password(body: PasswordChange, request: Request, session: Session) -> Response:
    """Change the signed-in user's password; every other session of the user ends (a signed-in
    browser gets new cookies, so it stays signed in)."""
    identity = current_identity(request)
    if identity.kind != "user":
        raise Invalid("only a signed-in user has a password to change")
    user = await session.get(User, identity.subject.removeprefix("user:"))
    if user is None:
        raise Unauthenticated("the user no longer exists")
    try:
        await user_service.change_password(session, user, body.current_password, body.new_password)
    except user_service.UserProblem as exc:
        raise Invalid(exc.message, details=[{"field": exc.field, "message": exc.message}]) from exc
    await session.commit()
    answer = Response(status_code=status.HTTP_204_NO_CONTENT)
    if identity.via_cookie:
        _start_session(request, answer, user)
    return answer
