-- Summary figures of the analytics facts placed from {{from}} to {{to}} (inclusive, UTC days),
-- optionally of one channel ('{{channel}}' left empty for all): one row.
--   orders        facts in range, cancelled included
--   cancelled     facts with cancelled true
--   units         sum(units)
--   returns       facts with returned true;  return_rate = returns / non-cancelled facts
--   accurate      facts with accurate true;  accuracy = accurate / non-cancelled facts
--   delivered     facts with deliveredMinutes present
--   on_time       facts with onTime true;    on_time_rate = on_time / delivered
-- A rate whose denominator is 0 is NULL.
-- Runs unchanged in Athena (Trino) and DuckDB over the view oms_items(item): see ../README.md.
WITH facts AS (
    SELECT
        CASE WHEN item.cancelled.BOOL THEN 1 ELSE 0 END AS is_cancelled,
        CAST(item.units.N AS BIGINT) AS units,
        CASE WHEN item.returned.BOOL THEN 1 ELSE 0 END AS is_returned,
        CASE WHEN item.accurate.BOOL THEN 1 ELSE 0 END AS is_accurate,
        CASE WHEN item.deliveredMinutes.N IS NOT NULL THEN 1 ELSE 0 END AS is_delivered,
        CASE WHEN item.onTime.BOOL THEN 1 ELSE 0 END AS is_on_time
    FROM oms_items
    WHERE item.entity.S = 'analytics_fact'
      AND item.day.S BETWEEN '{{from}}' AND '{{to}}'
      AND ('{{channel}}' = '' OR item.channel.S = '{{channel}}')
),
totals AS (
    SELECT
        COUNT(*) AS orders,
        COALESCE(SUM(is_cancelled), 0) AS cancelled,
        COALESCE(SUM(units), 0) AS units,
        COALESCE(SUM(is_returned), 0) AS returns,
        COALESCE(SUM(is_accurate), 0) AS accurate,
        COALESCE(SUM(is_delivered), 0) AS delivered,
        COALESCE(SUM(is_on_time), 0) AS on_time
    FROM facts
)
SELECT
    orders,
    cancelled,
    units,
    returns,
    CASE WHEN orders - cancelled > 0
         THEN CAST(returns AS DOUBLE) / CAST(orders - cancelled AS DOUBLE) END AS return_rate,
    accurate,
    CASE WHEN orders - cancelled > 0
         THEN CAST(accurate AS DOUBLE) / CAST(orders - cancelled AS DOUBLE) END AS accuracy,
    delivered,
    on_time,
    CASE WHEN delivered > 0
         THEN CAST(on_time AS DOUBLE) / CAST(delivered AS DOUBLE) END AS on_time_rate
FROM totals
