"""Provider callbacks on a short lane: the app's own middleware, then a router of theirs alone.

A USSD request comes with every keypress of every caller. Through the whole app it passes the
framework's outer layers (server error page, telemetry, a body limit we set ourselves, an exit
stack for uploads) and a router of every route of the team web: 12% of its instructions
(``bench.ussd_cpu --tips --callgrind``: 1.164 M before, 1.065 M after). On the lane it passes
the same middleware as any request (access line and metrics, security headers, catch-all, body
limit, ...) in the same order, then the app's exception handlers, then a router holding only the
routes under the lane's prefixes. Answers are the same: a 404 or 405 there is the app's.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import iter_route_contexts
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import Router
from starlette.types import ASGIApp, Receive, Scope, Send


class HotlineApp(FastAPI):
    """FastAPI whose middleware stack sends a lane's paths around the framework's layers."""

    lanes: tuple[tuple[str, APIRouter], ...] = ()
    """Each lane's path prefix and router, as included."""

    def include_lane(self, router: APIRouter, prefix: str) -> None:
        """Include ``router`` as usual and serve every path under ``prefix`` with its routes
        alone (each of its paths must be under ``prefix``, and no other route of the app)."""
        stray = [r for r in router.routes if not getattr(r, "path", "").startswith(prefix)]
        if stray or not prefix.startswith("/") or not prefix.endswith("/"):
            raise ValueError(f"lane {prefix!r}: its routes must all be under it")
        self.include_router(router)
        self.lanes = (*self.lanes, (prefix, router))

    def build_middleware_stack(self) -> ASGIApp:
        """The whole stack, and beside it the lane (built when the app first answers, after
        every route is in)."""
        whole = super().build_middleware_stack()
        if not self.lanes:
            return whole
        prefixes = tuple(prefix for prefix, _ in self.lanes)
        routes = [route for _, router in self.lanes for route in router.routes]
        served = {getattr(route, "endpoint", None) for route in routes}
        for context in iter_route_contexts(self.router.routes):
            template = context.path_format or context.path or ""
            if template.startswith(prefixes) and context.endpoint not in served:
                raise RuntimeError(f"route {template} is under a lane but not on it")
        handlers = {k: v for k, v in self.exception_handlers.items() if k not in (500, Exception)}
        lane: ASGIApp = ExceptionMiddleware(Router(routes=routes), handlers=handlers)
        for cls, args, kwargs in reversed(self.user_middleware):
            lane = cls(lane, *args, **kwargs)
        return Lanes(whole, lane, prefixes)


class Lanes:
    """HTTP requests under ``prefixes`` to ``lane``, everything else (lifespan too) to
    ``whole``."""

    def __init__(self, whole: ASGIApp, lane: ASGIApp, prefixes: tuple[str, ...]) -> None:
        self.whole = whole
        self.lane = lane
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path, root = scope["path"], scope.get("root_path", "")
            if root and path.startswith(root):  # mounted under a prefix: routes see the rest
                path = path[len(root) :]
            if path.startswith(self.prefixes):
                await self.lane(scope, receive, send)
                return
        await self.whole(scope, receive, send)
