-- Hires of 2021 (UTC) per department and job, a column per quarter. Names
-- are ordered by their code points (collate "C"), whatever the database's
-- collation, so the order is the same everywhere.
select d.department_name as "Department",
       j.job_name as "Job",
       count(*) filter (where extract(quarter from e.hiring_date at time zone 'UTC') = 1) as "Q1",
       count(*) filter (where extract(quarter from e.hiring_date at time zone 'UTC') = 2) as "Q2",
       count(*) filter (where extract(quarter from e.hiring_date at time zone 'UTC') = 3) as "Q3",
       count(*) filter (where extract(quarter from e.hiring_date at time zone 'UTC') = 4) as "Q4"
from employees e
join departments d on d.department_id = e.department_id
join jobs j on j.job_id = e.job_id
where e.hiring_date >= timestamptz '2021-01-01 00:00:00+00'
  and e.hiring_date < timestamptz '2022-01-01 00:00:00+00'
group by d.department_name, j.job_name
order by d.department_name collate "C", j.job_name collate "C"
