SELECT 1 AS one, 'kiln' AS name, 2.5 * 2 AS product, NULL AS nothing;
----
one | name | product | nothing
1 | kiln | 5.0 | NULL

SELECT current_user() AS who, current_catalog() AS cat, current_schema() AS sch;
----
who | cat | sch
admin@kiln.local | main | default

CREATE TABLE orders (id BIGINT NOT NULL, customer STRING, amount DECIMAL(10,2), placed DATE) USING DELTA COMMENT 'orders';
----
ok

CREATE TABLE main.default.customers (name STRING, region STRING);
----
ok

INSERT INTO orders VALUES (1, 'ann', 10.50, DATE '2024-01-01'), (2, 'bob', 20.00, DATE '2024-01-02'), (3, 'ann', 5.25, DATE '2024-01-03');
----
num_affected_rows | num_inserted_rows
3 | 3

INSERT INTO customers VALUES ('ann', 'north'), ('bob', 'south'), ('cyd', 'north');
----
num_affected_rows | num_inserted_rows
3 | 3

SELECT ID, Customer FROM ORDERS ORDER BY id;
----
id | customer
1 | ann
2 | bob
3 | ann

SELECT c.region, count(*) AS n, sum(o.amount) AS total FROM main.default.orders o JOIN customers c ON o.customer = c.name GROUP BY c.region ORDER BY c.region;
----
region | n | total
north | 2 | 15.75
south | 1 | 20.00

WITH big AS (SELECT * FROM orders WHERE amount > 6) SELECT customer, amount FROM big ORDER BY amount DESC;
----
customer | amount
bob | 20.00
ann | 10.50

SELECT customer, amount, rank() OVER (PARTITION BY customer ORDER BY amount DESC) AS r FROM orders ORDER BY customer, r;
----
customer | amount | r
ann | 10.50 | 1
ann | 5.25 | 2
bob | 20.00 | 1

SELECT name FROM customers WHERE name NOT IN (SELECT customer FROM orders);
----
name
cyd

SELECT * FROM main.default.missing;
----
error: [TABLE_OR_VIEW_NOT_FOUND] The table or view `main`.`default`.`missing` cannot be found. Verify the spelling and correctness of the schema and catalog. SQLSTATE: 42P01

SELECT nope FROM orders;
----
error: [ANALYSIS_ERROR] No field named nope. Valid fields are orders.id, orders.customer, orders.amount, orders.placed. SQLSTATE: 42000

SELECT 1; SELECT 2;
----
error: [PARSE_SYNTAX_ERROR] Syntax error at or near 'SELECT': only one statement may be run at a time. SQLSTATE: 42601

