#!/usr/bin/env bash
# Creates the PostgreSQL role and database SensorHub daemons share (README: Outgrowing one
# machine). Run on the database host as a user that may run psql as the postgres superuser:
#   sudo -u postgres deploy/postgres-setup.sh [DATABASE] [ROLE]
# It asks for the role's password (or takes SENSORHUB_DB_PASSWORD) and prints the URL to put
# in store.url. The daemons create and migrate their tables themselves at their first start
# (under an advisory lock, so several may start at once); the role owns what it creates.
set -euo pipefail

database="${1:-sensorhub}"
role="${2:-sensorhub}"
password="${SENSORHUB_DB_PASSWORD:-}"
if [ -z "$password" ]; then
    read -r -s -p "password for role $role: " password
    echo
fi
[ -n "$password" ] || { echo "postgres-setup: an empty password is refused" >&2; exit 1; }

# The password goes to psql through its environment (\getenv, psql 15), not its argument
# list, which every local user can read in ps. The server receives it in ALTER ROLE: if it
# logs DDL statements (log_statement = ddl or all), set the password with psql's
# \password instead.
export SENSORHUB_DB_PASSWORD="$password"
psql -v ON_ERROR_STOP=1 -v role="$role" -v database="$database" <<'SQL'
\getenv password SENSORHUB_DB_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', :'role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'role', :'password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'role')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'database') \gexec
SELECT format('GRANT CONNECT, CREATE, TEMPORARY ON DATABASE %I TO %I', :'database', :'role') \gexec
\connect :database
SELECT format('GRANT USAGE, CREATE ON SCHEMA public TO %I', :'role') \gexec
SQL

host="$(hostname -f 2>/dev/null || hostname)"
echo "store.url: postgres://$role:<password>@$host:5432/$database   (add ?sslmode=verify-full over an untrusted network)"
echo "Readers (Grafana, psql) can be given SELECT on the tables once a daemon created them:"
echo "  GRANT SELECT ON ALL TABLES IN SCHEMA public TO grafana;"
