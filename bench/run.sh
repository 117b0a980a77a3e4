#!/usr/bin/env bash
# make bench: the Persist tools side by side with what a user would otherwise
# reach for (sqlite3, psql \copy, pgloader, sha256sum, sqldiff), on the same
# generated data, in one run, medians of BENCH_RUNS runs, each row with its
# ratio, its goal (docs/performance.md, "The goals") and whether it met it.
#
#   BENCH_RECORDS  records in the store (default 1000000)
#   BENCH_EVENTS   events in the store (default BENCH_RECORDS/5)
#   BENCH_RUNS     runs of each command; the table shows medians (default 3)
#   BENCH_ONLY     sections to run, of: dump sum load diff delta memory api
#                  linear baseline (default the first seven; linear with BENCH_10M=1,
#                  baseline with BENCH_BASELINE)
#   BENCH_QUICK=1  a quick try: 20000 records, 1 run
#   BENCH_10M=1    add the linear section: every tool at BENCH_RECORDS and at
#                  ten times as many (1M and 10M by default; 20k and 200k with
#                  BENCH_QUICK=1), 10x/1x time ratio and peak RSS against their
#                  goals
#   BENCH_BASELINE=REV  add the baseline section: the whole-store dumps, sums
#                  and loads of this build against those of git revision REV
#                  (built from git archive), taking turns; goal: no slower
#   BENCH_LINEAR_RUNS  runs of each command in the linear section (default 1)
#   BENCH_DATA     where the generated stores are kept (default bench/data)
#   BENCH_PG_PREFIX  prefix of the PostgreSQL databases the script creates and
#                  drops (default persist_bench)
#   PERSIST_BENCH_POSTGRES  server URL (default postgres://postgres@127.0.0.1:5432/)
#
# Generated stores are kept in BENCH_DATA and reused while the parameters are
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
LINEAR_RUNS=${BENCH_LINEAR_RUNS:-1}
ALL="dump sum load diff delta memory api"
[[ "${BENCH_10M:-}" == 1 ]] && ALL+=" linear"
BASELINE=${BENCH_BASELINE:-}
[[ -n $BASELINE ]] && ALL+=" baseline"
ONLY=" ${BENCH_ONLY:-$ALL} "
PG=${PERSIST_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/}
PREFIX=${BENCH_PG_PREFIX:-persist_bench}
SEED=1
DIFFER=1 # percent of records that differ between the two diff stores
# Goals are stated for this size (issue 16); other sizes are a try.
GOAL_RECORDS=1000000
MEM_GOAL=64 # MiB, every tool, at every size

for s in $ONLY; do
	[[ " $ALL linear baseline " == *" $s "* ]] || {
		echo "bench: BENCH_ONLY names an unknown section \"$s\"" >&2
		echo "hint: the sections are: dump sum load diff delta memory api linear baseline" >&2
		exit 2
	}
done
if [[ "$ONLY" == *" baseline "* ]]; then
	[[ -n $BASELINE ]] || {
		echo "bench: the baseline section needs BENCH_BASELINE=REV (a git revision to compare with)" >&2
		echo "hint: e.g. BENCH_BASELINE=main BENCH_ONLY=baseline make bench" >&2
		exit 2
	}
	rev=$(git rev-parse --verify --quiet "$BASELINE^{commit}") || {
		echo "bench: BENCH_BASELINE=$BASELINE is not a commit of this repository" >&2
		echo "hint: name a branch, tag or commit that git log shows, e.g. main" >&2
		exit 2
	}
fi
[[ $PREFIX =~ ^[a-z_][a-z0-9_]*$ ]] || {
	echo "bench: BENCH_PG_PREFIX=\"$PREFIX\" is not a plain database name" >&2
	echo "hint: use lower-case letters, digits and _, e.g. BENCH_PG_PREFIX=persist_bench_mine" >&2
	exit 2
}

DATA=${BENCH_DATA:-$ROOT/bench/data}
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
# The table and its verdicts (median, ratio, goal, met).
source "$ROOT/bench/table.sh"
# q WORD: WORD quoted for a command string run by bash -c.
q() { printf '%q' "$1"; }
# human N: 1000000 as 1M, 20000 as 20k.
human() {
	if (($1 >= 1000000 && $1 % 1000000 == 0)); then
		echo "$(($1 / 1000000))M"
	elif (($1 >= 1000 && $1 % 1000 == 0)); then
		echo "$(($1 / 1000))k"
	else
		echo "$1"
	fi
}

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
		echo "bench: $1 is missing and could not be installed" >&2
		echo "hint: as root: apt-get install $2" >&2
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
for b in persist persist-dump persist-load persist-sum persist-diff persist-seal persist-tee; do
	[[ -x bin/$b ]] || {
		echo "bench: bin/$b is missing" >&2
		echo "hint: run make bench (it builds first), or make build" >&2
		exit 2
	}
	cp bin/$b "$OUT/bin/$b"
done
export PATH="$OUT/bin:$PATH"
[[ -x /usr/bin/time ]] || apt_install time || true
[[ -x /usr/bin/time ]] || {
	echo "bench: /usr/bin/time (GNU time) is missing" >&2
	echo "hint: as root: apt-get install time" >&2
	exit 2
}
need sqlite3 sqlite3
need psql postgresql-client
need jq jq
need zstd zstd

