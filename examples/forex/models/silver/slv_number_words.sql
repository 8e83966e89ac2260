-- How PostgreSQL reads a number out (cash_words), without the currency:
-- 250 -> "two hundred fifty". The seed's Word2Number lookup, as a model.
select n::numeric(12,2) as value,
       lower(regexp_replace(cash_words(n::numeric::money), ' dollars? and .*$', '')) as words
from generate_series(0, 99999) as n
