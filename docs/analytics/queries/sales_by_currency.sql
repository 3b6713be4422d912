-- Net sales and average order value per currency of the analytics facts placed from {{from}}
-- to {{to}} (inclusive, UTC days), optionally of one channel ('{{channel}}' empty for all).
-- One row per currency that has a fact in range (cancelled ones included), ordered by currency.
--   net_sales      sum(net), in minor units (a cancelled fact's net is 0)
--   non_cancelled  facts of that currency that are not cancelled
--   aov            net_sales / non_cancelled rounded half away from zero, in minor units;
--                  NULL when non_cancelled is 0
-- The API's netSales lists the currencies whose net_sales is not 0, its aov those whose aov is
-- not NULL.
-- Integer division is written (a - a % b) / b: exact in Trino (BIGINT / BIGINT truncates) and in
-- DuckDB ('/' gives a DOUBLE, here of an exact multiple, exact below 2^53), then CAST to BIGINT.
-- Runs unchanged in Athena (Trino) and DuckDB over the view oms_items(item): see ../README.md.
WITH facts AS (
    SELECT
        item.currency.S AS currency,
        CAST(item.net.N AS BIGINT) AS net,
        CASE WHEN item.cancelled.BOOL THEN 0 ELSE 1 END AS is_kept
    FROM oms_items
    WHERE item.entity.S = 'analytics_fact'
      AND item.day.S BETWEEN '{{from}}' AND '{{to}}'
      AND ('{{channel}}' = '' OR item.channel.S = '{{channel}}')
),
per_currency AS (
    SELECT currency, COALESCE(SUM(net), 0) AS net_sales, SUM(is_kept) AS non_cancelled
    FROM facts
    GROUP BY currency
),
halves AS (
    -- aov = sign(net) * floor((2 * |net| + n) / (2 * n))
    SELECT currency, net_sales, non_cancelled,
           2 * ABS(net_sales) + non_cancelled AS numerator,
           2 * non_cancelled AS denominator
    FROM per_currency
)
SELECT
    currency,
    net_sales,
    non_cancelled,
    CASE WHEN non_cancelled = 0 THEN NULL
         WHEN net_sales < 0
         THEN -CAST((numerator - numerator % denominator) / denominator AS BIGINT)
         ELSE CAST((numerator - numerator % denominator) / denominator AS BIGINT) END AS aov
FROM halves
ORDER BY currency
