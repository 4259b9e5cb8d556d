-- as bob@example.com
SELECT current_user() AS me;
----
me
bob@example.com

-- as admin
CREATE CATALOG shop;
----
ok

CREATE SCHEMA shop.sales;
----
ok

CREATE TABLE shop.sales.orders (id INT, owner STRING, amount DECIMAL(10,2));
----
ok

INSERT INTO shop.sales.orders VALUES (1, 'bob@example.com', 10.00), (2, 'ann@example.com', 99.50);
----
num_affected_rows | num_inserted_rows
2 | 2

CREATE VIEW shop.sales.my_orders AS SELECT id, amount FROM shop.sales.orders WHERE owner = current_user();
----
ok

CREATE FUNCTION shop.sales.with_vat(amount DECIMAL(10,2)) RETURNS DECIMAL(12,2) RETURN amount * 1.25;
----
ok

GRANT USE CATALOG ON CATALOG shop TO `bob@example.com`;
----
ok

GRANT USE SCHEMA ON SCHEMA shop.sales TO `bob@example.com`;
----
ok

-- as bob@example.com
SELECT * FROM shop.sales.my_orders;
----
error: [INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have SELECT on Table 'shop.sales.my_orders'. SQLSTATE: 42501

-- as admin
GRANT SELECT ON VIEW shop.sales.my_orders TO `bob@example.com`;
----
ok

-- as bob@example.com
SELECT * FROM shop.sales.my_orders;
----
id | amount
1 | 10.00

SELECT * FROM shop.sales.orders;
----
error: [INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have SELECT on Table 'shop.sales.orders'. SQLSTATE: 42501

SELECT shop.sales.with_vat(amount) AS gross FROM shop.sales.my_orders;
----
error: [INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have EXECUTE on Function 'shop.sales.with_vat'. SQLSTATE: 42501

-- as admin
GRANT EXECUTE ON FUNCTION shop.sales.with_vat TO `bob@example.com`;
----
ok

-- as bob@example.com
SELECT shop.sales.with_vat(amount) AS gross FROM shop.sales.my_orders;
----
gross
12.50

MERGE INTO shop.sales.orders t USING (SELECT 3 AS id, 'bob@example.com' AS owner, 5.00 AS amount) s ON t.id = s.id WHEN NOT MATCHED THEN INSERT *;
----
error: [INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have MODIFY on Table 'shop.sales.orders'. SQLSTATE: 42501

-- as admin
GRANT MODIFY ON TABLE shop.sales.orders TO `bob@example.com`;
----
ok

-- as bob@example.com
MERGE INTO shop.sales.orders t USING (SELECT 3 AS id, 'bob@example.com' AS owner, 5.00 AS amount) s ON t.id = s.id WHEN NOT MATCHED THEN INSERT *;
----
error: [INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have SELECT on Table 'shop.sales.orders'. SQLSTATE: 42501

INSERT INTO shop.sales.orders VALUES (4, 'bob@example.com', 1.00);
----
num_affected_rows | num_inserted_rows
1 | 1

-- as admin
GRANT SELECT ON TABLE shop.sales.orders TO `bob@example.com`;
----
ok

-- as bob@example.com
MERGE INTO shop.sales.orders t USING (SELECT 3 AS id, 'bob@example.com' AS owner, 5.00 AS amount) s ON t.id = s.id WHEN NOT MATCHED THEN INSERT *;
----
num_affected_rows | num_updated_rows | num_deleted_rows | num_inserted_rows
1 | 0 | 0 | 1

SELECT id, amount FROM shop.sales.my_orders ORDER BY id;
----
id | amount
1 | 10.00
3 | 5.00
4 | 1.00

SELECT table_name, privilege_type FROM shop.information_schema.table_privileges ORDER BY table_name;
----
table_name | privilege_type
my_orders | SELECT
orders | MODIFY
orders | SELECT

SELECT count(*) FROM system.access.audit;
----
error: [INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have SELECT on Table 'system.access.audit'. SQLSTATE: 42501