# A comparison whose tool is missing is left out; the rows measured against
# it say why instead of met or not met.
HAVE_PGLOADER=1
maybe pgloader pgloader || {
	HAVE_PGLOADER=
	ABSENT["pgloader sqlite postgres"]="pgloader is not installed (apt-get install pgloader)"
	note "pgloader is not installed and could not be (apt-get install pgloader): its comparison is left out"
}
# Debian ships sqldiff in sqlite3-tools (apt-cache search sqldiff finds
# nothing). --primarykey matches rows by their declared primary key, as
# persist-diff does; an sqldiff without it would compare by rowid.
HAVE_SQLDIFF=1
SQLDIFF_LABEL="sqldiff --primarykey a.db b.db"
if ! maybe sqldiff sqlite3-tools; then
	HAVE_SQLDIFF=
	ABSENT[$SQLDIFF_LABEL]="sqldiff is not installed (Debian: apt-get install sqlite3-tools)"
	note "sqldiff is not installed and could not be (Debian: apt-get install sqlite3-tools): the diff goal cannot be checked"
elif ! sqldiff --help 2>&1 | grep -q -- --primarykey; then
	HAVE_SQLDIFF=
	ABSENT[$SQLDIFF_LABEL]="this sqldiff has no --primarykey"
	note "the installed sqldiff ($(command -v sqldiff)) has no --primarykey option: the diff goal cannot be checked"
fi

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
pg_drop() { psql_admin -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null; }
psql_admin -c 'SELECT 1' >/dev/null 2>"$LOGS/pg-connect.log" || {
	echo "bench: cannot reach PostgreSQL at $(pg_url postgres | sed -E 's#(://[^:/@]*):[^@]*@#\1:***@#'):" >&2
	cat "$LOGS/pg-connect.log" >&2
	echo "hint: set PERSIST_BENCH_POSTGRES to a server where databases may be created" >&2
	exit 2
}
# pg_fresh_cmd DB: the same as a command string, for a case's setup.
pg_fresh_cmd() {
	printf 'psql -X -q -v ON_ERROR_STOP=1 %s -c %s -c %s' "$(q "$(pg_url postgres)")" \
		"$(q "DROP DATABASE IF EXISTS $1 WITH (FORCE)")" "$(q "CREATE DATABASE $1")"
}

# --- data ---------------------------------------------------------------------

say "building the generator"
go build -o "$DATA/gen" ./bench/gen

# set_dir N E: the folder of one size, so that a quick try does not throw
# away the big stores.
set_dir() { echo "$DATA/r$1-e$2-s$SEED"; }

# make_store DIR N E NAME GENFLAGS...: bench/gen | persist-load into
# DIR/NAME.db, and its dump into DIR/NAME.jsonl, unless they were made with
# the same parameters.
make_store() {
	local dir=$1 n=$2 e=$3 name=$4
	shift 4
	local stamp="records=$n events=$e seed=$SEED gen=$*"
	mkdir -p "$dir"
	if [[ -f $dir/$name.db && -f $dir/$name.jsonl && "$(cat "$dir/$name.stamp" 2>/dev/null)" == "$stamp" ]]; then
		say "reusing $dir/$name.db ($stamp)"
		return
	fi
	say "generating $dir/$name.db: gen $* | persist-load"
	rm -f "$dir/$name.db" "$dir/$name.db-wal" "$dir/$name.db-shm" "$dir/$name.stamp"
	"$DATA/gen" -records "$n" -events "$e" -seed "$SEED" "$@" |
		persist-load -q "sqlite:$dir/$name.db#bench"
	persist-dump -q "sqlite:$dir/$name.db#bench" -o "$dir/$name.jsonl"
	echo "$stamp" >"$dir/$name.stamp"
}

# pg_settle URL: the tables as autovacuum leaves them after a load on a
# server that runs it (the benchmark's server may not): statistics, without
# which the planner sorts psql's ordered \copy on disk (Persist's dump asks
# for the index order either way), and the visibility map, which PostgreSQL
# 13 and later set after inserts too, and from which a count reads the
# primary key alone.
pg_settle() { psql -X -q "$1" -c "VACUUM ANALYZE persist_records, persist_events"; }

# pg_store DB N E JSONL: the PostgreSQL copy of a generated store, loaded the
# same way, kept while its sum matches that of JSONL.
pg_store() {
	local db=$1 n=$2 e=$3 jsonl=$4 url want_sum have
	url=$(pg_url "$db")
	want_sum=$(persist-sum -q "$jsonl" | cut -d' ' -f1)
	have=$(persist-sum -q "$url#bench" 2>/dev/null | cut -d' ' -f1 || true)
	if [[ "$have" == "$want_sum" ]]; then
		say "reusing $db ($want_sum)"
		pg_settle "$url"
		return
	fi
	say "loading $db: gen | persist-load postgres"
	pg_fresh "$db"
	"$DATA/gen" -records "$n" -events "$e" -seed "$SEED" | persist-load -q "$url#bench"
	have=$(persist-sum -q "$url#bench" | cut -d' ' -f1)
	[[ "$have" == "$want_sum" ]] || {
		echo "bench: $db sums $have, $jsonl sums $want_sum" >&2
		exit 2
	}
	pg_settle "$url"
}

