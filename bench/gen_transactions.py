#!/usr/bin/env python3
"""Deterministic customer transactions CSV for the load benchmark and tests.

usage: gen_transactions.py ROWS DIRTY_PERCENT OUT.csv [--good GOOD.tsv]

Columns: transaction_id, reference, customer_id, product, quantity, price, tax,
currency, transaction_date (about 100 bytes a row). With DIRTY_PERCENT > 0 that share of the rows breaks the
contract in bench/transactions.yml (a date that is not one, a price that is not
a number, a missing quantity, an unknown currency). --good writes the good rows
as PostgreSQL prints them (tab-separated, sorted), for checksums.
"""
import random
import sys

PRODUCTS = ["EURUSD spot", "GBPUSD spot", "USDJPY forward", "EURCHF swap", "AUDUSD option",
            "USDCAD spot", "NZDUSD forward", "EURGBP, spot", 'USD "index" basket']
CURRENCIES = ["EUR", "USD", "GBP", "JPY", "CHF"]


def main():
    args = sys.argv[1:]
    good_path = None
    if "--good" in args:
        i = args.index("--good")
        good_path = args[i + 1]
        del args[i:i + 2]
    rows, dirty, out = int(args[0]), float(args[1]), args[2]
    rnd = random.Random(20260101)
    good = []
    every = int(100 / dirty) if dirty > 0 else 0
    with open(out, "w", newline="") as f:
        f.write("transaction_id,reference,customer_id,product,quantity,price,tax,currency,transaction_date\n")
        for i in range(1, rows + 1):
            ref = "REF-%024x" % rnd.getrandbits(96)
            cust = rnd.randint(1, 50000)
            prod = PRODUCTS[rnd.randrange(len(PRODUCTS))]
            qty = str(rnd.randint(1, 500))
            price = "%d.%02d" % (rnd.randint(1, 9999), rnd.randint(0, 99))
            tax = "%d.%02d" % (rnd.randint(0, 999), rnd.randint(0, 99))
            cur = CURRENCIES[rnd.randrange(len(CURRENCIES))]
            day = "2025-%02d-%02dT%02d:%02d:%02dZ" % (rnd.randint(1, 12), rnd.randint(1, 28),
                                                    rnd.randint(0, 23), rnd.randint(0, 59), rnd.randint(0, 59))
            bad = every and i % every == every // 2
            if bad:
                kind = (i // every) % 4
                if kind == 0:
                    day = day.replace("-", "/", 1)
                elif kind == 1:
                    price = "lots"
                elif kind == 2:
                    qty = ""
                else:
                    cur = "XXX"
            q = '"%s"' % prod.replace('"', '""') if ("," in prod or '"' in prod) else prod
            f.write("%d,%s,%d,%s,%s,%s,%s,%s,%s\n" % (i, ref, cust, q, qty, price, tax, cur, day))
            if not bad and good_path:
                ts = day.replace("T", " ").replace("Z", "+00")
                good.append("%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s" % (i, ref, cust, prod, qty, price, tax, cur, ts))
    if good_path:
        good.sort()
        with open(good_path, "w") as g:
            for line in good:
                g.write(line + "\n")


if __name__ == "__main__":
    main()
