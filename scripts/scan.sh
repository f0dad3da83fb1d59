#!/usr/bin/env bash
# External black-box scan (SECURITY.md: "sqlmap finds nothing"). Builds MedCore, starts it on
# 127.0.0.1 with a fresh embedded database in a temp dir, seeds an admin, a doctor and a few
# patients, then runs sqlmap and wapiti against the API with a doctor's bearer token.
# Installs nothing: it needs sqlmap and wapiti on PATH (apt-get install -y sqlmap wapiti).
# Exit status: 0 clean, 1 a finding (an injection point sqlmap can use, or a wapiti attack-module
# vulnerability), 2 a missing tool or a setup failure. Reports: scan-reports/ (gitignored).
#
# Knobs: SCAN_LEVEL (3) and SCAN_RISK (2) for sqlmap, SCAN_MAX_TIME_S (900) for wapiti,
# SCAN_REPORT_DIR (scan-reports/<timestamp>), SCAN_STRICT=1 (unconfirmed sqlmap claims fail too).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for tool in sqlmap wapiti curl node; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]} > 0)); then
  echo "scan: missing ${missing[*]}. Install the scanners with: apt-get install -y sqlmap wapiti" >&2
  exit 2
fi

level=${SCAN_LEVEL:-3}
risk=${SCAN_RISK:-2}
max_time=${SCAN_MAX_TIME_S:-900}
reports=${SCAN_REPORT_DIR:-scan-reports/$(date +%Y%m%dT%H%M%S)}
mkdir -p "$reports"
reports=$(cd "$reports" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/medcore-scan.XXXXXX")
server_pid=''

cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*"; }

# Status codes the server logged after line $1 of its log (one line per request).
statuses() {
  tail -n +"$(($1 + 1))" "$reports/server.log" | node -e '
    let text = "";
    process.stdin.on("data", (d) => (text += d)).on("end", () => {
      const counts = {};
      for (const line of text.split("\n")) {
        try { const { status } = JSON.parse(line); if (status) counts[status] = (counts[status] ?? 0) + 1; } catch {}
      }
      console.log(Object.entries(counts).map(([s, n]) => `${s}: ${n}`).join(", ") || "none");
    });'
}
log_lines() { wc -l <"$reports/server.log"; }

# Reads one field of a JSON document on stdin (fails when it is absent).
json_field() {
  node -e '
    let text = "";
    process.stdin.on("data", (d) => (text += d)).on("end", () => {
      const value = JSON.parse(text)[process.argv[1]];
      if (value === undefined) { console.error(text); process.exit(1); }
      console.log(value);
    });' "$1"
}

say "build"
npm run build --silent

port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
base="http://127.0.0.1:$port"
secret() { node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))'; }

# A throwaway instance: never the caller's DATABASE_URL or REDIS_URL. Production mode, as
# deployed; rate limits off (they would answer 429 to the scanners and hide what they probe);
# day-long access tokens so a long scan keeps its session.
export NODE_ENV=production HOST=127.0.0.1 PORT=$port DATA_DIR=$work/data LOG_LEVEL=info
export JWT_SECRET=$(secret) MFA_ENCRYPTION_KEY=$(secret)
export RATE_LIMIT_ENABLED=false ACCESS_TOKEN_TTL_S=86400 PUBLIC_URL=$base
unset DATABASE_URL REDIS_URL SMTP_URL

admin_email=scan-admin@scan.medcore.local
doctor_email=scan-doctor@scan.medcore.local
password="scan passphrase $(secret | cut -c1-12)"

say "create admin (before the server takes the data directory lock)"
node dist/cli.js create-admin --email "$admin_email" --password "$password" --full-name 'Scan Admin'

say "start server on $base (log: $reports/server.log)"
node dist/cli.js serve >"$reports/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do
  curl -fsS "$base/health" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { echo "scan: the server exited; see $reports/server.log" >&2; exit 2; }
  sleep 0.2
done
curl -fsS "$base/health/ready" >/dev/null || { echo "scan: the server is not ready" >&2; exit 2; }

post() { # post <token|-> <path> <json>
  local auth=()
  [[ $1 != - ]] && auth=(-H "Authorization: Bearer $1")
  curl -fsS -X POST "${auth[@]}" -H 'Content-Type: application/json' --data "$3" "$base$2"
}
login() { post - /api/v1/auth/login "{\"email\":\"$1\",\"password\":\"$password\"}" | json_field access_token; }

