"""The operator's GraphQL through graphql-core (PyPI), a client nobody here wrote: every query
is validated against the committed SDL (functions/operator/schema.graphql) before it is sent
over HTTP to BASE/graphql.

Usage: graphql_scenario.py JWO_BINARY BASE_URL DATA_DIR SAMPLE_BOOK

The operator scenario through queries and mutations alone: a cart held by an unknown SKU is
found with `purchases`, the SKU is imported, `updatePurchase` reprices it and
`completePurchase` (at the total read) completes it; `priceCart`, `cancelPurchase` and paging
with `first`/`after` too. Exits non-zero on the first failure.
"""

import json
import sys
import urllib.request

from connector import cart, import_sku, post_cart
from graphql import build_schema, parse, validate

JWO, BASE, DATA_DIR, SAMPLE_BOOK = sys.argv[1:5]

with open("functions/operator/schema.graphql") as f:
    SCHEMA = build_schema(f.read())


def ask(query, variables=None):
    problems = validate(SCHEMA, parse(query))
    assert not problems, (query, problems)
    request = urllib.request.Request(
        BASE + "/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200, answer.status
        return json.load(answer)


# The committed SDL is what validates: a field it does not have is refused before sending.
assert validate(SCHEMA, parse('{ purchase(id: "x") { noSuchField } }'))

sku = "SKU-GRAPHQL"
held = post_cart(BASE, cart("graphql-1", sku))
other = post_cart(BASE, cart("graphql-2", "SKU-NEVER-GRAPHQL"))

HELD = """
query Held($store: String, $first: Int, $after: String) {
  purchases(state: Open, storeId: $store, constraintId: "UnknownSku", first: $first, after: $after) {
    nodes { purchaseId statusDetail { state } constraints { constraintId field description } }
    pageInfo { hasNextPage endCursor }
  }
}"""
seen, after = [], None
while True:
    page = ask(HELD, {"store": "STORE-001", "first": 1, "after": after})
    assert "errors" not in page, page
    connection = page["data"]["purchases"]
    seen += [node["purchaseId"] for node in connection["nodes"]]
    if not connection["pageInfo"]["hasNextPage"]:
        break
    after = connection["pageInfo"]["endCursor"]
assert held in seen and other in seen and len(seen) == len(set(seen)), seen

PRICE = """
query What($cart: JSON!) {
  priceCart(cart: $cart) { priceBookVersion amountBasis checkout explanation constraints { constraintId field } emptyCart }
}"""
priced = ask(PRICE, {"cart": cart("graphql-what-if", sku)})["data"]["priceCart"]
assert priced["checkout"] is None and priced["constraints"][0]["constraintId"] == "UnknownSku", priced

refused = ask(
    """mutation($id: ID!) { updatePurchase(id: $id, input: { lineOverrides: [{ line: 99, unitPrice: "1.00", taxCode: "STD", reason: "r" }] }) { purchaseId } }""",
    {"id": held},
)
error = refused["errors"][0]
assert error["extensions"]["code"] == "BAD_REQUEST" and error["extensions"]["field"] == "lineOverrides[0].line", refused
assert error["path"] == ["updatePurchase"], refused

import_sku(JWO, DATA_DIR, SAMPLE_BOOK, sku)
priced = ask(PRICE, {"cart": cart("graphql-what-if", sku)})["data"]["priceCart"]
assert priced["checkout"]["orderTotals"]["priceTotal"]["amount"], priced

repriced = ask(
    """mutation($id: ID!) { updatePurchase(id: $id, input: { reprice: true }) {
         constraints { constraintId } priceBookVersion orderTotals { priceTotal { amount currencyCode } } } }""",
    {"id": held},
)
assert "errors" not in repriced, repriced
purchase = repriced["data"]["updatePurchase"]
assert purchase["constraints"] == [], purchase
total = purchase["orderTotals"]["priceTotal"]

COMPLETE = """mutation($id: ID!, $total: MoneyInput) {
  completePurchase(id: $id, expectedTotal: $total) { outcome detail purchase { orderId statusDetail { state } history { actor action } } }
}"""
mismatch = ask(COMPLETE, {"id": held, "total": {"amount": "0.01", "currencyCode": "USD"}})
assert mismatch["errors"][0]["extensions"]["code"] == "AmountMismatch", mismatch
completed = ask(COMPLETE, {"id": held, "total": total})
assert "errors" not in completed, completed
done = completed["data"]["completePurchase"]
assert done["outcome"] == "Completed" and done["purchase"]["orderId"], done
assert done["purchase"]["statusDetail"]["state"] == "Completed", done

CANCEL = """mutation($id: ID!) { cancelPurchase(id: $id, reason: "test cart") { statusDetail { state reasonCode } } }"""
canceled = ask(CANCEL, {"id": other})
assert canceled["data"]["cancelPurchase"]["statusDetail"]["reasonCode"] == "OperatorCanceled", canceled
again = ask(CANCEL, {"id": other})
assert again["errors"][0]["extensions"]["state"] == "Canceled", again

found = ask('query($id: ID!) { purchase(id: $id) { orderId lineItems cart } }', {"id": held})
assert found["data"]["purchase"]["orderId"] == done["purchase"]["orderId"], found
missing = ask('{ purchase(id: "no-such-purchase") { purchaseId } }')
assert missing["data"]["purchase"] is None, missing
print("graphql: ok")
