"""`/companies`: publish, read, edit and delete; the admin list and edits.

The specific paths (`/user/...`, `/admin/...`) are declared before `/{company_uuid}`, which
would otherwise take them (and answer 422 for a uuid that is not one).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, File, Form, Query, Request, Response, UploadFile

from proveo.accounts.deps import AdminUser, CurrentUser, VerifiedUser, VerifiedUserBrief
from proveo.admin.deps import Actor, ActorBrief
from proveo.companies import service
from proveo.companies.deps import CreateFieldsChecked, PatchForm, PhotoFieldsChecked, Tools
from proveo.companies.schemas import (
    CompanyCreate,
    CompanyDeleted,
    CompanyPrivate,
    CompanyPublic,
    PhotoOrder,
)
from proveo.core.deps import AppDatabase, AppStorage, Conn, Page, delete_after_commit
from proveo.core.forms import FormRoute
from proveo.core.openapi import ADMIN_REQUIRED, error_responses

router = APIRouter(prefix="/companies", tags=["companies"], route_class=FormRoute)

NOT_FOUND = (404, "No such company, or it was deleted (`company_not_found`)")
NO_COMPANY = (404, "You have no company (`company_not_found`)")
EMAIL_NOT_VERIFIED = (403, "The email address is not verified yet (`email_not_verified`)")
INVALID_FIELDS = (
    "Invalid fields (`validation_error`, each field with its `type`: unknown commune or product, "
    "missing image or descriptions, a part that is no field of the form (`unknown_field`) or is "
    "sent twice (`duplicate_field`), ...), or an image the content check refuses "
    "(`image_rejected`)"
)
IMAGE_ERRORS = (
    (400, "A malformed or incomplete form; one past a limit (more than 1000 fields or parts, "
          "more than 8 headers in a part, 16 or more blanks in a row in a part's headers); one "
          "whose charset is not UTF-8, or whose text is not valid UTF-8 (`malformed_form`, "
          "the detail names the limit); or text that cannot be stored (`invalid_characters`)"),
    (413, "The body, an urlencoded form over 256 KiB, or the image is too large "
          "(`payload_too_large`, `image_too_large`: over 5 MB or 40 megapixels)"),
    (415, "The body is not a form (`unsupported_media_type`: send multipart/form-data), or the "
          "file is not a JPEG, PNG or WebP image, judged by its content (`unsupported_image`)"),
    (422, INVALID_FIELDS),
    (503, "The image service, the image storage or the database is unavailable "
          "(`image_service_unavailable`, `storage_unavailable`, `database_unavailable`, "
          "`database_busy`)"),
)  # fmt: skip

# Replaces the 422 of IMAGE_ERRORS for an edit, which can also ask for no change at all.
NO_CHANGES = (
    422,
    f"{INVALID_FIELDS}; or a form with nothing to change: no field besides `lang`, and no image "
    "(`no_changes`)",
)


async def _upload(image: UploadFile | None) -> bytes | None:
    """The file's bytes; an empty part (a browser form with no file chosen) is no file."""
    if image is None:
        return None
    data = await image.read()
    return data or None


def _request_id(request: Request) -> str | None:
    request_id: str | None = getattr(request.state, "request_id", None)
    return request_id


@router.post(
    "",
    status_code=201,
    name="companies:create",
    summary="Publish my company (multipart form with the logo as `image`)",
    responses=error_responses(
        EMAIL_NOT_VERIFIED,
        (409, "You already have a company (`company_exists`)"),
        *IMAGE_ERRORS,
    ),
)
async def create_company(
    request: Request,
    user: VerifiedUserBrief,
    _: CreateFieldsChecked,
    tools: Tools,
    data: Annotated[CompanyCreate, Form()],
    image: Annotated[UploadFile, File(description="The logo: JPEG, PNG or WebP, up to 5 MB")],
) -> CompanyPrivate:
    upload = await _upload(image)
    if upload is None:
        raise service.invalid_fields(service.FieldProblem("image", "the file is empty", "missing"))
    return await service.publish_company(
        tools, user.id, data, upload, request_id=_request_id(request)
    )


