select c.country,
       count(distinct c.customer_email) as customers,
       count(*) as transactions,
       sum(f.amount) as amount
from {{ ref('fct_transactions') }} f
join {{ ref('dim_customers') }} c using (customer_email)
group by c.country
