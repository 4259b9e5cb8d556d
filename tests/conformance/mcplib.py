"""Helpers for the MCP suites: sessions of the official `mcp` client against Kiln."""

import asyncio

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


def with_client(server, path, work, *, token=None, mode="auto"):
    """Runs `await work(client)` in a fresh MCP session at `path`, as DatabricksMCPClient
    does for every call, with its 5-second HTTP timeout."""

    async def session():
        async with httpx2.AsyncClient(headers=server.auth_headers(token), timeout=5) as http:
            async with Client(streamable_http_client(server.host + path, http_client=http), mode=mode) as client:
                return await work(client)

    try:
        return asyncio.run(session())
    except BaseExceptionGroup as group:
        # The client's task group wraps a JSON-RPC error; surface the error itself.
        raise leaf_error(group) from group


def leaf_error(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


def list_tools(server, path, **kwargs):
    return with_client(server, path, lambda c: c.list_tools(), **kwargs).tools


def call(server, path, tool, arguments, *, meta=None, **kwargs):
    return with_client(server, path, lambda c: c.call_tool(tool, arguments, meta=meta), **kwargs)
