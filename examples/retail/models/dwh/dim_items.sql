-- Each item as its latest invoice line sells it, with the first time that
-- version (description and price) was sold: the snapshot keeps every
-- version it has seen, valid from that time. The id is the seed's: the md5
-- of stock_code|description|unit_price, so a transaction line can name the
-- version it sold without a lookup.
with lines as (
    select stock_code, description, unit_price, invoice_date, invoice_no
    from {{ ref('stg_transactions') }}
),
latest as (
    select distinct on (stock_code) stock_code, description, unit_price
    from lines
    order by stock_code, invoice_date desc, invoice_no desc
)
select md5(l.stock_code || '|' || coalesce(l.description, '') || '|' || l.unit_price::text) as id,
       l.stock_code,
       l.description,
       l.unit_price,
       min(x.invoice_date) as first_sold_at
from latest l
join lines x on x.stock_code = l.stock_code
            and x.description is not distinct from l.description
            and x.unit_price = l.unit_price
group by l.stock_code, l.description, l.unit_price
