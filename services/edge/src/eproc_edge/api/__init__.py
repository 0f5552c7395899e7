"""HTTP routes of the edge: they only translate between HTTP and authlib or a use case."""

from fastapi import APIRouter

from eproc_edge.api import clients, login, oidc, password_reset, register, session
from eproc_edge.api.deps import Edge

router = APIRouter()
for module in (oidc, login, password_reset, session, register, clients):
    router.include_router(module.router)

__all__ = ["Edge", "router"]
