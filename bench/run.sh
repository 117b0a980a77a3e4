#!/usr/bin/env bash
# make bench: the Persist tools side by side with what a user would otherwise
# reach for (sqlite3, psql \copy, pgloader, sha256sum, sort+diff, sqldiff), on
# the same generated data, in one run, medians of BENCH_RUNS runs.
#
#   BENCH_RECORDS  records in the store (default 1000000)
#   BENCH_EVENTS   events in the store (default BENCH_RECORDS/5)
#   BENCH_RUNS     runs of each command; the table shows medians (default 3)
#   BENCH_ONLY     sections to run, of: dump sum load diff delta memory (default all)
#   BENCH_QUICK=1  a quick try: 20000 records, 1 run
#   BENCH_10M=1    the memory section also loads and measures a 10M-record store
#   PERSIST_BENCH_POSTGRES  server URL (default postgres://postgres@127.0.0.1:5432/);
#                  the script creates and drops databases named persist_bench_*
#
# Generated stores are kept in bench/data/ and reused while the parameters are
# the same. Results: bench/out/results.md (the table), bench/out/runs.tsv (every
# run), bench/out/logs/ (stderr of every command).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$ROOT/bin:$PATH"

if [[ "${BENCH_QUICK:-}" == 1 ]]; then
	: "${BENCH_RECORDS:=20000}" "${BENCH_RUNS:=1}"
fi
RECORDS=${BENCH_RECORDS:-1000000}
EVENTS=${BENCH_EVENTS:-$((RECORDS / 5))}
RUNS=${BENCH_RUNS:-3}
ONLY=" ${BENCH_ONLY:-dump sum load diff delta memory} "
PG=${PERSIST_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/}
SEED=1
DIFFER=1 # percent of records that differ between the two diff stores

DATA=$ROOT/bench/data
OUT=$ROOT/bench/out
LOGS=$OUT/logs
mkdir -p "$DATA" "$OUT" "$LOGS"
: >"$OUT/runs.tsv"
NOTES=()

say() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }
note() {
	NOTES+=("$*")
	printf 'note: %s\n' "$*" >&2
}
want() { [[ "$ONLY" == *" $1 "* ]]; }

# --- tools --------------------------------------------------------------------

APT_UPDATED=
apt_install() {
	if ! command -v apt-get >/dev/null || [[ $(id -u) != 0 ]]; then
		return 1
	fi
	if [[ -z $APT_UPDATED ]]; then
		apt-get update -qq >"$LOGS/apt-update.log" 2>&1 || true
		APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >>"$LOGS/apt-install.log" 2>&1
}

# need CMD PACKAGE: install PACKAGE when CMD is missing; fail when it stays missing.
need() {
	command -v "$1" >/dev/null && return 0
	say "installing $2 (for $1)"
	apt_install "$2" || true
	command -v "$1" >/dev/null || {
		echo "bench: $1 is missing and could not be installed (apt-get install $2)" >&2
		exit 2
	}
}

# maybe CMD PACKAGE: like need, but a missing tool only drops its comparison.
maybe() {
	command -v "$1" >/dev/null && return 0
	say "installing $2 (for $1)"
	apt_install "$2" || true
	command -v "$1" >/dev/null
}

# The binaries are copied aside: a rebuild of bin/ during the run must not
# mix two builds in one table.
mkdir -p "$OUT/bin"
for b in persist persist-dump persist-load persist-sum persist-diff; do
	[[ -x bin/$b ]] || {
		echo "bench: bin/$b is missing: run make build (make bench does)" >&2
		exit 2
	}
	cp bin/$b "$OUT/bin/$b"
done
export PATH="$OUT/bin:$PATH"
[[ -x /usr/bin/time ]] || apt_install time || true
[[ -x /usr/bin/time ]] || {
	echo "bench: /usr/bin/time (GNU time) is missing: apt-get install time" >&2
	exit 2
}
need sqlite3 sqlite3
need psql postgresql-client
need jq jq
need zstd zstd
HAVE_PGLOADER=1
maybe pgloader pgloader || {
	HAVE_PGLOADER=
	note "pgloader is not installed and could not be: its comparison is left out"
}
HAVE_SQLDIFF=1
# Debian ships sqldiff in sqlite3-tools (apt-cache search sqldiff finds nothing).
maybe sqldiff sqlite3-tools || {
	HAVE_SQLDIFF=
	note "sqldiff is not available (Debian: package sqlite3-tools): its comparison is left out"
}