say "seed a doctor and patients"
admin_token=$(login "$admin_email")
post "$admin_token" /api/v1/users "{\"email\":\"$doctor_email\",\"username\":\"scan_doctor\",\"password\":\"$password\",\"full_name\":\"Scan Doctor\",\"role\":\"doctor\"}" >/dev/null
token=$(login "$doctor_email")
patient_id=''
for name in Smith Jones Garcia Miller Davis; do
  id=$(post "$token" /api/v1/patients "{\"first_name\":\"Alex\",\"last_name\":\"$name\",\"date_of_birth\":\"1980-01-0${#name}\",\"email\":\"alex.$name@example.test\",\"allergies\":[\"latex\"],\"notes\":\"seeded for the scan\"}" | json_field id)
  patient_id=${patient_id:-$id}
done
echo "patients created; probing with patient $patient_id"

# sqlmap: batch mode answers every question with its default; no update check runs without
# --update, and --disable-coloring keeps the logs readable. The backend is known (PostgreSQL
# dialect), so only its payloads are sent.
sqlmap_common=(--batch --disable-coloring --flush-session --level "$level" --risk "$risk"
  --dbms=PostgreSQL --timeout 15 --retries 1 --output-dir "$reports/sqlmap"
  -H "Authorization: Bearer $token")
targets=()
run_sqlmap() { # run_sqlmap <name> <sqlmap args...>
  local name=$1 from
  shift
  targets+=("$name")
  say "sqlmap $name"
  from=$(log_lines)
  # TERM=dumb: sqlmap otherwise writes terminal control sequences into the captured log.
  TERM=dumb sqlmap "${sqlmap_common[@]}" "$@" 2>&1 | tee "$reports/sqlmap-$name.txt" |
    grep -E "injectable|vulnerable|identified|false positive|fingerprint|CRITICAL|ERROR" || true
  echo "server answers during this run: $(statuses "$from")" | tee -a "$reports/sqlmap-$name.txt"
}

run_sqlmap list-query -u "$base/api/v1/patients?q=smith&sort=name&limit=5"
run_sqlmap get-by-id -u "$base/api/v1/patients/${patient_id}*"
run_sqlmap patch-body -u "$base/api/v1/patients/$patient_id" --method PATCH \
  -H 'Content-Type: application/json' \
  --data '{"first_name":"Alex","last_name":"Smith","email":"alex.smith@example.test","phone":"+15550100","address":"1 Main St","notes":"follow up","group":"general"}'
run_sqlmap create-body -u "$base/api/v1/patients?allow_duplicate=true" --method POST \
  -H 'Content-Type: application/json' \
  --data '{"first_name":"Sam","last_name":"Probe","phone":"+15550101","initial_complaint":"cough","medical_history":"none","allergies":["latex"]}'

# wapiti crawls HTML for links, which a JSON API has none of: the URLs to attack are given as
# start points (so it never finds, say, logout). --no-bugreport and the session/config stores
# in the temp dir keep it offline and leave nothing in $HOME; it never updates itself without
# --update. (No -x exclusions: wapiti 3.0.4 crashes on them under Python 3.11.)
say "wapiti"
wanted=(sql blindsql timesql xss permanentxss exec file crlf)
available=$(wapiti --list-modules 2>/dev/null | awk '/^\t[a-z_]+/ { print $1 }')
modules=()
for module in "${wanted[@]}"; do
  grep -qx "$module" <<<"$available" && modules+=("$module")
done
modules_csv=$(IFS=,; echo "${modules[*]}")
echo "modules: $modules_csv"
# Wapiti 3.0.4 initialises every module, and the technology-detection one downloads its database
# from GitHub (through the scan's HTTP client, Authorization header included) when none is
# stored: an empty one keeps the scan offline.
mkdir -p "$work/wapiti-config"
echo '{}' >"$work/wapiti-config/apps.json"
from=$(log_lines)
wapiti -u "$base/api/v1/" --scope folder \
  -s "$base/api/v1/patients?q=smith&limit=5" \
  -s "$base/api/v1/patients?group=general&sort=created_at" \
  -s "$base/api/v1/patients/$patient_id" \
  -s "$base/api/v1/patients/$patient_id/notes?limit=5" \
  -s "$base/api/v1/users/me" \
  -m "$modules_csv" -H "Authorization: Bearer $token" \
  --flush-session --store-session "$work/wapiti-session" --store-config "$work/wapiti-config" \
  --no-bugreport --max-scan-time "$max_time" -t 15 -v 1 \
  -f json -o "$reports/wapiti.json" 2>&1 | tee "$reports/wapiti.txt" | grep -E '^\[\*\]|rror' || true
