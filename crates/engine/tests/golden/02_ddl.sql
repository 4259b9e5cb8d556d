CREATE CATALOG sales COMMENT 'sales data';
----
ok

CREATE CATALOG sales;
----
error: [CATALOG_ALREADY_EXISTS] Catalog 'sales' already exists. SQLSTATE: 42P04

CREATE CATALOG IF NOT EXISTS sales;
----
ok

CREATE SCHEMA sales.raw COMMENT 'landing';
----
ok

CREATE TABLE sales.raw.events (id INT, kind STRING COMMENT 'what happened', at TIMESTAMP) PARTITIONED BY (kind) TBLPROPERTIES ('team' = 'data');
----
ok

DESCRIBE TABLE sales.raw.events;
----
col_name | data_type | comment
id | int | NULL
kind | string | what happened
at | timestamp | NULL
# Partition Information |  | 
# col_name | data_type | comment
kind | string | what happened

SHOW TABLES IN sales.raw;
----
database | tableName | isTemporary
raw | events | false

SHOW SCHEMAS IN sales;
----
databaseName
raw

SHOW CATALOGS;
----
catalog
main
sales

SHOW COLUMNS IN sales.raw.events;
----
col_name
id
kind
at

CREATE TABLE sales.raw.copy AS SELECT id, upper(kind) AS kind FROM sales.raw.events;
----
ok

DESCRIBE sales.raw.copy;
----
col_name | data_type | comment
id | int | NULL
kind | string | NULL

CREATE OR REPLACE TABLE sales.raw.copy (x INT);
----
ok

DESCRIBE sales.raw.copy;
----
col_name | data_type | comment
x | int | NULL

CREATE VOLUME sales.raw.files;
----
ok

SHOW VOLUMES IN sales.raw;
----
database | volume_name
raw | files

DROP TABLE sales.raw.copy;
----
ok

DROP TABLE sales.raw.copy;
----
error: [TABLE_OR_VIEW_NOT_FOUND] Table 'sales.raw.copy' does not exist. SQLSTATE: 42P01

DROP TABLE IF EXISTS sales.raw.copy;
----
ok

DROP SCHEMA sales.raw;
----
error: [SCHEMA_NOT_EMPTY] Schema 'sales.raw' is not empty: drop its tables, volumes and functions first, or pass force=true. SQLSTATE: 2BP01

DROP CATALOG sales CASCADE;
----
ok

SHOW CATALOGS;
----
catalog
main

CREATE TABLE bad (x NOTATYPE);
----
error: [INVALID_PARAMETER_VALUE] column 'x': unknown type 'notatype' SQLSTATE: 22023

CREATE TABLE bad (x INT) USING PARQUET;
----
error: [PARSE_SYNTAX_ERROR] Syntax error: USING PARQUET: Kiln tables are Delta tables; use USING DELTA or leave it out. SQLSTATE: 42601

