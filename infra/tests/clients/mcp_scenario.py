"""The operator's MCP tools through the official Python MCP SDK (PyPI `mcp`), a client nobody
here wrote: over stdio (`jwo mcp --endpoint BASE`) and over streamable HTTP (BASE/mcp).

Usage: mcp_scenario.py JWO_BINARY BASE_URL DATA_DIR SAMPLE_BOOK

For each transport: initialize; tools/list returns exactly the six tools with their hints;
every tool is called; and the operator scenario runs through tools alone: a cart held by an
unknown SKU is found with list_purchases, the SKU is imported, update_purchase reprices it,
and complete_purchase (at the total read) completes it. Exits non-zero on the first failure.
"""

import asyncio
import sys

from connector import cart, import_sku, post_cart
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

JWO, BASE, DATA_DIR, SAMPLE_BOOK = sys.argv[1:5]

EXPECTED_HINTS = {
    # name: (readOnly, idempotent, destructive)
    "get_purchase": (True, True, False),
    "list_purchases": (True, True, False),
    "update_purchase": (False, True, False),
    "complete_purchase": (False, False, False),
    "cancel_purchase": (False, True, True),
    "price_cart": (True, True, False),
}


async def call(session, name, arguments):
    result = await session.call_tool(name, arguments)
    summary = result.content[0].text
    return result, summary


async def scenario(session, transport):
    info = await session.initialize()
    assert info.capabilities.tools is not None, info

    listed = await session.list_tools()
    hints = {
        tool.name: (
            tool.annotations.read_only_hint,
            tool.annotations.idempotent_hint,
            tool.annotations.destructive_hint,
        )
        for tool in listed.tools
    }
    assert hints == EXPECTED_HINTS, hints
    for tool in listed.tools:
        for name, prop in tool.input_schema.get("properties", {}).items():
            assert prop.get("description"), (tool.name, name)

    sku = f"SKU-MCP-{transport}"
    held_id = post_cart(BASE, cart(f"mcp-{transport}-1", sku))
    other_id = post_cart(BASE, cart(f"mcp-{transport}-2", "SKU-NEVER-" + transport))

    # What is held back at the store, and why?
    result, summary = await call(
        session, "list_purchases", {"storeId": "STORE-001", "constraintId": "UnknownSku"}
    )
    assert not result.is_error, summary
    ids = [p["purchaseId"] for p in result.structured_content["purchases"]]
    assert held_id in ids and other_id in ids, ids
    assert "held by a constraint" in summary, summary

    result, summary = await call(session, "get_purchase", {"purchaseId": held_id})
    assert not result.is_error, summary
    assert result.structured_content["constraints"][0]["field"] == "cartItems[1].id"
    assert "UnknownSku" in summary, summary

    # A bad argument is a tool error naming the field; nothing changes.
    result, summary = await call(
        session,
        "update_purchase",
        {"purchaseId": held_id, "lineOverrides": [{"line": 99, "unitPrice": "1.00", "taxCode": "STD", "reason": "r"}]},
    )
    assert result.is_error, summary
    assert result.structured_content["errors"][0]["field"] == "lineOverrides[0].line", result
    result, summary = await call(session, "update_purchase", {"reprice": True})
    assert result.is_error and "purchaseId" in summary, summary

    # What-if pricing: the book knows the SKU only after the import.
    result, summary = await call(session, "price_cart", {"cart": cart("mcp-what-if", sku)})
    assert not result.is_error, summary
    assert result.structured_content["constraints"][0]["constraintId"] == "UnknownSku", result
    import_sku(JWO, DATA_DIR, SAMPLE_BOOK, sku)
    result, summary = await call(session, "price_cart", {"cart": cart("mcp-what-if", sku)})
    assert not result.is_error and result.structured_content["checkout"], summary

    # Held → reprice → complete, at the total read.
    result, summary = await call(session, "update_purchase", {"purchaseId": held_id, "reprice": True})
    assert not result.is_error, summary
    assert result.structured_content["constraints"] == [], result.structured_content
    total = result.structured_content["orderTotals"]["priceTotal"]
    result, summary = await call(
        session, "complete_purchase", {"purchaseId": held_id, "expectedTotal": {"amount": "0.01", "currencyCode": "USD"}}
    )
    assert result.is_error and result.structured_content["code"] == "AmountMismatch", summary
    result, summary = await call(
        session, "complete_purchase", {"purchaseId": held_id, "expectedTotal": total}
    )
    assert not result.is_error, summary
    assert result.structured_content["outcome"] == "Completed", result.structured_content
    assert result.structured_content["purchase"]["orderId"], result.structured_content

    # The other is canceled by a person; a second cancel is refused with the state.
    result, summary = await call(session, "cancel_purchase", {"purchaseId": other_id, "reason": "test cart"})
    assert not result.is_error, summary
    assert result.structured_content["statusDetail"]["reasonCode"] == "OperatorCanceled"
    result, summary = await call(session, "cancel_purchase", {"purchaseId": other_id, "reason": "again"})
    assert result.is_error and result.structured_content["state"] == "Canceled", summary
    print(f"{transport}: ok ({len(listed.tools)} tools)")


async def main():
    params = StdioServerParameters(command=JWO, args=["mcp", "--endpoint", BASE])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await scenario(session, "stdio")
    async with streamable_http_client(BASE + "/mcp") as (read, write):
        async with ClientSession(read, write) as session:
            await scenario(session, "http")


asyncio.run(main())