export PGADMIN PGA PGLOAD PGHAND PGMIG PGLOADER_DB A B A_JSONL B_JSONL C_DB M_DB
PGADMIN=$(pg_url postgres)
SET=$(set_dir "$RECORDS" "$EVENTS")
A=$SET/a.db
B=$SET/b.db
A_JSONL=$SET/a.jsonl
B_JSONL=$SET/b.jsonl
C_DB=$DATA/c.db
M_DB=$DATA/m.db
PGA_DB=${PREFIX}_r${RECORDS}_e${EVENTS}_s$SEED
PGA=$(pg_url "$PGA_DB")
PGLOAD=$(pg_url "${PREFIX}_load")
PGHAND=$(pg_url "${PREFIX}_hand")
PGMIG=$(pg_url "${PREFIX}_migrate")
PGLOADER_DB=${PREFIX}_pgloader

make_store "$SET" "$RECORDS" "$EVENTS" a
if want diff || want memory; then make_store "$SET" "$RECORDS" "$EVENTS" b -differ "$DIFFER"; fi
if want dump || want memory || want linear || want baseline; then pg_store "$PGA_DB" "$RECORDS" "$EVENTS" "$A_JSONL"; fi

DUMP_BYTES=$(stat -c %s "$A_JSONL")

# --- measuring ----------------------------------------------------------------

# A case is a command measured RUNS times, interleaved with the other cases of
# its section so that drift (cache, thermal, autovacuum) hits them all alike.
CASES=()
declare -A SETUP CMD OKRC
CASE_BYTES=$DUMP_BYTES # the dump size a case's MB/s is figured on
case_add() { # case_add LABEL SETUP CMD [OK-EXIT-CODES]
	CASES+=("$1")
	SETUP[$1]=$2
	CMD[$1]=$3
	OKRC[$1]=${4:-0}
	BYTES[$1]=$CASE_BYTES
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
			printf '  %-50s run %d: %7.2f s %7.1f MiB\n' "$label" "$run" "$e" "$(awk -v k="$m" 'BEGIN{print k/1024}')" >&2
		done
	done
	CASES=()
}

MEM_TEXT="≤ $MEM_GOAL MiB"
MEM_CHECK="m <= $MEM_GOAL"

# --- dump ---------------------------------------------------------------------

REC_COLS="collection, key, version, updated_at, deleted, value"
EV_COLS="stream, seq, type, at, data"
export REC_SQL="SELECT $REC_COLS FROM persist_records WHERE store = 'bench' ORDER BY collection, key"
export EV_SQL="SELECT $EV_COLS FROM persist_events WHERE store = 'bench' ORDER BY stream, seq"

if want dump; then
	say "dump ($RECORDS records, $EVENTS events; $RUNS runs)"
	case_add "persist-dump sqlite" "" 'persist-dump -q "sqlite:$A#bench" >/dev/null'
	case_add "sqlite3 -json" "" 'sqlite3 -json "file:$A?mode=ro" "$REC_SQL" "$EV_SQL" >/dev/null'
	case_add "persist-dump postgres" "" 'persist-dump -q "$PGA#bench" >/dev/null'
	case_add "psql \\copy TO STDOUT" "" 'psql -X -q "$PGA" -c "\\copy ($REC_SQL) TO STDOUT" -c "\\copy ($EV_SQL) TO STDOUT" >/dev/null'
	run_cases dump
	row dump "persist-dump sqlite" "sqlite3 -json" "≤ 0.7×" "r <= 0.7"
	row dump "sqlite3 -json"
	row dump "persist-dump postgres" "psql \\copy TO STDOUT" "≤ 0.8×" "r <= 0.8"
	row dump "psql \\copy TO STDOUT"
fi

# --- sum ----------------------------------------------------------------------

if want sum; then
	say "sum ($(awk -v b="$DUMP_BYTES" 'BEGIN{printf "%.0f MB", b/1e6}') dump file; $RUNS runs)"
	cat "$A_JSONL" >/dev/null # into the page cache for both
	case_add "persist-sum FILE" "" 'persist-sum -q "$A_JSONL"'
	case_add "sha256sum FILE" "" 'sha256sum "$A_JSONL"'
	case_add "persist-sum sqlite" "" 'persist-sum -q "sqlite:$A#bench"'
	run_cases sum
	row sum "persist-sum FILE" "sha256sum FILE" "≤ 1.0×" "r <= 1.0"
	row sum "sha256sum FILE"
	row sum "persist-sum sqlite" "sha256sum FILE"
fi

# --- load ---------------------------------------------------------------------

