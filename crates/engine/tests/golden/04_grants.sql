CREATE CATALOG hr;
----
ok

CREATE SCHEMA hr.people;
----
ok

CREATE TABLE hr.people.salaries (name STRING, pay INT);
----
ok

INSERT INTO hr.people.salaries VALUES ('ann', 100);
----
num_affected_rows | num_inserted_rows
1 | 1

-- as bob@example.com
SELECT * FROM hr.people.salaries;
----
error: [TABLE_OR_VIEW_NOT_FOUND] The table or view `hr`.`people`.`salaries` cannot be found. Verify the spelling and correctness of the schema and catalog. SQLSTATE: 42P01

SHOW CATALOGS;
----
catalog
main

-- as admin
GRANT SELECT ON TABLE hr.people.salaries TO `bob@example.com`;
----
ok

-- as bob@example.com
SELECT * FROM hr.people.salaries;
----
error: [INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have USE CATALOG on Catalog 'hr'. SQLSTATE: 42501

-- as admin
GRANT USE CATALOG ON CATALOG hr TO `bob@example.com`;
----
ok

-- as bob@example.com
SELECT * FROM hr.people.salaries;
----
error: [INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have USE SCHEMA on Schema 'hr.people'. SQLSTATE: 42501

-- as admin
GRANT USE SCHEMA ON SCHEMA hr.people TO `bob@example.com`;
----
ok

-- as bob@example.com
SELECT * FROM hr.people.salaries;
----
name | pay
ann | 100

INSERT INTO hr.people.salaries VALUES ('bob', 1000000);
----
error: [INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have MODIFY on Table 'hr.people.salaries'. SQLSTATE: 42501

DELETE FROM hr.people.salaries;
----
error: [INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have MODIFY on Table 'hr.people.salaries'. SQLSTATE: 42501

GRANT SELECT ON TABLE hr.people.salaries TO `admin@kiln.local`;
----
error: [INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have MANAGE on Table 'hr.people.salaries'. SQLSTATE: 42501

CREATE TABLE hr.people.mine (x INT);
----
error: [INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have CREATE TABLE on Schema 'hr.people'. SQLSTATE: 42501

SHOW TABLES IN hr.people;
----
database | tableName | isTemporary
people | salaries | false

SHOW GRANTS ON TABLE hr.people.salaries;
----
Principal | ActionType | ObjectType | ObjectKey
bob@example.com | USE CATALOG | CATALOG | hr
bob@example.com | USE SCHEMA | SCHEMA | hr.people
bob@example.com | SELECT | TABLE | hr.people.salaries

-- as admin
GRANT MODIFY ON SCHEMA hr.people TO `bob@example.com`;
----
ok

-- as bob@example.com
INSERT INTO hr.people.salaries VALUES ('bob', 1);
----
num_affected_rows | num_inserted_rows
1 | 1

-- as admin
REVOKE SELECT ON TABLE hr.people.salaries FROM `bob@example.com`;
----
ok

-- as bob@example.com
SELECT * FROM hr.people.salaries;
----
error: [INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have SELECT on Table 'hr.people.salaries'. SQLSTATE: 42501

CREATE TABLE main.default.bobs (x INT);
----
ok

INSERT INTO main.default.bobs VALUES (7);
----
num_affected_rows | num_inserted_rows
1 | 1

-- as carol@example.com
SELECT * FROM main.default.bobs;
----
error: [INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have SELECT on Table 'main.default.bobs'. SQLSTATE: 42501

-- as admin
SELECT * FROM main.default.bobs;
----
error: [INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have SELECT on Table 'main.default.bobs'. SQLSTATE: 42501

