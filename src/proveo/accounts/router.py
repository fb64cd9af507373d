from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from proveo.accounts import lifecycle, service
from proveo.accounts.deps import AdminUser, Claims, CurrentUser, CurrentUserBrief
from proveo.accounts.messages import verification_page
from proveo.accounts.schemas import (
    AdminUserView,
    Lang,
    LoginRequest,
    LoginResponse,
    Message,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    ResendVerificationRequest,
    ResetLinkCheck,
    ResetLinkStatus,
    SignupRequest,
    UserMe,
    UserPublic,
    VerifyWithPassword,
)
from proveo.admin.deps import Actor, UserActor
from proveo.core.clients import request_subject, storable_ip
from proveo.core.csrf import CSRF_COOKIE, SESSION_COOKIE
from proveo.core.deps import AppDatabase, AppSettings, Conn, Page, delete_after_commit
from proveo.core.openapi import ADMIN_REQUIRED, HASHING_BUSY, error_responses
from proveo.core.ratelimit import LimitKind, RateLimiter, enforce
from proveo.core.security import csrf_token_for
from proveo.integrations.email import EmailMessage, EmailSender, deliver
from proveo.integrations.storage import ImageStorage

router = APIRouter(prefix="/users", tags=["accounts"])
# Pages outside the API, at the paths the emails link to.
pages_router = APIRouter(include_in_schema=False)
# The front end's page (src/proveo/web/reset-password/) that reset emails link to.
RESET_PAGE = "/reset-password/"

VERIFY_PATH = "/api/v1/users/verify-email"
# Set by a signup, sent only to verification links: see service.BrowserProof.
SIGNUP_PROOF_COOKIE = "signup_proof"

RESEND_MESSAGE = "If that address has an unverified account, a new link is on its way."
RESET_MESSAGE = "If that address has an account, a link to reset its password is on its way."
# Per client address, for each endpoint that sends email to an address the caller names.
EMAILS_PER_IP_PER_HOUR = 10
# The device cookie (see service): sent only to the account endpoints, for as long as browsers
# keep a cookie (Chrome caps it at 400 days).
DEVICE_COOKIE = "device_token"
DEVICE_COOKIE_PATH = "/api/v1/users"
DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


def _client_host(request: Request) -> str | None:
    return request.client.host if request.client else None


def _send_after_commit(request: Request, tasks: BackgroundTasks, message: EmailMessage) -> None:
    sender: EmailSender = request.app.state.email_sender
    tasks.add_task(deliver, sender, message)


def _set_device_cookie(response: Response, settings: AppSettings, token: str) -> None:
    response.set_cookie(
        DEVICE_COOKIE, token, max_age=DEVICE_COOKIE_MAX_AGE, path=DEVICE_COOKIE_PATH,
        httponly=True, secure=settings.secure_cookies, samesite="strict",
    )  # fmt: skip


def _delete_after_commit(request: Request, tasks: BackgroundTasks, names: list[str]) -> None:
    storage: ImageStorage = request.app.state.storage
    delete_after_commit(tasks, storage, names)


@router.post(
    "/signup",
    status_code=201,
    name="users:signup",
    summary="Sign up and get a verification email",
    responses=error_responses(
        (409, "The address belongs to an account (`email_taken`)"),
        (429, "Too many signups from this address (`rate_limited`); wait `Retry-After` seconds"),
        HASHING_BUSY,
    ),
)
async def sign_up(
    body: SignupRequest,
    request: Request,
    response: Response,
    tasks: BackgroundTasks,
    database: AppDatabase,
    settings: AppSettings,
) -> UserPublic:
    await enforce(
        _limiter(request), f"signup-ip:{request_subject(request)}",
        limit=settings.signup_per_ip_per_hour, window=3600, kind=LimitKind.CLIENTS,
    )  # fmt: skip
    user, verification = await lifecycle.sign_up(
        database,
        body,
        bcrypt_rounds=settings.bcrypt_rounds,
        public_base_url=settings.public_base_url,
        verification_ttl=timedelta(hours=settings.verification_ttl_hours),
    )
    _send_after_commit(request, tasks, verification.email)
    # This browser chose the password: the emailed link may confirm the address here.
    proof = service.signup_proof(settings.secret_key.get_secret_value(), user.uuid)
    response.set_cookie(
        SIGNUP_PROOF_COOKIE, proof,
        max_age=settings.verification_ttl_hours * 3600, path=VERIFY_PATH, httponly=True,
        secure=settings.secure_cookies, samesite="lax",
    )  # fmt: skip
    return UserPublic.model_validate(user, from_attributes=True)


_HTML_PAGE = {"text/html": {"schema": {"type": "string"}}}


