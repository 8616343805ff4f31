"""/api routes: sign-in, sign-out, the caller's identity and password."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from langorch.api.deps import Session
from langorch.api.guard import CSRF_COOKIE, SESSION_COOKIE, auth_runtime, current_identity
from langorch.api.schemas.auth import AuthStatus, LoginRequest, LoginResult, Me, PasswordChange
from langorch.api.schemas.common import error_responses
from langorch.auth import tokens
from langorch.auth import users as user_service
from langorch.auth.identity import Identity
from langorch.services.errors import Invalid, RateLimited, Unauthenticated
from langorch.store.models import User

router = APIRouter(prefix="/auth", tags=["auth"])


def me_of(identity: Identity) -> Me:
    return Me(subject=identity.subject, name=identity.name, kind=identity.kind, role=identity.role,
              project_roles=dict(identity.project_roles), groups=sorted(identity.groups),
              must_change_password=identity.must_change_password)


@router.get("/status", response_model=AuthStatus)
async def auth_status(request: Request, session: Session) -> AuthStatus:
    """Anonymous: whether sign-in is needed and how."""
    auth = auth_runtime(request)
    return AuthStatus(auth_enabled=auth.settings.enabled, local_login=True, oidc_login_url=None,
                      initial_admin_pending=await user_service.initial_admin_pending(session))


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