# SQLite to PostgreSQL and SQLite to SQLite, each as a pipeline and as
# persist migrate, verified (the default), against the hand pipelines and
# pgloader. Every load starts from an empty database (the setup, not timed).
if want load; then
	say "load ($RUNS runs)"
	export PGSCHEMA_LINE='{"kind":"record","collection":"x","key":"x","value":1}'
	case_add "persist-dump sqlite | persist-load postgres" "$(pg_fresh_cmd "${PREFIX}_load")" \
		'persist-dump -q "sqlite:$A#bench" | persist-load -q "$PGLOAD#bench"'
	case_add "persist migrate sqlite → postgres" "$(pg_fresh_cmd "${PREFIX}_migrate")" \
		'persist migrate bench -q --source "sqlite:$A" --target "$PGMIG"'
	if [[ -n $HAVE_PGLOADER ]]; then
		export PGLOADER_URL
		PGLOADER_URL=$(pg_url "$PGLOADER_DB")
		# pgloader's defaults (prefetch rows = 100000) exhaust its 1 GiB SBCL
		# heap on this data ("Heap exhausted, game over"): 10000 is what works.
		export PGLOADER_WITH="prefetch rows = 10000"
		case_add "pgloader sqlite postgres" "$(pg_fresh_cmd "$PGLOADER_DB")" \
			'pgloader --with "$PGLOADER_WITH" "sqlite://$A" "$PGLOADER_URL" >/dev/null'
		# Its own schema has text columns (no jsonb, no timestamptz): the same
		# load into the Persist schema is the like-for-like comparison.
		# Data only copies every table of the source by name, and the change
		# history's table differs between the adapters by design: its source
		# holds the two data tables alone (made once, not timed).
		export PGL_A="$SET/pgloader-data.db"
		if [[ ! -s $PGL_A || $PGL_A -ot $A ]]; then
			rm -f "$PGL_A"
			sqlite3 "$PGL_A" "ATTACH '$A' AS a; CREATE TABLE persist_records AS SELECT * FROM a.persist_records; CREATE TABLE persist_events AS SELECT * FROM a.persist_events;"
		fi
		case_add "pgloader data only into the Persist schema" \
			"$(pg_fresh_cmd "$PGLOADER_DB")"' && echo "$PGSCHEMA_LINE" | persist-load -q "$PGLOADER_URL#bench"' \
			'pgloader --with "$PGLOADER_WITH" --with "data only" --with "truncate" "sqlite://$PGL_A" "$PGLOADER_URL" >/dev/null'
	fi
	# The hand pipeline gets the schema persist-load makes: one record loaded
	# and deleted, so the store row and the tables exist.
	case_add "sqlite3 -csv | psql \\copy FROM STDIN" \
		"$(pg_fresh_cmd "${PREFIX}_hand")"' && echo "$PGSCHEMA_LINE" | persist-load -q "$PGHAND#bench" && psql -X -q "$PGHAND" -c "DELETE FROM persist_records"' \
		'sqlite3 -csv "file:$A?mode=ro" "SELECT store, collection, key, version, updated_at, deleted, value FROM persist_records" | psql -X -q -v ON_ERROR_STOP=1 "$PGHAND" -c "\\copy persist_records (store, collection, key, version, updated_at, deleted, value) FROM STDIN (FORMAT csv)" &&
		 sqlite3 -csv "file:$A?mode=ro" "SELECT store, stream, seq, type, at, data FROM persist_events" | psql -X -q -v ON_ERROR_STOP=1 "$PGHAND" -c "\\copy persist_events (store, stream, seq, type, at, data) FROM STDIN (FORMAT csv)"'
	case_add "persist-dump sqlite | persist-load sqlite" \
		'rm -f "$C_DB" "$C_DB-wal" "$C_DB-shm"' \
		'persist-dump -q "sqlite:$A#bench" | persist-load -q "sqlite:$C_DB#bench"'
	case_add "persist migrate sqlite → sqlite" \
		'rm -f "$M_DB" "$M_DB-wal" "$M_DB-shm"' \
		'persist migrate bench -q --source "sqlite:$A" --target "sqlite:$M_DB"'
	case_add "sqlite3 .dump | sqlite3" \
		'rm -f "$C_DB.2" "$C_DB.2-wal" "$C_DB.2-shm"' \
		'sqlite3 "file:$A?mode=ro" .dump | sqlite3 "$C_DB.2"'
	run_cases load
	# The loads must have landed what the source holds.
	s1=$(persist-sum -q "$A_JSONL" | cut -d' ' -f1)
	for x in "persist-dump sqlite | persist-load postgres=$PGLOAD#bench" \
		"persist migrate sqlite → postgres=$PGMIG#bench" \
		"sqlite3 -csv | psql \\copy FROM STDIN=$PGHAND#bench" \
		"persist-dump sqlite | persist-load sqlite=sqlite:$C_DB#bench" \
		"persist migrate sqlite → sqlite=sqlite:$M_DB#bench" \
		"pgloader data only into the Persist schema=${PGLOADER_URL:-}#bench"; do
		l=${x%%=*}
		[[ -n ${TIMES[$l]:-} ]] || continue
		s2=$(persist-sum -q "${x#*=}" 2>>"$LOGS/load-sums.log" | cut -d' ' -f1 || true)
		[[ "$s1" == "$s2" ]] || note "what \`$l\` loaded sums ${s2:-nothing (see $LOGS/load-sums.log)}, the source $s1: that load is wrong"
	done
	for l in "persist-dump sqlite | persist-load postgres" "persist migrate sqlite → postgres"; do
		row load "$l" "sqlite3 -csv | psql \\copy FROM STDIN" "≤ 0.9×" "r <= 0.9"
		row load "$l" "sqlite3 -csv | psql \\copy FROM STDIN" "≤ 1.1× (the exact check's own goal)" "r <= 1.1"
		row load "$l" "pgloader sqlite postgres" "≤ 0.67×" "r <= 0.67"
		[[ -n $HAVE_PGLOADER ]] && row load "$l" "pgloader data only into the Persist schema"
	done
	row load "sqlite3 -csv | psql \\copy FROM STDIN"
	row load "pgloader sqlite postgres"
	[[ -n $HAVE_PGLOADER ]] && row load "pgloader data only into the Persist schema"
	row load "persist-dump sqlite | persist-load sqlite" "sqlite3 .dump | sqlite3" "≤ 0.5×" "r <= 0.5"
	row load "persist migrate sqlite → sqlite" "sqlite3 .dump | sqlite3" "≤ 0.5×" "r <= 0.5"
	row load "sqlite3 .dump | sqlite3"
