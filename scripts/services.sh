#!/usr/bin/env bash
# Makes sure PostgreSQL (with pgvector) and Redis answer at DATABASE_ADMIN_URL,
# DATABASE_URL and REDIS_URL, starting or installing them on a local Debian
# machine when needed. Safe to run any number of times; silent but for one line
# when nothing had to change.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf '» %s\n' "$*" >&2; }
die() {
  printf 'services: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------- configuration
# Precedence: the caller's environment, then .env, then the defaults below, so a
# CI job or a one-off `DATABASE_URL=... bash scripts/services.sh` always wins.
load_dotenv() {
  local file="$ROOT/.env" line key value
  [ -f "$file" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line%$'\r'}"
    [[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=[[:space:]]*(.*)$ ]] || continue
    key="${BASH_REMATCH[2]}"
    value="${BASH_REMATCH[3]}"
    case "$key" in DATABASE_ADMIN_URL | DATABASE_URL | REDIS_URL) ;; *) continue ;; esac
    if [[ "$value" =~ ^\"(.*)\"[[:space:]]*(#.*)?$ || "$value" =~ ^\'(.*)\'[[:space:]]*(#.*)?$ ]]; then
      value="${BASH_REMATCH[1]}"
    else
      # dotenv semantics: an unquoted value ends at whitespace followed by '#'.
      value="$(sed -E 's/[[:space:]]+#.*$//; s/[[:space:]]+$//' <<<"$value")"
    fi
    [ -n "${!key:-}" ] || export "$key=$value"
  done <"$file"
}
load_dotenv
: "${DATABASE_ADMIN_URL:=postgresql://postgres@127.0.0.1:5432/hirebuddha}"
: "${DATABASE_URL:=postgresql://hirebuddha_app:hirebuddha_app@127.0.0.1:5432/hirebuddha}"
: "${REDIS_URL:=redis://127.0.0.1:6379}"

# ------------------------------------------------------------------ environment
is_debian_root() { [ -r /etc/debian_version ] && command -v apt-get >/dev/null && [ "$(id -u)" -eq 0 ]; }

no_local_install() {
  die "$1
  This script only starts or installs services on Debian as root. Elsewhere, start them with:
    docker compose up -d postgres redis
  or point DATABASE_ADMIN_URL / DATABASE_URL / REDIS_URL at servers you run."
}

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# Runs a noisy command (apt, make) with its output kept aside; shown only on failure.
# fd 9 (the lock below) is closed for it: a daemon it starts would otherwise
# inherit the lock and hold it for as long as the server runs.
quietly() {
  if ! "$@" >"$TMP/cmd.log" 2>&1 9>&-; then
    cat "$TMP/cmd.log" >&2
    die "failed: $*"
  fi
}

APT_UPDATED=0
apt_install() {
  local pkg missing=()
  # Naming an installed package would upgrade it (dpkg-dev drags dpkg along);
  # only what is absent gets installed.
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ "${#missing[@]}" -gt 0 ] || return 0
  export DEBIAN_FRONTEND=noninteractive
  if [ "$APT_UPDATED" -eq 0 ]; then
    quietly apt-get update
    APT_UPDATED=1
  fi
  quietly apt-get install -y --no-install-recommends "${missing[@]}"
}

# Parallel runs (test setup, dev script) would race on apt/dpkg locks and on
# CREATE DATABASE; one at a time is cheap because the fast path takes < 1 s.
if command -v flock >/dev/null; then
  # Per user: a root-owned lock file in /tmp would not be writable by others.
  exec 9>"${TMPDIR:-/tmp}/hirebuddha-services.$(id -u).lock"
  flock -w 300 9 || die "another scripts/services.sh has held its lock for 5 minutes"
fi

command -v node >/dev/null || die "node is needed (to parse the connection URLs)"
if ! command -v psql >/dev/null; then
  is_debian_root || die "psql is needed; install the PostgreSQL client"
  log "installing postgresql-client"
  apt_install postgresql-client
fi

