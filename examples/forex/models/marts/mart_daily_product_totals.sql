select transaction_date,
       product_code,
       count(*) as transactions,
       sum(quantity) as quantity,
       sum(amount) as amount,
       sum(tax) as tax
from {{ ref('fct_transactions') }}
group by transaction_date, product_code
