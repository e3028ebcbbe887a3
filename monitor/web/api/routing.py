"""How a resource module declares its routes: `routes = ApiRoutes("sources")`, then
`@routes.get("/sources", summary=…)` on each endpoint, as on an APIRouter.

`install` adds them straight to the app under /api/v1, each with the bearer scheme,
the error answers, its resource's tag and its endpoint's name as operation id. Not
`app.include_router`: FastAPI 0.165 keeps an included router as one lazy entry of
`app.routes`, where the route-by-role test (tests/test_web_routes.py) would not see
the routes in it, and would pass without checking them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, FastAPI

from monitor.web.api.common import BEARER, ERRORS

PREFIX = "/api/v1"
Endpoint = Callable[..., Any]


@dataclass
class ApiRoutes:
    tag: str
    declared: list[tuple[str, str, Endpoint, dict[str, Any]]] = field(default_factory=list)

    def get(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self._route("GET", path, options)

    def post(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self._route("POST", path, options)

    def patch(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self._route("PATCH", path, options)

    def delete(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self._route("DELETE", path, options)

    def _route(self, method: str, path: str,
               options: dict[str, Any]) -> Callable[[Endpoint], Endpoint]:
        def declare(endpoint: Endpoint) -> Endpoint:
            self.declared.append((method, path, endpoint, options))
            return endpoint

        return declare

    def install(self, app: FastAPI) -> None:
        for method, path, endpoint, options in self.declared:
            app.add_api_route(
                PREFIX + path, endpoint, methods=[method], tags=[self.tag],
                dependencies=[Depends(BEARER)], operation_id=endpoint.__name__,
                **{**options, "responses": {**ERRORS, **options.get("responses", {})}})
