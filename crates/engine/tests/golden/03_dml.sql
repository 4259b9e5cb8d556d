CREATE TABLE stock (sku STRING, qty INT);
----
ok

INSERT INTO stock VALUES ('a', 1), ('b', 2), ('c', 3);
----
num_affected_rows | num_inserted_rows
3 | 3

UPDATE stock SET qty = qty + 10 WHERE sku = 'b';
----
num_affected_rows
1

DELETE FROM stock WHERE qty < 2;
----
num_affected_rows
1

SELECT * FROM stock ORDER BY sku;
----
sku | qty
b | 12
c | 3

SELECT * FROM stock VERSION AS OF 1 ORDER BY sku;
----
sku | qty
a | 1
b | 2
c | 3

SELECT count(*) AS n FROM stock VERSION AS OF 0;
----
n
0

SELECT * FROM stock VERSION AS OF 99;
----
error: [DELTA_TIME_TRAVEL_OUT_OF_RANGE] Cannot time travel Delta table to version 99. Available versions: [0, 3]. SQLSTATE: 22003

INSERT OVERWRITE stock SELECT 'z' AS sku, 0 AS qty;
----
num_affected_rows | num_inserted_rows
1 | 1

SELECT * FROM stock;
----
sku | qty
z | 0

SELECT 1 AS Version, 'x' AS opName;
----
Version | opName
1 | x