@router.get(
    "/user/my-company",
    name="companies:my_company",
    summary="My company, as I left it (read from the primary)",
    responses=error_responses(NO_COMPANY, 503),
)
async def my_company(user: CurrentUser, conn: Conn) -> CompanyPrivate:
    return await service.get_own_company(conn, user.id)


@router.patch(
    "/user/my-company",
    name="companies:update_mine",
    summary="Edit my company (multipart; only the fields sent change)",
    responses=error_responses(EMAIL_NOT_VERIFIED, NO_COMPANY, *IMAGE_ERRORS, NO_CHANGES),
)
async def update_my_company(
    request: Request,
    user: VerifiedUserBrief,
    tools: Tools,
    tasks: BackgroundTasks,
    patch: PatchForm,
    image: Annotated[UploadFile | None, File(description="A new logo (optional)")] = None,
) -> CompanyPrivate:
    company, replaced = await service.update_own_company(
        tools, user.id, patch.fields, await _upload(image),
        request_id=_request_id(request), cleared=patch.cleared,
    )  # fmt: skip
    delete_after_commit(tasks, tools.storage, replaced)
    return company


@router.delete(
    "/user/my-company",
    name="companies:delete_mine",
    summary="Delete my company",
    responses=error_responses(EMAIL_NOT_VERIFIED, NO_COMPANY, 503),
)
async def delete_my_company(
    user: VerifiedUser, conn: Conn, storage: AppStorage, tasks: BackgroundTasks
) -> CompanyDeleted:
    company_uuid, objects = await service.delete_own_company(conn, user.id)
    delete_after_commit(tasks, storage, objects)
    return CompanyDeleted(message="Company deleted", uuid=company_uuid)


GALLERY_FULL = (409, "The gallery already has 6 photos (`gallery_full`)")
PHOTO_NOT_FOUND = (404, "No company, or no such photo in its gallery (`company_not_found`, "
                        "`photo_not_found`)")  # fmt: skip
PHOTO_ERRORS = (
    *(error for error in IMAGE_ERRORS if error[0] != 422),
    (422, "A form without its `image`, or with another part (`validation_error`), or an image "
          "the content check refuses (`image_rejected`)"),
    (429, "Another of your images is being processed (`upload_in_progress`), or too many in the "
          "last hour (`too_many_uploads`)"),
)  # fmt: skip


@router.post(
    "/user/my-company/photos",
    status_code=201,
    name="companies:add_photo",
    summary="Add a photo to my gallery (multipart, the photo as `image`; at most 6)",
    responses=error_responses(EMAIL_NOT_VERIFIED, NO_COMPANY, GALLERY_FULL, *PHOTO_ERRORS),
)
async def add_my_photo(
    request: Request,
    user: VerifiedUserBrief,
    _: PhotoFieldsChecked,
    tools: Tools,
    image: Annotated[UploadFile, File(description="The photo: JPEG, PNG or WebP, up to 5 MB")],
) -> CompanyPrivate:
    upload = await _upload(image)
    if upload is None:
        raise service.invalid_fields(service.FieldProblem("image", "the file is empty", "missing"))
    return await service.add_photo(
        tools, service.own_company_finder(user.id), upload,
        uploader=f"user:{user.id}", request_id=_request_id(request),
    )  # fmt: skip


@router.delete(
    "/user/my-company/photos/{photo_uuid}",
    name="companies:delete_photo",
    summary="Remove a photo from my gallery",
    responses=error_responses(EMAIL_NOT_VERIFIED, PHOTO_NOT_FOUND, 503),
)
async def delete_my_photo(
    photo_uuid: UUID, user: VerifiedUser, conn: Conn, storage: AppStorage, tasks: BackgroundTasks
) -> CompanyPrivate:
    company, objects = await service.remove_photo(
        conn, service.own_company_finder(user.id), photo_uuid
    )
    delete_after_commit(tasks, storage, objects)
    return company


