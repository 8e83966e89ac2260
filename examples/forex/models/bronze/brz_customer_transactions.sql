select transaction_id, customer_id, transaction_date, product_id, product_name, quantity, price, tax,
       customer_first_name, customer_last_name, customer_email, customer_phone, customer_country,
       customer_city, load_timestamp
from {{ source('lake', 'customer_transactions') }}