fi

# --- diff ---------------------------------------------------------------------

if want diff; then
	say "diff (A and B differ in ${DIFFER}% of records; $RUNS runs)"
	case_add "persist-diff --format summary sqlite sqlite" "" \
		'persist-diff -q --format summary "sqlite:$A#bench" "sqlite:$B#bench"' "1"
	if [[ -n $HAVE_SQLDIFF ]]; then
		case_add "$SQLDIFF_LABEL" "" 'sqldiff --primarykey "$A" "$B" >/dev/null'
	fi
	case_add "diff <(sort a) <(sort b)" "" \
		'diff <(LC_ALL=C sort "$A_JSONL") <(LC_ALL=C sort "$B_JSONL") >/dev/null' "1"
	run_cases diff
	row diff "persist-diff --format summary sqlite sqlite" "$SQLDIFF_LABEL" "≤ 0.5×" "r <= 0.5"
	row diff "$SQLDIFF_LABEL"
	row diff "diff <(sort a) <(sort b)" "$SQLDIFF_LABEL"
fi

# --- delta --------------------------------------------------------------------

# A delta of 1% of the records (every hundredth, a new version with a new
# value) against a full dump of the same store, in SQLite and in PostgreSQL.
# The stores are copies of A changed after a cursor was taken, so A and its
# PostgreSQL copy stay as cached.
if want delta; then
	say "delta (1% of $RECORDS records changed; $RUNS runs)"
	export D_DB=$DATA/delta.db PGDELTA DELTA_CURSOR=$DATA/delta.cursor PGDELTA_CURSOR=$DATA/pgdelta.cursor
	PGDELTA=$(pg_url "${PREFIX}_delta")
	awk 'NR % 100 == 50 && /"kind":"record"/' "$A_JSONL" |
		jq -c '.version += 1 | del(.deleted) | .value = {"changed": true, "was": .key}' >"$DATA/change.jsonl"
	rm -f "$D_DB" "$D_DB-wal" "$D_DB-shm" "$DELTA_CURSOR" "$PGDELTA_CURSOR"
	cp "$A" "$D_DB"
	persist upgrade bench --location "sqlite:$D_DB" -q
	persist-dump -q "sqlite:$D_DB#bench" --cursor-file "$DELTA_CURSOR" -o /dev/null
	persist-load -q "sqlite:$D_DB#bench" -i "$DATA/change.jsonl"
	pg_fresh "${PREFIX}_delta"
	persist-load -q "$PGDELTA#bench" -i "$A_JSONL"
	persist-dump -q "$PGDELTA#bench" --cursor-file "$PGDELTA_CURSOR" -o /dev/null
	persist-load -q "$PGDELTA#bench" -i "$DATA/change.jsonl"
	psql -X -q "$PGDELTA" -c 'VACUUM ANALYZE' >/dev/null
	case_add "persist-dump sqlite (full)" "" 'persist-dump -q "sqlite:$D_DB#bench" >/dev/null'
	case_add "persist-dump sqlite --since (1% changed)" "" 'persist-dump -q "sqlite:$D_DB#bench" --since "$(cat "$DELTA_CURSOR")" >/dev/null'
	case_add "persist-dump postgres (full)" "" 'persist-dump -q "$PGDELTA#bench" >/dev/null'
	case_add "persist-dump postgres --since (1% changed)" "" 'persist-dump -q "$PGDELTA#bench" --since "$(cat "$PGDELTA_CURSOR")" >/dev/null'
	run_cases delta
	row delta "persist-dump sqlite --since (1% changed)" "persist-dump sqlite (full)" "≤ 0.10×" "r <= 0.10"
	row delta "persist-dump sqlite (full)"
	row delta "persist-dump postgres --since (1% changed)" "persist-dump postgres (full)" "≤ 0.10×" "r <= 0.10"
	row delta "persist-dump postgres (full)"
fi

# --- tool cases for memory and linear -----------------------------------------

