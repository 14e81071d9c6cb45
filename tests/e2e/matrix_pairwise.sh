# matrix_pairwise: the combination matrix's pairwise set (tests/matrix:
# policy API x judge or panel x executors x mode x rounds x responses x
# pairs x binarize x CoT x votes x both_orders x n x server behaviour x
# concurrency x judge calibration x input shape x prompt_format x max_cost,
# every pair of values in some combination, refused ones as expected
# refusals) against the fake server, 6 prompts a run, each combination's
# invariants checked (tests/matrix/run.sh); kill -9/resume and shards on
# every third one; every rule of src/runrules.c met by some refusal. `make test-matrix` runs every check on every
# combination, and the 3-wise set. First the generator itself: the same
# output twice, and every pair covered (tests/matrix/coverage.sh).
. "$(dirname "$0")/../lib.sh"
M=$ROOT/tests/matrix
ALLPAIRS=${ALLPAIRS:-$ROOT/obj/default/allpairs}
if [ ! -x "$ALLPAIRS" ]; then
	ALLPAIRS=$T/allpairs
	${CC:-cc} -std=c11 -O2 -o "$ALLPAIRS" "$M/allpairs.c" || {
		fail matrix_generator_build "cc $M/allpairs.c"
		exit 1
	}
fi
"$ALLPAIRS" "$M/params" "$M/refusals" 2 >"$T/list"
eq matrix_generator_exit $? 0
"$ALLPAIRS" "$M/params" "$M/refusals" 2 >"$T/list2"
check matrix_generator_deterministic cmp "$T/list" "$T/list2"
check matrix_generator_covers_every_pair sh "$M/coverage.sh" "$M/params" \
	"$M/refusals" "$T/list"
# the checker can fail: a list without its last accepted row misses pairs
grep '^ok' "$T/list" | sed '$d' >"$T/short"
if sh "$M/coverage.sh" "$M/params" "$M/refusals" "$T/short" >/dev/null 2>&1
then
	fail matrix_coverage_checker_fails "a list missing a row passed"
else
	pass matrix_coverage_checker_fails
fi
CAIGEN=$CAIGEN FAKESERVER=$FAKESERVER MATRIX_PROMPTS=${MATRIX_PROMPTS:-6} \
	sh "$M/run.sh" "$T/list"