echo "server answers during the wapiti run: $(statuses "$from")" | tee -a "$reports/wapiti.txt"

say "findings"
# A claim counts as an injection when sqlmap can also use it: through a real injection point it
# always fingerprints the DBMS. The typo-tolerant patient search (trigram word_similarity >= 0.3)
# can make sqlmap's boolean TRUE/FALSE payload pair land on either side of the threshold (the
# TRUE one repeats its number, so it has fewer distinct trigrams and scores higher), a difference
# sqlmap then cannot use for anything: such claims are printed as unconfirmed, and fail the scan
# only with SCAN_STRICT=1.
injectable=()
unconfirmed=()
for name in "${targets[@]}"; do
  log=$reports/sqlmap-$name.txt
  verdict=$(grep -hE "do not appear to be injectable|identified the following injection point" "$log" | tail -1 || true)
  verdict=${verdict#\[*\] }
  verdict=${verdict%%. Try to*}
  candidates=$(grep -hcE "appears to be .* injectable" "$log" || true)
  rejected=$(grep -hcE "false positive or unexploitable" "$log" || true)
  codes=$(grep -hA1 "HTTP error codes detected" "$log" | tail -1 || true)
  echo "sqlmap $name: ${verdict:-no verdict (see $log)}"
  echo "  candidates $candidates, rejected by sqlmap's own false-positive check $rejected; HTTP codes: ${codes:-none}"
  if grep -q "identified the following injection point" "$log"; then
    grep -A6 "^Parameter: " "$log" | sed 's/^/  | /' | head -8
    if grep -q "not able to fingerprint the back-end database" "$log"; then
      echo "  UNCONFIRMED: sqlmap could not fingerprint any DBMS through it (not exploitable)"
      unconfirmed+=("$name")
    else
      injectable+=("$name")
    fi
  fi
done
if [[ ! -s $reports/wapiti.json ]]; then
  echo "scan: wapiti wrote no report; see $reports/wapiti.txt" >&2
  exit 2
fi
node -e '
  const fs = require("fs");
  const report = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  let findings = 0;
  for (const [kind, title] of [["vulnerabilities", "vulnerability"], ["anomalies", "anomaly"], ["additionals", "note"]]) {
    for (const [category, items] of Object.entries(report[kind] ?? {})) {
      if (items.length === 0) continue;
      if (kind === "vulnerabilities") findings += items.length;
      console.log(`wapiti ${title}: ${category}: ${items.length}`);
      for (const item of items.slice(0, 5)) console.log(`  ${item.method} ${item.path} ${item.parameter ?? ""}: ${item.info}`);
    }
  }
  console.log(`wapiti: ${findings} vulnerabilities`);
  fs.writeFileSync(process.argv[2], String(findings));
' "$reports/wapiti.json" "$work/wapiti-findings"
wapiti_findings=$(cat "$work/wapiti-findings")
server_errors=$(grep -c '"level":50' "$reports/server.log" || true)
echo "server: answers over the whole scan: $(statuses 0); $server_errors error-level log lines"
echo "reports: $reports"

status=0
if ((${#injectable[@]} > 0)); then
  echo "FAIL: sqlmap found an injectable parameter in: ${injectable[*]}" >&2
  status=1
fi
if ((${#unconfirmed[@]} > 0)); then
  echo "WARNING: unconfirmed sqlmap claims (see above) in: ${unconfirmed[*]}" >&2
  [[ ${SCAN_STRICT:-0} == 1 ]] && status=1
fi
if ((wapiti_findings > 0)); then
  echo "FAIL: wapiti reported $wapiti_findings vulnerabilities (see $reports/wapiti.json)" >&2
  status=1
fi
if ((status == 0)); then
  echo "OK: sqlmap found no exploitable injection; wapiti reported no vulnerability"
fi
exit $status
