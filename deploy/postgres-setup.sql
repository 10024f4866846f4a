-- The PostgreSQL roles and databases of a deployment (docs/operations.md). Run once, as PostgreSQL's superuser:
--
--   sudo -u postgres psql -v ON_ERROR_STOP=1 -v dagster_password='...' -v writer_password='...' \
--     -v metabase_password='...' -f deploy/postgres-setup.sql
--
-- Roles belong to the cluster, not to a database, so pg_dump of a database does not carry them: a restore on a
-- new server runs this file first (docs/operations.md, "Back up and restore"). tests/deploy/test_postgres_setup.py
-- runs this very file.

-- Dagster's instance: run history, schedules, the sensor's cursor. Only its owner may connect: a BI login must
-- not read the run history (REVOKE ALL takes CONNECT and TEMP away from PUBLIC, every role).
CREATE ROLE dagster LOGIN PASSWORD :'dagster_password';
CREATE DATABASE dagster OWNER dagster;
REVOKE ALL ON DATABASE dagster FROM PUBLIC;

-- The marts for BI tools (optional: publish/marts_postgres). The writer owns the database and loads it; the
-- reader role may connect and, once a load has granted it, SELECT the served schema: nothing else (no TEMP
-- tables, no CREATE anywhere).
CREATE ROLE police_writer LOGIN PASSWORD :'writer_password';
CREATE DATABASE police OWNER police_writer;
REVOKE ALL ON DATABASE police FROM PUBLIC;
CREATE ROLE police_reader NOLOGIN;
GRANT CONNECT ON DATABASE police TO police_reader;
-- one login per BI tool, each a member of the reader role
CREATE ROLE metabase LOGIN PASSWORD :'metabase_password' IN ROLE police_reader;

-- PostgreSQL 14 and older let every role create tables in the schema public of a new database; 15 and later
-- do not. Taken away here whatever the version.
\connect police
REVOKE ALL ON SCHEMA public FROM PUBLIC;
