-- A customer's country as their latest invoice gives it.
select distinct on (customer_id)
       customer_id,
       country,
       max(invoice_date) over (partition by customer_id) as last_invoice_at
from {{ ref('stg_transactions') }}
where customer_id is not null
{%- if is_incremental() %}
  and invoice_date > (select max(last_invoice_at) from {{ this }})
{%- endif %}
order by customer_id, invoice_date desc, invoice_no desc