@router.get(
    "/verify-email/{token}",
    response_class=HTMLResponse,
    name="users:verify_email",
    summary="Verify an email address (the emailed link; answers an HTML page)",
    responses={
        400: {"description": "Invalid, used or expired link (an HTML page)", "content": _HTML_PAGE},
        403: {
            "description": (
                "A valid link opened in a browser that neither signed the account up nor is "
                "logged in to it (an HTML page); the link stays usable"
            ),
            "content": _HTML_PAGE,
        },
        **error_responses(503),
    },
)
async def verify_email(
    token: str,
    request: Request,
    conn: Conn,
    claims: Claims,
    settings: AppSettings,
    lang: Annotated[str | None, Query(max_length=2)] = None,
) -> HTMLResponse:
    proof = service.BrowserProof(
        signed_up=service.signed_up_user(
            settings.secret_key.get_secret_value(), request.cookies.get(SIGNUP_PROOF_COOKIE)
        ),
        session=await service.authenticate(conn, claims) if claims is not None else None,
    )
    browser = service.LinkBrowser(
        policy=_login_policy(settings),
        ip=storable_ip(_client_host(request)),
        user_agent=request.headers.get("user-agent"),
    )
    outcome, user_lang, session = await service.verify_email(conn, token, proof, browser)
    page_lang: Lang = lang if lang in ("es", "en") else (user_lang or "es")  # type: ignore[assignment]
    response = HTMLResponse(
        verification_page(outcome.value, page_lang, here=request.url.path),
        # A used link stays a 400 (SPEC), though its page says the address is confirmed.
        status_code=_VERIFICATION_STATUS[outcome],
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
    if session is not None:
        # The browser that signed up, now proven to read the inbox too: signed in here.
        _signed_in(response, settings, session, message="Email confirmed")
    return response


_VERIFICATION_STATUS = {
    service.VerificationOutcome.VERIFIED: 200,
    service.VerificationOutcome.NEEDS_PROOF: 403,
    service.VerificationOutcome.ALREADY_VERIFIED: 400,
    service.VerificationOutcome.INVALID: 400,
}


@router.post(
    "/verify-email/{token}",
    name="users:verify_email_with_password",
    summary="Confirm an address with the account's password (a link opened on another device)",
    description=(
        "For a verification link opened in a browser that neither signed the account up nor is "
        "logged in to it (the 403 page): the account's password proves this browser knows it. "
        "Checked like a login, with its rate limits and lockouts; a success confirms the "
        "address, ends every other session, and signs this browser in (session, CSRF and "
        "device cookies, as `/login` does)."
    ),
    responses=error_responses(
        (
            400,
            "The link is unknown, used or expired (`invalid_token`), or was used and the "
            "address is confirmed (`already_verified`)",
        ),
        (401, "Wrong password (`invalid_credentials`); it counts toward the login lockout"),
        (429, "Too many attempts (`rate_limited`); wait `Retry-After` seconds"),
        HASHING_BUSY,
    ),
)
async def verify_email_with_password(
    token: str,
    body: VerifyWithPassword,
    request: Request,
    response: Response,
    database: AppDatabase,
    settings: AppSettings,
) -> LoginResponse:
    subject = await _enforce_login_ip(request, settings)
    session = await service.verify_email_with_password(
        database,
        token,
        password=body.password,
        client_subject=subject,
        ip=storable_ip(_client_host(request)),
        user_agent=request.headers.get("user-agent"),
        policy=_login_policy(settings),
        limiter=_limiter(request),
        device=request.cookies.get(DEVICE_COOKIE),
    )
    return _signed_in(response, settings, session, message="Email confirmed")


@router.post(
    "/resend-verification",
    name="users:resend_verification",
    summary="Send a new verification link",
    responses=error_responses(
        (429, "Too many links asked for (`rate_limited`); wait `Retry-After` seconds"),
        503,
    ),
)
async def resend_verification(
    body: ResendVerificationRequest,
    request: Request,
    tasks: BackgroundTasks,
    database: AppDatabase,
    settings: AppSettings,
) -> Message:
    limiter = _limiter(request)
    await enforce(
        limiter, f"resend-ip:{request_subject(request)}", limit=EMAILS_PER_IP_PER_HOUR, window=3600,
        kind=LimitKind.CLIENTS,
    )  # fmt: skip
    verification = await service.resend_verification(
        database,
        body.email,
        lang=body.lang,
        public_base_url=settings.public_base_url,
        verification_ttl=timedelta(hours=settings.verification_ttl_hours),
        limiter=limiter,
        per_account_per_hour=settings.resend_per_email_per_hour,
    )
    if verification is not None:
        _send_after_commit(request, tasks, verification.email)
    return Message(message=RESEND_MESSAGE)


def _login_policy(settings: AppSettings) -> service.LoginPolicy:
    return service.LoginPolicy(
        session_ttl=timedelta(minutes=settings.session_ttl_minutes),
        bcrypt_rounds=settings.bcrypt_rounds,
        failures_per_account_and_address=settings.login_failures_per_account_and_ip,
        failures_per_account=settings.login_failures_per_account,
        lockout=timedelta(minutes=settings.login_lockout_minutes),
        device_secret=settings.secret_key.get_secret_value(),
    )


async def _enforce_login_ip(request: Request, settings: AppSettings) -> str:
    """The per-address budget of every password check by a browser not signed in."""
    subject = request_subject(request)
    await enforce(
        _limiter(request), f"login-ip:{subject}",
        limit=settings.login_attempts_per_ip_per_minute, window=60, kind=LimitKind.CLIENTS,
    )  # fmt: skip
    return subject


def _signed_in(
    response: Response, settings: AppSettings, session: service.NewSession, *, message: str
) -> LoginResponse:
    """A new session's cookies (session, CSRF, device) and the answer that carries its token."""
    secret = settings.secret_key.get_secret_value()
    token = service.session_token(secret, session)
    csrf_token = csrf_token_for(secret, session.session_id)
    max_age = settings.session_ttl_minutes * 60
    for name, value, http_only in (
        (SESSION_COOKIE, token, True),
        (CSRF_COOKIE, csrf_token, False),
    ):
        response.set_cookie(
            name, value, max_age=max_age, path="/", httponly=http_only,
            secure=settings.secure_cookies, samesite="lax",
        )  # fmt: skip
    _set_device_cookie(response, settings, session.device_token)
    return LoginResponse(
        message=message,
        csrf_token=csrf_token,
        user=UserPublic.model_validate(session.user, from_attributes=True),
        has_company=session.has_company,
    )


@router.post(
    "/login",
    name="users:login",
    summary="Log in: sets the session and CSRF cookies",
    responses=error_responses(
        (401, "Unknown email or wrong password (`invalid_credentials`)"),
        (429, "Too many attempts (`rate_limited`); wait `Retry-After` seconds"),
        HASHING_BUSY,
    ),
)
async def log_in(
    body: LoginRequest,
    request: Request,
    response: Response,
    database: AppDatabase,
    settings: AppSettings,
) -> LoginResponse:
    limiter = _limiter(request)
    subject = await _enforce_login_ip(request, settings)
    session = await service.log_in(
        database,
        email=body.email,
        password=body.password,
        lang=body.lang,
        client_subject=subject,
        ip=storable_ip(_client_host(request)),
        user_agent=request.headers.get("user-agent"),
        policy=_login_policy(settings),
        limiter=limiter,
        device=request.cookies.get(DEVICE_COOKIE),
    )
    return _signed_in(response, settings, session, message="Logged in")


def _clear_session_cookies(response: Response, settings: AppSettings) -> None:
    for name, http_only in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(
            name, path="/", httponly=http_only, secure=settings.secure_cookies, samesite="lax"
        )


@router.post(
    "/logout",
    name="users:logout",
    summary="Log out: ends the session, if any, and clears the cookies",
    responses=error_responses(503),
)
async def log_out(response: Response, conn: Conn, claims: Claims, settings: AppSettings) -> Message:
    if claims is not None:
        await service.log_out(conn, claims.session_id)
    _clear_session_cookies(response, settings)
    return Message(message="Logged out")


@router.post(
    "/password-reset/request",
    name="users:password_reset_request",
    summary="Email a password reset link",
    responses=error_responses(503),
)
async def request_password_reset(
    body: PasswordResetRequest,
    request: Request,
    tasks: BackgroundTasks,
    database: AppDatabase,
    settings: AppSettings,
) -> Message:
    limiter = _limiter(request)
    subject = request_subject(request)
    # The client's own budget first: it bounds the per-address keys one client can create.
    await enforce(
        limiter, f"reset-ip:{subject}", limit=EMAILS_PER_IP_PER_HOUR, window=3600,
        kind=LimitKind.CLIENTS,
    )  # fmt: skip
    pending = await service.request_password_reset(
        database,
        body.email,
        lang=body.lang,
        client_subject=subject,
        device=request.cookies.get(DEVICE_COOKIE),
        device_secret=settings.secret_key.get_secret_value(),
        limiter=limiter,
        limits=service.ResetLimits(
            per_address_and_client_per_hour=settings.password_reset_per_email_and_ip_per_hour,
            per_address_per_hour=settings.password_reset_per_email_per_hour,
        ),
    )
    if pending is not None:
        sender: EmailSender = request.app.state.email_sender
        tasks.add_task(
            service.send_password_reset, database, sender, pending,
            public_base_url=settings.public_base_url,
        )  # fmt: skip
    return Message(message=RESET_MESSAGE)


@router.post(
    "/password-reset/check",
    name="users:password_reset_check",
    summary="Whether a reset link still works, without using it",
    description=(
        "The reset page asks before it shows its form. The token goes in the body, never in a "
        "URL, and the answer names no account."
    ),
    responses=error_responses(
        (
            400,
            "Used, or retired by a later password change (`reset_link_used`); expired "
            "(`reset_link_expired`); unknown (`invalid_token`)",
        ),
        503,
    ),
)
async def check_password_reset(body: ResetLinkCheck, database: AppDatabase) -> ResetLinkStatus:
    expires_at = await service.check_reset_link(database, body.token)
    return ResetLinkStatus(message="This link works.", expires_at=expires_at)


@router.post(
    "/password-reset/confirm",
    name="users:password_reset_confirm",
    summary="Set a new password with a reset link",
    responses=error_responses(
        (400, "The link is unknown, used or expired (`invalid_token`)"), HASHING_BUSY
    ),
)
async def confirm_password_reset(
    body: PasswordResetConfirm, response: Response, database: AppDatabase, settings: AppSettings
) -> Message:
    device = await service.reset_password(
        database, body, bcrypt_rounds=settings.bcrypt_rounds,
        device_secret=settings.secret_key.get_secret_value(),
    )  # fmt: skip
    # Every session of the account ended; this browser's cookies may name one of them.
    _clear_session_cookies(response, settings)
    _set_device_cookie(response, settings, device)
    return Message(message="Password changed. Log in with the new password.")


@router.post(
    "/me/password",
    name="users:change_password",
    summary="Change the password (ends the other sessions)",
    responses=error_responses(
        (400, "The current password is wrong (`wrong_password`)"), HASHING_BUSY
    ),
)
async def change_password(
    body: PasswordChange,
    user: CurrentUserBrief,
    request: Request,
    response: Response,
    database: AppDatabase,
    settings: AppSettings,
) -> Message:
    device = await service.change_password(
        database,
        user,
        body,
        bcrypt_rounds=settings.bcrypt_rounds,
        limiter=_limiter(request),
        attempts=settings.login_failures_per_account_and_ip,
        window=timedelta(minutes=settings.login_lockout_minutes),
        device_secret=settings.secret_key.get_secret_value(),
    )
    _set_device_cookie(response, settings, device)
    return Message(message="Password changed. Other sessions were logged out.")


@router.get("/me", name="users:me", summary="The logged-in user", responses=error_responses(503))
async def me(user: CurrentUser, conn: Conn) -> UserMe:
    return await service.describe_me(conn, user)


@router.delete(
    "/me",
    name="users:delete_me",
    summary="Delete my account and company",
    responses=error_responses(503),
)
async def delete_me(
    user: CurrentUser,
    actor: UserActor,
    request: Request,
    response: Response,
    tasks: BackgroundTasks,
    conn: Conn,
    settings: AppSettings,
) -> Message:
    objects = await lifecycle.delete_own_account(conn, user, actor)
    _delete_after_commit(request, tasks, objects)
    _clear_session_cookies(response, settings)
    return Message(message="Account deleted")


@router.get(
    "/admin/all-users",
    name="users:admin_list",
    summary="List every user (admin)",
    responses=error_responses(ADMIN_REQUIRED, 503),
)
async def list_users(
    _: AdminUser, conn: Conn, response: Response, page: Page
) -> list[AdminUserView]:
    users, total = await service.list_users(conn, limit=page.limit, offset=page.offset)
    response.headers["X-Total-Count"] = str(total)
    return users


@router.delete(
    "/admin/users/{user_uuid}",
    name="users:admin_delete",
    summary="Delete a user and their company (admin)",
    responses=error_responses(
        (400, "An administrator's own account (`cannot_delete_self`)"),
        ADMIN_REQUIRED,
        (404, "No such user (`user_not_found`)"),
        503,
    ),
)
async def delete_user(
    user_uuid: UUID, request: Request, actor: Actor, tasks: BackgroundTasks, conn: Conn
) -> Message:
    objects = await lifecycle.delete_user_as_admin(conn, actor, user_uuid)
    _delete_after_commit(request, tasks, objects)
    return Message(message="User deleted")


@pages_router.get(
    "/reset-password.html",
    name="pages:reset_password",
    summary="Where reset emails sent before the front end linked: its reset page now",
)
async def reset_password_page() -> RedirectResponse:
    # Browsers carry the link's `#token=…` fragment over to a Location that has none.
    return RedirectResponse(RESET_PAGE, status_code=301)
