select *
from {{ ref('slv_customer_transactions') }}
where quantity is null
