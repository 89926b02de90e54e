"""`formulate mcp` over stdio, driven by the official MCP SDK's own client."""

from __future__ import annotations

import json
import os
import re
import sys

import pytest

pytest.importorskip("mcp", reason="the mcp extra is not installed: pip install 'formulate-opt[mcp]'")

import anyio  # noqa: E402
from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters  # noqa: E402

from tests.test_web_api import INFEASIBLE, replay_file  # noqa: E402
from tests.web_server import ROOT  # noqa: E402

FURNITURE = ROOT / "formulate" / "examples" / "furniture.yaml"


def _params(*args: str) -> StdioServerParameters:
    env = {"PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", "")}
    return StdioServerParameters(command=sys.executable, args=["-m", "formulate", "mcp", *args], env=env,
                                 cwd=str(ROOT))


async def _session(check) -> None:
    async with Client(_params(), read_timeout_seconds=120) as client:
        await check(client)


def run(check) -> None:
    anyio.run(_session, check)


def test_tools_without_a_model_and_the_check_solve_export_path():
    async def check(client):
        tools = {t.name for t in (await client.list_tools()).tools}
        assert tools == {"check", "solve", "verify", "export", "explain"}  # no model: no `formulate`

        checked = await client.call_tool("check", {"path": str(FURNITURE)})
        assert not checked.is_error
        assert checked.structured_content["ok"] is True
        assert checked.content[0].text == "ok: MILP, 2 variables, 4 constraints"

        solved = await client.call_tool("solve", {"path": str(FURNITURE)})
        assert solved.structured_content["solution"]["objective"] == pytest.approx(1400)
        assert solved.structured_content["solution"]["values"]["x"] == {"chair": 40.0, "table": 4.0}
        assert solved.content[0].text == "optimal, objective 1400 (highs)"

        exported = await client.call_tool("export", {"path": str(FURNITURE), "target": "pulp"})
        assert exported.structured_content["filename"] == "furniture_pulp.py"
        assert "import pulp" in exported.structured_content["content"]

        # an agent that writes the YAML itself: check -> solve -> export on text
        text = FURNITURE.read_text()
        assert (await client.call_tool("check", {"formulation": text})).structured_content["ok"]
        by_text = await client.call_tool("solve", {"formulation": text, "solver": "cbc", "time_limit": 30})
        assert by_text.structured_content["solution"]["objective"] == pytest.approx(1400)
        assert by_text.structured_content["solution"]["solver"] == "cbc"
        lp = await client.call_tool("export", {"formulation": text, "target": "lp"})
        assert "wood_limit" in lp.structured_content["content"]

    run(check)


def test_explain_verify_and_errors():
    async def check(client):
        explained = await client.call_tool("explain", {"formulation": INFEASIBLE})
        assert explained.structured_content["kind"] == "infeasible"
        assert "`budget`" in explained.content[0].text and "`minimum_x`" in explained.content[0].text

        verified = await client.call_tool("verify", {"formulation": INFEASIBLE})
        assert verified.structured_content["solution"]["status"] == "infeasible"
        assert any(f["kind"] == "infeasible" for f in verified.structured_content["findings"])

        wrong = await client.call_tool("export", {"path": str(FURNITURE), "target": "pulpp"})
        assert wrong.is_error
        assert wrong.content[0].text.startswith("error: unknown export target `pulpp`; did you mean `pulp`?")
        missing = await client.call_tool("solve", {"path": str(ROOT / "nope.yaml")})
        assert missing.is_error and "does not exist" in missing.content[0].text

    run(check)


def test_resources_reference_and_examples():
    async def check(client):
        uris = {str(r.uri) for r in (await client.list_resources()).resources}
        assert {"formulate://reference", "formulate://examples"} <= uris
        reference = await client.read_resource("formulate://reference")
        assert "formulation language" in reference.contents[0].text
        names = json.loads((await client.read_resource("formulate://examples")).contents[0].text)
        assert names["furniture"].startswith("chairs and tables from wood")
        example = await client.read_resource("formulate://examples/furniture")
        assert example.contents[0].text == FURNITURE.read_text()

    run(check)


def test_formulate_tool_appears_when_a_model_is_configured(tmp_path):
    problem = "Chairs and tables are made from wood; maximise profit."
    replay = replay_file(tmp_path, problem)

    async def check(client):
        assert "formulate" in {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("formulate", {"problem": problem})
        data = result.structured_content
        assert [r["stage"] for r in data["rounds"]] == ["check_error", "ok"]
        assert data["solution"]["objective"] == pytest.approx(1400) and "wood_limit" in data["yaml"]
        assert result.content[0].text == "formulated; optimal, objective 1400 (highs); 0 finding(s), 0 reading(s)"

    async def session():
        async with Client(_params("--model", f"replay:{replay}"), read_timeout_seconds=120) as client:
            await check(client)

    anyio.run(session)


def test_streamable_http_needs_the_token_when_one_is_set():
    import httpx
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    from tests.web_server import started

    with started("mcp", "--http", "--token", "t0ken") as url:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/mcp", url) and not url.endswith(":0/mcp")
        denied = httpx.post(url, json={}, timeout=120)  # listening before the URL is printed: no retry
        assert denied.status_code == 401 and "Bearer" in denied.json()["error"]

        async def session():
            async with httpx2.AsyncClient(headers={"Authorization": "Bearer t0ken"}, timeout=60) as http, \
                    Client(streamable_http_client(url, http_client=http)) as client:
                assert "solve" in {t.name for t in (await client.list_tools()).tools}
                solved = await client.call_tool("solve", {"path": str(FURNITURE)})
                assert solved.structured_content["solution"]["objective"] == pytest.approx(1400)

        anyio.run(session)


def test_streamable_http_on_port_zero_allows_the_host_it_bound():
    """DNS-rebinding protection names the port the OS chose, not the 0 that was asked for."""
    import httpx

    from tests.web_server import started

    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    with started("mcp", "--http") as url:
        foreign = httpx.post(url, json=body, headers={**headers, "Host": "evil.example"}, timeout=120)
        assert foreign.status_code == 421
        own = httpx.post(url, json=body, headers=headers, timeout=120)
        assert own.status_code != 421 and "Invalid Host" not in own.text