# tool_cases TAG DB JSONL PGURL [B]: every tool once over one store: the SQLite
# file DB, its dump JSONL and its PostgreSQL copy PGURL (B: a store differing
# from DB in 1%). Loads write into $TGT_DB and the database ${PREFIX}_target,
# emptied before each (not timed). The commands name their paths, quoted, so
# that the cases of two sizes can take turns.
TGT_DB=$DATA/target.db
# warm FILE...: a setup that reads the files a case reads into the page cache
# first, so that at either size a tool is timed reading from memory, as its
# reference is: the larger sizes' files (5–22 GB with the server's copy) do
# not all stay cached between cases, and a tool timed reading from the disk
# measures the disk. Warming is no check: a file gone by then (a
# write-ahead log SQLite removed) is passed over, and no file at all reads
# nothing (cat with no file would read standard input).
warm() {
	local f files=
	for f in "$@"; do files+=" $(q "$f")"; done
	printf '{ for f in%s; do [[ ! -e $f ]] || cat -- "$f" >/dev/null; done; }' "$files"
}
tool_cases() {
	local tag=$1 db=$2 jsonl=$3 pgurl=$4 b=${5:-} tgt_rm pg_tgt wdb wfile
	tgt_rm="rm -f $(q "$TGT_DB") $(q "$TGT_DB-wal") $(q "$TGT_DB-shm")"
	pg_tgt=$(pg_url "${PREFIX}_target")
	wdb=$(warm "$db" "$db-wal")
	wfile=$(warm "$jsonl")
	case_add "$tag persist-dump sqlite" "$wdb" "persist-dump -q $(q "sqlite:$db#bench") >/dev/null"
	case_add "$tag persist-dump postgres" "" "persist-dump -q $(q "$pgurl#bench") >/dev/null"
	case_add "$tag persist-sum FILE" "$wfile" "persist-sum -q $(q "$jsonl")"
	case_add "$tag persist-sum sqlite" "$wdb" "persist-sum -q $(q "sqlite:$db#bench")"
	case_add "$tag persist-seal < FILE" "$wfile" "persist-seal <$(q "$jsonl") >/dev/null"
	case_add "$tag persist-load sqlite < FILE" "$tgt_rm && $wfile" "persist-load -q $(q "sqlite:$TGT_DB#bench") -i $(q "$jsonl")"
	case_add "$tag persist-tee sqlite < FILE" "$tgt_rm && $wfile" "persist-tee -q $(q "sqlite:$TGT_DB#bench") <$(q "$jsonl") >/dev/null"
	case_add "$tag persist migrate sqlite → sqlite" "$tgt_rm && $wdb" \
		"persist migrate bench -q --source $(q "sqlite:$db") --target $(q "sqlite:$TGT_DB")"
	case_add "$tag persist-diff sqlite FILE (same)" "$wdb && $wfile" \
		"persist-diff -q --format summary $(q "sqlite:$db#bench") $(q "$jsonl")" "0"
	case_add "$tag persist-diff sqlite postgres (same)" "$wdb" \
		"persist-diff -q --format summary $(q "sqlite:$db#bench") $(q "$pgurl#bench")" "0"
	if [[ -n $b ]]; then
		case_add "$tag persist-diff sqlite sqlite (1% differ)" "$wdb && $(warm "$b" "$b-wal")" \
			"persist-diff -q --format summary $(q "sqlite:$db#bench") $(q "sqlite:$b#bench")" "1"
	fi
	case_add "$tag persist-load postgres < FILE" "$(pg_fresh_cmd "${PREFIX}_target") && $wfile" \
		"persist-load -q $(q "$pg_tgt#bench") -i $(q "$jsonl")"
	case_add "$tag persist migrate sqlite → postgres" "$(pg_fresh_cmd "${PREFIX}_target") && $wdb" \
		"persist migrate bench -q --source $(q "sqlite:$db") --target $(q "$pg_tgt")"
}

# reference_cases TAG DB: what the machine itself does at a size, for the
# linear section to set each tool's ratio beside: SQLite's own copy of the
# file (what persist migrate sqlite → sqlite runs, without its proof) and
# the hand pipeline into PostgreSQL (into the schema persist-load makes).
reference_cases() {
	local tag=$1 db=$2 tgt_rm pg_tgt
	tgt_rm="rm -f $(q "$TGT_DB") $(q "$TGT_DB-wal") $(q "$TGT_DB-shm")"
	pg_tgt=$(pg_url "${PREFIX}_target")
	case_add "$tag sqlite3 VACUUM INTO" "$tgt_rm && $(warm "$db" "$db-wal")" \
		"sqlite3 $(q "file:$db?mode=ro") $(q "VACUUM INTO '$TGT_DB'")"
	case_add "$tag sqlite3 -csv | psql \\copy FROM STDIN" \
		"$(pg_fresh_cmd "${PREFIX}_target") && echo \"\$PGSCHEMA_LINE\" | persist-load -q $(q "$pg_tgt#bench") && psql -X -q $(q "$pg_tgt") -c 'DELETE FROM persist_records' && $(warm "$db")" \
		"sqlite3 -csv $(q "file:$db?mode=ro") 'SELECT store, collection, key, version, updated_at, deleted, value FROM persist_records' | psql -X -q -v ON_ERROR_STOP=1 $(q "$pg_tgt") -c '\\copy persist_records (store, collection, key, version, updated_at, deleted, value) FROM STDIN (FORMAT csv)' && sqlite3 -csv $(q "file:$db?mode=ro") 'SELECT store, stream, seq, type, at, data FROM persist_events' | psql -X -q -v ON_ERROR_STOP=1 $(q "$pg_tgt") -c '\\copy persist_events (store, stream, seq, type, at, data) FROM STDIN (FORMAT csv)'"
}

