-- Orders per UTC placement day of the analytics facts placed from {{from}} to {{to}} (inclusive),
-- optionally of one channel ('{{channel}}' empty for all): one row per day that has a fact,
-- ordered by day (a day without orders has no row).
--   orders     facts placed that day, cancelled included
--   cancelled  facts with cancelled true
--   units      sum(units)
-- Its rows add up to summary.sql's orders, cancelled and units.
-- Runs unchanged in Athena (Trino) and DuckDB over the view oms_items(item): see ../README.md.
WITH facts AS (
    SELECT
        item.day.S AS order_day,
        CASE WHEN item.cancelled.BOOL THEN 1 ELSE 0 END AS is_cancelled,
        CAST(item.units.N AS BIGINT) AS units
    FROM oms_items
    WHERE item.entity.S = 'analytics_fact'
      AND item.day.S BETWEEN '{{from}}' AND '{{to}}'
      AND ('{{channel}}' = '' OR item.channel.S = '{{channel}}')
)
SELECT
    order_day,
    COUNT(*) AS orders,
    SUM(is_cancelled) AS cancelled,
    COALESCE(SUM(units), 0) AS units
FROM facts
GROUP BY order_day
ORDER BY order_day
