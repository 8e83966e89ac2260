select product_code,
       split_part(product_code, '/', 1) as base_currency,
       split_part(product_code, '/', 2) as quote_currency,
       max(load_timestamp) as load_timestamp
from {{ ref('slv_customer_transactions') }}
{%- if is_incremental() %}
where load_timestamp > (select max(load_timestamp) from {{ this }})
{%- endif %}
group by product_code
