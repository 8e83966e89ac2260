-- Incremental by invoice date: a run takes the lines from the latest
-- invoice date it already has on (that day's late lines included) and
-- merges them on (invoice_no, stock_code).
select invoice_no,
       stock_code,
       md5(stock_code || '|' || coalesce(description, '') || '|' || unit_price::text) as item_id,
       customer_id,
       invoice_date,
       quantity,
       unit_price,
       quantity * unit_price as amount,
       is_cancellation
from {{ ref('stg_transactions') }}
{%- if is_incremental() %}
where invoice_date >= (select max(invoice_date) from {{ this }})
{%- endif %}
