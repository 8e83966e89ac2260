#!/usr/bin/env python3
"""Deterministic customer transactions like the forex source file: prices and
taxes that are sometimes number words ("Two Hundred", "fifteen"), quantities
that are sometimes missing, and a few rows sent twice (a correction that
comes later in the file).

usage: gen_data.py OUT.csv [ROWS]
    the file pipelines/customer_transactions.yml loads (20000 rows by default)
usage: gen_data.py --batch N OUT.csv [ROWS]
    batch N of the lake feed pipelines/medallion.yml loads: ROWS new
    transactions (3000 by default) with the customer's name, e-mail, phone,
    country and city as the OLTP system sends them (stray spaces, odd case,
    a customer id that is sometimes missing), and, from batch 2 on,
    corrections of transactions sent in earlier batches (a quantity that was
    missing, a price or a quantity that changed). A customer who moves sends
    the new city and phone from that batch on. Batch N is the same file
    whatever was generated before: earlier batches are recomputed, not read."""
import os
import random
import sys
import uuid

WORDS = {15: "fifteen", 20: "twenty", 40: "Forty", 200: "Two Hundred", 300: "three hundred",
         1250: "one thousand two hundred and fifty", 90: "Ninety"}
PRODUCTS = ["EUR/USD", "GBP/USD", "USD/JPY", "USD/CHF", "AUD/USD", "EUR/GBP"]


def single_file(out, rows):
    """The file of the load example, unchanged since it was written."""
    rnd = random.Random(2)
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


# ---- the lake feed: batches -------------------------------------------------

CUSTOMERS = 400
FIRST = ["Marcelo", "Ana", "Lucia", "John", "Wei", "Fatima", "Olga", "Pedro", "Sara", "Ken",
         "Amara", "Luis", "Ingrid", "Omar", "Chloe", "Ravi", "Mei", "Tom", "Nadia", "Hugo"]
LAST = ["Gonzalez", "Smith", "Chen", "Okafor", "Ivanova", "Silva", "Haddad", "Kowalski",
        "Nakamura", "Dubois", "Larsen", "Rossi", "Mensah", "Patel", "Garcia", "Novak"]
CITIES = {"Spain": ["Madrid", "Barcelona", "Valencia", "Sevilla"],
          "United Kingdom": ["London", "Manchester", "Leeds", "Bristol"],
          "Japan": ["Tokyo", "Osaka", "Nagoya"],
          "Switzerland": ["Zurich", "Geneva", "Basel"],
          "Australia": ["Sydney", "Melbourne", "Perth"]}
HEADER = ("transaction_id,customer_id,transaction_date,product_id,product_name,quantity,price,tax,"
          "customer_first_name,customer_last_name,customer_email,customer_phone,customer_country,customer_city")


def customer(c, batch):
    """Customer c as the OLTP system knows it when batch is sent: the name,
    e-mail and country never change; city and phone change when they move
    (in the batches b where (c + b) % 23 == 0)."""
    r = random.Random(c * 7919)
    first, last = r.choice(FIRST), r.choice(LAST)
    country = sorted(CITIES)[r.randrange(len(CITIES))]
    moved = max([1] + [b for b in range(2, batch + 1) if (c + b) % 23 == 0])
    m = random.Random(c * 31 + moved)
    city = m.choice(CITIES[country])
    phone = "+%d %03d %03d %03d" % (m.randint(30, 99), m.randint(0, 999), m.randint(0, 999), m.randint(0, 999))
    return {"id": c, "first": first, "last": last, "email": "%s.%s.%d@example.com" % (first, last, c),
            "phone": phone, "country": country, "city": city}


def dirty(rnd, text, kind):
    """How the OLTP system sends a value: sometimes with spaces around it or
    in another case (silver trims it and sets the case)."""
    x = rnd.random()
    if x < 0.05:
        text = "  %s " % text
    elif x < 0.08:
        text = text.upper()
    elif x < 0.10 and kind == "name":
        text = text.lower()
    return text


def money(rnd, words_every, i, big):
    if i % words_every == 0:
        return WORDS[rnd.choice(sorted(WORDS))] if big else WORDS[15]
    return "%d.%02d" % (rnd.randint(1, 2000) if big else rnd.randint(0, 99), rnd.randint(0, 99))


def transaction(rnd, tid, batch, i):
    c = customer(rnd.randint(1, CUSTOMERS), batch)
    p = rnd.randrange(len(PRODUCTS))
    return {"tid": tid, "c": c, "cid": "" if i % 89 == 0 else str(c["id"]),
            "day": "2024-%02d-%02d" % (rnd.randint(1, 12), rnd.randint(1, 28)),
            "p": p, "qty": str(rnd.randint(1, 1000)) if i % 97 else "",
            "price": money(rnd, 41, i, True), "tax": money(rnd, 53, i, False)}


def csv_field(s):
    return '"%s"' % s.replace('"', '""') if ("," in s or " " in s or '"' in s) else s


def batch_rows(batch, rows, earlier):
    """The rows of one batch, in file order. earlier: the final rows of the
    batches before, by transaction id (the rows corrections pick from)."""
    rnd = random.Random(1000 + batch)
    out = []
    fresh = []
    old = sorted(earlier)  # in a fixed order, whatever the dict's history
    for i in range(1, rows + 1):
        t = transaction(rnd, str(uuid.UUID(int=rnd.getrandbits(128), version=4)), batch, i)
        out.append(t)
        fresh.append(t)
        if i % 500 == 0:
            # sent again later in the same file with another quantity: the
            # load keeps the last one (the first is "superseded")
            again = dict(fresh[-7], qty=str(rnd.randint(1, 1000)))
            out.append(again)
        if old and i % 40 == 0:
            # a correction of an earlier batch's row: a missing quantity
            # filled in, else a new price; the customer as of this batch
            prev = earlier[old[rnd.randrange(len(old))]]
            fix = dict(prev, c=customer(prev["c"]["id"], batch))
            if not fix["qty"]:
                fix["qty"] = str(rnd.randint(1, 1000))
            else:
                fix["price"] = "%d.%02d" % (rnd.randint(1, 2000), rnd.randint(0, 99))
            out.append(fix)
    return out


def lake_batch(batch, out, rows):
    final = {}
    for b in range(1, batch):
        for t in batch_rows(b, rows, final):
            final[t["tid"]] = t
    with open(out, "w") as f:
        f.write(HEADER + "\n")
        for t in batch_rows(batch, rows, final):
            # the row's own generator decides how dirty its text is
            d = random.Random(t["tid"] + str(batch))
            c = t["c"]
            f.write(",".join([t["tid"], t["cid"], t["day"], str(t["p"] + 1), PRODUCTS[t["p"]], t["qty"],
                              csv_field(t["price"]), csv_field(t["tax"]),
                              csv_field(dirty(d, c["first"], "name")), csv_field(dirty(d, c["last"], "name")),
                              csv_field(dirty(d, c["email"], "email")), csv_field(c["phone"]),
                              csv_field(c["country"]), csv_field(c["city"])]) + "\n")


def main(argv):
    batch = None
    if len(argv) > 1 and argv[1] == "--batch":
        batch = int(argv[2])
        argv = argv[:1] + argv[3:]
    if len(argv) < 2:
        sys.exit(__doc__)
    out = argv[1]
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    if batch is None:
        single_file(out, int(argv[2]) if len(argv) > 2 else 20000)
    else:
        lake_batch(batch, out, int(argv[2]) if len(argv) > 2 else 3000)


if __name__ == "__main__":
    main(sys.argv)
