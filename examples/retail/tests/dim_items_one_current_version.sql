-- every item has exactly one current version
select stock_code, count(*) as current_versions
from {{ ref('dim_items') }}
where valid_to = '2099-12-31'::timestamp
group by stock_code
having count(*) <> 1
