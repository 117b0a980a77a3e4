# The table bench/run.sh prints: one row per comparison, each with its median
# time, peak RSS, ratio to a baseline, goal and verdict. Sourced by run.sh;
# bench/table_test.go holds its verdicts to what they must say.
#
# Inputs, filled by the caller: TIMES[label] and RSS[label], the times (s) and
# peak RSS (KiB) of each run, space-separated, run i of every case of a
# section taken in the same turn; FAILED[label], why a case failed;
# ABSENT[label], why a case could not be run; BYTES[label], the dump size its
# MB/s is figured on.
declare -A TIMES RSS FAILED ABSENT BYTES

median() { tr ' ' '\n' | { grep . || true; } | sort -g | awk '{a[NR]=$1} END{if(NR==0)exit; if(NR%2)print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
max() { tr ' ' '\n' | { grep . || true; } | sort -g | tail -n1; }
# secs LABEL: the median time, figured once per label (render asks often).
declare -A MEDIAN
secs() {
	[[ -n ${MEDIAN[$1]+set} ]] || MEDIAN[$1]=$(median <<<"${TIMES[$1]:-}")
	printf '%s' "${MEDIAN[$1]}"
}
mib() { awk -v k="$(max <<<"${RSS[$1]:-}")" 'BEGIN{if(k!="")printf "%.1f", k/1024}'; }

# The table: one row per comparison, with the ratio to a baseline case and a
# goal.
ROWS=()
# row SECTION LABEL [BASELINE GOAL-TEXT GOAL-CHECK]; GOAL-CHECK is an awk
# condition on r (the time ratio) and m (peak RSS MiB), e.g. "r <= 0.9".
# Fields are joined by US (0x1f): labels hold pipes.
row() { ROWS+=("$1"$'\x1f'"$2"$'\x1f'"${3:-}"$'\x1f'"${4:-}"$'\x1f'"${5:-}"); }

# verdict CHECK R M BASE: the met column. A goal on the ratio is "n/a" when
# the baseline could not be measured, and says why.
verdict() {
	local check=$1 r=$2 m=$3 base=$4
	[[ -z $check ]] && return
	if [[ -z $r && $check == *r* ]]; then
		if [[ -n ${FAILED[$base]:-} ]]; then
			echo "n/a: $base failed"
		elif [[ -n ${ABSENT[$base]:-} ]]; then
			echo "n/a: ${ABSENT[$base]}"
		else
			echo "n/a: no baseline"
		fi
	elif awk -v r="${r:-0}" -v m="${m:-0}" "BEGIN{exit !($check)}"; then
		echo yes
	else
		echo "**no**"
	fi
}

# spread LABEL BASE: the lowest and highest of the run-by-run ratios (the runs
# took turns, so run i of one is paired with run i of the other), when there
# is more than one run: what the median hides.
spread() {
	[[ -n ${2:-} ]] || return 0
	awk -v a="${TIMES[$1]:-}" -v b="${TIMES[$2]:-}" 'BEGIN{
		n = split(a, x, " "); if (split(b, y, " ") != n || n < 2) exit
		for (i = 1; i <= n; i++) { if (y[i] <= 0) exit; r = x[i] / y[i]
			if (i == 1 || r < lo) lo = r; if (i == 1 || r > hi) hi = r }
		printf "%.2f %.2f", lo, hi }'
}

# met CHECK R M BASE LABEL: the verdict on the median, and the run-by-run
# ratios beside it, flagged when some runs met the goal and others did not.
met() {
	local check=$1 r=$2 m=$3 base=$4 label=$5 ok lo hi
	ok=$(verdict "$check" "$r" "$m" "$base")
	[[ -n $r ]] || {
		echo "$ok"
		return
	}
	read -r lo hi < <(spread "$label" "$base"; echo)
	[[ -n $lo ]] || {
		echo "$ok"
		return
	}
	if [[ -n $check && $(verdict "$check" "$lo" "$m" "$base") != $(verdict "$check" "$hi" "$m" "$base") ]]; then
		echo "$ok (runs ${lo}–${hi}×: some met it, some not)"
	else
		echo "${ok:+$ok }(runs ${lo}–${hi}×)"
	fi
}

render() {
	local sec label shown base goal check t m r mbs ok bt vs
	echo "| section | command | median s | dump MB/s | peak RSS MiB | ratio | vs | goal | met |"
	echo "|---|---|--:|--:|--:|--:|---|---|---|"
	for x in "${ROWS[@]}"; do
		IFS=$'\x1f' read -r sec label base goal check <<<"$x"
		shown=${label//|/\\|} # a pipe inside a table cell must be escaped
		vs=${base//|/\\|}
		if [[ -n ${FAILED[$label]:-} ]]; then
			echo "| $sec | \`$shown\` | failed: ${FAILED[$label]} | | | | $vs | $goal | ${check:+**no**} |"
			continue
		fi
		if [[ -n ${ABSENT[$label]:-} ]]; then
			echo "| $sec | \`$shown\` | not run: ${ABSENT[$label]} | | | | | | |"
			continue
		fi
		secs "$label" >/dev/null # fills the cache, here and not in a subshell
		[[ -z $base ]] || secs "$base" >/dev/null
		t=$(secs "$label")
		[[ -z $t ]] && continue
		m=$(mib "$label")
		mbs=$(awk -v b="${BYTES[$label]:-0}" -v t="$t" 'BEGIN{if(t>0 && b>0)printf "%.0f", b/t/1e6}')
		r=
		if [[ -n $base ]]; then
			bt=$(secs "$base")
			[[ -n $bt ]] && r=$(awk -v a="$t" -v b="$bt" 'BEGIN{if(b>0)printf "%.2f", a/b}')
		fi
		ok=$(met "$check" "$r" "$m" "$base" "$label")
		echo "| $sec | \`$shown\` | $t | $mbs | $m | ${r:+${r}×} | $vs | $goal | $ok |"
	done
}
