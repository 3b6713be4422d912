-- Fulfillment times of the analytics facts placed from {{from}} to {{to}} (inclusive, UTC days),
-- optionally of one channel ('{{channel}}' empty for all): one row per metric,
--   readyToShip  over rtsMinutes       (facts that reached ready to ship)
--   delivered    over deliveredMinutes (facts that were delivered)
-- with n (how many facts have the value) and p50_minutes / p90_minutes:
--   each value falls in the first bucket whose upper bound (minutes) is >= the value, from the ladder
--   1, 5, 15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 7200, 10080, 20160, 43200
--   (a value above 43200 falls in the last bucket); pXX is the upper bound of the bucket holding the
--   k-th smallest value, k = ceil(XX/100 * n); NULL when n is 0.
-- "The bucket holding the k-th smallest value" is the first bucket whose running count reaches k,
-- and running >= ceil(XX * n / 100) is the same as running * 100 >= XX * n for integers: no float.
-- Runs unchanged in Athena (Trino) and DuckDB over the view oms_items(item): see ../README.md.
WITH facts AS (
    SELECT item
    FROM oms_items
    WHERE item.entity.S = 'analytics_fact'
      AND item.day.S BETWEEN '{{from}}' AND '{{to}}'
      AND ('{{channel}}' = '' OR item.channel.S = '{{channel}}')
),
durations AS (
    SELECT 'readyToShip' AS metric, CAST(item.rtsMinutes.N AS DOUBLE) AS minutes
    FROM facts
    WHERE item.rtsMinutes.N IS NOT NULL
    UNION ALL
    SELECT 'delivered' AS metric, CAST(item.deliveredMinutes.N AS DOUBLE) AS minutes
    FROM facts
    WHERE item.deliveredMinutes.N IS NOT NULL
),
bucketed AS (
    SELECT
        metric,
        CASE
            WHEN minutes <= 1 THEN 1
            WHEN minutes <= 5 THEN 5
            WHEN minutes <= 15 THEN 15
            WHEN minutes <= 30 THEN 30
            WHEN minutes <= 60 THEN 60
            WHEN minutes <= 120 THEN 120
            WHEN minutes <= 240 THEN 240
            WHEN minutes <= 480 THEN 480
            WHEN minutes <= 720 THEN 720
            WHEN minutes <= 1440 THEN 1440
            WHEN minutes <= 2880 THEN 2880
            WHEN minutes <= 4320 THEN 4320
            WHEN minutes <= 7200 THEN 7200
            WHEN minutes <= 10080 THEN 10080
            WHEN minutes <= 20160 THEN 20160
            ELSE 43200
        END AS bucket
    FROM durations
),
per_bucket AS (
    SELECT metric, bucket, COUNT(*) AS in_bucket
    FROM bucketed
    GROUP BY metric, bucket
),
running AS (
    SELECT
        metric,
        bucket,
        SUM(in_bucket) OVER (PARTITION BY metric ORDER BY bucket
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running_count,
        SUM(in_bucket) OVER (PARTITION BY metric) AS total_count
    FROM per_bucket
),
metrics AS (
    SELECT 'readyToShip' AS metric
    UNION ALL
    SELECT 'delivered' AS metric
)
SELECT
    m.metric,
    CAST(COALESCE(MAX(r.total_count), 0) AS BIGINT) AS n,
    MIN(CASE WHEN r.running_count * 100 >= r.total_count * 50 THEN r.bucket END) AS p50_minutes,
    MIN(CASE WHEN r.running_count * 100 >= r.total_count * 90 THEN r.bucket END) AS p90_minutes
FROM metrics AS m
LEFT JOIN running AS r ON r.metric = m.metric
GROUP BY m.metric
ORDER BY m.metric
