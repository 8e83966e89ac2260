#!/usr/bin/env python3
"""Deterministic customer transactions like the forex source file: prices and
taxes that are sometimes number words ("Two Hundred", "fifteen"), quantities
that are sometimes missing, and a few rows sent twice (a correction that
comes later in the file). usage: gen_data.py OUT.csv [ROWS]"""
import os
import random
import sys
import uuid

out = sys.argv[1]
os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
rnd = random.Random(2)
WORDS = {15: "fifteen", 20: "twenty", 40: "Forty", 200: "Two Hundred", 300: "three hundred",
         1250: "one thousand two hundred and fifty", 90: "Ninety"}
PRODUCTS = ["EUR/USD", "GBP/USD", "USD/JPY", "USD/CHF", "AUD/USD", "EUR/GBP"]
ids = []
with open(out, "w") as f:
    f.write("transaction_id,customer_id,transaction_date,product_id,product_name,quantity,price,tax\n")
    for i in range(1, rows + 1):
        if ids and i % 500 == 0:
            tid = ids[-7]  # a correction of a row sent earlier
        else:
            tid = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
            ids.append(tid)
        p = rnd.randrange(len(PRODUCTS))
        qty = str(rnd.randint(1, 1000)) if i % 97 else ""  # ~1% missing
        price = rnd.choice(list(WORDS)) if i % 41 == 0 else rnd.randint(1, 2000)
        price = WORDS[price] if i % 41 == 0 else "%d.%02d" % (price, rnd.randint(0, 99))
        tax = WORDS[15] if i % 53 == 0 else "%d.%02d" % (rnd.randint(0, 99), rnd.randint(0, 99))
        day = "2024-%02d-%02d" % (rnd.randint(1, 12), rnd.randint(1, 28))
        f.write("%s,%d,%s,%d,%s,%s,%s,%s\n" % (tid, rnd.randint(1, 800), day, p + 1, PRODUCTS[p], qty,
                                            '"%s"' % price if " " in price else price, tax))
