from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from proveo.core.text import Name, has_control_characters

Lang = Literal["es", "en"]

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
# Passphrases this long are accepted whatever characters they use: length beats variety.
PASSPHRASE_LENGTH = 16


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


def _character_classes(password: str) -> int:
    classes = set()
    for char in password:
        if char.isdigit():
            classes.add("digit")
        elif char.isalpha():
            classes.add("upper" if char.isupper() else "lower")
        else:
            classes.add("other")
    return len(classes)


def _check_password(password: str) -> str:
    if has_control_characters(password):
        raise ValueError("Password must not contain control characters")
    if len(password) < PASSPHRASE_LENGTH and _character_classes(password) < 2:
        raise ValueError(
            "Password must mix at least two kinds of characters (lowercase, uppercase, digits, "
            f"symbols), or be a passphrase of {PASSPHRASE_LENGTH}+ characters"
        )
    return password


Password = Annotated[
    str,
    Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH),
    AfterValidator(_check_password),
]


def _ascii_local_part(address: str) -> str:
    # A non-ASCII local part (émile@…) needs SMTPUTF8 from every relay on the way, which we
    # cannot promise: encoded into a header it becomes an address nobody owns. Domains are fine
    # (sent in punycode).
    if not address.rpartition("@")[0].isascii():
        raise PydanticCustomError(
            "non_ascii_local_part",
            "the part before @ must be ASCII (letters a-z, digits and . _ + -): "
            "we cannot deliver to other addresses",
        )
    return address


Email = Annotated[EmailStr, StringConstraints(max_length=254)]
# An address an account is created with. Lookups (reset, resend) take any Email: an address
# no account can have simply finds none, with the same answer as any unknown one.
NewEmail = Annotated[Email, AfterValidator(_ascii_local_part)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class SignupRequest(_Strict):
    name: Name
    email: NewEmail
    password: Password
    lang: Lang = "es"


class AdminAccountRequest(_Strict):
    """What `proveo create-admin` asks for, checked like a signup."""

    name: Name
    email: NewEmail
    # None: keep the password of the verified account being promoted.
    password: Password | None = None


def _no_control_characters(value: str) -> str:
    if has_control_characters(value):
        raise ValueError("must not contain control characters")
    return value


class LoginRequest(_Strict):
    email: Annotated[
        str,
        StringConstraints(min_length=1, max_length=254),
        AfterValidator(_no_control_characters),
    ]
    # Not the signup policy: an old password that no longer meets it must still log in.
    password: Annotated[str, StringConstraints(min_length=1, max_length=PASSWORD_MAX_LENGTH)]
    lang: Lang | None = None


class ResendVerificationRequest(_Strict):
    email: Email
    lang: Lang | None = None


class PasswordResetRequest(_Strict):
    email: Email
    lang: Lang | None = None


class PasswordResetConfirm(_Strict):
    # Any string: a malformed token is as unknown as a forged one (400 `invalid_token`).
    token: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    password: Password


class PasswordChange(_Strict):
    # Not the policy: the current password may predate it.
    current_password: Annotated[
        str, StringConstraints(min_length=1, max_length=PASSWORD_MAX_LENGTH)
    ]
    new_password: Password

    @field_validator("new_password")
    @classmethod
    def _differs_from_current(cls, new_password: str, info: ValidationInfo) -> str:
        # Accepting it would revoke the other sessions while changing nothing, and let someone
        # believe a leaked password was replaced.
        if new_password == info.data.get("current_password"):
            raise PydanticCustomError("same_password", "must differ from the current password")
        return new_password


class UserRecord(BaseModel):
    """A row of user_account as the services see it (never sent to clients as is)."""

    id: int
    uuid: UUID
    name: str
    email: str
    password_hash: str
    role: Role
    email_verified: bool
    lang: Lang
    created_at: datetime
    deleted_at: datetime | None


class EmailLookup(BaseModel):
    """An address as the database folds it (`lower()`), and the live account it names, if any.

    Rate-limit keys use `email_key` whether or not an account exists: one derivation, the
    database's, so a key can never tell a known address from an unknown one.
    """

    email_key: str
    user: UserRecord | None


class SessionUser(BaseModel):
    """The user behind a live session, as loaded on every authenticated request."""

    session_id: UUID
    id: int
    uuid: UUID
    name: str
    email: str
    role: Role
    email_verified: bool
    lang: Lang
    created_at: datetime


class VerificationTokenRecord(BaseModel):
    id: int
    user_id: int
    user_uuid: UUID
    expires_at: datetime
    used_at: datetime | None
    user_deleted_at: datetime | None
    user_verified: bool
    lang: Lang


class PasswordResetTokenRecord(VerificationTokenRecord):
    """A reset link and the state of its user: the same shape as a verification link."""


class UserPublic(BaseModel):
    uuid: UUID
    name: str
    email: str
    role: Role
    email_verified: bool
    created_at: datetime


class UserMe(UserPublic):
    # False: no company yet. Publish learns it here instead of asking for a company that is
    # not there (a 404 in the console of every such visit).
    has_company: bool


class AdminUserView(UserPublic):
    lang: Lang
    deleted_at: datetime | None
    company_uuid: UUID | None


class LoginResponse(BaseModel):
    message: str
    csrf_token: str
    user: UserPublic
    # False: the front end's default destination is Publish (a provider's first step).
    has_company: bool


class VerifyWithPassword(_Strict):
    """The account's password, typed where the verification link was opened (another device)."""

    password: Annotated[str, StringConstraints(min_length=1, max_length=PASSWORD_MAX_LENGTH)]


class ResetLinkCheck(_Strict):
    token: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class ResetLinkStatus(BaseModel):
    message: str
    expires_at: datetime


class Message(BaseModel):
    message: str
