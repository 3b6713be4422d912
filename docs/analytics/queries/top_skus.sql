-- Top 10 SKUs by units of the analytics facts placed from {{from}} to {{to}} (inclusive, UTC
-- days), optionally of one channel ('{{channel}}' empty for all): units per SKU summed over the
-- facts' skus maps (a cancelled fact's map is empty or absent), SKUs whose units add up to 0
-- left out, ordered by units descending, then SKU ascending.
-- One form for both engines: UNNEST the map's keys and look each value up by its key.
-- (Trino's UNNEST(map) gives two columns and DuckDB's UNNEST takes only a list; Trino spreads a
-- list of rows from map_entries into columns where DuckDB keeps one struct column.)
-- Runs unchanged in Athena (Trino) and DuckDB over the view oms_items(item): see ../README.md.
WITH facts AS (
    SELECT item
    FROM oms_items
    WHERE item.entity.S = 'analytics_fact'
      AND item.day.S BETWEEN '{{from}}' AND '{{to}}'
      AND ('{{channel}}' = '' OR item.channel.S = '{{channel}}')
),
lines AS (
    SELECT t.sku AS sku, CAST(f.item.skus.M[t.sku].N AS BIGINT) AS qty
    FROM facts AS f
    CROSS JOIN UNNEST(map_keys(f.item.skus.M)) AS t (sku)
)
SELECT sku, SUM(qty) AS units
FROM lines
GROUP BY sku
HAVING SUM(qty) <> 0
ORDER BY units DESC, sku ASC
LIMIT 10
