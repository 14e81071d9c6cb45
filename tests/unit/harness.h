/*
 * harness.h - the unit-test harness. A test file defines its tests as
 * `static void test_x(void)` and lists them in TESTS(); each CHECK that fails
 * prints the place and marks the test failed. Output: one "PASS name" or
 * "FAIL name" line per test, which tests/run.sh counts.
 */
#ifndef CAIGEN_HARNESS_H
#define CAIGEN_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int harness_failed;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "  %s:%d: check failed: %s\n", \
			__FILE__, __LINE__, #cond); \
		harness_failed = 1; \
	} } while (0)

#define CHECK_STR(a, b) do { \
	const char *a_ = (a), *b_ = (b); \
	if (!a_ || !b_ || strcmp(a_, b_) != 0) { \
		fprintf(stderr, "  %s:%d: '%s' != '%s'\n", __FILE__, \
			__LINE__, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
		harness_failed = 1; \
	} } while (0)

#define CHECK_NEAR(a, b, eps) do { \
	double a_ = (a), b_ = (b); \
	if (!(fabs(a_ - b_) <= (eps))) { \
		fprintf(stderr, "  %s:%d: %.10g != %.10g\n", __FILE__, \
			__LINE__, a_, b_); \
		harness_failed = 1; \
	} } while (0)

struct harness_test {
	const char *name;
	void (*fn)(void);
};

#define T(fn) { #fn, fn }
#define TESTS(...) \
	int main(void) { \
		struct harness_test t_[] = { __VA_ARGS__ }; \
		int bad = 0; \
		for (size_t i = 0; i < sizeof(t_) / sizeof(t_[0]); i++) { \
			harness_failed = 0; \
			t_[i].fn(); \
			printf("%s %s\n", harness_failed ? "FAIL" : "PASS", \
			       t_[i].name); \
			fflush(stdout); \
			bad |= harness_failed; \
		} \
		return bad; \
	}

#endif