# ---------------------------------------------------------------- URL parsing
# WHATWG URL parsing in node handles percent-encoding, IPv6 brackets and query
# strings. Prisma-only query parameters (schema=, connection_limit=, ...) are
# dropped because libpq rejects unknown ones. Fields come back NUL-separated.
parse_urls() {
  # The JavaScript's own ${...} template literals are meant literally.
  # shellcheck disable=SC2016
  node -e '
const libpq = /^(host|hostaddr|port|passfile|connect_timeout|client_encoding|options|application_name|keepalives.*|tcp_user_timeout|ssl(mode|cert|key|rootcert|crl|crldir|password|sni|compression|certmode|_min_protocol_version|_max_protocol_version)|requiressl|gssencmode|gsslib|krbsrvname|target_session_attrs|channel_binding|service|require_auth|load_balance_hosts)$/;
const q = (v) => "\x27" + String(v).replace(/\\/g, "\\\\").replace(/\x27/g, "\\\x27") + "\x27";
const dec = (s) => decodeURIComponent(s || "");
function pg(name, raw) {
  let u;
  try { u = new URL(raw); } catch { console.error(`services: ${name} is not a URL`); process.exit(2); }
  if (!/^postgres(ql)?:$/.test(u.protocol)) { console.error(`services: ${name} must start with postgresql://`); process.exit(2); }
  const p = {
    host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: u.port || "5432",
    user: dec(u.username),
    password: dec(u.password),
    dbname: dec(u.pathname.replace(/^\//, "")),
  };
  const extra = {};
  for (const [k, v] of u.searchParams) {
    if (k === "host" || k === "port" || k === "user" || k === "password" || k === "dbname") p[k] = v;
    else if (libpq.test(k)) extra[k] = v;
  }
  if (!p.dbname) { console.error(`services: ${name} names no database`); process.exit(2); }
  if (!p.user) { console.error(`services: ${name} names no user`); process.exit(2); }
  if (!extra.connect_timeout) extra.connect_timeout = "5";
  const conninfo = (db) => {
    const kv = { host: p.host, port: p.port, user: p.user, password: p.password, dbname: db, ...extra };
    return Object.entries(kv).filter(([, v]) => v !== "").map(([k, v]) => `${k}=${q(v)}`).join(" ");
  };
  return [p.host, p.port, p.user, p.password, p.dbname, conninfo("postgres"), conninfo(p.dbname)];
}
function redis(raw) {
  let u;
  try { u = new URL(raw); } catch { console.error("services: REDIS_URL is not a URL"); process.exit(2); }
  if (!/^rediss?:$/.test(u.protocol)) { console.error("services: REDIS_URL must start with redis://"); process.exit(2); }
  return [u.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1", u.port || "6379", dec(u.password)];
}
const out = [...pg("DATABASE_ADMIN_URL", process.argv[1]), ...pg("DATABASE_URL", process.argv[2]), ...redis(process.argv[3])];
process.stdout.write(out.join("\0") + "\0");
' "$DATABASE_ADMIN_URL" "$DATABASE_URL" "$REDIS_URL"
}

parse_urls >"$TMP/urls"
fields=()
while IFS= read -r -d '' f; do fields+=("$f"); done <"$TMP/urls"
[ "${#fields[@]}" -eq 17 ] || die "could not parse the connection URLs"
PG_HOST="${fields[0]}" PG_PORT="${fields[1]}" OWNER="${fields[2]}" DB="${fields[4]}"
ADMIN_MAINT="${fields[5]}" ADMIN_DB="${fields[6]}"
APP_USER="${fields[9]}" APP_PASSWORD="${fields[10]}" APP_DB_NAME="${fields[11]}" APP_CONN="${fields[13]}"
REDIS_HOST="${fields[14]}" REDIS_PORT="${fields[15]}" REDIS_PASSWORD="${fields[16]}"
APP_HOST="${fields[7]}" APP_PORT="${fields[8]}"
unset fields

[ "$APP_HOST:$APP_PORT/$APP_DB_NAME" = "$PG_HOST:$PG_PORT/$DB" ] ||
  die "DATABASE_URL ($APP_HOST:$APP_PORT/$APP_DB_NAME) and DATABASE_ADMIN_URL ($PG_HOST:$PG_PORT/$DB) must point at the same database"
# The app role is made NOSUPERUSER/NOBYPASSRLS below so row-level security
# applies to it; doing that to the owner role would lock the owner out.
[ "$APP_USER" != "$OWNER" ] ||
  die "DATABASE_URL and DATABASE_ADMIN_URL use the same role ($OWNER); the application needs its own role"

is_local() { case "$1" in "" | /* | 127.0.0.1 | localhost | ::1) return 0 ;; *) return 1 ;; esac; }

# psql with no ~/.psqlrc and errors that stop the script.
sql() {
  local conn="$1"
  shift
  psql -X -q -v ON_ERROR_STOP=1 -d "$conn" "$@"
}

wait_for() { # seconds, command...
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

# ------------------------------------------------------------------- postgres
pg_up() { pg_isready -q -h "${PG_HOST:-/var/run/postgresql}" -p "$PG_PORT" -t 3; }

# Debian's default pg_hba.conf asks for passwords over TCP, while the admin URL
# carries none; a cluster this script installed gets trust on loopback, like the
# machines described in docs.
trust_loopback() {
  local version="$1" hba="/etc/postgresql/$1/main/pg_hba.conf"
  [ -f "$hba" ] || return 0
  log "allowing passwordless loopback connections in $hba"
  sed -E -i 's#^(host[[:space:]]+all[[:space:]]+all[[:space:]]+(127\.0\.0\.1/32|::1/128)[[:space:]]+)[a-z0-9-]+#\1trust#' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$version" main reload >/dev/null 2>&1 || true
}

ensure_postgres() {
  pg_up && return 0
  is_local "$PG_HOST" || die "PostgreSQL at $PG_HOST:$PG_PORT is not answering (it is not local, so it is not started here)"
  is_debian_root || no_local_install "PostgreSQL at ${PG_HOST:-localhost}:$PG_PORT is not answering."

  local fresh=0 version
  if ! command -v pg_lsclusters >/dev/null || [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
    log "installing postgresql (apt)"
    apt_install postgresql
    fresh=1
  fi
  # The cluster to start is the one configured for the URL's port.
  version="$(pg_lsclusters -h | awk -v port="$PG_PORT" '$2 == "main" && $3 == port { print $1; exit }')"
  [ -n "$version" ] || die "no PostgreSQL cluster 'main' on port $PG_PORT (pg_lsclusters: $(pg_lsclusters -h | tr '\n' ';'))"
  [ "$fresh" -eq 0 ] || trust_loopback "$version"
  if ! pg_up; then
    log "starting PostgreSQL $version (port $PG_PORT)"
    quietly pg_ctlcluster --skip-systemctl-redirect "$version" main start
  fi
  wait_for 30 pg_up || die "PostgreSQL $version did not come up; see /var/log/postgresql/postgresql-$version-main.log"
}

# Debian 12 ships no pgvector; Debian trixie's source package builds against
# PostgreSQL 15 (and later) unchanged. See docs: shared/spec/environment.md.
SRC_LIST=/etc/apt/sources.list.d/hirebuddha-trixie-src.list
build_pgvector() {
  local major="$1" pg_config="/usr/lib/postgresql/$1/bin/pg_config"
  [ -d "/usr/lib/postgresql/$major" ] ||
    die "the server reports PostgreSQL $major but /usr/lib/postgresql/$major is missing; is it a Debian-packaged cluster?"
  log "building pgvector for PostgreSQL $major from Debian trixie's source package"
  echo 'deb-src http://deb.debian.org/debian trixie main' >"$SRC_LIST"
  # Leaving a trixie entry behind would make every later `apt-get update` fetch
  # its index; the built extension is all that has to stay.
  trap 'rm -f "$SRC_LIST"; rm -rf "$TMP"' EXIT
  apt_install "postgresql-server-dev-$major" dpkg-dev make gcc libc6-dev
  local build="$TMP/pgvector"
  mkdir -p "$build"
  # apt downloads as user _apt; a readable directory avoids its "unsandboxed" warning.
  chmod 755 "$TMP" "$build"
  (cd "$build" && quietly apt-get source pgvector)
  rm -f "$SRC_LIST"
  local dir
  dir="$(find "$build" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)"
  [ -n "$dir" ] || die "apt-get source pgvector produced no source directory"
  # OPTFLAGS="" drops -march=native so the library runs on any x86-64 host.
  quietly make -C "$dir" -j"$(nproc)" PG_CONFIG="$pg_config" OPTFLAGS=""
  quietly make -C "$dir" install PG_CONFIG="$pg_config"
}

ensure_pgvector() {
  [ "$(sql "$ADMIN_MAINT" -Atc "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")" = 1 ] && return 0
  if ! is_local "$PG_HOST" || ! is_debian_root; then
    die "the PostgreSQL server at $PG_HOST:$PG_PORT has no pgvector extension; install pgvector there (or use the pgvector/pgvector:pg16 image)"
  fi
  local num
  num="$(sql "$ADMIN_MAINT" -Atc 'SHOW server_version_num')"
  build_pgvector "$((num / 10000))"
  [ "$(sql "$ADMIN_MAINT" -Atc "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")" = 1 ] ||
    die "pgvector was built and installed but the server still does not list it"
}

ensure_database() {
  if [ -z "$(sql "$ADMIN_MAINT" -v db="$DB" -At <<<"SELECT 1 FROM pg_database WHERE datname = :'db'")" ]; then
    log "creating database $DB"
    sql "$ADMIN_MAINT" -v db="$DB" <<'SQL'
SELECT format('CREATE DATABASE %I', :'db') \gexec
SQL
  fi
  if [ -z "$(sql "$ADMIN_DB" -Atc "SELECT 1 FROM pg_extension WHERE extname = 'vector'")" ]; then
    log "creating extension vector in $DB"
    sql "$ADMIN_DB" -c 'CREATE EXTENSION IF NOT EXISTS vector'
  fi
}

# The role is cluster-wide; the grants live inside the database, so databases
# cloned from it with CREATE DATABASE ... TEMPLATE carry them along.
ensure_app_role() {
  if [ -z "$(sql "$ADMIN_MAINT" -v app="$APP_USER" -At <<<"SELECT 1 FROM pg_roles WHERE rolname = :'app'")" ]; then
    log "creating role $APP_USER"
    sql "$ADMIN_MAINT" -v app="$APP_USER" -v pw="$APP_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD %L',
              :'app', NULLIF(:'pw', '')) \gexec
SQL
  elif [ -n "$(sql "$ADMIN_MAINT" -v app="$APP_USER" -At <<'SQL'
SELECT 1 FROM pg_roles WHERE rolname = :'app'
   AND (NOT rolcanlogin OR rolsuper OR rolbypassrls OR rolcreatedb OR rolcreaterole)
SQL
  )" ]; then
    log "resetting attributes of role $APP_USER (LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE)"
    sql "$ADMIN_MAINT" -v app="$APP_USER" <<'SQL'
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE', :'app') \gexec
SQL
  fi
  # Grants are idempotent and cheap, so they are simply (re)applied. Only default
  # privileges: tables a migration deliberately restricts stay restricted.
  sql "$ADMIN_DB" -v app="$APP_USER" -v owner="$OWNER" -v db="$DB" <<'SQL'
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'db', :'app') \gexec
SELECT format('GRANT USAGE ON SCHEMA public TO %I', :'app') \gexec
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', :'owner', :'app') \gexec
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO %I', :'owner', :'app') \gexec
SQL
  # Proves the password in DATABASE_URL is the one the server accepts.
  sql "$APP_CONN" -Atc 'SELECT 1' >/dev/null ||
    die "role $APP_USER exists but cannot log in with DATABASE_URL (wrong password? ALTER ROLE $APP_USER PASSWORD '...')"
}

# ---------------------------------------------------------------------- redis
redis_up() { [ "$(redis-cli --no-auth-warning -u "$REDIS_URL" ping 2>/dev/null)" = PONG ]; }

ensure_redis() {
  if ! command -v redis-cli >/dev/null; then
    is_debian_root || die "redis-cli is needed; install the Redis tools (Debian: redis-tools)"
    log "installing redis-tools"
    apt_install redis-tools
  fi
  redis_up && return 0
  is_local "$REDIS_HOST" || die "Redis at $REDIS_HOST:$REDIS_PORT is not answering (it is not local, so it is not started here)"
  is_debian_root || no_local_install "Redis at $REDIS_HOST:$REDIS_PORT is not answering."
  if ! command -v redis-server >/dev/null; then
    log "installing redis-server (apt)"
    apt_install redis-server
    # The package may have started its own instance already.
    wait_for 3 redis_up && return 0
  fi
  log "starting redis-server on port $REDIS_PORT"
  local bind=127.0.0.1 args=()
  [ "$REDIS_HOST" != ::1 ] || bind=::1
  [ -z "$REDIS_PASSWORD" ] || args=(--requirepass "$REDIS_PASSWORD")
  # Queue state is disposable in development; no RDB/AOF files to clean up.
  quietly redis-server --daemonize yes --bind "$bind" --port "$REDIS_PORT" --save "" --appendonly no "${args[@]}"
  wait_for 15 redis_up || die "redis-server did not answer PING on port $REDIS_PORT"
}

# ------------------------------------------------------------------ chromium
# Headless Chromium for the test of the approvals inbox page (playwright-core drives
# Debian's package; Playwright's own browser download is not reachable here).
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  if ! is_debian_root; then
    log "note: /usr/bin/chromium is missing; the approvals page test needs it (Debian: apt-get install chromium)"
    return 0
  fi
  log "installing chromium (apt) for the approvals page test"
  apt_install chromium
}

# ----------------------------------------------------------------------- main
ensure_postgres
ensure_pgvector
ensure_database
ensure_app_role
ensure_redis
ensure_chromium

vector_version="$(sql "$ADMIN_DB" -Atc "SELECT extversion FROM pg_extension WHERE extname = 'vector'")"
echo "services: postgres (pgvector $vector_version) and redis ready"
