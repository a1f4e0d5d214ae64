"""What both client scenarios do on Amazon's and the retailer's side, outside the adapter under
test: post a cart to Create Purchases, and import a price book that has a new SKU."""

import json
import subprocess
import urllib.request

CART = "tests/fixtures/create_purchases/1.02_multi_item_cart.json"


def cart(trip, sku):
    """The sample multi-item cart as trip `trip`, its line 1 being `sku`."""
    with open(CART) as f:
        body = json.load(f)
    body["idempotentShoppingTripId"] = trip
    body["cartItems"][1]["id"] = sku
    return body


def post_cart(base, body):
    """Create Purchases on the connector at `base`; the purchase id."""
    request = urllib.request.Request(
        base + "/v1/order/purchases",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 201, answer.status
        return json.load(answer)["purchaseId"]


def import_sku(jwo, data_dir, sample_book, sku):
    """Imports the sample book with `sku` added (`jwo catalog import`), as a retailer would."""
    with open(sample_book) as f:
        book = json.load(f)
    book["items"].append({"sku": sku, "name": "New item", "price": "2.00", "taxCode": "STD"})
    path = f"{data_dir}/book-{sku}.json"
    with open(path, "w") as f:
        json.dump(book, f)
    done = subprocess.run(
        [jwo, "catalog", "import", path, "--data-dir", data_dir], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
