"""The HTTP client of backend calls: httpx over an aiohttp transport, with a lean send for the per-call POST.

httpx stays the client API everywhere; under it, aiohttp's connection pool and parser cost about half
of what the default transport does per request, which matters on a hop every tool call makes. aiohttp
speaks HTTP/1.1 only: a client for an ``https://`` backend that may be offered HTTP/2 runs on httpx's own
transport instead, which offers ``h2`` by ALPN and multiplexes every call over one connection when the
backend accepts (HTTP/1.1 with a pool otherwise).
Failures are mapped onto httpx's exception types so callers classify them as before: refused and reset
connections are transport errors, missing answers are timeouts.

``BackendHttpClient.open`` hands an ``httpx.Request`` straight to that transport. A backend call never
uses what ``AsyncClient.send`` adds around it (cookie jar, auth flow, redirects, event hooks, default
headers, base URL merging), and on a loopback echo call that machinery cost more CPU than the transport
and aiohttp together (``tests/benchmarks``).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Mapping

import aiohttp
import httpx

__all__ = ("AiohttpTransport", "BackendHttpClient", "body_chunks")

_CHUNK = 64 * 1024


class _Body(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise httpx.ReadTimeout(str(exc) or "read timed out", request=self._request) from exc
        except aiohttp.ClientPayloadError as exc:
            raise httpx.RemoteProtocolError(_reason(exc), request=self._request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.ReadError(_reason(exc), request=self._request) from exc

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp session (keep-alive pool) per transport; created lazily on the running loop."""

    def __init__(self, *, ssl_context: ssl.SSLContext, max_connections: int = 100, keepalive_expiry: float = 4.0):
        self._ssl = ssl_context
        self._limit = max_connections
        self._keepalive = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._limit, keepalive_timeout=self._keepalive, ssl=self._ssl, enable_cleanup_closed=True
            )
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False, skip_auto_headers=("User-Agent",)
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=timeouts.get("connect"), sock_read=timeouts.get("read")
        )
        body = await request.aread()
        url = str(request.url)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        try:
            try:
                response = await self._send(request.method, url, headers, body, timeout)
            except aiohttp.ClientOSError as exc:
                if not _unsent(exc):
                    raise
                # A kept-alive connection the backend had just closed: the request never left, so sending it
                # again on another connection is safe for any method (aiohttp itself does so only for GET & co).
                response = await self._send(request.method, url, headers, body, timeout)
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(_reason(exc), request=request) from exc
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise httpx.ReadTimeout(str(exc) or "timed out", request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.RemoteProtocolError(_reason(exc), request=request) from exc
        return httpx.Response(
            status_code=response.status,
            headers=list(response.raw_headers),
            stream=_Body(response, request),
            extensions={"http_version": b"HTTP/1.1"},
            request=request,
        )

    async def _send(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes, limits: aiohttp.ClientTimeout
    ) -> aiohttp.ClientResponse:
        return await self._client().request(
            method, url, headers=headers, data=body or None, allow_redirects=False, timeout=limits, compress=None
        )

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
            await asyncio.sleep(0)  # let the connector close its transports


def body_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body of ``response`` as it arrives.

    A body from :class:`AiohttpTransport` without a content coding is read straight from aiohttp: httpx's
    decoding and re-chunking layers (``aiter_bytes`` over ``aiter_raw``) would pass it on unchanged, at a cost
    per chunk. Any other body (compressed, or from another transport) goes through ``aiter_bytes``.
    """
    stream = response.stream
    if isinstance(stream, _Body) and "content-encoding" not in response.headers:
        return stream.__aiter__()
    return response.aiter_bytes()


def _unsent(exc: aiohttp.ClientOSError) -> bool:
    """Whether aiohttp failed to write the request at all (the connection was closing): nothing reached the
    backend. aiohttp says so only in the message of the error it raises from its body writer."""
    return isinstance(exc.strerror, str) and exc.strerror.startswith("Can not write request body")


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


class BackendHttpClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` on an :class:`AiohttpTransport` (or, with ``http2``, httpx's HTTP/2-capable
    transport), plus :meth:`open` for the hot path."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        timeout: httpx.Timeout,
        max_connections: int = 100,
        keepalive_seconds: float = 4.0,
        http2: bool = False,
    ) -> None:
        self._lean_transport: httpx.AsyncBaseTransport
        if http2:
            limits = httpx.Limits(
                max_connections=max_connections,
                max_keepalive_connections=max_connections,
                keepalive_expiry=keepalive_seconds,
            )
            # retries: connection attempts only (httpx never re-sends a request that reached the backend). The TLS
            # context is shared: httpx sets its ALPN list on it right before each handshake, and aiohttp only
            # speaks TLS to backends when HTTP/2 is off for all of them, so no client inherits another's list.
            self._lean_transport = httpx.AsyncHTTPTransport(verify=ssl_context, http2=True, limits=limits, retries=1)
        else:
            self._lean_transport = AiohttpTransport(
                ssl_context=ssl_context, max_connections=max_connections, keepalive_expiry=keepalive_seconds
            )
        super().__init__(transport=self._lean_transport, timeout=timeout, follow_redirects=False)
        self._timeouts = {"timeout": timeout.as_dict()}

    async def open(self, method: str, url: httpx.URL, content: bytes, headers: Mapping[str, str]) -> httpx.Response:
        """Send one request and return its response with the body not yet read; the caller closes it
        (``aclose``). Only ``headers`` are sent: no cookies, no redirects, no default headers (without an
        ``Accept-Encoding`` the answer comes uncompressed)."""
        request = httpx.Request(method, url, content=content, headers=headers, extensions=self._timeouts)
        return await self._lean_transport.handle_async_request(request)
