#!/usr/bin/env python3
"""Deterministic online-retail transactions as the shop's MongoDB holds
them, one JSON document a line (JSON Lines), one file per month:

  {"_id": {"$oid": "..."}, "InvoiceNo": "536365", "StockCode": "85123A",
   "Description": "WHITE HANGING HEART T-LIGHT HOLDER", "Quantity": 6,
   "InvoiceDate": "12/1/2010 8:26", "UnitPrice": 2.55, "CustomerID": 17850,
   "Country": "United Kingdom"}

usage: gen_data.py --batch N OUT.jsonl [INVOICES]

Batch 1 is December 2010, batch 2 January 2011, and so on; INVOICES (600 by
default) invoices of 1 to 6 lines each. An item has one price and one
description within a month; from batch 2 on some items get a new price
(and some a new description), and new items appear: what the items
dimension records as SCD2 versions. About 1 invoice in 50 is a cancellation
(InvoiceNo "C...", negative quantities), 1 in 10 has no customer (a guest),
and 1 line in 400 is an adjustment with a negative price, which the
contract rejects. Batch N is the same file whatever was generated before."""
import json
import os
import random
import sys

ITEMS = 140            # items 0..119 sell from batch 1, 120..139 from batch 2
CUSTOMERS = 260
ADJECTIVES = ["WHITE", "RED", "PINK", "VINTAGE", "REGENCY", "JUMBO", "RETRO", "HEART", "STRIPED", "WOODEN",
              "GLASS", "PAPER", "SET OF 3", "SMALL", "LARGE", "ANTIQUE"]
THINGS = ["HANGING HEART T-LIGHT HOLDER", "LANTERN", "METAL SIGN", "CAKE CASES", "TEACUP AND SAUCER",
          "BAG", "ALARM CLOCK", "LUNCH BOX", "CHRISTMAS BAUBLE", "PHOTO FRAME", "CANDLE", "DOORMAT",
          "BUNTING", "HOT WATER BOTTLE", "MUG", "NAPKINS"]
COUNTRIES = ["United Kingdom"] * 8 + ["France", "Germany", "EIRE", "Spain", "Netherlands", "Portugal"]


def stock_code(k):
    return "%d%s" % (21000 + k * 37, "" if k % 4 else "ABCDEFG"[k % 7])


def item(k, batch):
    """Item k as sold in batch: its description and price then. The price
    rises (never back) in the batches b >= 2 where (7k + b) % 11 == 0; the
    description is reworded in those where (k + b) % 13 == 0."""
    r = random.Random(k * 104729)
    desc = "%s %s" % (r.choice(ADJECTIVES), r.choice(THINGS))
    price = r.choice([0.42, 0.85, 1.25, 1.65, 2.10, 2.55, 2.95, 3.75, 4.25, 4.95, 7.95, 12.75])
    for b in range(2, batch + 1):
        if (7 * k + b) % 11 == 0:
            price = round(price * 1.1 + 0.05, 2)
        if (k + b) % 13 == 0:
            desc = desc + " (NEW)" if not desc.endswith(" (NEW)") else desc[:-6] + " DELUXE"
    return desc, price


def customer(c):
    return 12346 + c * 11, COUNTRIES[random.Random(c * 7).randrange(len(COUNTRIES))]


def month(batch):
    y, m = 2010 + (11 + batch - 1) // 12, (11 + batch - 1) % 12 + 1
    return y, m


def invoices(batch, n):
    """The documents of one batch, in invoice order."""
    rnd = random.Random(500 + batch)
    y, m = month(batch)
    first_no = 536365 + (batch - 1) * 10000
    sellable = ITEMS - 20 if batch == 1 else ITEMS
    # invoice times ascend through the month: day 1..28, 8:00..19:59
    times = sorted((rnd.randint(1, 28), rnd.randint(8, 19), rnd.randint(0, 59)) for _ in range(n))
    docs = []
    line = 0
    for i, (d, hh, mm) in enumerate(times):
        cancel = i % 50 == 17
        no = ("C" if cancel else "") + str(first_no + i)
        guest = i % 10 == 3
        cid, country = customer(rnd.randrange(CUSTOMERS))
        when = "%d/%d/%d %d:%02d" % (m, d, y, hh, mm)
        for k in rnd.sample(range(sellable), rnd.randint(1, 6)):
            line += 1
            desc, price = item(k, batch)
            qty = rnd.choice([1, 2, 3, 4, 6, 8, 12, 24, 48])
            oid = "%024x" % random.Random("%d/%d" % (batch, line)).getrandbits(96)
            doc = {"_id": {"$oid": oid}, "InvoiceNo": no, "StockCode": stock_code(k), "Description": desc,
                   "Quantity": -qty if cancel else qty, "InvoiceDate": when,
                   "UnitPrice": -price if line % 400 == 0 else price,
                   "CustomerID": None if guest else cid, "Country": country}
            docs.append(doc)
    return docs


def main(argv):
    if len(argv) < 4 or argv[1] != "--batch":
        sys.exit(__doc__)
    batch, out = int(argv[2]), argv[3]
    n = int(argv[4]) if len(argv) > 4 else 600
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w") as f:
        for doc in invoices(batch, n):
            f.write(json.dumps(doc) + "\n")


if __name__ == "__main__":
    main(sys.argv)
