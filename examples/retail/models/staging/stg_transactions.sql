select invoiceno as invoice_no,
       stockcode as stock_code,
       description,
       quantity,
       invoicedate as invoice_date,
       unitprice as unit_price,
       customerid as customer_id,
       country,
       invoiceno like 'C%' as is_cancellation,
       load_timestamp
from {{ source('shop', 'transactions') }}