# --- memory -------------------------------------------------------------------

if want memory; then
	say "memory (peak RSS of each tool alone, $(human "$RECORDS") records; 1 run)"
	saved=$RUNS
	RUNS=1
	tool_cases "mem:" "$A" "$A_JSONL" "$PGA" "$B"
	labels=("${CASES[@]}")
	run_cases memory
	for l in "${labels[@]}"; do row memory "$l" "" "$MEM_TEXT" "$MEM_CHECK"; done
	RUNS=$saved
fi

# --- api ----------------------------------------------------------------------

# The Go API's batch write (Store.PutMany) into a fresh SQLite store, read
# back as every write is: 20,000 records a batch, the records/s of each run.
if want api; then
	say "api (Store.PutMany into SQLite, 20k records a batch; $RUNS runs)"
	rates=$(cd "$ROOT" && go test -run '^$' -bench '^BenchmarkPutMany$' -benchtime 5x -count "$RUNS" . 2>>"$LOGS/api.log" |
		awk '/^BenchmarkPutMany/ {for (i = 1; i < NF; i++) if ($(i+1) == "records/s") print int($i)}')
	if [[ -z $rates ]]; then
		note "Store.PutMany: the benchmark failed (see $LOGS/api.log)"
	else
		med=$(sort -n <<<"$rates" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
		met=no
		((med >= 100000)) && met=yes
		note "Store.PutMany into SQLite: median $med records/s of runs $(tr '\n' ' ' <<<"$rates")(goal ≥ 100000 records/s: met $met)"
	fi
fi

# --- linear -------------------------------------------------------------------

# Every tool at RECORDS and at ten times as many, the two sizes taking turns:
# the larger must take at most 11 times as long (linear, no cliff) and stay
# within the memory goal.
if want linear; then
	BIG_RECORDS=$((RECORDS * 10))
	BIG_EVENTS=$((EVENTS * 10))
	small=$(human "$RECORDS")
	big=$(human "$BIG_RECORDS")
	BIG_SET=$(set_dir "$BIG_RECORDS" "$BIG_EVENTS")
	PGBIG_DB=${PREFIX}_r${BIG_RECORDS}_e${BIG_EVENTS}_s$SEED
	say "linear ($small and $big records; $LINEAR_RUNS runs)"
	make_store "$BIG_SET" "$BIG_RECORDS" "$BIG_EVENTS" a
	pg_store "$PGBIG_DB" "$BIG_RECORDS" "$BIG_EVENTS" "$BIG_SET/a.jsonl"
	saved=$RUNS
	RUNS=$LINEAR_RUNS
	export PGSCHEMA_LINE='{"kind":"record","collection":"x","key":"x","value":1}'
	tool_cases "$small:" "$A" "$A_JSONL" "$PGA"
	small_labels=("${CASES[@]}")
	reference_cases "$small:" "$A"
	ref_labels=("${CASES[@]:${#small_labels[@]}}")
	CASE_BYTES=$(stat -c %s "$BIG_SET/a.jsonl")
	tool_cases "$big:" "$BIG_SET/a.db" "$BIG_SET/a.jsonl" "$(pg_url "$PGBIG_DB")"
	reference_cases "$big:" "$BIG_SET/a.db"
	CASE_BYTES=$DUMP_BYTES
	run_cases linear
	for l in "${small_labels[@]}"; do
		tool=${l#"$small: "}
		row linear "$small: $tool" "" "$MEM_TEXT" "$MEM_CHECK"
		row linear "$big: $tool" "$small: $tool" "≤ 11×, $MEM_TEXT" "r <= 11 && $MEM_CHECK"
	done
	# The references have no goal: they show what the machine does at the
	# larger size, beside the tools built on them.
	for l in "${ref_labels[@]}"; do
		tool=${l#"$small: "}
		row linear "$small: $tool"
		row linear "$big: $tool" "$small: $tool"
	done
	RUNS=$saved
	rm -f "$TGT_DB" "$TGT_DB-wal" "$TGT_DB-shm"
fi

# --- baseline -----------------------------------------------------------------

# Whole-store operations of this build against another's, taking turns: a
# change must not make them slower (issue 14.3). The other build is made
# from the revision's files alone (git archive), not from the work tree.
# Each build reads what it can: the input is the dump without the trailer's
# cursor (a field older builds do not know), and each build dumps and sums
# stores its own loader made of that input (older builds do not read a
# newer schema), so each pays for what its own schema keeps.
if want baseline; then
	base_tag=$(git rev-parse --short "$rev")
	say "baseline (this build against $BASELINE, $base_tag; $RUNS runs)"
	rm -rf "$OUT/baseline-src" "$OUT/baseline-bin"
	mkdir -p "$OUT/baseline-src" "$OUT/baseline-bin"
	git archive "$rev" | tar -x -C "$OUT/baseline-src"
	(cd "$OUT/baseline-src" && go build -o "$OUT/baseline-bin/" ./cmd/...)
	rm -rf "$OUT/baseline-src"
	B_JSONL=$OUT/baseline.jsonl
	sed '$ s/,"cursor":"[^"]*"//' "$A_JSONL" >"$B_JSONL"
	# whole_cases TAG BINDIR N: the whole-store operations, with the
	# binaries of BINDIR, on stores numbered N made by them.
	whole_cases() {
		local tag=$1 bin=$2 n=$3 tgt_rm pg_tgt own_db own_pg
		own_db=$DATA/baseline-$n.db
		own_pg=${PREFIX}_baseline_$n
		rm -f "$own_db" "$own_db-wal" "$own_db-shm"
		"$bin/persist-load" -q "sqlite:$own_db#bench" -i "$B_JSONL"
		pg_fresh "$own_pg"
		"$bin/persist-load" -q "$(pg_url "$own_pg")#bench" -i "$B_JSONL"
		pg_settle "$(pg_url "$own_pg")"
		tgt_rm="rm -f $(q "$TGT_DB") $(q "$TGT_DB-wal") $(q "$TGT_DB-shm")"
		pg_tgt=$(pg_url "${PREFIX}_target")
		case_add "$tag persist-dump sqlite" "" "$(q "$bin/persist-dump") -q $(q "sqlite:$own_db#bench") >/dev/null"
		case_add "$tag persist-dump postgres" "" "$(q "$bin/persist-dump") -q $(q "$(pg_url "$own_pg")#bench") >/dev/null"
		case_add "$tag persist-sum FILE" "" "$(q "$bin/persist-sum") -q $(q "$B_JSONL")"
		case_add "$tag persist-sum sqlite" "" "$(q "$bin/persist-sum") -q $(q "sqlite:$own_db#bench")"
		case_add "$tag persist-load sqlite < FILE" "$tgt_rm" \
			"$(q "$bin/persist-load") -q $(q "sqlite:$TGT_DB#bench") -i $(q "$B_JSONL")"
		case_add "$tag persist-load postgres < FILE" "$(pg_fresh_cmd "${PREFIX}_target")" \
			"$(q "$bin/persist-load") -q $(q "$pg_tgt#bench") -i $(q "$B_JSONL")"
	}
	whole_cases "this build:" "$OUT/bin" 0
	labels=("${CASES[@]}")
	whole_cases "$base_tag:" "$OUT/baseline-bin" 1
	run_cases baseline
	for l in "${labels[@]}"; do
		tool=${l#"this build: "}
		row baseline "this build: $tool" "$base_tag: $tool" "≤ 1.0× (no slower)" "r <= 1.0"
		row baseline "$base_tag: $tool"
	done
	for n in 0 1; do
		pg_drop "${PREFIX}_baseline_$n"
		rm -f "$DATA/baseline-$n.db" "$DATA/baseline-$n.db-wal" "$DATA/baseline-$n.db-shm"
	done
	rm -f "$B_JSONL"
fi

# --- report -------------------------------------------------------------------

for db in load hand migrate delta target pgloader; do pg_drop "${PREFIX}_$db"; done
rm -f "$C_DB" "$C_DB-wal" "$C_DB-shm" "$C_DB.2" "$M_DB" "$M_DB-wal" "$M_DB-shm" "$OUT/time.tmp"
rm -f "$TGT_DB" "$TGT_DB-wal" "$TGT_DB-shm"
rm -f "$DATA/delta.db" "$DATA/delta.db-wal" "$DATA/delta.db-shm" "$DATA/change.jsonl"

# Figures taken while other work runs are skewed: say so beside them.
for l in "${LOADS[@]}"; do
	if awk -v l="${l##* }" -v n="$(nproc)" 'BEGIN{exit !(l > n)}'; then
		note "the machine was busy (load average above $(nproc) cores in: ${LOADS[*]}); other processes competed for the CPU and the figures are less reliable"
		break
	fi
done
if ((RECORDS != GOAL_RECORDS)); then
	note "the goals are set for $(human "$GOAL_RECORDS") records; at $(human "$RECORDS") the met column is a try, not a verdict"
fi

{
	echo "# Persist benchmark"
	echo
	echo "- data: $RECORDS records (8 collections, ~420-byte values, 2% tombstones), $EVENTS events over $((EVENTS < 1000 ? EVENTS : 1000)) streams; dump file $(awk -v b="$DUMP_BYTES" 'BEGIN{printf "%.0f MB", b/1e6}')"
	echo "- method: every command on the same data in one run, interleaved, $RUNS runs each (memory: 1; linear: $LINEAR_RUNS); median wall time, highest peak RSS (GNU time \`%e %M\`; a pipeline's RSS is that of its largest process); in the memory and linear sections the files a case reads are read once before it, not timed, so that at either size it reads from the page cache; ratio = median time / the median time of the \"vs\" command; met = the goal (docs/performance.md) holds"
	echo "- machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
	echo "- versions: $(persist-dump --version 2>&1 | head -n1); $(sqlite3 --version | cut -d' ' -f1,2 | sed 's/^/sqlite3 /'); $(psql -X -t -A "$(pg_url postgres)" -c 'SHOW server_version' | sed 's/^/PostgreSQL /' | cut -d' ' -f1,2)${HAVE_PGLOADER:+; $(pgloader --version 2>&1 | head -n1)}${HAVE_SQLDIFF:+; sqldiff $(dpkg-query -W -f '${Version}' sqlite3-tools 2>/dev/null || echo "of $(command -v sqldiff)")}"
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
