-- A customer's name, phone and address as their latest transaction gives
-- them: a row of a later load wins (its load_timestamp), then the later
-- transaction, so a customer who moved has the new city.
select distinct on (customer_email)
       customer_email,
       customer_first_name as first_name,
       customer_last_name as last_name,
       customer_phone as phone,
       customer_country as country,
       customer_city as city,
       load_timestamp
from {{ ref('slv_customer_transactions') }}
{%- if is_incremental() %}
where load_timestamp > (select max(load_timestamp) from {{ this }})
{%- endif %}
order by customer_email, load_timestamp desc, transaction_date desc, transaction_id desc
