with batch as (
    select *
    from {{ ref('brz_customer_transactions') }}
{%- if is_incremental() %}
    where load_timestamp > (select max(load_timestamp) from {{ this }})
{%- endif %}
),
-- a price or tax as sent: a number, or number words as people write them
-- ("one thousand two hundred and fifty", "Forty-two")
read as (
    select b.*,
           case when btrim(price) ~ '^-?[0-9]+(\.[0-9]+)?$' then btrim(price)::numeric(12,2) end as price_number,
           regexp_replace(replace(lower(btrim(price)), ' and ', ' '), '[[:space:]-]+', ' ', 'g') as price_words,
           case when btrim(tax) ~ '^-?[0-9]+(\.[0-9]+)?$' then btrim(tax)::numeric(12,2) end as tax_number,
           regexp_replace(replace(lower(btrim(tax)), ' and ', ' '), '[[:space:]-]+', ' ', 'g') as tax_words
    from batch b
)
select r.transaction_id,
       r.customer_id,
       lower(btrim(r.customer_email)) as customer_email,
       initcap(btrim(r.customer_first_name)) as customer_first_name,
       initcap(btrim(r.customer_last_name)) as customer_last_name,
       btrim(r.customer_phone) as customer_phone,
       btrim(r.customer_country) as customer_country,
       btrim(r.customer_city) as customer_city,
       r.transaction_date,
       r.product_id,
       upper(btrim(r.product_name)) as product_code,
       r.quantity,
       coalesce(r.price_number, pw.value)::numeric(12,2) as price,
       coalesce(r.tax_number, tw.value)::numeric(12,2) as tax,
       r.load_timestamp
from read r
left join {{ ref('slv_number_words') }} pw on r.price_number is null and pw.words = r.price_words
left join {{ ref('slv_number_words') }} tw on r.tax_number is null and tw.words = r.tax_words
