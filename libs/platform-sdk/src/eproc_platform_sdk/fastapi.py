"""FastAPI dependencies: the verified caller, and role checks.

.. code-block:: python

    verifier = TokenVerifier(issuer=EDGE_URL, client_id="e-tendering")
    CurrentCaller = Annotated[Caller, Depends(CallerDependency(verifier))]

Needs the ``fastapi`` extra (``eproc-platform-sdk[fastapi]``).
"""

from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request, status

from eproc_platform_sdk.errors import TokenError
from eproc_platform_sdk.tokens import Caller, TokenVerifier
from eproc_platform_sdk.web import bearer_token, www_authenticate


class CallerDependency:
    """A dependency giving the verified :class:`Caller`, or answering 401 with the error's code."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self.verifier = verifier

    async def __call__(self, request: Request) -> Caller:
        try:
            return await self.verifier.verify(bearer_token(request.headers.get("Authorization")))
        except TokenError as error:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail=error.as_detail(),
                headers={"WWW-Authenticate": www_authenticate(error)},
            ) from error


def require_role(dependency: CallerDependency, role: str) -> Callable[[Request], Awaitable[Caller]]:
    """A dependency that also requires ``role`` in the active organisation.

    Without it: 403 with ``{"code": "missing_role"}``.
    """

    async def caller_with_role(request: Request) -> Caller:
        caller = await dependency(request)
        if not caller.has_role(role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail={
                    "code": "missing_role",
                    "message": f"the role {role!r} is required in the active organisation",
                },
            )
        return caller

    return caller_with_role