# --- PostgreSQL ---------------------------------------------------------------

# pg_url DB: the server URL with its database set to DB (query kept).
pg_url() {
	local base=${PG%%\?*} query=
	[[ "$PG" == *\?* ]] && query="?${PG#*\?}"
	if [[ "$base" =~ ^(postgres(ql)?://[^/]*)(/.*)?$ ]]; then
		base=${BASH_REMATCH[1]}
	fi
	printf '%s/%s%s' "$base" "$1" "$query"
}
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 "$(pg_url postgres)" "$@"; }
pg_fresh() { # pg_fresh DB: drop and create
	psql_admin -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
}
pg_drop() { psql_admin -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null; }
psql_admin -c 'SELECT 1' >/dev/null 2>"$LOGS/pg-connect.log" || {
	echo "bench: cannot reach PostgreSQL at $(pg_url postgres | sed -E 's#(://[^:/@]*):[^@]*@#\1:***@#'):" >&2
	cat "$LOGS/pg-connect.log" >&2
	echo "set PERSIST_BENCH_POSTGRES to a server where databases may be created" >&2
	exit 2
}

# --- data ---------------------------------------------------------------------

say "building the generator"
go build -o "$DATA/gen" ./bench/gen

export PGADMIN PGA PGLOAD PGHAND PGLOADER_DB A B A_JSONL B_JSONL C_DB
PGADMIN=$(pg_url postgres)
# One folder per size, so that a quick try does not throw away the big stores.
SET=$DATA/r$RECORDS-e$EVENTS-s$SEED
mkdir -p "$SET"
A=$SET/a.db
B=$SET/b.db
A_JSONL=$SET/a.jsonl
B_JSONL=$SET/b.jsonl
C_DB=$DATA/c.db
PGA_DB=persist_bench_r${RECORDS}_e${EVENTS}_s$SEED
PGA=$(pg_url "$PGA_DB")
PGLOAD=$(pg_url persist_bench_load)
PGHAND=$(pg_url persist_bench_hand)
PGLOADER_DB=persist_bench_pgloader
PARAMS="records=$RECORDS events=$EVENTS seed=$SEED differ=$DIFFER"

# make_store NAME GENFLAGS...: bench/gen | persist-load into DATA/NAME.db, and
# its dump into DATA/NAME.jsonl, unless they were made with the same parameters.
make_store() {
	local name=$1
	shift
	local stamp="$PARAMS gen=$*"
	if [[ -f $SET/$name.db && -f $SET/$name.jsonl && "$(cat "$SET/$name.stamp" 2>/dev/null)" == "$stamp" ]]; then
		say "reusing $name.db ($stamp)"
		return
	fi
	say "generating $name.db: gen $* | persist-load"
	rm -f "$SET/$name.db" "$SET/$name.db-wal" "$SET/$name.db-shm" "$SET/$name.stamp"
	"$DATA/gen" -records "$RECORDS" -events "$EVENTS" -seed "$SEED" "$@" |
		persist-load -q "sqlite:$SET/$name.db#bench"
	persist-dump -q "sqlite:$SET/$name.db#bench" -o "$SET/$name.jsonl"
	echo "$stamp" >"$SET/$name.stamp"
}
make_store a
if want diff; then make_store b -differ "$DIFFER"; fi

# The PostgreSQL copy of A, loaded the same way, kept while its sum matches.
pg_store() {
	local want_sum have
	want_sum=$(persist-sum -q "$A_JSONL" | cut -d' ' -f1)
	have=$(persist-sum -q "$PGA#bench" 2>/dev/null | cut -d' ' -f1 || true)
	if [[ "$have" == "$want_sum" ]]; then
		say "reusing $PGA_DB ($want_sum)"
		return
	fi
	say "loading $PGA_DB: gen | persist-load postgres"
	pg_fresh "$PGA_DB"
	"$DATA/gen" -records "$RECORDS" -events "$EVENTS" -seed "$SEED" | persist-load -q "$PGA#bench"
	have=$(persist-sum -q "$PGA#bench" | cut -d' ' -f1)
	[[ "$have" == "$want_sum" ]] || {
		echo "bench: $PGA_DB sums $have, a.db sums $want_sum" >&2
		exit 2
	}
}
if want dump || want load || want memory; then pg_store; fi

DUMP_BYTES=$(stat -c %s "$A_JSONL")

# --- measuring ----------------------------------------------------------------

# A case is a command measured RUNS times, interleaved with the other cases of
# its section so that drift (cache, thermal, autovacuum) hits them all alike.
declare -A TIMES RSS FAILED
CASES=()
declare -A SETUP CMD OKRC
case_add() { # case_add LABEL SETUP CMD [OK-EXIT-CODES]
	CASES+=("$1")
	SETUP[$1]=$2
	CMD[$1]=$3
	OKRC[$1]=${4:-0}
}

LOADS=()
run_cases() { # run_cases SECTION
	local run label rc e m log
	# Other work on the machine skews the figures: keep a record of it.
	LOADS+=("$1 $(cut -d' ' -f1 /proc/loadavg)")
	for ((run = 1; run <= RUNS; run++)); do
		for label in "${CASES[@]}"; do
			[[ -n ${FAILED[$label]:-} ]] && continue
			log=$LOGS/$(echo "$label" | tr -c 'A-Za-z0-9_.-' '_').log
			if [[ -n ${SETUP[$label]} ]]; then
				bash -o pipefail -c "${SETUP[$label]}" >>"$log" 2>&1 || {
					FAILED[$label]="setup failed (see $log)"
					echo "bench: $label: setup failed, see $log" >&2
					continue
				}
			fi
			rc=0
			/usr/bin/time -f '%e %M' -o "$OUT/time.tmp" \
				bash -o pipefail -c "${CMD[$label]}" >/dev/null 2>>"$log" || rc=$?
			if [[ " ${OKRC[$label]} " != *" $rc "* ]]; then
				FAILED[$label]="exit $rc (see $log)"
				echo "bench: $label: exit $rc, see $log" >&2
				continue
			fi
			read -r e m < <(tail -n1 "$OUT/time.tmp")
			TIMES[$label]+="$e "
			RSS[$label]+="$m "
			printf '%s\t%s\t%d\t%s\t%s\n' "$1" "$label" "$run" "$e" "$m" >>"$OUT/runs.tsv"
			printf '  %-44s run %d: %6.2f s %7.1f MiB\n' "$label" "$run" "$e" "$(awk -v k="$m" 'BEGIN{print k/1024}')" >&2
		done
	done
	CASES=()
}

median() { tr ' ' '\n' | { grep . || true; } | sort -g | awk '{a[NR]=$1} END{if(NR==0)exit; if(NR%2)print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
max() { tr ' ' '\n' | { grep . || true; } | sort -g | tail -n1; }
secs() { median <<<"${TIMES[$1]:-}"; }
mib() { awk -v k="$(max <<<"${RSS[$1]:-}")" 'BEGIN{if(k!="")printf "%.1f", k/1024}'; }

# The table: one row per case, with a ratio to a baseline case and a goal.
ROWS=()
# row SECTION LABEL [BASELINE GOAL-TEXT GOAL-CHECK]; GOAL-CHECK is an awk
# condition on r (the time ratio) and m (peak RSS MiB), e.g. "r <= 1.5".
# Fields are joined by US (0x1f): labels hold pipes.
row() { ROWS+=("$1"$'\x1f'"$2"$'\x1f'"${3:-}"$'\x1f'"${4:-}"$'\x1f'"${5:-}"); }

render() {
	local sec label shown base goal check t m r mbs ok bt b1 b2 vs
	echo "| section | command | median s | dump MB/s | peak RSS MiB | ratio | vs | goal | met |"
	echo "|---|---|--:|--:|--:|--:|---|---|---|"
	for x in "${ROWS[@]}"; do
		IFS=$'\x1f' read -r sec label base goal check <<<"$x"
		shown=${label//|/\\|} # a pipe inside a table cell must be escaped
		if [[ -n ${FAILED[$label]:-} ]]; then
			echo "| $sec | \`$shown\` | failed: ${FAILED[$label]} | | | | | $goal | no |"
			continue
		fi
		t=$(secs "$label")
		[[ -z $t ]] && continue
		m=$(mib "$label")
		mbs=$(awk -v b="$DUMP_BYTES" -v t="$t" 'BEGIN{if(t>0)printf "%.0f", b/t/1e6}')
		r=
		if [[ -n $base ]]; then
			if [[ $base == max:* ]]; then # the slower of two cases
				IFS=, read -r b1 b2 <<<"${base#max:}"
				bt=$(printf '%s\n%s\n' "$(secs "$b1")" "$(secs "$b2")" | grep . | sort -g | tail -n1)
			else
				bt=$(secs "$base")
			fi
			[[ -n $bt ]] && r=$(awk -v a="$t" -v b="$bt" 'BEGIN{if(b>0)printf "%.2f", a/b}')
		fi
		ok=
		if [[ -n $check ]]; then
			if [[ -z $r && $check == *r* ]]; then
				ok="n/a (no baseline)"
			elif awk -v r="${r:-0}" -v m="${m:-0}" "BEGIN{exit !($check)}"; then
				ok=yes
			else
				ok="**no**"
			fi
		fi
		vs=${base#max:}
		[[ $base == max:* ]] && vs="slower of ${vs/,/ and }"
		vs=${vs//|/\\|}
		echo "| $sec | \`$shown\` | $t | $mbs | $m | ${r:+${r}×} | ${r:+$vs} | $goal | $ok |"
	done
}

# --- a. dump ------------------------------------------------------------------

REC_COLS="collection, key, version, updated_at, deleted, value"
EV_COLS="stream, seq, type, at, data"
export REC_SQL="SELECT $REC_COLS FROM persist_records WHERE store = 'bench' ORDER BY collection, key"
export EV_SQL="SELECT $EV_COLS FROM persist_events WHERE store = 'bench' ORDER BY stream, seq"

if want dump; then
	say "a. dump ($RECORDS records, $EVENTS events; $RUNS runs)"
	case_add "persist-dump sqlite" "" 'persist-dump -q "sqlite:$A#bench" >/dev/null'
	case_add "sqlite3 -json" "" 'sqlite3 -json "file:$A?mode=ro" "$REC_SQL" "$EV_SQL" >/dev/null'
	case_add "persist-dump postgres" "" 'persist-dump -q "$PGA#bench" >/dev/null'
	case_add "psql \\copy TO STDOUT" "" 'psql -X -q "$PGA" -c "\\copy ($REC_SQL) TO STDOUT" -c "\\copy ($EV_SQL) TO STDOUT" >/dev/null'
	run_cases dump
	row dump "persist-dump sqlite" "sqlite3 -json" "≤ 1.5× sqlite3" "r <= 1.5"
	row dump "sqlite3 -json"
	row dump "persist-dump postgres" "psql \\copy TO STDOUT" "≤ 1.5× psql" "r <= 1.5"
	row dump "psql \\copy TO STDOUT"
fi

# --- b. sum -------------------------------------------------------------------

if want sum; then
	say "b. sum ($(awk -v b="$DUMP_BYTES" 'BEGIN{printf "%.0f MB", b/1e6}') dump file; $RUNS runs)"
	cat "$A_JSONL" >/dev/null # into the page cache for both
	case_add "persist-sum FILE" "" 'persist-sum -q "$A_JSONL"'
	case_add "sha256sum FILE" "" 'sha256sum "$A_JSONL"'
	case_add "persist-sum sqlite" "" 'persist-sum -q "sqlite:$A#bench"'
	run_cases sum
	row sum "persist-sum FILE" "sha256sum FILE" "≥ 1/3 of sha256sum's MB/s" "r <= 3"
	row sum "sha256sum FILE"
	row sum "persist-sum sqlite" "sha256sum FILE"
fi

# --- c. load ------------------------------------------------------------------

if want load; then
	say "c. load ($RUNS runs)"
	export PGSCHEMA_LINE='{"kind":"record","collection":"x","key":"x","value":1}'
	case_add "persist-dump sqlite | persist-load postgres" \
		'psql -X -q "$PGADMIN" -c "DROP DATABASE IF EXISTS persist_bench_load WITH (FORCE)" -c "CREATE DATABASE persist_bench_load"' \
		'persist-dump -q "sqlite:$A#bench" | persist-load -q "$PGLOAD#bench"'
	if [[ -n $HAVE_PGLOADER ]]; then
		export PGLOADER_URL
		PGLOADER_URL=$(pg_url $PGLOADER_DB)
		# pgloader's defaults (prefetch rows = 100000) exhaust its 1 GiB SBCL
		# heap on this data ("Heap exhausted, game over"): 10000 is what works.
		export PGLOADER_WITH="prefetch rows = 10000"
		case_add "pgloader sqlite postgres" \
			'psql -X -q "$PGADMIN" -c "DROP DATABASE IF EXISTS persist_bench_pgloader WITH (FORCE)" -c "CREATE DATABASE persist_bench_pgloader"' \
			'pgloader --with "$PGLOADER_WITH" "sqlite://$A" "$PGLOADER_URL" >/dev/null'
		# Its own schema has text columns (no jsonb, no timestamptz): the same
		# load into the Persist schema is the like-for-like comparison.
		case_add "pgloader data only into the Persist schema" \
			'psql -X -q "$PGADMIN" -c "DROP DATABASE IF EXISTS persist_bench_pgloader WITH (FORCE)" -c "CREATE DATABASE persist_bench_pgloader" && echo "$PGSCHEMA_LINE" | persist-load -q "$PGLOADER_URL#bench"' \
			'pgloader --with "$PGLOADER_WITH" --with "data only" --with "truncate" "sqlite://$A" "$PGLOADER_URL" >/dev/null'
	fi
	# The hand pipeline gets the schema persist-load makes: one record loaded
	# and deleted, so the store row and the tables exist.
	case_add "sqlite3 -csv | psql \\copy FROM STDIN" \
		'psql -X -q "$PGADMIN" -c "DROP DATABASE IF EXISTS persist_bench_hand WITH (FORCE)" -c "CREATE DATABASE persist_bench_hand" && echo "$PGSCHEMA_LINE" | persist-load -q "$PGHAND#bench" && psql -X -q "$PGHAND" -c "DELETE FROM persist_records"' \
		'sqlite3 -csv "file:$A?mode=ro" "SELECT store, collection, key, version, updated_at, deleted, value FROM persist_records" | psql -X -q -v ON_ERROR_STOP=1 "$PGHAND" -c "\\copy persist_records FROM STDIN (FORMAT csv)" &&
		 sqlite3 -csv "file:$A?mode=ro" "SELECT store, stream, seq, type, at, data FROM persist_events" | psql -X -q -v ON_ERROR_STOP=1 "$PGHAND" -c "\\copy persist_events FROM STDIN (FORMAT csv)"'
	case_add "persist-dump sqlite | persist-load sqlite" \
		'rm -f "$C_DB" "$C_DB-wal" "$C_DB-shm"' \
		'persist-dump -q "sqlite:$A#bench" | persist-load -q "sqlite:$C_DB#bench"'
	case_add "sqlite3 .dump | sqlite3" \
		'rm -f "$C_DB.2" "$C_DB.2-wal" "$C_DB.2-shm"' \
		'sqlite3 "file:$A?mode=ro" .dump | sqlite3 "$C_DB.2"'
	run_cases load
	# The loads must have landed what the source holds.
	s1=$(persist-sum -q "$A_JSONL" | cut -d' ' -f1)
	if [[ -z ${FAILED["persist-dump sqlite | persist-load postgres"]:-} ]]; then
		s2=$(persist-sum -q "$PGLOAD#bench" | cut -d' ' -f1)
		[[ "$s1" == "$s2" ]] || note "persist_bench_load sums $s2, the source $s1: the load is wrong"
	fi
	if [[ -z ${FAILED["sqlite3 -csv | psql \\copy FROM STDIN"]:-} ]]; then
		s2=$(persist-sum -q "$PGHAND#bench" | cut -d' ' -f1)
		[[ "$s1" == "$s2" ]] || note "the hand pipeline's copy sums $s2, the source $s1"
	fi
	if [[ -n $HAVE_PGLOADER && -z ${FAILED["pgloader data only into the Persist schema"]:-} ]]; then
		s2=$(persist-sum -q "$PGLOADER_URL#bench" | cut -d' ' -f1)
		[[ "$s1" == "$s2" ]] || note "pgloader's copy into the Persist schema sums $s2, the source $s1"
	fi
	row load "persist-dump sqlite | persist-load postgres" "pgloader sqlite postgres" "faster than pgloader" "r < 1"
	row load "persist-dump sqlite | persist-load postgres" "sqlite3 -csv | psql \\copy FROM STDIN" "≤ 1.3× the hand pipeline" "r <= 1.3"
	row load "persist-dump sqlite | persist-load postgres" "pgloader data only into the Persist schema" "" ""
	row load "pgloader sqlite postgres"
	row load "pgloader data only into the Persist schema"
	row load "sqlite3 -csv | psql \\copy FROM STDIN"
	row load "persist-dump sqlite | persist-load sqlite" "sqlite3 .dump | sqlite3"
	row load "sqlite3 .dump | sqlite3"
fi

# --- d. diff ------------------------------------------------------------------

if want diff; then
	say "d. diff (A and B differ in ${DIFFER}% of records; $RUNS runs)"
	case_add "persist-diff --format summary sqlite sqlite" "" \
		'persist-diff -q --format summary "sqlite:$A#bench" "sqlite:$B#bench"' "1"
	case_add "persist-dump sqlite A" "" 'persist-dump -q "sqlite:$A#bench" >/dev/null'
	case_add "persist-dump sqlite B" "" 'persist-dump -q "sqlite:$B#bench" >/dev/null'
	case_add "diff <(sort a) <(sort b)" "" \
		'diff <(LC_ALL=C sort "$A_JSONL") <(LC_ALL=C sort "$B_JSONL") >/dev/null' "1"
	if [[ -n $HAVE_SQLDIFF ]]; then
		case_add "sqldiff a.db b.db" "" 'sqldiff "$A" "$B" >/dev/null'
	fi
	run_cases diff
	row diff "persist-diff --format summary sqlite sqlite" "max:persist-dump sqlite A,persist-dump sqlite B" \
		"≤ 1.2× the slower dump, < 64 MiB" "r <= 1.2 && m < 64"
	row diff "persist-dump sqlite A"
	row diff "persist-dump sqlite B"
	row diff "diff <(sort a) <(sort b)" "max:persist-dump sqlite A,persist-dump sqlite B"
	if [[ -n $HAVE_SQLDIFF ]]; then
		row diff "sqldiff a.db b.db" "max:persist-dump sqlite A,persist-dump sqlite B"
	fi
fi

# --- e. delta -----------------------------------------------------------------

# A delta of 1% of the records (every hundredth, a new version with a new
# value) against a full dump of the same store, in SQLite and in PostgreSQL.
# The stores are copies of A changed after a cursor was taken, so A and its
# PostgreSQL copy stay as cached.
if want delta; then
	say "e. delta (1% of $RECORDS records changed; $RUNS runs)"
	export D_DB=$DATA/delta.db PGDELTA DELTA_CURSOR=$DATA/delta.cursor PGDELTA_CURSOR=$DATA/pgdelta.cursor
	PGDELTA=$(pg_url persist_bench_delta)
	awk 'NR % 100 == 50 && /"kind":"record"/' "$A_JSONL" |
		jq -c '.version += 1 | del(.deleted) | .value = {"changed": true, "was": .key}' >"$DATA/change.jsonl"
	rm -f "$D_DB" "$D_DB-wal" "$D_DB-shm" "$DELTA_CURSOR" "$PGDELTA_CURSOR"
	cp "$A" "$D_DB"
	persist upgrade bench --location "sqlite:$D_DB" -q
	persist-dump -q "sqlite:$D_DB#bench" --cursor-file "$DELTA_CURSOR" -o /dev/null
	persist-load -q "sqlite:$D_DB#bench" -i "$DATA/change.jsonl"
	pg_fresh persist_bench_delta
	persist-load -q "$PGDELTA#bench" -i "$A_JSONL"
	persist-dump -q "$PGDELTA#bench" --cursor-file "$PGDELTA_CURSOR" -o /dev/null
	persist-load -q "$PGDELTA#bench" -i "$DATA/change.jsonl"
	psql -X -q "$PGDELTA" -c 'VACUUM ANALYZE' >/dev/null
	case_add "persist-dump sqlite (full)" "" 'persist-dump -q "sqlite:$D_DB#bench" >/dev/null'
	case_add "persist-dump sqlite --since (1% changed)" "" 'persist-dump -q "sqlite:$D_DB#bench" --since "$(cat "$DELTA_CURSOR")" >/dev/null'
	case_add "persist-dump postgres (full)" "" 'persist-dump -q "$PGDELTA#bench" >/dev/null'
	case_add "persist-dump postgres --since (1% changed)" "" 'persist-dump -q "$PGDELTA#bench" --since "$(cat "$PGDELTA_CURSOR")" >/dev/null'
	run_cases delta
	row delta "persist-dump sqlite --since (1% changed)" "persist-dump sqlite (full)" "≤ 10% of the full dump" "r <= 0.10"
	row delta "persist-dump sqlite (full)"
	row delta "persist-dump postgres --since (1% changed)" "persist-dump postgres (full)" "≤ 10% of the full dump" "r <= 0.10"
	row delta "persist-dump postgres (full)"
fi

# --- f. memory ----------------------------------------------------------------

if want memory; then
	say "f. memory (peak RSS of each tool alone; 1 run)"
	saved=$RUNS
	RUNS=1
	case_add "mem: persist-dump sqlite" "" 'persist-dump -q "sqlite:$A#bench" >/dev/null'
	case_add "mem: persist-dump postgres" "" 'persist-dump -q "$PGA#bench" >/dev/null'
	case_add "mem: persist-sum FILE" "" 'persist-sum -q "$A_JSONL"'
	case_add "mem: persist-load sqlite < FILE" 'rm -f "$C_DB" "$C_DB-wal" "$C_DB-shm"' \
		'persist-load -q "sqlite:$C_DB#bench" -i "$A_JSONL"'
	case_add "mem: persist-load postgres < FILE" \
		'psql -X -q "$PGADMIN" -c "DROP DATABASE IF EXISTS persist_bench_load WITH (FORCE)" -c "CREATE DATABASE persist_bench_load"' \
		'persist-load -q "$PGLOAD#bench" -i "$A_JSONL"'
	case_add "mem: persist-diff sqlite postgres (same)" "" 'persist-diff -q --format summary "sqlite:$A#bench" "$PGA#bench"' "0"
	if [[ -f $B ]]; then
		case_add "mem: persist-diff sqlite sqlite (1% differ)" "" \
			'persist-diff -q --format summary "sqlite:$A#bench" "sqlite:$B#bench"' "1"
	fi
	run_cases memory
	for l in "mem: persist-dump sqlite" "mem: persist-dump postgres" "mem: persist-sum FILE" \
		"mem: persist-load sqlite < FILE" "mem: persist-load postgres < FILE" \
		"mem: persist-diff sqlite postgres (same)" "mem: persist-diff sqlite sqlite (1% differ)"; do
		[[ -n ${TIMES[$l]:-}${FAILED[$l]:-} ]] && row memory "$l" "" "< 64 MiB" "m < 64"
	done

	if [[ "${BENCH_10M:-}" == 1 ]]; then
		say "f. memory at 10M records"
		export BIG=$DATA/big.db BIG_JSONL=$DATA/big.jsonl
		big_stamp="records=10000000 events=2000000 seed=$SEED"
		if [[ ! -f $BIG_JSONL || "$(cat "$DATA/big.stamp" 2>/dev/null)" != "$big_stamp" ]]; then
			rm -f "$BIG" "$BIG-wal" "$BIG-shm"
			"$DATA/gen" -records 10000000 -events 2000000 -seed "$SEED" | persist-load -q "sqlite:$BIG#bench"
			persist-dump -q "sqlite:$BIG#bench" -o "$BIG_JSONL"
			echo "$big_stamp" >"$DATA/big.stamp"
		fi
		case_add "mem 10M: persist-dump sqlite" "" 'persist-dump -q "sqlite:$BIG#bench" >/dev/null'
		case_add "mem 10M: persist-sum FILE" "" 'persist-sum -q "$BIG_JSONL"'
		case_add "mem 10M: persist-load sqlite < FILE" 'rm -f "$C_DB" "$C_DB-wal" "$C_DB-shm"' \
			'persist-load -q "sqlite:$C_DB#bench" -i "$BIG_JSONL"'
		case_add "mem 10M: persist-diff sqlite sqlite (same)" "" \
			'persist-diff -q --format summary "sqlite:$BIG#bench" "sqlite:$C_DB#bench"' "0"
		run_cases memory10m
		for l in "mem 10M: persist-dump sqlite" "mem 10M: persist-sum FILE" \
			"mem 10M: persist-load sqlite < FILE" "mem 10M: persist-diff sqlite sqlite (same)"; do
			row memory "$l" "" "< 64 MiB" "m < 64"
		done
		rm -f "$C_DB" "$C_DB-wal" "$C_DB-shm"
	fi
	RUNS=$saved
fi

# --- report -------------------------------------------------------------------

pg_drop persist_bench_load
pg_drop persist_bench_hand
pg_drop persist_bench_delta
pg_drop $PGLOADER_DB
rm -f "$C_DB" "$C_DB-wal" "$C_DB-shm" "$C_DB.2" "$OUT/time.tmp"
rm -f "$DATA/delta.db" "$DATA/delta.db-wal" "$DATA/delta.db-shm" "$DATA/change.jsonl"

# Figures taken while other work runs are skewed: say so beside them.
for l in "${LOADS[@]}"; do
	if awk -v l="${l##* }" -v n="$(nproc)" 'BEGIN{exit !(l > n)}'; then
		note "the machine was busy (load average above $(nproc) cores in: ${LOADS[*]}); other processes competed for the CPU and the figures are less reliable"
		break
	fi
done

{
	echo "# Persist benchmark"
	echo
	echo "- data: $RECORDS records (8 collections, ~420-byte values, 2% tombstones), $EVENTS events over $((EVENTS < 1000 ? EVENTS : 1000)) streams; dump file $(awk -v b="$DUMP_BYTES" 'BEGIN{printf "%.0f MB", b/1e6}')"
	echo "- method: every command on the same data in one run, interleaved, $RUNS runs each; median wall time, highest peak RSS (GNU time \`%e %M\`; a pipeline's RSS is that of its largest process)"
	echo "- machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
	echo "- versions: $(persist-dump --version 2>&1 | head -n1); $(sqlite3 --version | cut -d' ' -f1,2 | sed 's/^/sqlite3 /'); $(psql -X -t -A "$(pg_url postgres)" -c 'SHOW server_version' | sed 's/^/PostgreSQL /' | cut -d' ' -f1,2)${HAVE_PGLOADER:+; $(pgloader --version 2>&1 | head -n1)}"
	echo "- date: $(date -u +%Y-%m-%dT%H:%MZ); 1-minute load average as each section began: ${LOADS[*]:-}"
	echo
	render
	if ((${#NOTES[@]})); then
		echo
		for n in "${NOTES[@]}"; do echo "- note: $n"; done
	fi
} >"$OUT/results.md"
echo
cat "$OUT/results.md"
