-- The rows without a quantity have no amount: they wait in missing_quantity
-- until a correction fills them in, and come in here with it.
select transaction_id,
       transaction_date,
       customer_email,
       product_code,
       quantity,
       price,
       tax,
       quantity * price as amount,
       load_timestamp
from {{ ref('slv_customer_transactions') }}
where quantity is not null
{%- if is_incremental() %}
  and load_timestamp > (select max(load_timestamp) from {{ this }})
{%- endif %}