@router.put(
    "/user/my-company/photos/order",
    name="companies:order_photos",
    summary="Put my gallery in a new order (JSON: every photo's uuid, once)",
    responses=error_responses(
        EMAIL_NOT_VERIFIED,
        NO_COMPANY,
        (422, "Not every photo of the gallery once (`validation_error`, type `photo_order`)"),
        503,
    ),
)
async def order_my_photos(user: VerifiedUser, conn: Conn, order: PhotoOrder) -> CompanyPrivate:
    return await service.reorder_photos(conn, service.own_company_finder(user.id), order.photos)


@router.delete(
    "/admin/companies/{company_uuid}/photos/{photo_uuid}",
    name="companies:admin_delete_photo",
    summary="Remove a photo from any company's gallery (admin, audit-logged)",
    responses=error_responses(ADMIN_REQUIRED, PHOTO_NOT_FOUND, 503),
)
async def admin_delete_photo(
    company_uuid: UUID,
    photo_uuid: UUID,
    actor: Actor,
    conn: Conn,
    storage: AppStorage,
    tasks: BackgroundTasks,
) -> CompanyPrivate:
    company, objects = await service.remove_photo(
        conn, service.company_finder(company_uuid), photo_uuid, actor=actor
    )
    delete_after_commit(tasks, storage, objects)
    return company


@router.get(
    "/admin/all-companies",
    name="companies:admin_list",
    summary="List every company, deleted ones included (admin)",
    responses=error_responses(ADMIN_REQUIRED, 503),
)
async def list_companies(
    _: AdminUser,
    conn: Conn,
    response: Response,
    page: Page,
    q: Annotated[
        str | None, Query(max_length=100, description="Part of the name or an email")
    ] = None,
) -> list[CompanyPrivate]:
    companies, total = await service.list_companies(
        conn, q=q or None, limit=page.limit, offset=page.offset
    )
    response.headers["X-Total-Count"] = str(total)
    return companies


@router.patch(
    "/admin/companies/{company_uuid}",
    name="companies:admin_update",
    summary="Edit any company (admin; multipart, audit-logged)",
    responses=error_responses(ADMIN_REQUIRED, NOT_FOUND, *IMAGE_ERRORS, NO_CHANGES),
)
async def admin_update_company(
    company_uuid: UUID,
    actor: ActorBrief,
    tools: Tools,
    tasks: BackgroundTasks,
    patch: PatchForm,
    image: Annotated[UploadFile | None, File(description="A new logo (optional)")] = None,
) -> CompanyPrivate:
    company, replaced = await service.update_company_as_admin(
        tools, actor, company_uuid, patch.fields, await _upload(image), cleared=patch.cleared
    )
    delete_after_commit(tasks, tools.storage, replaced)
    return company


@router.delete(
    "/admin/companies/{company_uuid}",
    name="companies:admin_delete",
    summary="Soft-delete any company (admin, audit-logged)",
    responses=error_responses(ADMIN_REQUIRED, NOT_FOUND, 503),
)
async def admin_delete_company(
    company_uuid: UUID, actor: Actor, conn: Conn, storage: AppStorage, tasks: BackgroundTasks
) -> CompanyDeleted:
    objects = await service.delete_company_as_admin(conn, actor, company_uuid)
    delete_after_commit(tasks, storage, objects)
    return CompanyDeleted(message="Company deleted", uuid=company_uuid)


@router.get(
    "/{company_uuid}",
    name="companies:get",
    summary="A company's public profile",
    responses=error_responses(NOT_FOUND, 503),
)
async def get_company(company_uuid: UUID, database: AppDatabase) -> CompanyPublic:
    return await database.read(service.get_company, company_uuid)
